# nginx: a real nginx, its mTLS configured by the shipped snippet
# (templates/nginx-mtls.conf as tierca-deploy places it), its client trust
# and CRL bundle from `tierca-ica export`, its own certificate installed by
# tierca-renew. curl with a valid client certificate gets 200; a revoked
# one, an expired one, one of the server intermediate and none are
# refused. Then the server certificate comes due, tierca-renew renews and
# installs it and runs the template's reload hook (nginx -s reload), and
# nginx serves the new serial.
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
command -v nginx >/dev/null || { echo "SKIP: nginx is not installed (tests/setup-deps.sh installs it)"; exit 0; }
NGINX=$(command -v nginx)
ago() { date -u -d "-$1 days" +%Y-%m-%dT%H:%M:%SZ; }

step "hierarchy made 200 days ago, so a client certificate of then has expired"
TIERCA_NOW=$(ago 200) hierarchy
TIERCA_NOW=$(ago 200) ok ica issue --dir client expired --days 30

step "the shipped snippet, placed by tierca-deploy (deploy-after stubbed)"
stage=$T/stage
mkdir -p "$stage" stubs ngx
for c in nginx systemctl; do
	printf '#!/bin/sh\necho "%s $*" >>"%s"\n' "$c" "$T/stub.log" >"stubs/$c"
	chmod +x "stubs/$c"
done
PATH=$T/stubs:$PATH "$B/tierca-deploy" --root "$stage" "$top/templates/nginx-mtls.conf" >deploy.out 2>&1 || { cat deploy.out; fail "tierca-deploy of the nginx snippet"; }
snippet=$stage/etc/nginx/snippets/tierca-mtls.conf
cmp -s "$snippet" "$top/templates/nginx-mtls.conf" || fail "snippet not placed as shipped"
grep -qx "nginx -t -q" stub.log || { cat stub.log; fail "deploy-after not run"; }
# Its /etc/ssl/tierca paths are absolute: moved into the stage (this test
# writes nothing outside $T). Nothing else is changed.
ssl=$stage/etc/ssl/tierca
mkdir -p "$ssl"
sed "s#/etc/ssl/tierca/#$ssl/#" "$snippet" >ngx/tierca-mtls.conf
[ "$(diff <(grep -v '^#' "$snippet") <(grep -v '^#' ngx/tierca-mtls.conf) | grep -c '^>')" = 2 ] || fail "more than the two paths changed"

step "the server certificate: a template installed by tierca-renew, 65 days ago"
mkdir tpl
cat >tpl/web.cfg <<CFG
name = "web";
ca = "server";
subject = "CN=web.internal,O=Tierca Test";
dns = [ "web.internal" ];
install: { cert = "$ssl/web.crt"; key = "$ssl/web.key";
           fullchain = "$ssl/web.fullchain.pem"; mode = 0640; };
reload = "true";
CFG
cat >tierca.cfg <<CFG
server: { dir = "server"; };
templates = "tpl";
CFG
TIERCA_NOW=$(ago 65) ok "$B/tierca-renew" -c tierca.cfg
grep -q "1 issued" .out || { cat .out; fail "web not issued"; }
old=$(openssl x509 -in "$ssl/web.crt" -noout -serial | cut -d= -f2)
# From now on the hook reloads the real nginx (it was not running yet).
reload="$NGINX -s reload -p $T/ngx -e $T/ngx/error.log -c $T/ngx/nginx.conf"
sed -i "s#^reload = .*#reload = \"$reload\";#" tpl/web.cfg

step "clients; the CRL bundle (root CRL + client CRL) and the client trust"
ok ica issue --dir client alice
ok ica issue --dir client bob
ok ica revoke --dir client bob --reason keyCompromise
ok ica issue --dir server mallory --dns mallory.internal
ok root crl --dir root --passphrase-file "$PASSFILE"
ok ica root-crl --dir client root/crl.pem
ok ica export --dir client --crl-bundle "$ssl/crl.pem"
ok ica export --dir client --trust "$ssl/client-ica.chain.pem" --with-intermediate
[ "$(grep -c 'BEGIN X509 CRL' "$ssl/crl.pem")" = 2 ] || fail "the bundle does not hold two CRLs"

port=$(free_port)
cat >ngx/nginx.conf <<NGX
pid $T/ngx/nginx.pid;
error_log $T/ngx/error.log info;
daemon off;
worker_processes 1;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $T/ngx/body;
	proxy_temp_path $T/ngx/proxy;
	fastcgi_temp_path $T/ngx/fastcgi;
	uwsgi_temp_path $T/ngx/uwsgi;
	scgi_temp_path $T/ngx/scgi;
	server {
		listen 127.0.0.1:$port ssl;
		server_name web.internal;
		ssl_certificate $ssl/web.fullchain.pem;
		ssl_certificate_key $ssl/web.key;
		include $T/ngx/tierca-mtls.conf;
		location / { return 200 "hello \$ssl_client_s_dn\n"; }
	}
}
NGX
"$NGINX" -t -q -p "$T/ngx" -e "$T/ngx/error.log" -c "$T/ngx/nginx.conf" || { cat ngx/error.log; fail "nginx -t"; }

