# harness: tierca-harness builds an ephemeral hierarchy in a private
# TMPDIR, passes its seven categories and leaves nothing behind -- after
# a normal run, a failing one, SIGTERM and SIGINT mid-run (its reload
# hook included) and a crashed worker. --json, --only, --keep, usage
# errors. --pki audits a hierarchy built with the tools, changes nothing,
# and each read-only category fails when the thing it checks is broken;
# renewal and alerting fail through the testing options.
. "$(dirname "$0")/lib.sh"
H=$B/tierca-harness
export TMPDIR=$T/tmp
mkdir "$TMPDIR"
cats="chain crl deploy renewal alerting deploy-scripts security"
ro_cats="chain crl deploy deploy-scripts security"

# empty_tmp WHAT: the private TMPDIR holds nothing.
empty_tmp() {
	[ -z "$(ls -A "$TMPDIR")" ] || { ls -la "$TMPDIR"; fail "left behind in TMPDIR after $*"; }
}
# passes CATEGORY...: each one's summary line says PASS in $T/.out.
passes() {
	local c
	for c in "$@"; do
		grep -q "^PASS $c: " "$T/.out" || { cat "$T/.out"; fail "category $c did not pass"; }
	done
}
# fails CATEGORY: its summary line says FAIL.
fails() {
	grep -q "^FAIL $1: " "$T/.out" || { cat "$T/.out" "$T/.err"; fail "category $1 did not fail"; }
}
sections() { grep -c '^== ' "$T/.out"; }
# gone PID: the process has ended (a zombie waiting for a reaper that is
# not ours counts as ended), within two seconds.
gone() {
	local i s
	for i in $(seq 20); do
		s=$(ps -o stat= -p "$1" 2>/dev/null) || return 0
		case "$s" in Z*) return 0;; esac
		sleep 0.1
	done
	return 1
}

step "help, version, usage errors exit 2"
"$H" --help | grep -q "usage: tierca-harness" || fail "--help"
"$H" --version | grep -Eq "^tierca-harness [0-9]+\.[0-9]+" || fail "--version"
expect 2 "$H" --only bogus
grep -q "unknown category 'bogus'" "$T/.err" || fail "no message for an unknown category"
expect 2 "$H" --frobnicate
expect 2 "$H" stray-argument
expect 2 "$H" --smtp-port 0
expect 2 "$H" --pki /nonexistent.cfg --only renewal
expect 2 "$H" --pki /nonexistent.cfg --reload-hook true
bad "cannot (open|read).*nonexistent.cfg" "$H" --pki /nonexistent.cfg
empty_tmp "usage errors"

step "a healthy run: seven categories pass, exit 0, nothing left"
start=$(date +%s)
ok "$H"
passes $cats
[ "$(sections)" = 7 ] || fail "want 7 categories"
grep -q "^tierca-harness: PASS: 7 of 7 categories passed" "$T/.out" || fail "summary"
grep -q "^  FAIL" "$T/.out" && fail "a check failed in a passing run"
grep -q "^  PASS  alert mail received" "$T/.out" || fail "the alert mail did not arrive"
grep -q "^  PASS  forged name outside the constraints refused" "$T/.out" || fail "no forged-certificate check"
grep -q "^  PASS  runs the reload hook" "$T/.out" || fail "no reload-hook check"
echo "healthy run: $(( $(date +%s) - start ))s"
empty_tmp "a healthy run"

step "without root: the same run as an unprivileged user"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
	chmod o+x "$T"
	mkdir "$T/tmp-nobody"
	chown 65534:65534 "$T/tmp-nobody"
	if nobody test -x "$H"; then
		TMPDIR=$T/tmp-nobody nobody "$H" >"$T/.out" 2>"$T/.err" || { cat "$T/.out" "$T/.err"; fail "as uid 65534"; }
		passes $cats
		[ -z "$(ls -A "$T/tmp-nobody")" ] || fail "left behind as uid 65534"
	else
		echo "($H is not reachable by uid 65534: skipped)"
	fi
	rmdir "$T/tmp-nobody"
	chmod o-x "$T"
