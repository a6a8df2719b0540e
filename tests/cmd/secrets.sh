# secrets: every tool that takes a passphrase or password runs under
# strace (execve of every child, with argv and environment), and each
# secret — root, intermediate, PKCS#12, easy-rsa passphrases, the SMTP
# password, wrong passphrases too — must appear nowhere: not in a child's
# argv or environment (reload hooks, deploy-after), not on stdout or
# stderr, not in any file the tools wrote (ceremony.log, index.txt,
# textfile, JSON). Then, while tools wait for a passphrase (or for a
# hook), their process is checked: core size 0 and not dumpable (its
# /proc files owned by root although it runs as uid 65534).
. "$(dirname "$0")/lib.sh"
# The tools run under strace here, and LeakSanitizer cannot work under
# ptrace (the ASan build then dies at exit); leaks are the other suites'.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
unset TIERCA_CONFIG TIERCA_NOW
command -v strace >/dev/null || fail "strace missing"
PY=/usr/bin/python3
"$PY" -c 'import aiosmtpd' 2>/dev/null || fail "python3-aiosmtpd missing"
EASYRSA=${EASYRSA:-/usr/share/easy-rsa/easyrsa}
[ -x "$EASYRSA" ] || fail "easy-rsa missing"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null' EXIT

# The secrets, each unique enough that any match is a leak.
ROOTP='root-XYZZY-passphrase-3141'
ICAP='ica-PLUGH-passphrase-2718'
P12P='p12-FROTZ-passphrase-1618'
ERP='easyrsa-GNUSTO-passphrase-1414'
SMTPP='smtp-REZROV-password-1732'
WRONGP='wrong-YOMIN-passphrase-0577'
SECRETS=("$ROOTP" "$ICAP" "$P12P" "$ERP" "$SMTPP" "$WRONGP")
mkdir -p pass
for v in ROOTP ICAP P12P ERP WRONGP; do printf '%s\n' "${!v}" >"pass/$v"; done
chmod 600 pass/*

# run NAME CMD...: CMD under strace -f (execve with argv and envp, 4 KiB
# strings); output in out/NAME.{out,err}, the trace in st/NAME; the exit
# status in $rc.
mkdir -p out st
run() {
	local n=$1; shift
	rc=0
	strace -f -v -qq -e trace=execve -s 4096 -o "st/$n" "$@" \
	    >"out/$n.out" 2>"out/$n.err" || rc=$?
}
# okr NAME CMD...: run, must succeed.
okr() { run "$@"; [ $rc = 0 ] || { cat "out/$1.out" "out/$1.err"; fail "$1: exit $rc"; }; }
# badr NAME PATTERN CMD...: run, must fail with PATTERN on stderr.
badr() {
	local n=$1 pat=$2; shift 2
	run "$n" "$@"
	[ $rc != 0 ] && [ $rc -lt 128 ] || { cat "out/$n.err"; fail "$n: exit $rc"; }
	grep -Eq -- "$pat" "out/$n.err" || { cat "out/$n.err"; fail "$n: error does not match /$pat/"; }
}

step "root ceremony: init, sign, revoke, crl (file, fd and a wrong one)"
okr root-init "$B/tierca-root" init --dir root --subject "CN=Secret Root" --passphrase-file pass/ROOTP
okr ica-init-s "$B/tierca-ica" init --dir server --kind server --subject "CN=Secret Server ICA" \
    --passphrase-file pass/ICAP
head -1 server/private/ca.key | grep -q ENCRYPTED || fail "the server ICA key is not encrypted"
okr ica-init-c "$B/tierca-ica" init --dir client --kind client --subject "CN=Secret Client ICA"
okr root-sign "$B/tierca-root" sign --dir root --passphrase-fd 3 --kind server --yes \
    server/ca.csr --out server.crt 3<pass/ROOTP
okr root-sign2 "$B/tierca-root" sign --dir root --passphrase-file pass/ROOTP --kind client --yes \
    client/ca.csr --out client.crt
okr ica-install-s "$B/tierca-ica" install --dir server server.crt --root root/ca.crt
okr ica-install-c "$B/tierca-ica" install --dir client client.crt --root root/ca.crt
badr root-crl-wrong "wrong passphrase" "$B/tierca-root" crl --dir root --passphrase-file pass/WRONGP
badr root-sign-wrong "wrong passphrase" "$B/tierca-root" sign --dir root --passphrase-fd 3 \
    --kind client --yes client/ca.csr --out x.crt 3<pass/WRONGP
okr root-crl "$B/tierca-root" crl --dir root --passphrase-file pass/ROOTP
okr ica-init-x "$B/tierca-ica" init --dir spare --kind server --subject "CN=Spare"
okr root-sign3 "$B/tierca-root" sign --dir root --passphrase-file pass/ROOTP --kind server --yes \
    spare/ca.csr --out spare.crt
SPARE=$(openssl x509 -in spare.crt -noout -serial | cut -d= -f2)
okr root-revoke "$B/tierca-root" revoke --dir root --passphrase-fd 3 "$SPARE" 3<pass/ROOTP
okr root-log "$B/tierca-root" log --dir root --verify

step "the encrypted intermediate: issue, sign, revoke, crl; a wrong passphrase"
okr ica-issue "$B/tierca-ica" issue --dir server web --dns web.internal --ip 127.0.0.1 \
    --passphrase-file pass/ICAP
okr ica-issue-fd "$B/tierca-ica" issue --dir server db --dns db.internal --passphrase-fd 3 3<pass/ICAP
badr ica-issue-wrong "wrong passphrase" "$B/tierca-ica" issue --dir server w --dns w.internal \
    --passphrase-file pass/WRONGP
okr ica-revoke "$B/tierca-ica" revoke --dir server db --passphrase-file pass/ICAP
okr ica-crl "$B/tierca-ica" crl --dir server --passphrase-fd 3 3<pass/ICAP
okr ica-issue-c "$B/tierca-ica" issue --dir client alice --cn Alice

step "PKCS#12 export"
okr ica-p12 "$B/tierca-ica" export --dir server web --pkcs12 web.p12 --passphrase-file pass/P12P
openssl pkcs12 -in web.p12 -passin file:pass/P12P -nokeys >/dev/null 2>&1 ||
	fail "the PKCS#12 does not open with its passphrase"

step "import-easyrsa of a passphrase-protected easy-rsa CA"
printf '%s\n' "$ERP" >er.in; cp er.in er.out; chmod 600 er.in er.out
er() { EASYRSA_BATCH=1 EASYRSA_PKI=$T/pki EASYRSA_PASSIN=file:$T/er.in \
    EASYRSA_PASSOUT=file:$T/er.out "$EASYRSA" "$@" >er.log 2>&1 || { cat er.log; fail "easyrsa $*"; }; }
er init-pki
er build-ca
er build-client-full carol nopass
rm -f er.in er.out
badr import-wrong "wrong passphrase" "$B/tierca-ica" import-easyrsa --dir imported --kind client \
    pki --passphrase-file pass/WRONGP
okr import "$B/tierca-ica" import-easyrsa --dir imported --kind client pki --passphrase-fd 3 3<pass/ERP

step "tierca-monitor --mail with AUTH from the secrets file (aiosmtpd on loopback)"
cat >smtpd.py <<'PYEOF'
import signal, ssl, sys, threading
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
port, outdir, cert, key, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
class Saver:
    async def handle_DATA(self, server, session, envelope):
        open(outdir + "/msg", "wb").write(envelope.original_content)
        return "250 OK"
def auth(server, session, envelope, mechanism, data):
    return AuthResult(success=isinstance(data, LoginPassword) and data.login == b"monitor"
                      and data.password == pw.encode(), handled=False)
ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)
c = Controller(Saver(), hostname="127.0.0.1", port=port, tls_context=ctx,
               require_starttls=True, authenticator=auth, auth_required=True)
c.start()
open(outdir + "/ready", "w").close()
signal.signal(signal.SIGTERM, lambda *a: (c.stop(), sys.exit(0)))
threading.Event().wait()
PYEOF
okr ica-issue-smtp "$B/tierca-ica" issue --dir server smtp --dns smtp.internal --ip 127.0.0.1 \
    --passphrase-file pass/ICAP
mkdir box
port=$(free_port)
# The server learns the password from a file, not from its argv (which
# strace would not see anyway: it is not our child).
"$PY" smtpd.py "$port" box server/issued/smtp/fullchain.pem server/issued/smtp/key.pem \
    "$SMTPP" >smtpd.log 2>&1 &
pids+=($!)
for i in $(seq 100); do [ -e box/ready ] && break; sleep 0.1; done
[ -e box/ready ] || { cat smtpd.log; fail "smtpd did not start"; }
printf 'smtp_user = "monitor";\nsmtp_password = "%s";\n' "$SMTPP" >secrets.cfg
chmod 600 secrets.cfg
cat >mon.cfg <<EOF
server: { dir = "server"; };
client: { dir = "client"; };
monitor: { textfile = "mon.prom";
  mail: { url = "smtp://127.0.0.1:$port"; starttls = true; always = true;
    from = "pki@example.internal"; to = [ "ops@example.internal" ];
    ca = "root/ca.crt"; secrets = "secrets.cfg"; }; };
EOF
run monitor "$B/tierca-monitor" -c mon.cfg --mail --json
[ $rc -le 2 ] || { cat out/monitor.err; fail "monitor exit $rc"; }
[ -s box/msg ] || { cat out/monitor.err smtpd.log; fail "no message delivered with AUTH"; }
printf 'smtp_user = "monitor";\nsmtp_password = "%s";\n' "$WRONGP" >secrets-wrong.cfg
chmod 600 secrets-wrong.cfg
sed 's/secrets.cfg/secrets-wrong.cfg/' mon.cfg >mon-wrong.cfg
run monitor-wrong "$B/tierca-monitor" -c mon-wrong.cfg --mail
grep -q "cannot send mail" out/monitor-wrong.err || { cat out/monitor-wrong.err; fail "a refused AUTH not reported"; }

step "tierca-renew with reload hooks, and tierca-deploy with deploy-after"
mkdir tpl inst
cat >tpl/app.cfg <<EOF
name = "app";
ca = "client";
cn = "app";
install: { cert = "$T/inst/app.crt"; key = "$T/inst/app.key"; mode = 0640; };
reload = "env > $T/hook.env; echo \"\$@\" > $T/hook.args";
EOF
printf 'client: { dir = "client"; };\ntemplates = "tpl";\n' >renew.cfg
okr renew "$B/tierca-renew" -c renew.cfg --json
[ -s hook.env ] || fail "the reload hook did not run"
grep -qF 'execve("/bin/sh", ["sh", "-c"' st/renew || fail "no hook execve traced"
mkdir -p dsrc droot
printf '# deploy-target: /etc/app.conf\n# deploy-after: env > %s/after.env\nx = 1\n' "$T" >dsrc/app.conf
okr deploy "$B/tierca-deploy" --root "$T/droot" dsrc
[ -s after.env ] || fail "deploy-after did not run"

step "the secrets appear nowhere"
# Every child's argv and environment, as strace -v shows them.
n=$(grep -c 'execve(' st/* | awk -F: '{s += $2} END {print s}')
[ "$n" -ge 30 ] || fail "only $n execve calls traced"
# Files that hold a secret by design: the passphrase files, the secrets
# files, easy-rsa's helper and our smtpd's log of nothing.
leaks=0
for s in "${SECRETS[@]}"; do
	hits=$(grep -rlF -- "$s" . 2>/dev/null | grep -Ev '^\./(pass/|secrets(-wrong)?\.cfg$|er\.log$|smtpd\.log$)' || true)
	if [ -n "$hits" ]; then
		echo "LEAK of '$s' in:"; echo "$hits" | sed 's/^/    /'
		leaks=$((leaks + 1))
	fi
done
[ $leaks = 0 ] || fail "$leaks secret(s) leaked"
# Proof that the search looks where it should: the traces hold the
# children's environment (a variable we set reaches the hook).
grep -q 'TIERCA_SECRETS_PROBE=seen' st/* && fail "probe present before it was set"
TIERCA_SECRETS_PROBE=seen okr renew2 "$B/tierca-renew" -c renew.cfg
grep -q 'TIERCA_SECRETS_PROBE=seen' st/renew2 || fail "strace -v does not show envp: the search would be blind"
echo "searched $(ls st | wc -l) traces ($n execve), $(ls out | wc -l) outputs and every file under \$T"

step "core dumps off and not dumpable while a passphrase is awaited"
# As uid 65534, so that 'not dumpable' shows: /proc/PID/environ of a
# non-dumpable process belongs to root, not to the process's own uid.
U=$T/u
mkdir "$U"
cp -a server "$U/server"
cp -a client "$U/client"
cp pass/ICAP "$U/ica.pass"
printf 'client: { dir = "client"; };\ntemplates = "tpl";\n' >"$U/renew.cfg"
mkdir "$U/tpl" "$U/inst"
printf 'name = "slow";\nca = "client";\ncn = "slow";\ninstall: { cert = "%s/inst/slow.crt"; key = "%s/inst/slow.key"; };\nreload = "sleep 30";\n' "$U" "$U" >"$U/tpl/slow.cfg"
chown -R 65534:65534 "$U"; chmod o+x "$T"
mkfifo "$T/fifo"; chmod 666 "$T/fifo"
exec 4<>"$T/fifo"   # a writer that never writes: the reader waits
# check_waiting NAME PID: the process is ours (uid 65534), core size 0,
# and its environ belongs to root.
check_waiting() {
	local n=$1 p=$2 i
	# Until it is the tool (setpriv has exec'd it) and asleep in a read
	# or a wait.
	for i in $(seq 100); do
		case "$(readlink "/proc/$p/exe" 2>/dev/null)" in
		*/tierca-*) grep -q '^State:.*(sleeping)' "/proc/$p/status" && break ;;
		esac
		sleep 0.1
	done
	[ -d "/proc/$p" ] || fail "$n: exited before the check"
	grep -q "^Uid:[[:space:]]*65534" "/proc/$p/status" || fail "$n: not running as 65534"
	grep -Eq '^Max core file size +0 +0 ' "/proc/$p/limits" ||
		{ grep core "/proc/$p/limits"; fail "$n: core dumps not off"; }
	[ "$(stat -c %U "/proc/$p/environ")" = root ] ||
		{ ls -l "/proc/$p/environ"; fail "$n: dumpable"; }
	echo "- $n: core 0, not dumpable"
}
# The control: an ordinary process of uid 65534 owns its environ.
setpriv --reuid 65534 --regid 65534 --clear-groups sleep 30 &
p=$!; pids+=($p); sleep 0.3
[ "$(stat -c %U "/proc/$p/environ")" = nobody ] || fail "control: environ of a dumpable process is not its own"
kill $p
(cd "$U" && exec setpriv --reuid 65534 --regid 65534 --clear-groups "$B/tierca-root" init \
    --dir "$U/newroot" --subject CN=X --passphrase-fd 3 3<"$T/fifo") >/dev/null 2>&1 &