step "nginx (master + worker, reloadable) with the snippet"
ngxpid=
trap '[ -n "$ngxpid" ] && { kill $ngxpid 2>/dev/null; wait $ngxpid 2>/dev/null; }' EXIT
"$NGINX" -p "$T/ngx" -e "$T/ngx/error.log" -c "$T/ngx/nginx.conf" &
ngxpid=$!
wait_port "$port" || { cat ngx/error.log; fail "nginx did not start"; }
# ncurl WHO: the HTTP status with WHO's certificate ("" for none).
ncurl() {
	local c=()
	[ -n "$1" ] && c=(--cert "$1/fullchain.pem" --key "$1/key.pem")
	curl -s -o "$T/ngx/body.out" -w '%{http_code}' --max-time 10 --cacert root/ca.crt \
		--resolve "web.internal:$port:127.0.0.1" "${c[@]}" "https://web.internal:$port/"
}
# served: the serial of the certificate nginx serves (s_client verifies
# the chain to the root and the name).
served() {
	openssl s_client -connect "127.0.0.1:$port" -servername web.internal -showcerts \
		-CAfile root/ca.crt -verify_hostname web.internal -verify_return_error \
		-cert client/issued/alice/cert.pem -key client/issued/alice/key.pem \
		</dev/null >"$T/sc.out" 2>&1 || { cat "$T/sc.out"; fail "s_client to nginx"; }
	grep -q "Verify return code: 0 (ok)" "$T/sc.out" || { cat "$T/sc.out"; fail "served chain not verified"; }
	openssl x509 -in "$T/sc.out" -noout -serial | cut -d= -f2
}

step "alice 200; revoked bob, expired, server-intermediate mallory, nobody refused"
[ "$(ncurl client/issued/alice)" = 200 ] || { cat ngx/error.log; fail "alice refused"; }
grep -q "CN=alice" ngx/body.out || fail "alice's DN not seen by nginx"
[ "$(ncurl client/issued/bob)" = 400 ] || fail "revoked bob not refused"
grep -q "(23:certificate revoked)" ngx/error.log || { cat ngx/error.log; fail "bob not refused as revoked"; }
[ "$(ncurl client/issued/expired)" = 400 ] || fail "an expired certificate not refused"
grep -q "(10:certificate has expired)" ngx/error.log || { cat ngx/error.log; fail "expired not refused as expired"; }
[ "$(ncurl server/issued/mallory)" = 400 ] || fail "a server-intermediate certificate accepted as a client"
[ "$(ncurl "")" = 400 ] || fail "no client certificate accepted"
[ "$(served)" = "$old" ] || fail "nginx does not serve the installed serial $old"

step "not due yet: tierca-renew leaves the certificate (and nginx) alone"
TIERCA_NOW=$(ago 40) ok "$B/tierca-renew" -c tierca.cfg
grep -q "0 issued, 0 renewed" .out || { cat .out; fail "renewed early"; }

step "due (25 days left): tierca-renew renews, installs, reloads nginx"
TIERCA_NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ) ok "$B/tierca-renew" -c tierca.cfg
grep -q "1 renewed" .out || { cat .out; fail "web not renewed"; }
new=$(openssl x509 -in "$ssl/web.crt" -noout -serial | cut -d= -f2)
[ "$new" != "$old" ] || fail "the installed serial did not change"
grep -q "reconfiguring" ngx/error.log || { cat .out ngx/error.log; fail "the reload hook did not signal nginx"; }
kill -0 $ngxpid || fail "nginx died on reload"
# The old worker finishes gracefully; new connections go to the new one.
for i in $(seq 50); do s=$(served); [ "$s" = "$new" ] && break; sleep 0.1; done
[ "$s" = "$new" ] || fail "nginx serves $s after the reload, want the new serial $new"
[ "$(ncurl client/issued/alice)" = 200 ] || { cat ngx/error.log; fail "alice refused after the reload"; }
[ "$(ncurl client/issued/bob)" = 400 ] || fail "bob accepted after the reload"
echo "nginx serves $new (was $old)"

step "a second run at the same moment: nothing renewed, no reload"
TIERCA_NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ) ok "$B/tierca-renew" -c tierca.cfg
grep -q "0 issued, 0 renewed, 0 installed, 1 current" .out || { cat .out; fail "second run did something"; }
echo "nginx ok"
