# tierca - three-tier offline-root PKI.  Plain make; see README.md.

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DESTDIR ?=

CC      ?= cc
PKGS    := gnutls libconfig libcurl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# Build flavours share the sources; each has its own object directory,
# chosen on the command line (make B=build-asan). B in the environment is
# the test runner's tool directory, not ours.
ifeq ($(origin B),environment)
B       := build
endif
B       ?= build
OPT     ?= -O2
SAN     ?=
WERROR  ?=
CFLAGS  ?= $(OPT) -g
HARDEN  := -fstack-protector-strong -fPIE -D_FORTIFY_SOURCE=2
# libca's test hooks (TIERCA_FAULT, TIERCA_NO_OPENAT2): compiled in when
# TIERCA_TEST_HOOKS is defined.
HOOKS   ?= -DTIERCA_TEST_HOOKS
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Wformat=2 \
	-Wno-missing-field-initializers -Wno-format-y2k $(WERROR) $(HARDEN) $(SAN) $(CFLAGS) \
	$(HOOKS) $(PKG_CFLAGS) -MMD -MP -Ilibca/include
ALL_LDFLAGS = -pie -Wl,-z,relro,-z,now $(SAN) $(LDFLAGS)
LIBS    = $(PKG_LIBS)

# libca is layered, lowest first (docs/architecture.md); each folder is a
# layer and its objects are compiled with -DTIERCA_LAYER=<its number>.
# Every header refuses a layer below its own (tierca/layer.h), internal
# headers refuse cmd/, and tierca/x509.h refuses cmd/: a call upward, or a
# tool reaching past the path-level API, does not compile.
LAYERS  = base x509 store ops auto deploy
LAYER_base = 1
LAYER_x509 = 2
LAYER_store = 3
LAYER_ops = 4
LAYER_auto = 5
LAYER_deploy = 6
LAYER_harness = 7
LAYER_TEST = 8
LAYER_TOOL = 9
layer_of = $(LAYER_$(firstword $(subst /, ,$(1))))

