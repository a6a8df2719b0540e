# openssl: s_server and s_client with client certificates, TLS 1.2 and
# 1.3, judged by what the server answers (mtls.sh's s_client step only
# checks the server's chain; in TLS 1.3 the client certificate is judged
# after the client thinks the handshake is done). The server trusts what
# the shipped snippets name: `export --trust --with-intermediate` (client
# intermediate + root) and `export --crl-bundle`, loaded together as one
# CAfile (OpenSSL takes the CRLs from it too), and checks every CRL of the
# chain. A valid client gets the page; a revoked one, an expired one and
# one of the server intermediate get none, with the reason in the log.
. "$(dirname "$0")/lib.sh"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null' EXIT

step "hierarchy made 200 days ago; clients; the exports a server is given"
past=$(date -u -d '-200 days' +%Y-%m-%dT%H:%M:%SZ)
TIERCA_NOW=$past hierarchy
TIERCA_NOW=$past ok ica issue --dir client expired --days 30
ok ica issue --dir server web --dns web.internal
ok ica issue --dir client alice
ok ica issue --dir client bob
ok ica revoke --dir client bob --reason keyCompromise
ok ica issue --dir server mallory --dns mallory.internal
ok root crl --dir root --passphrase-file "$PASSFILE"
ok ica root-crl --dir client root/crl.pem
ok ica export --dir client --trust client-trust.pem --with-intermediate
ok ica export --dir client --crl-bundle crl.pem
ok ica export --dir client --trust root.pem
cat client-trust.pem crl.pem >trust+crl.pem

port=$(free_port)
openssl s_server -accept "127.0.0.1:$port" -www -naccept 100 \
	-cert server/issued/web/cert.pem -cert_chain server/issued/web/chain.pem -key server/issued/web/key.pem \
	-Verify 2 -verify_return_error -CAfile trust+crl.pem -crl_check_all >sserv.log 2>&1 &
pids+=($!)
wait_port "$port" || { cat sserv.log; fail "openssl s_server did not start"; }

# sclient WHO VERSION: GET / through s_client with WHO's certificate;
# succeeds when the server answers 200.
sclient() {
	printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -connect "127.0.0.1:$port" \
		-servername web.internal "$2" -ign_eof -verify_return_error -CAfile root.pem \
		-verify_hostname web.internal -cert "$1/cert.pem" -cert_chain "$1/chain.pem" \
		-key "$1/key.pem" >sc.out 2>&1
	grep -q "Verify return code: 0 (ok)" sc.out || { cat sc.out; fail "s_client $2: the server's chain or name not verified"; }
	grep -q "HTTP/1.0 200 ok" sc.out
}
for v in -tls1_2 -tls1_3; do
	step "$v: alice in; bob, expired, mallory refused"
	sclient client/issued/alice "$v" || { cat sc.out sserv.log; fail "alice refused ($v)"; }
	grep -q "Protocol *: TLSv1\.${v#-tls1_}$" sc.out || { cat sc.out; fail "not $v"; }
	sclient client/issued/bob "$v" && fail "revoked bob got a page ($v)"
	sclient client/issued/expired "$v" && fail "expired client got a page ($v)"
	sclient server/issued/mallory "$v" && fail "a server-intermediate certificate got a page ($v)"
done
grep -q "certificate revoked" sserv.log || { cat sserv.log; fail "bob not refused as revoked"; }
grep -q "certificate has expired" sserv.log || { cat sserv.log; fail "expired not refused as expired"; }
# (missing CRL for the server intermediate first, then purpose: both refuse)
grep -Eq "unable to get certificate CRL|unsuitable certificate purpose" sserv.log || { cat sserv.log; fail "mallory not refused"; }
echo "openssl ok"
