# concurrency: 8 processes run `tierca-ica issue` into one CA (200 each
# with TIERCA_STRESS set, as make stress does; TIERCA_CONC_EACH in make
# check, default 25: 200 runs, ~15 s on 2 cores) while another revokes names as they appear and
# regenerates the CRL: every run succeeds, the serials are all distinct,
# the index has one entry per issuance, every revocation is in the last
# CRL (openssl crl -text), and `tierca-ica check` is clean. Then two
# tierca-renew runs started together: exactly one does the work, the
# other says another run is in progress, or finds nothing left to do.
. "$(dirname "$0")/lib.sh"
P=8
EACH=${TIERCA_CONC_EACH:-25}
[ -n "${TIERCA_STRESS:-}" ] && EACH=200
S=$T/server
hierarchy

step "$P issuers x $EACH, one revoker"
start=$(date +%s.%N)
for p in $(seq $P); do
	( for i in $(seq "$EACH"); do
		"$B/tierca-ica" issue --dir "$S" p$p-$i --dns p$p-$i.internal >/dev/null 2>>"$T/issue$p.err" ||
			echo "p$p-$i" >>"$T/failed"
	done ) &
	pids+=($!)
done
: >"$T/revoked"
( nrev=0
while :; do
	alive=0
	for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
	# The newest valid name not revoked yet, as it appears.
	n=$(awk -F'\t' '$1 == "V" { print $5 }' "$S/index.txt" | tail -1)
	if [ -n "$n" ] && ! grep -qx "$n" "$T/revoked"; then
		"$B/tierca-ica" revoke --dir "$S" "$n" --no-crl >/dev/null 2>>"$T/revoke.err" || echo "revoke $n" >>"$T/failed"
		echo "$n" >>"$T/revoked"
		nrev=$((nrev + 1))
	fi
	[ $((nrev % 5)) = 0 ] || [ $alive = 0 ] &&
		{ "$B/tierca-ica" crl --dir "$S" >/dev/null 2>>"$T/crl.err" || echo crl >>"$T/failed"; }
	[ $alive = 0 ] && break
	sleep 0.05
done ) &
rpid=$!
wait "${pids[@]}"
wait $rpid
secs=$(echo "$(date +%s.%N) - $start" | bc)
[ -s "$T/failed" ] && { head "$T/failed" "$T"/*.err; fail "$(wc -l <"$T/failed") runs failed"; }
want=$((P * EACH))
entries=$(grep -c . "$S/index.txt")
distinct=$(cut -f4 "$S/index.txt" | sort -u | wc -l)
names=$(cut -f5 "$S/index.txt" | sort -u | wc -l)
[ "$entries" = "$want" ] || fail "$entries index entries, want $want"
[ "$distinct" = "$want" ] || fail "$distinct distinct serials, want $want"
[ "$names" = "$want" ] || fail "$names distinct names, want $want"
[ "$(ls "$S/certs" | wc -l)" = "$want" ] || fail "certs/ holds $(ls "$S/certs" | wc -l) files, want $want"
nr=$(grep -c '^R' "$S/index.txt")
[ "$nr" = "$(wc -l <"$T/revoked")" ] || fail "$nr revoked entries, the revoker revoked $(wc -l <"$T/revoked")"
# The revoker's last CRL, made after its last revocation, as openssl reads it.
openssl crl -in "$S/crl.pem" -noout -text >crl.txt || fail "openssl cannot read the CRL"
openssl crl -in "$S/crl.pem" -noout -CAfile "$S/chain.pem" 2>/dev/null || fail "the CRL does not verify"
incrl=$(grep -c 'Serial Number:' crl.txt)
[ "$incrl" = "$nr" ] || fail "the CRL lists $incrl serials, the index $nr revocations"
for s in $(awk -F'\t' '$1 == "R" { print $4 }' "$S/index.txt"); do
	grep -q "Serial Number: $s$" crl.txt || fail "revoked serial $s is not in the CRL"
done
ok ica check --dir "$S"
grep -q leftover "$T/.out" && { cat "$T/.out"; fail "leftovers after the run"; }
echo "concurrency: $want issuances by $P processes and $nr revocations in ${secs%.*} s: $entries entries, $distinct distinct serials, every revocation in the CRL"

step "two tierca-renew runs at once"
mkdir -p tpl inst
cat >tierca.cfg <<CFG
server: { dir = "server"; };
client: { dir = "client"; };
templates = "tpl";
CFG
both=0; one=0
for round in 1 2 3 4 5; do
	for k in 1 2 3 4 5 6; do
		cat >tpl/w$round-$k.cfg <<CFG
name = "w$round-$k";
ca = "server";
dns = [ "w$round-$k.internal" ];
install: { cert = "$T/inst/w$round-$k.crt"; key = "$T/inst/w$round-$k.key"; mode = 0600; };
CFG
	done
	before=$(grep -c . "$S/index.txt")
	"$B/tierca-renew" -c tierca.cfg >r1.out 2>&1 & a=$!
	"$B/tierca-renew" -c tierca.cfg >r2.out 2>&1 & b=$!
	ra=0; rb=0; wait $a || ra=$?; wait $b || rb=$?
	[ $ra = 0 ] && [ $rb = 0 ] || { cat r1.out r2.out; fail "round $round: a run failed ($ra, $rb)"; }
	after=$(grep -c . "$S/index.txt")
	[ $((after - before)) = 6 ] || { cat r1.out r2.out; fail "round $round: $((after - before)) issuances, want 6 (exactly one run does the work)"; }
	if grep -q "another run is in progress" r1.out r2.out; then both=$((both + 1)); else one=$((one + 1)); fi
done
[ $both -ge 1 ] || fail "the two runs never overlapped: no run saw the lock"
ok ica check --dir "$S"
echo "concurrency: tierca-renew twice at once, 5 rounds: $both times the second run said another run is in progress, $one times it found nothing left to do"
