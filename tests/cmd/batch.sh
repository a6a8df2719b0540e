# batch.sh - ca_issue_batch (group commit) under kill -9 and under
# injected I/O faults, driven by the bench program (bench/issue.c: `issue
# batch DIR FIRST N SIZE' issues names hostFIRST.. in batches of SIZE
# into DIR/server; `make bench-build' builds it, `make integration'
# too).
#
# Kills: a batch of 50 is killed with SIGKILL after a random delay,
# TIERCA_STRESS times (default 30, at most 50); then a batch of 10 is
# killed at chosen system calls (strace -e inject), before and after the
# commit point. After each kill `tierca-ica check'
# passes (leftovers allowed); the index holds the lines it held plus a
# prefix of the batch, in order (a consistent prefix: never a line whose
# certificate is missing, never one twice); the next run succeeds and
# leaves no leftover, and every recorded name of the killed batch is
# then published in issued/NAME.
#
# Faults: TIERCA_FAULT=any:N (EIO and ENOSPC alternating) across one
# batch of 5, N = 1, 2, ... until a run no longer reaches the N-th call.
# A run whose fault fired fails with one error line, leaves index.txt
# byte for byte, certs/ and issued/ as they were, and the checker clean
# with no leftover; or it survives (the index's validation cache is only
# a cache), the batch issued whole. The next normal batch succeeds.
. "$(dirname "$0")/lib.sh"

I=""
for c in "$B/../bench/issue" "$B/../build/bench/issue"; do
	[ -x "$c" ] && { I=$c; break; }
done
[ -n "$I" ] || fail "no bench/issue next to $B: build it with make bench-build"
N=${TIERCA_STRESS:-30}
[ "$N" -gt 50 ] && N=50
D=$T/b
S=$D/server
mkdir "$D"
ok "$I" setup "$D"

lines() { grep -c . "$S/index.txt" || true; }
check_ok() { ica check --dir "$S" >"$T/chk" 2>&1 || { cat "$T/chk"; fail "$1: checker"; }; }
check_clean() {
	check_ok "$1"
	! grep -q leftover "$T/chk" || { cat "$T/chk"; fail "$1: leftovers remain"; }
}
serial_of() { openssl x509 -in "$1" -noout -serial | sed 's/^serial=//'; }

step "a batch of 50, as a reference"
t0=$(date +%s%N)
ok "$I" batch "$D" 0 50 50
# The kills below wait up to 3/4 of this run's own time (process start
# and the CA key included), so that they spread over a batch on this
# machine as it is now, quiet or loaded.
maxms=$((($(date +%s%N) - t0) * 3 / 4000000))
[ $maxms -ge 20 ] || maxms=20
[ $maxms -le 999 ] || maxms=999
[ "$(lines)" = 50 ] || fail "50 lines expected, got $(lines)"
check_clean "reference batch"
for k in 0 17 49; do
	openssl verify -CAfile "$S/root.crt" -untrusted "$S/ca.crt" \
	    "$S/issued/host$k/cert.pem" >/dev/null || fail "host$k does not verify"
done

# after_kill LABEL BASE BEFORE SIZE: the checks after a batch of SIZE
# named hostBASE.. was killed when the index held BEFORE lines; sets k to
# the number of its lines recorded.
after_kill() {
	local label=$1 base=$2 before=$3 size=$4 after got want j
	check_ok "$label"
	after=$(lines)
	k=$((after - before))
	[ $k -ge 0 ] && [ $k -le "$size" ] || fail "$label: $k new lines"
	# The new lines are hostBASE.. in order: a prefix of the batch.
	got=$(tail -n "$k" "$S/index.txt" | cut -f5 | tr '\n' ' ')
	want=""
	for j in $(seq 0 $((k - 1))); do want="${want}host$((base + j)) "; done
	[ $k -eq 0 ] || [ "$got" = "$want" ] || fail "$label: not a prefix of the batch: $got"
	# The next locked run repairs, then issues.
	ok "$I" batch "$D" $((base + 500)) 5 5
	check_clean "after $label"
	[ "$(lines)" = $((after + 5)) ] || fail "$label: the next run did not add 5 lines"
	# Every recorded name of the killed batch is published.
	# (cut, not read: IFS tabs would fold the empty revocation field)
	tail -n $((k + 5)) "$S/index.txt" | head -n "$k" | cut -f4,5 | tr '\t' ' ' | while read -r se nm; do
		[ -f "$S/issued/$nm/cert.pem" ] || fail "$label: $nm recorded, not published"
		[ "$(serial_of "$S/issued/$nm/cert.pem")" = "$se" ] ||
			fail "$label: issued/$nm is not serial $se"
	done || exit 1
}

step "$N kills of a batch of 50"
none=0; part=0; whole=0; finished=0; held=0
for i in $(seq 1 "$N"); do
	base=$((i * 1000))
	before=$(lines)
	"$I" batch "$D" $base 50 50 >/dev/null 2>"$T/kill.err" &
	pid=$!
	sleep "$(printf '0.%03d' $((RANDOM % (maxms + 1))))"
	kill -9 $pid 2>/dev/null
	rc=0; wait $pid 2>/dev/null || rc=$?
	case $rc in
	0) finished=$((finished + 1)) ;;
	137) [ -s "$S/.lock" ] && held=$((held + 1)) ;;
	*) cat "$T/kill.err"; fail "kill $i: the batch failed on its own (rc $rc)" ;;
	esac
	after_kill "kill $i" $base "$before" 50
	if [ $rc = 137 ]; then
		if [ $k = 0 ]; then none=$((none + 1))
		elif [ $k = 50 ]; then whole=$((whole + 1))
		else part=$((part + 1)); fi
	fi
