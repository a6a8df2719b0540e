# crash: every mutating operation (ica issue, ica sign, ica revoke,
# ica crl, tierca-renew, tierca-deploy, root sign) is killed with SIGKILL
# at a random instant; after each kill the CA directory passes
# `tierca-ica check` (leftovers of the killed run allowed), the next run
# of the same operation succeeds, and after it no leftover remains.
# Deploy: every target holds the old or the new content, never a mix;
# after the next run no .tierca-deploy.* temp file and no directory the
# killed run made for nothing remain. Root sign: no temp file of --out
# remains beside it. Both are also killed by strace at the worst instant
# (temp files made, nothing renamed yet), where random kills seldom land.
# TIERCA_STRESS=N sets the number of kills (make check: 50, make stress:
# 500 or more); the counts of kills that landed mid-operation, inside
# the operation's lock (the CA's, or deploy's run lock), and after the
# process had finished are printed.
. "$(dirname "$0")/lib.sh"
N=${TIERCA_STRESS:-50}
S=$T/server
chk() { "$B/tierca-ica" check --dir "$1"; }

step "the checker finds what it must"
hierarchy
ok ica issue --dir "$S" a1 --dns a1.internal
ok ica issue --dir "$S" a2 --dns a2.internal
ok ica revoke --dir "$S" a1
ok chk "$S"
ok chk "$T/root"
planted() { # planted NAME PATTERN: a copy of $S with one fault planted
	expect 1 chk "$T/p"
	grep -Eq -- "$2" "$T/.out" || { cat "$T/.out"; fail "checker missed: $1"; }
	rm -rf "$T/p"
}
cp -a "$S" p; tail -1 p/index.txt >>p/index.txt; planted "a duplicate serial" "serial [0-9A-F]+ repeats line"
cp -a "$S" p; rm p/certs/"$(sed -n 2p p/index.txt | cut -f4)".pem; planted "a missing certificate" "certs/.*No such file"
cp -a "$S" p; cp p/issued/a1/key.pem p/issued/a2/key.pem; planted "a key of another certificate" "key.pem: does not match"
cp -a "$S" p; printf 'V\tbad\n' >>p/index.txt; planted "a corrupt index line" "corrupt entry"
cp -a "$S" p; cp "$T/root/crl.pem" p/crl.pem 2>/dev/null || { ok root crl --dir "$T/root" --passphrase-file "$PASSFILE"; cp "$T/root/crl.pem" p/crl.pem; }; planted "a CRL of another CA" "not signed by this CA"
cp -a "$S" p; cp -a "$S/issued/a2" p/issued/a9; planted "a certificate under another name" "is recorded as 'a2'"
# Leftovers are not problems, but are listed; the next locked run
# removes them when the lock file says its holder died.
cp -a "$S" p; : >p/certs/.AB.pem.Xy12Zq; mkdir p/issued/.zz.new.999999
ok chk "$T/p"; [ "$(grep -c '^leftover: ' "$T/.out")" = 2 ] || { cat "$T/.out"; fail "leftovers not listed"; }
truncate -s 1 p/.lock
ok ica issue --dir "$T/p" a3 --dns a3.internal
ok chk "$T/p"; grep -q leftover "$T/.out" && { cat "$T/.out"; fail "leftovers not removed"; }
# A kill after the commit point (the index line) and before the swap:
# the next run publishes the staged generation the index records.
ok ica issue --dir "$T/p" rf --dns rf.internal
mv p/issued/rf p/issued/.rf.new.999999; truncate -s 1 p/.lock
ok ica issue --dir "$T/p" rg --dns rg.internal
[ -f p/issued/rf/key.pem ] && [ ! -e p/issued/.rf.new.999999 ] || fail "a recorded staged generation was not published"
ok chk "$T/p"; grep -q leftover "$T/.out" && { cat "$T/.out"; fail "leftovers after publishing"; }
rm -rf p
# A root sign killed while writing --out: the temp file beside it was
# noted in the root's lock file before it was made; the checker lists
# it, the next locked root run removes it. What the notes do not name,
# or name but is no regular file, stays.
mkdir outd
echo junk >outd/.x.crt.Ab12Cd; echo mine >outd/.x.crt.Zz99Yy
ln -s "$T/outd/.x.crt.Zz99Yy" outd/.y.crt.Qq11Rr
printf '\0tmp %s/outd/.x.crt.Ab12Cd\ntmp %s/outd/.y.crt.Qq11Rr\ntmp %s/outd/.x.crt.Tt' "$T" "$T" "$T" >"$T/root/.lock"
ok chk "$T/root"; grep -q "^leftover: $T/outd/.x.crt.Ab12Cd: " "$T/.out" || { cat "$T/.out"; fail "a noted temp file not listed"; }
[ "$(grep -c '^leftover: ' "$T/.out")" = 1 ] || { cat "$T/.out"; fail "more listed than the noted temp file"; }
ok root crl --dir "$T/root" --passphrase-file "$PASSFILE"
[ ! -e outd/.x.crt.Ab12Cd ] || fail "a noted temp file of --out was not removed"
[ -f outd/.x.crt.Zz99Yy ] && [ -L outd/.y.crt.Qq11Rr ] || fail "removed what the notes do not name as a temp file"
[ ! -s "$T/root/.lock" ] || fail "the root's lock file is not empty after a run"
rm -rf outd

