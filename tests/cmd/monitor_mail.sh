# monitor_mail: tierca-monitor --mail delivers to a real SMTP server on
# loopback (Debian's python3-aiosmtpd, started here): plain SMTP, STARTTLS
# and SMTPS with a server certificate issued by tierca itself, AUTH with
# the secrets file. Subject and body are checked, and the RFC 5322
# headers. SMTP down, an untrusted server certificate, refused AUTH, a
# secrets file readable by others, a password that would go in clear,
# a server without STARTTLS: each one clear error line, a non-zero exit,
# and the textfile and JSON still written.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3    # Debian's, which has aiosmtpd
"$PY" -c 'import aiosmtpd' 2>/dev/null || fail "python3-aiosmtpd missing"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null' EXIT
# one_error PATTERN: the last run printed exactly one error line, matching.
one_error() {
	grep -Eq -- "$1" .err || { cat .err; fail "error does not match /$1/"; }
	[ "$(grep -c . .err)" = 1 ] || { cat .err; fail "more than one error line"; }
}

cat >smtpd.py <<'PY'
# A tiny SMTP server: each message is saved as DIR/msg.N with the envelope.
import signal, ssl, sys, threading
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

mode, port, outdir = sys.argv[1], int(sys.argv[2]), sys.argv[3]

class Saver:
    n = 0
    async def handle_DATA(self, server, session, envelope):
        Saver.n += 1
        with open("%s/msg.%d" % (outdir, Saver.n), "wb") as f:
            f.write(("X-Envelope: %s -> %s tls=%s auth=%s\r\n" % (envelope.mail_from,
                ",".join(envelope.rcpt_tos), session.ssl is not None,
                session.authenticated)).encode())
            f.write(envelope.original_content)
        return "250 OK saved"

def authenticator(server, session, envelope, mechanism, data):
    ok = (isinstance(data, LoginPassword) and data.login == b"monitor"
          and data.password == b"s3cret pass")
    return AuthResult(success=ok, handled=False)

kw = {}
ctx = None
if mode != "plain":
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(sys.argv[4], sys.argv[5])
if mode in ("starttls", "auth"):
    kw["tls_context"] = ctx
    kw["require_starttls"] = True
if mode == "auth":
    kw["authenticator"] = authenticator
    kw["auth_required"] = True
c = Controller(Saver(), hostname="127.0.0.1", port=port,
               ssl_context=ctx if mode == "smtps" else None, **kw)
c.start()
open("%s/ready" % outdir, "w").close()
signal.signal(signal.SIGTERM, lambda *a: (c.stop(), sys.exit(0)))
threading.Event().wait()
PY

# smtpd VAR MODE DIR [CERT KEY]: starts a server, its port into VAR. Not
# in $(...): the server's pid must reach the trap of this shell.
smtpd() {
	local var=$1 mode=$2 dir=$3; shift 3
	local port; port=$(free_port)
	mkdir -p "$dir"
	"$PY" smtpd.py "$mode" "$port" "$dir" "$@" >"$dir.log" 2>&1 &
	pids+=($!)
	local i
	for i in $(seq 100); do [ -e "$dir/ready" ] && break; sleep 0.1; done
	[ -e "$dir/ready" ] || { cat "$dir.log" >&2; fail "smtpd $mode did not start"; }
	printf -v "$var" '%s' "$port"
}
# mailcfg FILE URL STARTTLS CA [SECRETS]
mailcfg() {
	{
		printf 'server: { dir = "server"; };\nclient: { dir = "client"; };\n'
		printf 'monitor: { textfile = "mon.prom";\n  mail: { url = "%s"; starttls = %s;\n' "$2" "$3"
		printf '    from = "pki@example.internal"; to = [ "ops@example.internal", "oncall@example.internal" ];\n'
		printf '    ca = "%s";%s }; };\n' "$4" "${5:+ secrets = \"$5\";}"
	} >"$1"
}
# header FILE NAME: the value of a header of a saved message.
header() { "$PY" -c 'import email,sys; m=email.message_from_binary_file(open(sys.argv[1],"rb")); print(m[sys.argv[2]] or "")' "$1" "$2"; }
host=$(hostname)