done
echo "batch: $N kills (delays up to $maxms ms): $none before any line, $part with part of the batch recorded, $whole with all of it (killed after the commit), $finished had finished; $held inside the CA lock"
[ $((none + part + whole)) -gt $((N / 3)) ] || fail "fewer than a third of the kills landed mid-batch: calibrate the delay"

# Random delays rarely land after the commit (publishing is short), so
# the kill is also delivered at chosen system calls of a batch of 10
# (strace -e inject=CALL:signal=KILL:when=N), with what each must leave:
# nothing recorded before the sync round, the whole batch from the
# index's fdatasync on (its lines are written by then).
if command -v strace >/dev/null 2>&1; then
	step "kills at chosen system calls of a batch of 10"
	base=500000
	for spec in mkdirat:1:0 mkdirat:6:0 linkat:1:0 linkat:9:0 \
	    syncfs:1:0 fdatasync:1:10 renameat2:1:10 renameat2:6:10 \
	    fsync:1:10; do
		call=${spec%%:*}; rest=${spec#*:}; when=${rest%%:*}; want=${rest#*:}
		before=$(lines)
		rc=0
		(strace -f -o /dev/null -e trace="$call" \
		    -e inject="$call":signal=KILL:when="$when" \
		    "$I" batch "$D" $base 10 10 >/dev/null 2>"$T/kill.err"
		    exit $?) 2>/dev/null || rc=$?
		[ $rc = 137 ] || { cat "$T/kill.err"; fail "$call #$when: not killed (rc $rc)"; }
		after_kill "kill at $call #$when" $base "$before" 10
		[ "$k" = "$want" ] || fail "kill at $call #$when: $k lines recorded, want $want"
		base=$((base + 1000))
	done
	echo "batch: kills at 9 chosen system calls: each left what it must"
else
	echo "batch: no strace here: the kills at chosen system calls are left out"
fi

step "4 batch processes and 2 tierca-ica issue loops into one CA at once"
before=$(lines)
pids=()
for p in 1 2 3 4; do
	"$I" batch "$D" $((700000 + p * 1000)) 100 20 >/dev/null 2>"$T/conc$p.err" &
	pids+=($!)
done
for p in 1 2; do
	(for j in $(seq 1 10); do
		"$B/tierca-ica" issue --dir "$S" cli$p-$j --dns cli$p-$j.internal >/dev/null || exit 1
	done) 2>"$T/concl$p.err" &
	pids+=($!)
done
for pid in "${pids[@]}"; do
	wait "$pid" || { cat "$T"/conc*.err; fail "a concurrent writer failed"; }
done
[ "$(lines)" = $((before + 420)) ] || fail "$(($(lines) - before)) lines from the concurrent writers, want 420"
[ "$(cut -f4 "$S/index.txt" | sort | uniq -d | wc -l)" = 0 ] || fail "a serial repeats"
[ "$(cut -f5 "$S/index.txt" | sort | uniq -d | wc -l)" = 0 ] || fail "a name repeats"
[ "$(ls "$S/certs" | wc -l)" -ge "$(lines)" ] || fail "fewer files in certs/ than lines"
check_clean "concurrent writers"
echo "batch: 4 x 100 batched and 2 x 10 single issuances at once: $(($(lines) - before)) lines, serials and names distinct"

step "faults across a batch of 5"
n=1; failed=0; survived=0; base=100000
while :; do
	rm -f "$T/fault.log"
	cp "$S/index.txt" "$T/index.before"
	nc=$(ls "$S/certs" | wc -l); ni=$(ls -a "$S/issued" | wc -l)
	err=EIO; [ $((n % 2)) = 0 ] && err=ENOSPC
	rc=0
	TIERCA_FAULT=any:$n:$err TIERCA_FAULT_LOG=$T/fault.log \
		"$I" batch "$D" $base 5 5 >/dev/null 2>"$T/fault.err" || rc=$?
	# A run the fault never reached is the next normal batch.
	[ -s "$T/fault.log" ] || { [ $rc = 0 ] || { cat "$T/fault.err"; fail "fault $n never fired, yet rc $rc"; }; break; }
	if [ $rc = 0 ]; then
		survived=$((survived + 1))
		[ "$(lines)" = $(($(grep -c . "$T/index.before") + 5)) ] ||
			fail "fault $n survived, but the batch is not whole"
	else
		failed=$((failed + 1))
		[ $rc = 1 ] || { cat "$T/fault.err"; fail "fault $n: rc $rc"; }
		[ "$(grep -c . "$T/fault.err")" = 1 ] || { cat "$T/fault.err"; fail "fault $n: not one error line"; }
		grep -Eq "(Input/output error|No space left on device)" "$T/fault.err" ||
			{ cat "$T/fault.err"; fail "fault $n: the error does not name the errno"; }
		cmp -s "$S/index.txt" "$T/index.before" || fail "fault $n ($(cat "$T/fault.log")): index.txt changed"
		[ "$(ls "$S/certs" | wc -l)" = "$nc" ] || fail "fault $n ($(cat "$T/fault.log")): certs/ changed"
		[ "$(ls -a "$S/issued" | wc -l)" = "$ni" ] || fail "fault $n ($(cat "$T/fault.log")): issued/ changed"
	fi
	check_clean "fault $n ($(cat "$T/fault.log"))"
	n=$((n + 1)); base=$((base + 10))
	[ $n -le 400 ] || fail "more than 400 injection points?"
done
[ "$(lines)" = $(($(grep -c . "$T/index.before") + 5)) ] || fail "the batch after the faults is not whole"
check_clean "after the faults"
echo "batch: $((n - 1)) injection points: $failed failed with the old state intact, $survived survived"
[ $failed -gt 5 ] || fail "too few injection points failed ($failed)"
