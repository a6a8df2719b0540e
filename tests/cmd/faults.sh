# faults: deterministic I/O fault injection (TIERCA_FAULT=any:N, the test
# hook of libca/file.c). For issue, sign, revoke, crl, renew and deploy,
# N = 1, 2, 3, ... makes the N-th write/fsync/rename/link/mkdir/truncate
# of the run fail (EIO, and ENOSPC on every other N) until a run no
# longer reaches the N-th call. After every failure: a non-zero exit,
# one error line, `tierca-ica check` without a problem or a leftover,
# index.txt byte for byte as before (deploy: the tree under --root as
# before), and the next normal run succeeds. A failure that comes after
# the operation's commit point (the fsync of a directory after the
# rename that committed) cannot restore the old state: it says so in its
# error, and is counted apart; the new state must then be complete.
. "$(dirname "$0")/lib.sh"
S=$T/server
FLOG=$T/fault.log
chk() { "$B/tierca-ica" check --dir "$1"; }

hierarchy
mkdir -p tpl inst dsrc droot
cat >tierca.cfg <<CFG
server: { dir = "server"; };
client: { dir = "client"; };
templates = "tpl";
CFG
template() {
	cat >tpl/$1.cfg <<CFG
name = "$1";
ca = "server";
dns = [ "$1.internal" ];
install: { cert = "$T/inst/$1.crt"; key = "$T/inst/$1.key";
           fullchain = "$T/inst/$1.fullchain.pem"; mode = 0600; };
CFG
}
managed() {
	local f
	for f in 1 2 3; do
		printf '# deploy-target: /etc/faults/f%s.conf\ngen = %s\n' "$f" "$1" >dsrc/f$f.conf
	done
	# A new directory each generation: mkdir is a point too.
	printf '# deploy-target: /etc/faults/g%s/new.conf\ngen = %s\n' "$1" "$1" >dsrc/g.conf
}
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout dev.key \
	-subj /CN=dev.internal -addext subjectAltName=DNS:dev.internal -out dev.csr 2>/dev/null || fail "openssl req"
gen=0; managed 0
ok "$B/tierca-deploy" --root "$T/droot" dsrc
ok ica crl --dir "$S"

# sound: the CA passes the checker with nothing left over.
sound() {
	chk "$S" >"$T/chk.out" 2>&1 || { cat "$T/chk.out"; fail "$1: $S broken"; }
	! grep -q '^leftover' "$T/chk.out" || { cat "$T/chk.out"; fail "$1: leftovers in $S"; }
}
# What must not change: index.txt; for deploy, the tree's names, modes
# and contents (a directory's mtime moves with a removed temp file).
state() {
	if [ "$op" = deploy ]; then
		(cd "$T/droot" && find . -printf '%p %m %s\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum)
	else cat "$S/index.txt"; fi
}

# prepare OP I: what the faulted run needs; run_op OP I: the run;
# next_op OP I: the next normal run after it.
prepare() {
	case $1 in
	revoke) ok ica issue --dir "$S" v$2 --dns v$2.internal ;;
	renew) template r$2 ;;
	deploy) gen=$((gen + 1)); managed $gen ;;
	esac
}
run_op() {
	case $1 in
	issue) ica issue --dir "$S" f$2 --dns f$2.internal ;;
	sign) ica sign --dir "$S" s$2 dev.csr ;;
	revoke) ica revoke --dir "$S" v$2 ;;
	crl) ica crl --dir "$S" ;;
	renew) "$B/tierca-renew" -c tierca.cfg ;;
	deploy) "$B/tierca-deploy" --root "$T/droot" dsrc ;;
	esac
}
next_op() {
	case $1 in
	issue) ok ica issue --dir "$S" g$2 --dns g$2.internal ;;
	sign) ok ica sign --dir "$S" t$2 dev.csr ;;
	revoke) ok ica issue --dir "$S" w$2 --dns w$2.internal; ok ica revoke --dir "$S" w$2 ;;
	crl) ok ica crl --dir "$S" ;;
	renew) ok "$B/tierca-renew" -c tierca.cfg
		a=$(openssl x509 -in inst/r$2.crt -noout -pubkey) b=$(openssl pkey -in inst/r$2.key -pubout)
		[ "$a" = "$b" ] || fail "renew: installed key and certificate differ after the next run" ;;
	deploy) ok "$B/tierca-deploy" --root "$T/droot" dsrc
		grep -q "gen = $gen" "$T/droot/etc/faults/f1.conf" || fail "deploy: the next run did not place generation $gen" ;;
	esac
}

