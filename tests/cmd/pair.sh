# pair: tierca-pair (seed 000) judged by openssl and by real nginx servers
# on loopback: the app's server, configured from the generated snippet,
# lets in the proxy's certificate and nothing else -- not the app's own
# (right CA, wrong serial), not a proxy certificate of another pair, not
# a client without a certificate; and nginx as the proxy, configured from
# the other snippet, reaches the app only with its own pair.
if [ -z "${TIERCA_IN_NETNS:-}" ] && unshare -n true 2>/dev/null; then
	TIERCA_IN_NETNS=1 exec unshare -n bash -c 'ip link set lo up && exec bash "$0"' "$0"
fi
. "$(dirname "$0")/lib.sh"
pair() { "$B/tierca-pair" "$@"; }
NGINX=${NGINX:-/usr/sbin/nginx}
ngx_pid=
trap '[ -n "$ngx_pid" ] && kill "$ngx_pid" 2>/dev/null; wait 2>/dev/null' EXIT

step "a pair: files, modes, and the pins printed"
pair --dir p1 --proxy lb --app web --dns web.internal --ip 127.0.0.1 >p1.out 2>p1.err ||
	{ cat p1.out p1.err; fail "tierca-pair"; }
[ ! -s p1.err ] || { cat p1.err; fail "tierca-pair wrote to stderr"; }
[ "$(stat -c %a p1)" = 700 ] || fail "D is not 0700"
for f in ca.crt proxy.crt app.crt pins.txt pins.json nginx.conf nginx-proxy.conf apache.conf; do
	[ -s "p1/$f" ] || fail "p1/$f missing"
done
for f in proxy.key app.key; do
	[ "$(stat -c %a "p1/$f")" = 600 ] || fail "p1/$f is not 0600"
	head -1 "p1/$f" | grep -qx -- "-----BEGIN PRIVATE KEY-----" || fail "p1/$f is not plain PKCS#8"
done
[ "$(ls -A p1 | wc -l)" = 10 ] || { ls -la p1; fail "unexpected files in D"; }
ls -A . | grep -q 'tmp-' && fail "a temp directory was left behind"
grep -q '^proxy.serial=1000$' p1.out || fail "pins not printed"
cmp -s <(grep -v '^tierca-pair: made' p1.out) p1/pins.txt || fail "printed pins differ from pins.txt"
python3 -c 'import json,sys; d=json.load(open("p1/pins.json")); assert d["proxy"]["serial"]=="1000" and d["app"]["serial"]=="1001"' ||
	fail "pins.json"

