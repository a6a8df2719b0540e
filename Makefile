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
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Wformat=2 \
	-Wno-missing-field-initializers -Wno-format-y2k $(WERROR) $(HARDEN) $(SAN) $(CFLAGS) \
	$(PKG_CFLAGS) -Ilibca
ALL_LDFLAGS = -pie -Wl,-z,relro,-z,now $(SAN) $(LDFLAGS)
LIBS    = $(PKG_LIBS)

# Every libca/*.c is a module of the library; every cmd/tierca*.c a tool.
LIBCA_OBJS = $(patsubst libca/%.c,$(B)/libca/%.o,$(sort $(wildcard libca/*.c)))

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

$(B)/libca/%.o: libca/%.c libca/ca.h libca/ca-int.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/cmd/%.o: cmd/%.c cmd/common.h libca/ca.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Icmd -c -o $@ $<

$(B)/libca.a: $(LIBCA_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/bin/%: $(B)/cmd/%.o $(CMD_COMMON) $(B)/libca.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# harness.h is libca-internal, for the harness modules and their test.
$(patsubst libca/%.c,$(B)/libca/%.o,$(wildcard libca/harness*.c)) \
$(B)/tests/unit/test_harness.o: libca/harness.h

$(B)/tests/unit/%.o: tests/unit/%.c tests/unit/unit.h libca/ca.h libca/ca-int.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/tests/unit/test_libca: $(patsubst tests/unit/%.c,$(B)/tests/unit/%.o,$(wildcard tests/unit/*.c)) $(B)/libca.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) -lcunit

# No crypto in cmd/: the tools talk to users, libca does the work.
layering:
	@if grep -n 'gnutls_' cmd/*.c cmd/*.h; then \
		echo "error: gnutls_* call in cmd/ (belongs in libca)"; exit 1; fi

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

$(B)/bench/%.o: bench/%.c libca/ca.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

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
	clang-format -i libca/*.c libca/*.h cmd/*.c cmd/*.h tests/unit/*.c

clean:
	rm -rf build build-asan build-fuzz bin demo
