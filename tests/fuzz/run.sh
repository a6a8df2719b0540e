#!/bin/bash
# Builds the libFuzzer targets (clang, ASan+UBSan) against libca and runs
# each for a fixed number of executions from its seed corpus.
#   tests/fuzz/run.sh [RUNS] [target...]     (default 100000, all targets)
# `make fuzz-smoke` runs this; longer runs: docs/reliability.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
runs=${1:-100000}; shift || true
B=build-fuzz
SAN="-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=undefined"
cd "$top"
# clang and its libFuzzer runtime are only needed here, not by make check.
if ! command -v clang >/dev/null || ! dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null | grep -q "install ok installed"; then
	echo "fuzz: installing clang libclang-rt-14-dev"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev >/dev/null
fi
make -s B=$B CC=clang OPT=-O1 SAN="$SAN" $B/libca.a
# The targets reach into libca's internals, as the unit tests do.
flags="-std=gnu11 -D_GNU_SOURCE -O1 -g -fsanitize=address,undefined,fuzzer -fno-sanitize-recover=undefined -Ilibca -Ilibca/include -DTIERCA_LAYER=8 $(pkg-config --cflags gnutls libconfig)"
libs="$(pkg-config --libs gnutls libconfig libcurl)"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=($(ls "$here"/fuzz_*.c | xargs -n1 basename | sed 's/\.c$//'))
mkdir -p $B/fuzz
work=$(mktemp -d "${TMPDIR:-/tmp}/tierca-fuzz-run.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Private keys are never committed: the key target's seeds are made
# here, PKCS#8 plain and encrypted under the target's passphrase.
mkdir -p "$work/seed-key"
printf 'fuzz passphrase' >"$work/pw"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/seed-key/plain.pem" 2>/dev/null
openssl pkcs8 -topk8 -in "$work/seed-key/plain.pem" -v2 aes-256-cbc -passout "file:$work/pw" -out "$work/seed-key/enc.pem"
openssl genpkey -algorithm ED25519 -out "$work/seed-key/ed.pem" 2>/dev/null
fails=0
# Seeds: the committed corpus, and every input that once failed (regress/).
seeds() {
	if [ "$1" = fuzz_key ]; then echo "$work/seed-key"; else echo "$here/corpus/${1#fuzz_}"; fi
	[ ! -d "$here/regress/${1#fuzz_}" ] || echo "$here/regress/${1#fuzz_}"
}
for t in "${targets[@]}"; do
	clang $flags -o $B/fuzz/$t "$here/$t.c" $B/libca.a $libs
	# The seeds stay as committed; what the run finds goes to $work.
	mkdir -p "$work/$t"
	start=$(date +%s)
	if ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS="suppressions=$here/lsan.supp" \
		UBSAN_OPTIONS=print_stacktrace=1 TMPDIR="$work" $B/fuzz/$t -runs="$runs" \
		-max_len=8192 -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$work/$t-" \
		"$work/$t" $(seeds "$t") >"$work/$t.log" 2>&1; then
		echo "PASS $t ($runs runs, $(( $(date +%s) - start ))s)"
	else
		echo "FAIL $t"; tail -30 "$work/$t.log"
		ls "$work"/"$t"-* 2>/dev/null | while read -r a; do
			mkdir -p "$top/tests/fuzz/crashes" && cp "$a" "$top/tests/fuzz/crashes/"; done
		fails=$((fails + 1))
	fi
done
[ $fails = 0 ]