p=$!; pids+=($p)
check_waiting "tierca-root init" $p; kill $p
(cd "$U" && exec setpriv --reuid 65534 --regid 65534 --clear-groups "$B/tierca-ica" issue \
    --dir server slowissue --dns s.internal --passphrase-fd 3 3<"$T/fifo") >/dev/null 2>&1 &
p=$!; pids+=($p)
check_waiting "tierca-ica issue (encrypted key)" $p; kill $p
(cd "$U" && exec setpriv --reuid 65534 --regid 65534 --clear-groups "$B/tierca-ica" export \
    --dir server web --pkcs12 "$U/w.p12" --passphrase-fd 3 3<"$T/fifo") >/dev/null 2>&1 &
p=$!; pids+=($p)
check_waiting "tierca-ica export --pkcs12" $p; kill $p
(cd "$U" && exec setpriv --reuid 65534 --regid 65534 --clear-groups "$B/tierca-renew" \
    -c "$U/renew.cfg") >"$T/renew-nobody.log" 2>&1 &
p=$!; pids+=($p)
# renew waits for its hook (sleep 30), holding the client ICA key.
for i in $(seq 100); do pgrep -P $p >/dev/null && break; sleep 0.1; done
[ -d /proc/$p ] || cat "$T/renew-nobody.log"; check_waiting "tierca-renew (in a reload hook)" $p; kill $p; pkill -P $p 2>/dev/null || true
# monitor --mail: an SMTP server that accepts and never greets.
sport=$(free_port)
"$PY" -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(5); time.sleep(60)' "$sport" &
pids+=($!)
wait_port "$sport" || fail "stalling server"
cp secrets.cfg "$U/secrets.cfg"; cp root/ca.crt "$U/root.crt"
sed -e "s|127.0.0.1:$port|127.0.0.1:$sport|" -e 's|root/ca.crt|root.crt|' mon.cfg >"$U/mon.cfg"
chown -R 65534:65534 "$U"; chmod o+x "$T"
(cd "$U" && exec setpriv --reuid 65534 --regid 65534 --clear-groups "$B/tierca-monitor" \
    -c "$U/mon.cfg" --mail) >/dev/null 2>&1 &
p=$!; pids+=($p)
sleep 1
check_waiting "tierca-monitor --mail" $p; kill $p
exec 4>&-
echo "secrets ok"