LIBCA_OBJS = $(patsubst libca/%.c,$(B)/libca/%.o, \
	$(foreach l,$(LAYERS),$(sort $(wildcard libca/$(l)/*.c))))
# The test harness is an archive of its own, linked by tierca-harness and
# the unit tests only.
HARNESS_OBJS = $(patsubst libca/%.c,$(B)/libca/%.o,$(sort $(wildcard libca/harness/*.c)))

CMD_COMMON = $(B)/cmd/common.o
TOOLS   = $(patsubst cmd/%.c,%,$(sort $(wildcard cmd/tierca*.c)))
BINS    = $(TOOLS:%=$(B)/bin/%)

UNIT_TESTS = \
	$(B)/tests/unit/test_libca

MANPAGES = $(wildcard docs/man/*.1)

.PHONY: all check unit integration asan asan-check demo install clean \
	layering format contract deps build

all: build

# The pkg-config flags are read when make starts, so a fresh machine gets
# its packages first and then a make that sees them.
deps:
	@tests/setup-deps.sh

build: $(BINS) layering
	@mkdir -p bin
	@for t in $(TOOLS); do ln -sf ../$(B)/bin/$$t bin/$$t; done

$(B)/libca/%.o: libca/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Ilibca -DTIERCA_LAYER=$(call layer_of,$*) -c -o $@ $<

# Tools see the public headers only, and poison the GnuTLS handle types
# (cmd/tool-rules.h), so that no GnuTLS header can be included either.
$(B)/cmd/%.o: cmd/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -DTIERCA_LAYER=$(LAYER_TOOL) -include cmd/tool-rules.h -Icmd -c -o $@ $<

# An archive keeps one member per file name: two modules of one name in
# different layers would lose one of them.
LIBCA_DUPS = $(sort $(foreach o,$(notdir $(LIBCA_OBJS) $(HARNESS_OBJS)), \
	$(if $(filter-out 1,$(words $(filter $(o),$(notdir $(LIBCA_OBJS) $(HARNESS_OBJS))))),$(o))))
ifneq ($(LIBCA_DUPS),)
$(error libca: module names must be unique across layers: $(LIBCA_DUPS))
endif

$(B)/libca.a: $(LIBCA_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/libharness.a: $(HARNESS_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/bin/tierca-harness: $(B)/cmd/tierca-harness.o $(CMD_COMMON) $(B)/libharness.a $(B)/libca.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(B)/bin/%: $(B)/cmd/%.o $(CMD_COMMON) $(B)/libca.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(B)/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Ilibca -DTIERCA_LAYER=$(LAYER_TEST) -c -o $@ $<

$(B)/tests/unit/test_libca: $(patsubst tests/unit/%.c,$(B)/tests/unit/%.o,$(wildcard tests/unit/*.c)) $(B)/libharness.a $(B)/libca.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) -lcunit

-include $(shell find $(B) -name '*.d' 2>/dev/null)

# The layer rule is enforced by the compiler (above); this proves that it
# still is: each probe breaks one rule and must fail to compile.
layering:
	@tests/layering.sh "$(CC)" "$(PKG_CFLAGS)"


check: deps
	$(MAKE) build
	$(MAKE) unit integration

unit: $(UNIT_TESTS)
	$(B)/tests/unit/test_libca

# tests/cmd/batch.sh drives ca_issue_batch through the bench program.
integration: $(B)/bench/issue
	B=$(CURDIR)/$(B)/bin tests/run-integration.sh

# Same tests under AddressSanitizer and UndefinedBehaviorSanitizer.
asan: deps
	$(MAKE) B=build-asan OPT=-O1 \
		SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
		$(TOOLS:%=build-asan/bin/%) build-asan/tests/unit/test_libca \
		build-asan/bench/issue

asan-check: asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		build-asan/tests/unit/test_libca
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		TIERCA_SKIP=valgrind B=$(CURDIR)/build-asan/bin tests/run-integration.sh

# libFuzzer targets (clang, ASan+UBSan), each for FUZZ_RUNS executions
# from its seed corpus and past failures (tests/fuzz/run.sh).
FUZZ_RUNS ?= 100000
.PHONY: fuzz-smoke
fuzz-smoke: deps
	tests/fuzz/run.sh $(FUZZ_RUNS)

# make stress: the crash, fault and concurrency tests at full counts
# (STRESS kills, 8 x 200 issuances); make check runs them reduced.
# Counts and what they prove: docs/reliability.md.
STRESS ?= 500
.PHONY: stress
stress: deps
	$(MAKE) build
	for t in crash faults concurrency; do \
		TIERCA_STRESS=$(STRESS) TIERCA_LOGS=$(CURDIR)/$(B)/stress-logs \
		B=$(CURDIR)/$(B)/bin tests/run-integration.sh $$t || exit 1; done
	@echo "stress: the counts are in $(B)/stress-logs/*.log"

contract: all
	../shared/tools/contract-smoke

demo: deps
	$(MAKE) build
	rm -rf demo && tests/demo.sh demo

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	for t in $(TOOLS); do install -m 0755 $(B)/bin/$$t $(DESTDIR)$(BINDIR)/$$t; done
	for m in $(MANPAGES); do install -m 0644 $$m $(DESTDIR)$(MANDIR)/man1/; done

# make bench: tierca side by side with GnuTLS, OpenSSL, easy-rsa and
# certtool in the same run (bench/run.sh; docs/performance.md).
BENCH_BINS = $(B)/bench/floor $(B)/bench/issue

$(B)/bench/%.o: bench/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Ilibca -DTIERCA_LAYER=$(LAYER_TEST) -c -o $@ $<

$(B)/bench/floor: $(B)/bench/floor.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(B)/bench/issue: $(B)/bench/issue.o $(B)/libca.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

bench-build: $(BINS) layering $(BENCH_BINS)

.PHONY: bench bench-build
bench: deps
	$(MAKE) bench-build
	B=$(CURDIR)/$(B) bench/run.sh

format:
	clang-format -i libca/*/*.c libca/*/*.h libca/include/tierca/*.h cmd/*.c cmd/*.h tests/unit/*.c

clean:
	rm -rf build build-asan build-fuzz bin demo
