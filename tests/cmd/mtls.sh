# mtls: real TLS servers and clients on loopback judge our certificates.
# gnutls-serv trusts only the client intermediate (the model of DESIGN.md);
# openssl s_server trusts root + client intermediate and relies on the
# EKU limits; curl and gnutls-cli are the clients. TLS 1.2 and 1.3.
#
# The test runs in a private network namespace when it can (unshare -n):
# gnutls-serv cannot bind to 127.0.0.1 only, and there it has nothing
# else to bind to.
if [ -z "${TIERCA_IN_NETNS:-}" ] && unshare -n true 2>/dev/null; then
	TIERCA_IN_NETNS=1 exec unshare -n bash -c 'ip link set lo up && exec bash "$0"' "$0"
fi
. "$(dirname "$0")/lib.sh"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null' EXIT

step "hierarchy made 200 days ago, so a short-lived leaf can have expired"
past=$(date -u -d '-200 days' +%Y-%m-%dT%H:%M:%SZ)
TIERCA_NOW=$past hierarchy
TIERCA_NOW=$past ok ica issue --dir client expired --days 30
ok ica issue --dir server web --dns web.internal --ip 127.0.0.1
ok ica issue --dir client alice
ok ica issue --dir client bob
ok ica revoke --dir client bob --reason keyCompromise
# A certificate from the wrong intermediate, offered as a client cert.
ok ica issue --dir server mallory --dns mallory.internal
ok root crl --dir root --passphrase-file "$PASSFILE"
# The root's CRL comes back from the ceremony; the server gets both CRLs.
ok ica root-crl --dir client root/crl.pem
ok ica export --dir client --crl-bundle crl-bundle.pem

step "gnutls-serv: client intermediate as the only client trust, with CRL"
port=$(free_port)
gnutls-serv --port "$port" --echo --require-client-cert --verify-client-cert \
	--x509certfile server/issued/web/fullchain.pem --x509keyfile server/issued/web/key.pem \
	--x509cafile client/ca.crt --x509crlfile crl-bundle.pem >serv.log 2>&1 &
pids+=($!)
wait_port "$port" || { cat serv.log; fail "gnutls-serv did not start"; }

# gcli WHO PRIORITY: echo through the server with WHO's certificate.
gcli() {
	echo "ping-$1" | timeout 10 gnutls-cli --port "$port" --x509cafile root/ca.crt \
		--verify-hostname web.internal --priority "$2" \
		--x509certfile "$1/fullchain.pem" --x509keyfile "$1/key.pem" 127.0.0.1 >cli.out 2>&1
	local rc=$?
	grep -q "Status: The certificate is trusted" cli.out || { cat cli.out; fail "server certificate refused by gnutls-cli"; }
	[ $rc = 0 ] && grep -qx "ping-$1" cli.out
}
for prio in "NORMAL:-VERS-ALL:+VERS-TLS1.3" "NORMAL:-VERS-ALL:+VERS-TLS1.2"; do
	gcli client/issued/alice "$prio" || { cat cli.out; fail "alice refused ($prio)"; }
	gcli client/issued/bob "$prio" && fail "revoked bob accepted ($prio)"
	gcli server/issued/mallory "$prio" && fail "server-intermediate cert accepted as client ($prio)"
	gcli client/issued/expired "$prio" && fail "expired client accepted ($prio)"
done

step "openssl s_server + curl: root and client intermediate trusted, EKU decides"
port2=$(free_port)
cat client/ca.crt root/ca.crt >client-trust.pem
# s_server's -CRL reads one CRL; a hashed directory holds both.
mkdir trustdir && cp client/ca.crt trustdir/client.pem && cp root/ca.crt trustdir/root.pem &&
	cp client/crl.pem trustdir/client-crl.pem && cp root/crl.pem trustdir/root-crl.pem &&
	openssl rehash trustdir 2>/dev/null || fail "openssl rehash"
openssl s_server -accept "127.0.0.1:$port2" -www -naccept 40 \
	-cert server/issued/web/cert.pem -cert_chain server/issued/web/chain.pem -key server/issued/web/key.pem \
	-Verify 2 -verify_return_error -CAfile client-trust.pem -CApath trustdir -crl_check_all \
	>sserv.log 2>&1 &
pids+=($!)
wait_port "$port2" || { cat sserv.log; fail "openssl s_server did not start"; }
ccurl() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert root/ca.crt \
		--resolve "web.internal:$port2:127.0.0.1" --cert "$1/fullchain.pem" --key "$1/key.pem" \
		$2 "https://web.internal:$port2/"
}
[ "$(ccurl client/issued/alice --tlsv1.3)" = 200 ] || { ccurl client/issued/alice "--tlsv1.3 -v"; cat sserv.log; fail "curl alice TLS 1.3 not 200"; }
[ "$(ccurl client/issued/alice '--tlsv1.2 --tls-max 1.2')" = 200 ] || fail "curl alice TLS 1.2 not 200"
[ "$(ccurl client/issued/bob --tlsv1.2)" = 200 ] && fail "revoked bob got 200"
[ "$(ccurl server/issued/mallory --tlsv1.2)" = 200 ] && fail "server-intermediate cert got 200"
[ "$(ccurl client/issued/expired --tlsv1.2)" = 200 ] && fail "expired client got 200"
grep -q "certificate revoked" sserv.log || fail "s_server did not see bob as revoked"
grep -q "unsuitable certificate purpose" sserv.log || { cat sserv.log; fail "s_server did not refuse mallory for its purpose"; }
grep -q "certificate has expired" sserv.log || fail "s_server did not see the expired certificate"

step "openssl s_client checks the server chain and name, TLS 1.2 and 1.3"
for v in -tls1_2 -tls1_3; do
	echo | openssl s_client -connect "127.0.0.1:$port2" -servername web.internal $v -verify_return_error \
		-CAfile root/ca.crt -verify_hostname web.internal -cert client/issued/alice/cert.pem \
		-key client/issued/alice/key.pem -cert_chain client/issued/alice/chain.pem >sc.out 2>&1 ||
		{ cat sc.out; fail "s_client $v"; }
	grep -q "Verify return code: 0 (ok)" sc.out || fail "s_client $v: server chain not verified"
done
echo "mtls ok"