else
	echo "(not root, or no setpriv: this whole test already runs unprivileged)"
fi

step "--json is one document with all seven"
"$H" --json >h.json 2>h.err || { cat h.json h.err; fail "--json run"; }
python3 - h.json <<'PY' || fail "--json document"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["result"] == "PASS", d["result"]
assert d["mode"] == "ephemeral" and d["dir"] is None and d["error"] is None
names = [c["name"] for c in d["categories"]]
assert names == ["chain", "crl", "deploy", "renewal", "alerting",
                 "deploy-scripts", "security"], names
for c in d["categories"]:
    assert c["result"] == "PASS" and c["completed"], c["name"]
    assert c["failed"] == 0 and c["passed"] > 0, c["name"]
    assert c["passed"] + c["skipped"] == len(c["checks"]), c["name"]
    for k in c["checks"]:
        assert k["name"] and k["result"] in ("PASS", "SKIP"), k
PY
empty_tmp "--json"

step "--only runs what it names"
ok "$H" --only crl
passes crl
[ "$(sections)" = 1 ] || fail "--only crl ran $(sections) categories"
ok "$H" --only chain,security --only deploy-scripts
passes chain security deploy-scripts
[ "$(sections)" = 3 ] || fail "--only chain,security --only deploy-scripts ran $(sections)"
empty_tmp "--only"

step "--keep keeps the directory and prints its path"
ok "$H" --keep --only chain
dir=$(sed -n 's/^kept //p' "$T/.out")
case "$dir" in "$TMPDIR"/tierca-harness.*) ;; *) fail "kept path '$dir' is not in TMPDIR";; esac
[ -s "$dir/root/ca.crt" ] && [ -s "$dir/server/crl.pem" ] && [ -s "$dir/tierca.cfg" ] || fail "the kept directory is not the hierarchy"
[ "$(stat -c %a "$dir")" = 700 ] || fail "the scratch directory is not 0700"
openssl verify -CAfile "$dir/root/ca.crt" -untrusted "$dir/server/ca.crt" "$dir/inst/web.crt" >/dev/null || fail "openssl does not verify the kept web certificate"
rm -rf "$dir"
"$H" --keep --json --only crl >k.json || fail "--keep --json"
dir=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["dir"])' k.json)
[ -d "$dir" ] || fail "--json --keep: no dir"
rm -rf "$dir"
empty_tmp "--keep (once removed)"

step "alerting fails when the alert cannot be delivered (--smtp-port to a closed port)"
port=$(free_port)
expect 1 "$H" --only alerting,chain --smtp-port "$port"
fails alerting
passes chain
grep -q "^  FAIL  alert mail sent: cannot send mail via 'smtp://127.0.0.1:$port'" "$T/.out" || { cat "$T/.out"; fail "no delivery failure"; }
empty_tmp "a failing run"

step "renewal fails when the reload hook fails, passes with one that works"
expect 1 "$H" --only renewal,deploy --reload-hook 'echo reloading; exit 3'
fails renewal
passes deploy
grep -q "^  FAIL  runs the reload hook: .*exited 3" "$T/.out" || { cat "$T/.out"; fail "the failed reload is not named"; }
grep -q "reloading" "$T/.err" || fail "the hook's output was not relayed"
ok "$H" --only renewal --reload-hook true
passes renewal
empty_tmp "a failing renewal"

