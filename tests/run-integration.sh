#!/bin/bash
# Runs every tests/cmd/*.sh against the tools in $B (default ./bin).
# Each test gets its own temp dir ($T), removed afterwards; TZ is UTC.
# Usage: tests/run-integration.sh [name-filter]
# TIERCA_LOGS=DIR keeps each test's output there as NAME.log (the counts
# that crash, faults and concurrency print; make stress sets it).
set -u
here=$(cd "$(dirname "$0")" && pwd)
export B=${B:-$here/../bin}
export TZ=UTC LC_ALL=C
pass=0; failed=()
for t in "$here"/cmd/*.sh; do
	name=$(basename "$t" .sh)
	[ "$name" = lib ] && continue
	# TIERCA_SKIP: names to leave out (valgrind cannot run ASan builds).
	[[ " ${TIERCA_SKIP:-} " == *" $name "* ]] && { echo "SKIP $name"; continue; }
	[ -n "${1:-}" ] && [[ "$name" != *"$1"* ]] && continue
	T=$(mktemp -d "${TMPDIR:-/tmp}/tierca-it.XXXXXX")
	start=$(date +%s)
	if T=$T bash "$t" >"$T.log" 2>&1; then
		pass=$((pass + 1))
		echo "PASS $name ($(( $(date +%s) - start ))s)"
	else
		failed+=("$name")
		echo "FAIL $name"
		sed 's/^/    | /' "$T.log" | tail -40
	fi
	[ -z "${TIERCA_LOGS:-}" ] || { mkdir -p "$TIERCA_LOGS" && cp "$T.log" "$TIERCA_LOGS/$name.log"; }
	rm -rf "$T" "$T.log"
done
echo "integration: $pass passed, ${#failed[@]} failed${failed:+ (${failed[*]})}"
[ ${#failed[@]} -eq 0 ]