step "fixtures: a CSR, a renewal config, managed files"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout dev.key \
	-subj /CN=dev.internal -addext subjectAltName=DNS:dev.internal -out dev.csr 2>/dev/null || fail "openssl req"
ok ica init --dir "$T/extra" --kind server --subject "CN=Extra ICA"
mkdir -p tpl inst dsrc droot
cat >tierca.cfg <<CFG
server: { dir = "server"; };
client: { dir = "client"; };
templates = "tpl";
CFG
template() { # template NAME: a template that needs an issuance
	cat >tpl/$1.cfg <<CFG
name = "$1";
ca = "server";
dns = [ "$1.internal" ];
install: { cert = "$T/inst/$1.crt"; key = "$T/inst/$1.key";
           fullchain = "$T/inst/$1.fullchain.pem"; mode = 0600; };
CFG
}
managed() { # managed GEN: the managed files at generation GEN
	local f
	for f in 1 2 3 4; do
		{ echo "# deploy-target: /etc/crash/f$f.conf"; echo "gen = $1"; head -c $((2000 * f)) /dev/zero | tr '\0' x; echo; } >dsrc/f$f.conf
	done
}
managed 0
ok "$B/tierca-deploy" --root "$T/droot" dsrc
# The installed files of a template agree with each other and with the
# CA's issued/NAME (after a completed run).
installed_ok() {
	local n=$1 a b
	a=$(openssl x509 -in inst/$n.crt -noout -pubkey 2>/dev/null) || fail "$n: installed cert unreadable"
	b=$(openssl pkey -in inst/$n.key -pubout 2>/dev/null) || fail "$n: installed key unreadable"
	[ "$a" = "$b" ] || fail "$n: installed key does not match the installed certificate"
}
# deploy_ok GEN_OLD GEN_NEW: every target is one generation, complete.
deploy_ok() {
	local f want_old want_new have
	for f in 1 2 3 4; do
		have=$(sha256sum <"$T/droot/etc/crash/f$f.conf")
		want_old=$( { echo "# deploy-target: /etc/crash/f$f.conf"; echo "gen = $1"; head -c $((2000 * f)) /dev/zero | tr '\0' x; echo; } | sha256sum)
		want_new=$( { echo "# deploy-target: /etc/crash/f$f.conf"; echo "gen = $2"; head -c $((2000 * f)) /dev/zero | tr '\0' x; echo; } | sha256sum)
		[ "$have" = "$want_old" ] || [ "$have" = "$want_new" ] || fail "deploy: f$f.conf is neither generation $1 nor $2"
	done
}

DLOCK=$T/droot/var/lib/tierca/deploy.lock