step "interrupted mid-run: the tree goes, the reload hook with it"
for sig in TERM INT; do
	rm -f hookpid
	"$H" --reload-hook "echo \$\$ >$T/hookpid; exec sleep 60" >int.out 2>int.err &
	pid=$!
	for i in $(seq 300); do [ -s hookpid ] && break; sleep 0.1; done
	[ -s hookpid ] || { kill -KILL $pid; fail "the hook never ran"; }
	[ -n "$(ls -A "$TMPDIR")" ] || fail "no scratch directory while running"
	t0=$(date +%s)
	kill -$sig $pid
	rc=0; wait $pid || rc=$?
	[ $rc = $((128 + $(kill -l $sig))) ] || { cat int.out int.err; fail "SIG$sig: exit $rc"; }
	[ $(( $(date +%s) - t0 )) -le 10 ] || fail "SIG$sig: took too long to stop"
	empty_tmp "SIG$sig"
	gone "$(cat hookpid)" || fail "SIG$sig: the reload hook outlived the harness"
	grep -q "not completed: interrupted" int.out || { cat int.out; fail "SIG$sig: the report does not say so"; }
done
# As soon as the directory exists: during the ceremony.
"$H" >int.out 2>int.err &
pid=$!
for i in $(seq 200); do [ -n "$(ls -A "$TMPDIR")" ] && break; sleep 0.01; done
kill -TERM $pid
rc=0; wait $pid || rc=$?
[ $rc = 143 ] || { cat int.out int.err; fail "early SIGTERM: exit $rc"; }
empty_tmp "an early SIGTERM"

step "a crashed worker: reported, exit 1, nothing left"
rm -f hookpid
"$H" --reload-hook "echo \$\$ >$T/hookpid; exec sleep 60" >crash.out 2>crash.err &
pid=$!
for i in $(seq 300); do [ -s hookpid ] && break; sleep 0.1; done
worker=$(ps -o pid= --ppid $pid | head -1 | tr -d ' ')
[ -n "$worker" ] || fail "no worker process"
kill -KILL "$worker"
rc=0; wait $pid || rc=$?
[ $rc = 1 ] || { cat crash.out crash.err; fail "crashed worker: exit $rc"; }
grep -q "not completed: the worker died" crash.out || { cat crash.out; fail "the crash is not reported"; }
gone "$(cat hookpid)" || fail "the hook outlived its crashed worker"
empty_tmp "a crashed worker"

step "--pki: a hierarchy built with the tools passes, and is left as it was"
hierarchy
mkdir tpl inst managed
cat >tpl/web.cfg <<CFG
# deploy-target: /etc/tierca/templates/web.cfg
name = "web";
ca = "server";
dns = [ "web.internal" ];
install: { cert = "$T/inst/web.crt"; key = "$T/inst/web.key";
           fullchain = "$T/inst/web.fullchain.pem"; mode = 0640; };
