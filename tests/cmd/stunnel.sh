# stunnel: seed 003's tunnel with tierca certificates. A server-mode and a
# client-mode stunnel4, configured from the shipped snippets
# (templates/stunnel-server.conf, stunnel-client.conf: verifyChain and
# checkHost as shipped), carry a plain TCP echo through mutual TLS on
# loopback. Refused: a revoked client certificate, one of the server
# intermediate, a valid one for another host (checkHost), and on the
# client's side a server certificate for another name.
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
STUNNEL=$(command -v stunnel4 || command -v stunnel) ||
	{ echo "SKIP: stunnel4 is not installed (tests/setup-deps.sh installs it)"; exit 0; }
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null' EXIT

step "hierarchy; db.internal's server certificate, app.internal's client ones"
hierarchy
ssl=$T/ssl
mkdir "$ssl"
ok ica issue --dir server db --dns db.internal
ok ica issue --dir server other --dns other.internal
ok ica issue --dir client app --dns app.internal
ok ica issue --dir client revoked --dns app.internal
ok ica revoke --dir client revoked --reason keyCompromise
ok ica issue --dir client eve --dns eve.internal
ok ica issue --dir server mallory --dns app.internal
ok root crl --dir root --passphrase-file "$PASSFILE"
ok ica root-crl --dir client root/crl.pem
# The files the snippets' comments name, made the way they say.
ok ica export --dir client --trust "$ssl/client-ica.chain.pem" --with-intermediate
ok ica export --dir client --crl-bundle "$ssl/crl.pem"
ok ica export --dir client --trust "$ssl/root.pem"
cp server/issued/db/fullchain.pem "$ssl/db.fullchain.pem"; cp server/issued/db/key.pem "$ssl/db.key"

step "a TCP echo server on 127.0.0.1"
eport=$(free_port)
python3 -c '
import socketserver, sys
class H(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(line); self.wfile.flush()
class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True; daemon_threads = True
S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()' "$eport" &
pids+=($!)
wait_port "$eport" || fail "echo server did not start"

# conf SNIPPET OUT ACCEPT CONNECT: the shipped snippet for this test: its
# /etc/ssl/tierca files in $ssl, loopback ports instead of 5432/5433, its
# log in $T, as the test's user (no setuid). It runs in the foreground
# with no pid file, as shipped for stunnel@.service. Every TLS setting is
# left as shipped.
conf() {
	grep -qx "foreground = yes" "$top/templates/$1" || fail "$1: not in the foreground (stunnel@.service is Type=simple)"
	sed -e "s#/etc/ssl/tierca/#$ssl/#" \
		-e "s#^accept = .*#accept = 127.0.0.1:$3#" \
		-e "s#^connect = .*#connect = 127.0.0.1:$4#" \
		-e "/^set[ug]id = /d" \
		-e "s#^foreground = yes#&\noutput = $T/$(basename "$2" .conf).log\ndebug = info#" \
		"$top/templates/$1" >"$2"
	# The TLS settings are those of the snippet.
	diff <(grep -E '^(cert|key|CAfile|CRLfile|requireCert|verifyChain|checkHost|sni|client|sslVersionMin) =' "$top/templates/$1" | sed "s#/etc/ssl/tierca/#$ssl/#") \
		<(grep -E '^(cert|key|CAfile|CRLfile|requireCert|verifyChain|checkHost|sni|client|sslVersionMin) =' "$2") >/dev/null ||
		fail "$2: TLS settings differ from the snippet"
}
# start CONF: runs stunnel on CONF and waits for its port.
start() {
	"$STUNNEL" "$1" 2>>"$T/stunnel.stderr" &
	pids+=($!)
	wait_port "$2" || { cat "$T/$(basename "$1" .conf).log"; fail "stunnel $1 did not start"; }
}
# echo_via PORT WORD: WORD sent through the tunnel comes back (in a
# subshell: a write to a socket closed by a refusal kills only that).
echo_via() {
	( exec 5<>"/dev/tcp/127.0.0.1/$1" || exit 1
	printf '%s\n' "$2" >&5
	IFS= read -r -t 5 r <&5
	[ "$r" = "$2" ] ) 2>/dev/null
}
# client WHO NAME: a client-mode stunnel with WHO's certificate (an
# issued/ dir), to the server on $sport; its local port in $cport.
client() {
	cport=$(free_port)
	conf stunnel-client.conf "$T/client-$2.conf" "$cport" "$sport"
	# each client its own copies of the files the snippet names app.*
	cp "$1/fullchain.pem" "$ssl/$2.fullchain.pem"; cp "$1/key.pem" "$ssl/$2.key"
	[ "$2" = app ] || sed -i "s#^\(cert\|key\) = $ssl/app\.#\1 = $ssl/$2.#" "$T/client-$2.conf"
	start "$T/client-$2.conf" "$cport"
}

step "the server-mode stunnel from stunnel-server.conf"
sport=$(free_port)
conf stunnel-server.conf "$T/server.conf" "$sport" "$eport"
start "$T/server.conf" "$sport"

step "app.internal's certificate: the echo comes back through mutual TLS"
client client/issued/app app
echo_via "$cport" "hello-through-stunnel" || { cat server.log client-app.log; fail "no echo through the tunnel"; }
grep -q "Certificate accepted at depth=0: .*CN=app" server.log || { cat server.log; fail "server did not log app's certificate"; }
grep -q "CERT: Host name \"db.internal\" matched" client-app.log || { cat client-app.log; fail "client did not check the server's name"; }
grep -q "CERT: Host name \"app.internal\" matched" server.log || { cat server.log; fail "server did not check the client's name"; }

step "refused: revoked, the server intermediate's, another host's"
for who in client/issued/revoked:revoked server/issued/mallory:mallory client/issued/eve:eve; do
	client "${who%%:*}" "${who##*:}"
	echo_via "$cport" "should-not-pass" && { cat server.log; fail "${who##*:} got through"; }
done
grep -q "CERT: Pre-verification error: certificate revoked" server.log || { cat server.log; fail "revoked not refused for revocation"; }
grep -q "CERT: Pre-verification error: unsuitable certificate purpose" server.log || { cat server.log; fail "mallory not refused by purpose"; }
grep -A1 "CERT: Subject checks failed" server.log | grep -q "Rejected by CERT at depth=0: CN=eve.internal" || { cat server.log; fail "eve not refused by checkHost"; }
client client/issued/app app2
echo_via "$cport" "still-open" || fail "app refused after the refusals"

step "the client refuses a server certificate for another name"
cp server/issued/other/fullchain.pem "$ssl/db.fullchain.pem"; cp server/issued/other/key.pem "$ssl/db.key"
sport2=$(free_port)
conf stunnel-server.conf "$T/server2.conf" "$sport2" "$eport"
start "$T/server2.conf" "$sport2"
sport=$sport2
client client/issued/app app3
echo_via "$cport" "wrong-server" && fail "the client accepted other.internal for db.internal"
grep -A1 "CERT: Subject checks failed" client-app3.log | grep -q "Rejected by CERT at depth=0: CN=other.internal" || { cat client-app3.log; fail "client did not refuse by checkHost"; }
echo "stunnel ok"