# Random kills seldom land in the few milliseconds a temp file lives (a
# root sign spends its time deriving the key); strace kills at the exact
# instant instead: when the tool first enters a rename, its temp files
# made and noted, nothing renamed yet.
step "kills at the worst instant: temp files made, nothing renamed"
killat() { # killat SYSCALLS CMD...: SIGKILL on entering the first of SYSCALLS
	local sc=$1 rc=0; shift
	strace -qq -f -o /dev/null -e trace="$sc" -e inject="$sc":signal=KILL:when=1 "$@" >/dev/null 2>&1 || rc=$?
	[ $rc = 137 ] || fail "not killed entering $sc (rc $rc): $*"
}
if command -v strace >/dev/null && strace -qq -o /dev/null true 2>/dev/null; then
	killat "/^rename(at2?)?$" "$B/tierca-root" sign --dir "$T/root" --passphrase-file "$PASSFILE" --kind server --yes "$T/extra/ca.csr" --out "$T/worst.crt"
	[ -n "$(find "$T" -maxdepth 1 -name '.worst.crt.*')" ] && [ ! -e "$T/worst.crt" ] || { ls -la "$T"; fail "root sign: no temp file of --out at the kill"; }
	ok chk "$T/root"; grep -q "^leftover: $T/.worst.crt.[A-Za-z0-9]*: " "$T/.out" || { cat "$T/.out"; fail "root sign: the temp file of --out is not listed"; }
	ok root sign --dir "$T/root" --passphrase-file "$PASSFILE" --kind server --yes "$T/extra/ca.csr" --out "$T/worst.crt"
	[ -z "$(find "$T" -maxdepth 1 -name '.worst.crt.*')" ] || { ls -la "$T"; fail "root sign: the temp file of --out survived the next run"; }
	openssl verify -CAfile "$T/root/ca.crt" "$T/worst.crt" >/dev/null || fail "root sign: the output of the next run does not verify"
	ok chk "$T/root"; grep -q leftover "$T/.out" && { cat "$T/.out"; fail "root sign: leftovers after the next run"; }
	# Deploy: four changed files and one in a directory of its own,
	# which the next run no longer deploys.
	managed w
	printf '# deploy-target: /etc/crash/worst/new.conf\nw\n' >dsrc/g.conf
	killat "/^rename(at2?)?$" "$B/tierca-deploy" --root "$T/droot" dsrc
	[ "$(find "$T/droot" -name '.tierca-deploy.*' | wc -l)" = 5 ] && [ -s "$DLOCK" ] || { find "$T/droot"; fail "deploy: not 5 staged files and a marked lock at the kill"; }
	deploy_ok 0 0
	rm dsrc/g.conf
	ok "$B/tierca-deploy" --root "$T/droot" dsrc
	grep -q "^tierca-deploy: warning: removed 6 leftovers of an interrupted run" "$T/.out" || { cat "$T/.out"; fail "deploy: the 5 temp files and the directory were not removed, or not said"; }
	deploy_ok w w
	[ ! -e "$T/droot/etc/crash/worst" ] && [ -z "$(find "$T/droot" -name '.tierca-deploy.*')" ] && [ ! -s "$DLOCK" ] || { find "$T/droot"; fail "deploy: leftovers after the next run"; }
	managed 0
	ok "$B/tierca-deploy" --root "$T/droot" dsrc
else
	echo "--- strace cannot run here: skipped"
fi

ops=(issue sign revoke crl renew deploy rootsign)
declare -A killed finished held maxms
for o in "${ops[@]}"; do killed[$o]=0; finished[$o]=0; held[$o]=0; done
# The longest random delay of each, in ms: about the operation's own
# run time, so that kills spread over it (root sign spends most of its
# time deriving the key from the passphrase).
maxms=([issue]=25 [sign]=10 [revoke]=12 [crl]=10 [renew]=30 [deploy]=8 [rootsign]=100)

# killrun OP LOCK CMD...: starts CMD, kills it after a random delay, and
# counts how it ended. LOCK is the lock file that says "died inside".
killrun() {
	local op=$1 lock=$2 rc=0; shift 2
	"$@" >/dev/null 2>"$T/kill.err" &
	local pid=$!
	sleep "$(printf '0.%03d' $((RANDOM % (maxms[$op] + 1))))"
	kill -9 $pid 2>/dev/null
	wait $pid || rc=$?
	case $rc in
	137) killed[$op]=$((killed[$op] + 1))
	     if [ -s "$lock" ]; then held[$op]=$((held[$op] + 1)); fi ;;
	0) finished[$op]=$((finished[$op] + 1)) ;;
	*) cat "$T/kill.err"; fail "$op failed on its own (rc $rc): $*" ;;
	esac
}
# sound DIR: the invariants hold; leftovers are allowed.
sound() { "$B/tierca-ica" check --dir "$1" >"$T/.out" 2>&1 || { cat "$T/.out"; fail "after a kill of $op: $1 broken"; }; }
# clean DIR: the invariants hold and nothing is left over.
clean() {
	sound "$1"
	! grep -q '^leftover' "$T/.out" || { cat "$T/.out"; fail "after the next $op: leftovers remain in $1"; }
}