summary=()
for op in issue sign revoke crl renew deploy; do
	step "$op"
	rolled=0; after=0; tolerated=0; partial=0
	for N in $(seq 1 400); do
		prepare $op $N
		before=$(state)
		e=EIO; [ $((N % 2)) = 0 ] && e=ENOSPC
		: >"$FLOG"
		rc=0
		TIERCA_FAULT=any:$N:$e TIERCA_FAULT_LOG=$FLOG run_op $op $N >"$T/.out" 2>"$T/.err" || rc=$?
		if [ ! -s "$FLOG" ]; then
			# The run never reached its N-th call: N - 1 points.
			[ $rc = 0 ] || { cat "$T/.out" "$T/.err"; fail "$op: failed without a fault (N=$N)"; }
			sound "$op (no fault)"
			break
		fi
		what=$(cat "$FLOG")
		if [ $rc = 0 ]; then
			# A failed call the operation may survive (the
			# index's validation cache, which is only a cache).
			tolerated=$((tolerated + 1))
			sound "$op with $what tolerated"
			continue
		fi
		[ $rc -lt 128 ] || { cat "$T/.err"; fail "$op: crashed at $what (rc $rc)"; }
		[ "$(grep -c . "$T/.err")" -ge 1 ] && [ "$(grep -c . "$T/.err")" -le 2 ] ||
			{ cat "$T/.err"; fail "$op: not one error line at $what"; }
		grep -Eq "Input/output error|No space left on device" "$T/.err" ||
			{ cat "$T/.err"; fail "$op: the error does not say what failed ($what)"; }
		sound "$op failed at $what"
		if [ "$(state)" = "$before" ]; then
			rolled=$((rolled + 1))
		else
			# Only a failure after the commit point may leave the
			# new state, and its error must say so: the fsync of a
			# directory after the committing rename ("sync"), the
			# CRL that follows a recorded revocation, the install
			# that follows a recorded renewal.
			# Deploy commits file by file once all are staged: a
			# failed rename leaves each target old or new, whole.
			if [ $op = deploy ] && grep -q "cannot place" "$T/.err"; then
				for f in 1 2 3; do
					grep -Eq "^gen = ($((gen - 1))|$gen)$" "$T/droot/etc/faults/f$f.conf" ||
						fail "deploy: f$f.conf is neither generation after a failed $what"
				done
				partial=$((partial + 1))
			else
				grep -Eq "cannot sync|revoked, but the CRL was not renewed|issued, not installed" "$T/.err" ||
					{ cat "$T/.err"; diff <(echo "$before") <(state) | head; fail "$op: state changed after a failed $what"; }
				after=$((after + 1))
			fi
		fi
		next_op $op $N
		sound "$op: the next run after $what"
	done
	[ -s "$FLOG" ] && fail "$op: still failing at N=400"
	points=$((N - 1))
	[ $points -ge 3 ] || fail "$op: only $points injection points: is the hook reached?"
	summary+=("faults: $op: $points injection points: $rolled failed with the old state intact, $after failed after the commit (new state complete), $tolerated survived$( [ $partial = 0 ] || echo ", $partial placed part of the set (each file old or new)")")
done
printf '%s\n' "${summary[@]}"