reload = "echo reload >> $T/reloads";
CFG
cat >tpl/api.cfg <<CFG
# deploy-target: /etc/tierca/templates/api.cfg
name = "api";
ca = "server";
dns = [ "api.internal" ];
install: { cert = "$T/inst/api.crt"; key = "$T/inst/api.key"; mode = 0644; };
CFG
cat >tpl/ops.cfg <<CFG
# deploy-target: /etc/tierca/templates/ops.cfg
name = "ops";
ca = "client";
cn = "Ops";
CFG
printf '# deploy-target: /etc/nginx/conf.d/tierca.conf\n# deploy-mode: 0644\nssl_verify_client on;\n' >managed/nginx.conf
cat >pki.cfg <<CFG
server: { dir = "server"; };
client: { dir = "client"; };
templates = "tpl";
deploy: { sources = [ "tpl", "managed" ]; };
CFG
ok "$B/tierca-renew" -c pki.cfg
ok ica issue --dir server gone --dns gone.internal
ok ica revoke --dir server gone --reason keyCompromise
ok ica issue --dir client left --cn Left
ok ica revoke --dir client left --reason affiliationChanged
ok ica crl --dir server
ok ica crl --dir client
# The root's CRL from a ceremony, as the server intermediate keeps it.
ok root crl --dir "$T/root" --passphrase-file "$PASSFILE"
ok ica root-crl --dir server root/crl.pem
state() { local d; for d in root server client tpl inst managed; do echo "== $d"; snap "$T/$d"; done; }
before=$(state)
ok "$H" --pki pki.cfg
passes $ro_cats
[ "$(sections)" = 5 ] || fail "--pki ran $(sections) categories, want 5"
grep -Eq "^== (renewal|alerting)" "$T/.out" && fail "--pki ran renewal or alerting"
grep -q "^  PASS  revoked server certificates refused: 1 revoked" "$T/.out" || { cat "$T/.out"; fail "the revoked leaf was not checked"; }
grep -q "^  SKIP  root key encrypted" "$T/.out" || fail "no root here, yet the root key was checked"
grep -q "^  PASS  server's copy of the root CRL: signed by the root CA" "$T/.out" || { cat "$T/.out"; fail "the root CRL copy was not checked"; }
[ "$before" = "$(state)" ] || fail "--pki changed the installation"
empty_tmp "--pki"
"$H" --pki pki.cfg --json >p.json || fail "--pki --json"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["mode"] == "pki" and d["result"] == "PASS"
assert [c["name"] for c in d["categories"]] == ["chain", "crl", "deploy", "deploy-scripts", "security"]
' p.json || fail "--pki --json"
# Where the root is (the offline laptop): its key and CRL are checked too.
sed 's|^server:|root: { dir = "root"; };\nserver:|' pki.cfg >laptop.cfg
ok "$H" --pki laptop.cfg --only security,chain,crl
passes security chain crl
grep -q "^  PASS  root key encrypted: PKCS#8 PBES2 AES-256" "$T/.out" || { cat "$T/.out"; fail "root key not checked"; }