step "$N kills"
gen=0; dremoved=0; rremoved=0
for i in $(seq "$N"); do
	op=${ops[$(( (i - 1) % ${#ops[@]} ))]}
	case $op in
	issue)
		killrun issue "$S/.lock" ica issue --dir "$S" k$i --dns k$i.internal
		sound "$S"
		ok ica issue --dir "$S" n$i --dns n$i.internal
		clean "$S" ;;
	sign)
		killrun sign "$S/.lock" ica sign --dir "$S" s$i dev.csr
		sound "$S"
		ok ica sign --dir "$S" t$i dev.csr
		clean "$S" ;;
	revoke)
		# Two names of their own: one to kill revoking, one after.
		ok ica issue --dir "$S" ra$i --dns ra$i.internal
		ok ica issue --dir "$S" rb$i --dns rb$i.internal
		killrun revoke "$S/.lock" ica revoke --dir "$S" ra$i
		sound "$S"
		ok ica revoke --dir "$S" rb$i
		clean "$S" ;;
	crl)
		killrun crl "$S/.lock" ica crl --dir "$S"
		sound "$S"
		ok ica crl --dir "$S"
		clean "$S"
		openssl crl -in "$S/crl.pem" -noout -CAfile "$S/chain.pem" 2>/dev/null || fail "crl: openssl cannot verify it" ;;
	renew)
		template r$i
		killrun renew "$S/.lock" "$B/tierca-renew" -c tierca.cfg
		sound "$S"
		ok "$B/tierca-renew" -c tierca.cfg
		clean "$S"
		installed_ok r$i ;;
	deploy)
		# A new generation, and a file in a directory of its own that
		# the next run no longer deploys: what the killed run made for
		# it must go unless the file was placed.
		gen=$((gen + 1)); managed $gen
		printf '# deploy-target: /etc/crash/d%s/new.conf\ngen = %s\n' $gen $gen >dsrc/g.conf
		killrun deploy "$DLOCK" "$B/tierca-deploy" --root "$T/droot" dsrc
		deploy_ok $((gen - 1)) $gen
		rm dsrc/g.conf
		ok "$B/tierca-deploy" --root "$T/droot" dsrc
		deploy_ok $gen $gen
		r=$(sed -n 's/^tierca-deploy: warning: removed \([0-9]*\) leftover.*/\1/p' "$T/.out")
		dremoved=$((dremoved + ${r:-0}))
		[ -z "$(find "$T/droot" -name '.tierca-deploy.*')" ] || { find "$T/droot" -name '.tierca-deploy.*'; fail "deploy: temp files left after the next run"; }
		d=$T/droot/etc/crash/d$gen
		[ ! -e "$d" ] || [ "$(ls -A "$d")" = new.conf ] || { ls -la "$d"; fail "deploy: a directory made by the killed run is left"; }
		[ ! -s "$DLOCK" ] || fail "deploy: the lock is not cleared after a run" ;;
	rootsign)
		killrun rootsign "$T/root/.lock" root sign --dir "$T/root" --passphrase-file "$PASSFILE" --kind server --yes "$T/extra/ca.csr" --out "$T/extra$i.crt"
		sound "$T/root"
		rremoved=$((rremoved + $(find "$T" -maxdepth 1 -name ".extra$i.crt.*" | wc -l)))
		ok root sign --dir "$T/root" --passphrase-file "$PASSFILE" --kind server --yes "$T/extra/ca.csr" --out "$T/extra$i.crt"
		clean "$T/root"
		# The temp file of --out, beside it, is gone too.
		[ -z "$(find "$T" -maxdepth 1 -name ".extra$i.crt.*")" ] || { ls -la "$T"; fail "rootsign: the temp file of --out is left beside it"; }
		openssl verify -CAfile "$T/root/ca.crt" "$T/extra$i.crt" >/dev/null || fail "rootsign: the output does not verify" ;;
	esac
done

step "at the end"
ok chk "$S"
ok chk "$T/root"
# Every deploy temp file a kill left was removed by the next run.
left=$(find "$T/droot" -name '.tierca-deploy.*' | wc -l)
[ "$left" = 0 ] || fail "$left deploy temp files left"
tk=0; tf=0; th=0
for o in "${ops[@]}"; do
	echo "crash: $o: ${killed[$o]} killed mid-operation (${held[$o]} of them holding its lock), ${finished[$o]} had finished"
	tk=$((tk + killed[$o])); tf=$((tf + finished[$o])); th=$((th + held[$o]))
done
echo "crash: total $N kills: $tk mid-operation ($th holding a lock), $tf finished; deploy leftovers of kills removed by the next run: $dremoved, left: $left; root sign --out temp files removed by the next run: $rremoved, left: 0"
[ $tk -gt $((N / 3)) ] || fail "fewer than a third of the kills landed mid-operation: calibrate the delays"