step "a hierarchy and the SMTP server's certificate, issued by tierca"
hierarchy
ok ica issue --dir server smtp --dns smtp.internal --ip 127.0.0.1
ok ica crl --dir server
ok ica crl --dir client
SC=server/issued/smtp
smtpd plain plain box-plain
smtpd starttls starttls box-starttls $SC/fullchain.pem $SC/key.pem
smtpd smtps smtps box-smtps $SC/fullchain.pem $SC/key.pem
smtpd authp auth box-auth $SC/fullchain.pem $SC/key.pem
[ ${#pids[@]} = 4 ] || fail "servers not tracked for the trap"
down=$(free_port)

step "all OK: --mail sends nothing"
mailcfg plain.cfg "smtp://127.0.0.1:$plain" false root/ca.crt
expect 0 mon -c plain.cfg --mail
[ -z "$(ls box-plain | grep msg)" ] || fail "a message although everything is OK"

step "monitor.mail.always: an all-OK run mails too, and says so"
sed 's/starttls = false;/starttls = false; always = true;/' plain.cfg >always.cfg
grep -q "always = true" always.cfg || fail "always.cfg"
expect 0 mon -c always.cfg --mail
[ -f box-plain/msg.1 ] && [ ! -e box-plain/msg.2 ] || fail "not exactly one all-OK message"
header box-plain/msg.1 Subject | grep -Eq "^\[tierca\] OK: all [0-9]+ checks pass on $host$" ||
	{ header box-plain/msg.1 Subject; fail "all-OK subject"; }
grep -q "^0 of [0-9]* checks need attention" box-plain/msg.1 || fail "all-OK body"

step "plain SMTP: one message when something needs attention"
ok ica issue --dir server short --dns short.internal --days 20
expect 1 mon -c plain.cfg --mail
[ ! -s .err ] || { cat .err; fail "stderr on success"; }
m=box-plain/msg.2
[ -f "$m" ] && [ ! -e box-plain/msg.3 ] || fail "not exactly one message"
head -1 "$m" | grep -q "^X-Envelope: pki@example.internal -> ops@example.internal,oncall@example.internal tls=False" ||
	{ head -1 "$m"; fail "envelope"; }
[ "$(header "$m" Subject)" = "[tierca] WARNING: 1 check needs attention on $host" ] || { header "$m" Subject; fail "subject"; }
[ "$(header "$m" From)" = "pki@example.internal" ] || fail "From"
[ "$(header "$m" To)" = "ops@example.internal, oncall@example.internal" ] || { header "$m" To; fail "To"; }
header "$m" Date | grep -Eq '^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} \+0000$' || fail "Date"
header "$m" Message-ID | grep -Eq '^<[0-9a-f]{32}\.[0-9]+@example\.internal>$' || fail "Message-ID"
[ "$(header "$m" Auto-Submitted)" = auto-generated ] || fail "Auto-Submitted"
grep -q "^Content-Type: text/plain; charset=utf-8" "$m" || fail "Content-Type"
"$PY" - "$m" <<'PY' || fail "message is not RFC 5322 with CRLF lines"
import sys
raw = open(sys.argv[1], "rb").read().split(b"\r\n", 1)[1]
assert b"\n" not in raw.replace(b"\r\n", b""), "bare LF"
assert all(len(l) <= 998 for l in raw.split(b"\r\n"))
PY
short=$(openssl x509 -in server/issued/short/cert.pem -noout -serial | cut -d= -f2)
grep -q "^1 of [0-9]* checks need attention: 0 CRITICAL, 1 WARNING, 0 UNKNOWN" "$m" || { cat "$m"; fail "body summary"; }
grep -Eq "^WARNING   certificate server/short, serial $short, not after .* \((19|20) days\)" "$m" || { cat "$m"; fail "body line"; }
grep -Eq "^          (19|20) days left, fewer than 30: no template: reissue it" "$m" || fail "body detail"

step "SMTP down: a clear error, UNKNOWN (3), textfile and JSON still written"
mailcfg down.cfg "smtp://127.0.0.1:$down" false root/ca.crt
rm -f mon.prom
expect 3 mon -c down.cfg --mail --json
one_error "^tierca-monitor: cannot send mail via 'smtp://127.0.0.1:$down': .*(onnect|refused)"
[ -s mon.prom ] || fail "textfile not written"
grep -q '^tierca_monitor_state 1$' mon.prom || fail "textfile state"
"$PY" -c 'import json,sys; d=json.load(sys.stdin); assert d["exit"]==3 and d["state"]=="WARNING" and d["mail"]["sent"] is False and "cannot send mail" in d["mail"]["error"], d["mail"]' <.out ||
	{ cat .out; fail "json after a failed delivery"; }

step "STARTTLS with tierca's own certificate, verified against our root"
ok ica issue --dir server soon --dns soon.internal --days 3
mailcfg starttls.cfg "smtp://127.0.0.1:$starttls" true root/ca.crt
expect 2 mon -c starttls.cfg --mail
[ ! -s .err ] || { cat .err; fail "stderr on success"; }
m=box-starttls/msg.1
[ -f "$m" ] || fail "no message over STARTTLS"
head -1 "$m" | grep -q "tls=True" || fail "not over TLS"
[ "$(header "$m" Subject)" = "[tierca] CRITICAL: 2 checks need attention on $host" ] || { header "$m" Subject; fail "subject"; }
# Worst first: the CRITICAL certificate before the WARNING one.
c=$(grep -n "^CRITICAL  certificate server/soon" "$m" | cut -d: -f1)
w=$(grep -n "^WARNING   certificate server/short" "$m" | cut -d: -f1)
[ -n "$c" ] && [ -n "$w" ] && [ "$c" -lt "$w" ] || { cat "$m"; fail "not worst first"; }
grep -q "^OK (" "$m" || fail "the OK checks are not listed after"

step "SMTPS (implicit TLS)"
mailcfg smtps.cfg "smtps://127.0.0.1:$smtps" false root/ca.crt
expect 2 mon -c smtps.cfg --mail
[ -f box-smtps/msg.1 ] || { cat .err; fail "no message over SMTPS"; }

step "an untrusted SMTP certificate: refused"
ok root init --dir other --subject "CN=Other Root" --passphrase-file "$PASSFILE"
mailcfg untrusted.cfg "smtp://127.0.0.1:$starttls" true other/ca.crt
rm -f mon.prom
expect 2 mon -c untrusted.cfg --mail
one_error "cannot send mail via 'smtp://127.0.0.1:$starttls': .*(certificate|verif).*monitor.mail.ca"
[ -s mon.prom ] || fail "textfile not written"
[ ! -e box-starttls/msg.2 ] || fail "a message went to an untrusted server"

step "STARTTLS required but not offered: refused"
mailcfg nostarttls.cfg "smtp://127.0.0.1:$plain" true root/ca.crt
expect 2 mon -c nostarttls.cfg --mail
one_error "cannot send mail via .*STARTTLS not supported"
[ ! -e box-plain/msg.3 ] || fail "sent in clear although STARTTLS was required"

step "AUTH with the secrets file"
printf 'smtp_user = "monitor";\nsmtp_password = "s3cret pass";\nserver_passphrase = "not ours";\n' >secrets.cfg
chmod 600 secrets.cfg
mailcfg auth.cfg "smtp://127.0.0.1:$authp" true root/ca.crt secrets.cfg
expect 2 mon -c auth.cfg --mail
[ ! -s .err ] || { cat .err; fail "stderr on success"; }
head -1 box-auth/msg.1 | grep -q "tls=True auth=True" || { head -1 box-auth/msg.1; fail "not authenticated"; }
grep -rq "s3cret" box-auth .out mon.prom && fail "the password leaked"

step "refused AUTH: a clear error, textfile still written"
printf 'smtp_user = "monitor";\nsmtp_password = "wrong";\n' >wrong.cfg
chmod 600 wrong.cfg
mailcfg authbad.cfg "smtp://127.0.0.1:$authp" true root/ca.crt wrong.cfg
rm -f mon.prom
expect 2 mon -c authbad.cfg --mail
one_error "cannot send mail via 'smtp://127.0.0.1:$authp': .*secrets file"
[ -s mon.prom ] || fail "textfile not written"
[ ! -e box-auth/msg.2 ] || fail "delivered without AUTH"
grep -q wrong .err && fail "the password is in the error"

step "a secrets file readable by others, a missing one, a broken one"
chmod 644 secrets.cfg
expect 2 mon -c auth.cfg --mail
one_error "secrets file '.*secrets.cfg' must be mode 0600 or 0400"
chmod 600 secrets.cfg
mailcfg nosecrets.cfg "smtp://127.0.0.1:$authp" true root/ca.crt missing.cfg
expect 2 mon -c nosecrets.cfg --mail
one_error "secrets file: cannot open '.*missing.cfg'"
printf 'smtp_user = "monitor";\nsmtp_password = s3cret;\n' >broken.cfg
chmod 600 broken.cfg
mailcfg broken-secrets.cfg "smtp://127.0.0.1:$authp" true root/ca.crt broken.cfg
expect 2 mon -c broken-secrets.cfg --mail
one_error "broken.cfg:2: syntax error"
grep -q s3cret .err && fail "the password is in the error"

step "a password never goes in clear, and never in the URL"
mailcfg clear.cfg "smtp://127.0.0.1:$plain" false root/ca.crt secrets.cfg
expect 2 mon -c clear.cfg --mail
one_error "refusing to send the SMTP password in clear"
mailcfg userinfo.cfg "smtp://monitor:pw@127.0.0.1:$plain" false root/ca.crt
expect 2 mon -c userinfo.cfg --mail
one_error "must not hold a user or password"
[ ! -e box-plain/msg.3 ] || fail "sent anyway"
echo "monitor_mail ok"