step "no key of the CA anywhere: exactly the two leaf keys, neither the CA's"
n=$(cat p1/* | grep -c -- '-----BEGIN .*PRIVATE KEY-----')
[ "$n" = 2 ] || fail "$n private key blocks in D, want 2"
capub=$(openssl x509 -in p1/ca.crt -noout -pubkey)
for k in proxy app; do
	[ "$(openssl pkey -in "p1/$k.key" -pubout)" = "$capub" ] && fail "$k.key is the CA key"
	[ "$(openssl pkey -in "p1/$k.key" -pubout)" = "$(openssl x509 -in "p1/$k.crt" -noout -pubkey)" ] ||
		fail "$k.key does not match $k.crt"
done

step "openssl: chains, purposes, profile, serials, 100 years"
ok openssl verify -x509_strict -CAfile p1/ca.crt -purpose sslclient p1/proxy.crt
ok openssl verify -x509_strict -CAfile p1/ca.crt -purpose sslserver p1/app.crt
openssl verify -CAfile p1/ca.crt -purpose sslserver p1/proxy.crt >/dev/null 2>&1 && fail "proxy cert good for serverAuth"
openssl verify -CAfile p1/ca.crt -purpose sslclient p1/app.crt >/dev/null 2>&1 && fail "app cert good for clientAuth"
ok certtool --verify --load-ca-certificate p1/ca.crt --infile p1/proxy.crt
ok certtool --verify --load-ca-certificate p1/ca.crt --infile p1/app.crt
[ "$(openssl x509 -in p1/proxy.crt -noout -serial)" = serial=1000 ] || fail "proxy serial"
[ "$(openssl x509 -in p1/app.crt -noout -serial)" = serial=1001 ] || fail "app serial"
openssl x509 -in p1/ca.crt -noout -text >ca.txt
grep -q 'CA:TRUE, pathlen:0' ca.txt || fail "CA basicConstraints"
grep -A1 'Key Usage: critical' ca.txt | grep -qx ' *Certificate Sign' || fail "CA keyUsage is not keyCertSign alone"
grep -q 'Extended Key Usage' ca.txt && fail "CA has an EKU"
openssl x509 -in p1/proxy.crt -noout -subject | grep -q 'CN *= *proxy lb' || fail "proxy subject"
openssl x509 -in p1/app.crt -noout -ext subjectAltName | grep -q 'DNS:web.internal, IP Address:127.0.0.1' ||
	fail "app SAN"
for f in ca proxy app; do
	end=$(openssl x509 -in "p1/$f.crt" -noout -enddate | cut -d= -f2)
	[ "$(date -u -d "$end" +%Y)" = $(( $(date -u +%Y) + 100 )) ] || fail "$f notAfter $end is not 100 years on"
	# Beyond 2049 X.509 uses GeneralizedTime; check what was encoded.
	openssl asn1parse -in "p1/$f.crt" | grep -q GENERALIZEDTIME || fail "$f: no GeneralizedTime notAfter"
done

step "pins match openssl's"
for f in ca proxy app; do
	fp=$(openssl x509 -in "p1/$f.crt" -noout -fingerprint -sha256 | cut -d= -f2)
	grep -qx "$f.sha256=$fp" p1/pins.txt || fail "$f sha256 $fp not in pins.txt"
	hex=$(echo "$fp" | tr -d : | tr A-F a-f)
	grep -qx "$f.sha256_hex=$hex" p1/pins.txt || fail "$f sha256_hex"
	pin=$(openssl x509 -in "p1/$f.crt" -noout -pubkey | openssl pkey -pubin -outform DER |
		openssl dgst -sha256 -binary | base64)
	grep -qxF "$f.pin_sha256=$pin" p1/pins.txt || fail "$f pin_sha256 $pin not in pins.txt"
done

step "TIERCA_NOW, --years, --key, --both-eku"
TIERCA_NOW=2030-06-01T00:00:00Z ok pair --dir p2 --proxy lb --app web --dns web.internal --years 2 --key ecdsa-p384
[ "$(openssl x509 -in p2/app.crt -noout -enddate)" = "notAfter=Jun  1 00:00:00 2032 GMT" ] || fail "--years 2 with TIERCA_NOW"
openssl x509 -in p2/ca.crt -noout -text | grep -q 'NIST CURVE: P-384' || fail "--key ecdsa-p384"
ok pair --dir p3 --proxy lb --app web --dns web.internal --both-eku --proxy-dns lb.internal
ok openssl verify -CAfile p3/ca.crt -purpose sslserver p3/proxy.crt
ok openssl verify -CAfile p3/ca.crt -purpose sslclient p3/app.crt
ok pair --dir p4 --proxy lb --app web --ip 127.0.0.1 --key rsa-2048
openssl x509 -in p4/app.crt -noout -ext keyUsage | grep -q 'Key Encipherment' || fail "RSA server keyEncipherment"

step "bad input: one line, exit 1 or 2, nothing left behind"
# The test's own .out/.err and the directory's mtime aside.
state() { snap . | grep -Ev '^\. |\./\.(out|err)( |$)'; }
before=$(state)
bad 'missing --proxy' pair --dir x --app web --dns web.internal
[ "$(cat .err)" ] && expect 2 pair --dir x --app web --dns web.internal
expect 2 pair --dir x --proxy lb --dns web.internal
expect 2 pair --proxy lb --app web --dns web.internal
bad "invalid name 'l b'" pair --dir x --proxy 'l b' --app web --dns web.internal
bad "invalid name '../x'" pair --dir x --proxy lb --app ../x --dns web.internal
bad 'at most 48' pair --dir x --proxy "$(printf 'a%.0s' $(seq 49))" --app web --dns web.internal
bad 'needs at least one --dns or --ip' pair --dir x --proxy lb --app web
expect 2 pair --dir x --proxy lb --app web
bad 'invalid DNS name' pair --dir x --proxy lb --app web --dns 'web..internal'
bad 'invalid IP address' pair --dir x --proxy lb --app web --ip 300.1.1.1
bad 'proxy-dns or --proxy-ip' pair --dir x --proxy lb --app web --dns web.internal --both-eku
bad "invalid --years '0'" pair --dir x --proxy lb --app web --dns web.internal --years 0
bad "invalid --years '201'" pair --dir x --proxy lb --app web --dns web.internal --years 201
expect 2 pair --dir x --proxy lb --app web --dns web.internal --years 1e3
bad "unknown key algorithm 'dsa'" pair --dir x --proxy lb --app web --dns web.internal --key dsa
bad "parent directory does not exist" pair --dir nope/x --proxy lb --app web --dns web.internal
expect 1 pair --dir nope/x --proxy lb --app web --dns web.internal
bad "'.*p1' exists and is not empty" pair --dir p1 --proxy lb --app web --dns web.internal
expect 1 pair --dir p1 --proxy lb --app web --dns web.internal
touch plainfile
bad 'exists and is not a directory' pair --dir plainfile --proxy lb --app web --dns web.internal
ln -s p1 link
bad 'exists and is not a directory' pair --dir link --proxy lb --app web --dns web.internal
bad "quotes" pair --dir 'x"y' --proxy lb --app web --dns web.internal
rm plainfile link
[ "$(state)" = "$before" ] || { diff <(echo "$before") <(state); fail "a failed run changed something"; }
# An empty D is taken (and made 0700).
mkdir -m 755 empty
ok pair --dir empty --proxy lb --app web --dns web.internal
[ "$(stat -c %a empty)" = 700 ] && [ -s empty/ca.crt ] || fail "an empty D was not used"

step "nginx: the app's server from nginx.conf, the proxy from nginx-proxy.conf"
# A second pair of the same names, for a proxy that must be refused.
ok pair --dir q1 --proxy lb --app web --dns web.internal --ip 127.0.0.1
app_port=$(free_port); proxy_port=$(free_port); wrong_port=$(free_port)
mkdir -p ngx
user=; [ "$(id -u)" = 0 ] && user="user root;"
cat >ngx/nginx.conf <<EOF
$user
daemon off;
worker_processes 1;
pid $T/ngx/nginx.pid;
error_log $T/ngx/error.log info;
events { worker_connections 64; }
http {
	access_log $T/ngx/access.log;
	client_body_temp_path $T/ngx/body;
	proxy_temp_path $T/ngx/proxy;
	fastcgi_temp_path $T/ngx/fastcgi;
	uwsgi_temp_path $T/ngx/uwsgi;
	scgi_temp_path $T/ngx/scgi;
	# The app.
	server {
		listen 127.0.0.1:$app_port ssl;
		server_name web.internal;
		include $T/p1/nginx.conf;
		location / { return 200 "app ok serial=\$ssl_client_serial\n"; }
	}
	# The proxy of this pair, and one that holds the other pair's files.
	server {
		listen 127.0.0.1:$proxy_port;
		location / {
			proxy_pass https://127.0.0.1:$app_port;
			include $T/p1/nginx-proxy.conf;
		}
	}
	server {
		listen 127.0.0.1:$wrong_port;
		location / {
			proxy_pass https://127.0.0.1:$app_port;
			include $T/q1/nginx-proxy.conf;
			# nginx shares one implicit upstream (and its cached TLS
			# session) between proxy_pass'es to the same address: a
			# resumed session would skip the verification under test.
			proxy_ssl_session_reuse off;
		}
	}
}
EOF
"$NGINX" -t -e "$T/ngx/startup.log" -p "$T/ngx" -c "$T/ngx/nginx.conf" >ngx/t.log 2>&1 ||
	{ cat ngx/t.log; fail "nginx -t refused the configuration"; }
"$NGINX" -e "$T/ngx/startup.log" -p "$T/ngx" -c "$T/ngx/nginx.conf" >ngx/run.log 2>&1 &
ngx_pid=$!
wait_port "$app_port" && wait_port "$proxy_port" || { cat ngx/run.log ngx/error.log; fail "nginx did not start"; }

# req CERTDIR/NAME | "": the HTTP status the app gives (000: no TLS).
req() {
	local cert=()
	[ -n "$1" ] && cert=(--cert "$1.crt" --key "$1.key")
	curl -s -o ngx/body.out -w '%{http_code}' --max-time 10 --cacert p1/ca.crt \
		--resolve "web.internal:$app_port:127.0.0.1" "${cert[@]}" "https://web.internal:$app_port/"
}
[ "$(req p1/proxy)" = 200 ] || { req p1/proxy; cat ngx/error.log; fail "the proxy's certificate was refused"; }
grep -qx 'app ok serial=1000' ngx/body.out || fail "the app saw another serial"
code=$(req p1/app); [ "$code" = 200 ] && fail "the app's own certificate got in"
[ "$code" = 400 ] || [ "$code" = 403 ] || [ "$code" = 000 ] || fail "the app's certificate: $code"
code=$(req q1/proxy); [ "$code" = 200 ] && fail "another pair's proxy certificate got in"
[ "$code" = 400 ] || [ "$code" = 000 ] || fail "the other pair's proxy: $code"
grep -q 'client SSL certificate verify error' ngx/error.log || { cat ngx/error.log; fail "nginx did not refuse the other pair's certificate"; }
code=$(req ""); [ "$code" = 200 ] && fail "a client without a certificate got in"
[ "$code" = 400 ] || [ "$code" = 000 ] || fail "no certificate: $code"

step "the serial check itself: a pair whose app certificate is a client too"
# With --both-eku the app's certificate passes the CA check as a client;
# only the serial check stands between it and the app.
ok pair --dir b1 --proxy lb --app web --dns web.internal --ip 127.0.0.1 --both-eku --proxy-dns lb.internal
sed "s|$T/p1/|$T/b1/|" ngx/nginx.conf >ngx/b1.conf
kill "$ngx_pid"; wait "$ngx_pid" 2>/dev/null; ngx_pid=
"$NGINX" -e "$T/ngx/startup.log" -p "$T/ngx" -c "$T/ngx/b1.conf" >ngx/run.log 2>&1 &
ngx_pid=$!
wait_port "$app_port" || { cat ngx/run.log ngx/error.log; fail "nginx (b1) did not start"; }
breq() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert b1/ca.crt \
		--resolve "web.internal:$app_port:127.0.0.1" --cert "$1.crt" --key "$1.key" "https://web.internal:$app_port/"
}
[ "$(breq b1/proxy)" = 200 ] || fail "b1: the proxy was refused"
[ "$(breq b1/app)" = 403 ] || fail "b1: the app's certificate (serial 1001) was not refused with 403"
[ "$(breq p1/proxy)" = 200 ] && fail "b1: pair p1's proxy (serial 1000 too) got in"

step "nginx as the proxy: its pair reaches the app, the other pair does not"
kill "$ngx_pid"; wait "$ngx_pid" 2>/dev/null; ngx_pid=
"$NGINX" -e "$T/ngx/startup.log" -p "$T/ngx" -c "$T/ngx/nginx.conf" >ngx/run.log 2>&1 &
ngx_pid=$!
wait_port "$app_port" && wait_port "$proxy_port" && wait_port "$wrong_port" || { cat ngx/run.log; fail "nginx did not restart"; }
[ "$(curl -s --max-time 10 "http://127.0.0.1:$proxy_port/")" = "app ok serial=1000" ] ||
	{ tail ngx/error.log; fail "the proxy did not reach the app with its certificate"; }
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$wrong_port/")
[ "$code" = 502 ] || fail "a proxy with the other pair's files got $code, want 502"
grep -q 'upstream SSL certificate verify error' ngx/error.log || fail "the wrong proxy did not refuse the app's certificate"
echo "pair ok"