step "--pki: each category fails when what it checks is broken"
# security: a key readable by others.
chmod 0644 server/issued/web/key.pem
expect 1 "$H" --pki pki.cfg
fails security
grep -q "FAIL  server issued key permissions: .*web/key.pem' is mode 0644" "$T/.out" || { cat "$T/.out"; fail "the key's mode is not named"; }
chmod 0600 server/issued/web/key.pem
# security: a private key lying around in a CA directory.
cp server/issued/web/key.pem server/web-backup.key
expect 1 "$H" --pki pki.cfg --only security
fails security
grep -q "web-backup.key' holds a private key" "$T/.out" || fail "the stray key is not named"
rm server/web-backup.key
# crl: a corrupt CRL, then an expired one.
cp server/crl.pem crl.bak
sed -i '3s/./A/; 3s/^\(.\{10\}\)./\1B/' server/crl.pem
cmp -s server/crl.pem crl.bak && fail "the CRL was not changed"
expect 1 "$H" --pki pki.cfg --only crl
fails crl
cp crl.bak server/crl.pem
TIERCA_NOW=$(date -u -d '-20 days' +%Y-%m-%dT%H:%M:%SZ) ok ica crl --dir server
expect 1 "$H" --pki pki.cfg --only crl
fails crl
grep -q "FAIL  server CRL next update: .* expired at" "$T/.out" || { cat "$T/.out"; fail "the expired CRL is not named"; }
ok ica crl --dir server
# deploy: another certificate where web's belongs.
cp inst/web.crt web.bak
cp inst/api.crt inst/web.crt
expect 1 "$H" --pki pki.cfg --only deploy
fails deploy
grep -q "FAIL  'web' installed certificate: stale" "$T/.out" || { cat "$T/.out"; fail "the swapped certificate is not named"; }
grep -q "FAIL  'web' installed key: .* is not the key of" "$T/.out" || fail "the key mismatch is not named"
cp web.bak inst/web.crt
# deploy: a leftover file of ours nobody installs.
cp inst/api.key inst/old-api.key
expect 1 "$H" --pki pki.cfg --only deploy
grep -q "FAIL  no orphaned files: .*old-api.key" "$T/.out" || { cat "$T/.out"; fail "the orphaned key is not named"; }
rm inst/old-api.key
# deploy-scripts: a managed file with a bad header.
printf '# deploy-target: etc/relative.conf\nx = 1;\n' >managed/bad.conf
expect 1 "$H" --pki pki.cfg --only deploy-scripts
fails deploy-scripts
grep -q "bad.conf:1: deploy-target 'etc/relative.conf'" "$T/.out" || { cat "$T/.out"; fail "the bad header is not named"; }
rm managed/bad.conf
# chain: the server intermediate replaced by one from another root.
ok root init --dir "$T/root2" --subject "CN=Other Root" --passphrase-file "$PASSFILE"
ok root sign --dir "$T/root2" --passphrase-file "$PASSFILE" --kind server --permit-dns internal --yes server/ca.csr --out other.crt
cp server/ca.crt ica.bak
cp other.crt server/ca.crt
expect 1 "$H" --pki pki.cfg --only chain
fails chain
grep -q "FAIL  server intermediate: .*does not chain to the root" "$T/.out" || { cat "$T/.out"; fail "the foreign intermediate is not named"; }
cp ica.bak server/ca.crt
# chain: the invariants checker (ca_check) on a copy of the server CA
# with a fault planted: the certificate recorded under one serial holds
# another's. It is the checker's finding, in the report; exit 1.
rm -rf srvcopy; cp -a server srvcopy; rm -f srvcopy/.lock
s1=$(sed -n 1p srvcopy/index.txt | cut -f4); s2=$(sed -n 2p srvcopy/index.txt | cut -f4)
cp "srvcopy/certs/$s2.pem" "srvcopy/certs/$s1.pem"
sed 's|^server: { dir = "server"; };|server: { dir = "srvcopy"; };|' pki.cfg >copy.cfg
grep -q srvcopy copy.cfg || fail "copy.cfg"
copy_before=$(snap srvcopy)
expect 1 "$H" --pki copy.cfg --only chain
fails chain
grep -Eq "FAIL  server CA directory: [0-9]+ problems? \(tierca-ica check --dir '.*srvcopy'\): .*srvcopy/certs/$s1.pem: holds serial $s2, not $s1" "$T/.out" ||
    { cat "$T/.out"; fail "the checker's finding is not in the report"; }
grep -q "PASS  client CA directory: " "$T/.out" || { cat "$T/.out"; fail "the client CA directory was not checked"; }
[ "$copy_before" = "$(snap srvcopy)" ] || fail "--pki changed the audited copy"
[ ! -e srvcopy/.lock ] || fail "--pki made a lock file"
# A certificate of another CA under a recorded serial: other.crt (the
# foreign intermediate) planted as certs/SERIAL.pem of the copy.
cp other.crt "srvcopy/certs/$s1.pem"
expect 1 "$H" --pki copy.cfg --only chain --json
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["result"] == "FAIL", d["result"]
c = [x for x in d["categories"] if x["name"] == "chain"][0]
f = [x for x in c["checks"] if x["name"] == "server CA directory"][0]
assert f["result"] == "FAIL", f
assert "not by this CA" in f["detail"], f["detail"]
' "$T/.out" || { cat "$T/.out"; fail "--json: the checker's finding"; }
# The audit reads no CA key: private/ca.key is never opened.
if command -v strace >/dev/null; then
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	    strace -f -qq -e trace=open,openat,openat2 -o trace.txt "$H" --pki laptop.cfg --only chain >/dev/null 2>&1 || true
	grep -q 'index.txt' trace.txt || fail "strace saw nothing"
	! grep 'ca\.key' trace.txt || fail "--pki opened a CA key"
fi
rm -rf srvcopy trace.txt
# All put back: it passes again.
ok "$H" --pki pki.cfg
passes $ro_cats
empty_tmp "the --pki runs"
echo "harness ok"
