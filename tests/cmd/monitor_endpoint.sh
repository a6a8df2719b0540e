# monitor_endpoint: tierca-monitor's live endpoint checks against real TLS
# servers (gnutls-serv): the current certificate is OK; an old one served
# after a renewal ("renewed, but the service was never reloaded") is
# flagged; a server that sends no chain, or a name the certificate does
# not cover, is CRITICAL; a port where nothing listens, or a peer that
# never answers, is UNKNOWN for that endpoint and nothing else.
#
# In a private network namespace when possible (as mtls.sh): gnutls-serv
# cannot bind to 127.0.0.1 only.
if [ -z "${TIERCA_IN_NETNS:-}" ] && unshare -n true 2>/dev/null; then
	TIERCA_IN_NETNS=1 exec unshare -n bash -c 'ip link set lo up && exec bash "$0"' "$0"
fi
. "$(dirname "$0")/lib.sh"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null' EXIT
row() {
	grep -E "^$1 +endpoint +[a-z-]+ +$2 .*${3:-}" "$T/.out" >/dev/null ||
		{ cat "$T/.out"; fail "no endpoint row '$1 $2 ${3:-}'"; }
}
# serve PORT CERT KEY: gnutls-serv on PORT (all addresses of the netns).
serve() {
	gnutls-serv --port "$1" --x509certfile "$2" --x509keyfile "$3" >"serv.$1.log" 2>&1 &
	pids+=($!)
	wait_port "$1" || { cat "serv.$1.log"; fail "gnutls-serv did not start on $1"; }
}
# cfg FILE ENDPOINT...: a configuration watching the server CA and these.
cfg() {
	local f=$1; shift
	local list="" e
	for e in "$@"; do list="$list${list:+, }\"$e\""; done
	printf 'server: { dir = "server"; };\nmonitor: { endpoints = [ %s ]; };\n' "$list" >"$f"
}

step "a certificate, kept, then renewed: the old one is what a stale service serves"
hierarchy
ok ica issue --dir server web --dns web.internal --ip 127.0.0.1
mkdir old
cp server/issued/web/fullchain.pem server/issued/web/key.pem server/issued/web/cert.pem old/
old=$(openssl x509 -in old/cert.pem -noout -serial | cut -d= -f2)
ok ica issue --dir server web --dns web.internal --ip 127.0.0.1 --replace
new=$(openssl x509 -in server/issued/web/cert.pem -noout -serial | cut -d= -f2)
[ "$old" != "$new" ] || fail "no new serial"
ok ica crl --dir server

p_new=$(free_port); serve "$p_new" server/issued/web/fullchain.pem server/issued/web/key.pem
p_old=$(free_port); serve "$p_old" old/fullchain.pem old/key.pem
p_leaf=$(free_port); serve "$p_leaf" server/issued/web/cert.pem server/issued/web/key.pem
p_none=$(free_port)
# A peer that accepts the connection and then says nothing.
p_mute=$(free_port)
python3 -c 'import socket,sys,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(5); time.sleep(120)' "$p_mute" &
pids+=($!)
wait_port "$p_mute" || fail "mute listener did not start"

step "the current certificate, with its chain: OK"
cfg ok.cfg "127.0.0.1:$p_new"
expect 0 mon -c ok.cfg
row OK "127.0.0.1:$p_new" "$new"

step "the old certificate after a renewal: flagged (WARNING)"
cfg old.cfg "127.0.0.1:$p_old"
expect 1 mon -c old.cfg
row WARNING "127.0.0.1:$p_old" "$old .*serves an old certificate of 'web' .*serial $new, valid until .* was issued since: install it and reload the service"
# ... and CRITICAL once the old one is close to its end.
TIERCA_NOW=$(date -u -d '+85 days' +%Y-%m-%dT%H:%M:%SZ) ok ica crl --dir server
TIERCA_NOW=$(date -u -d '+85 days' +%Y-%m-%dT%H:%M:%SZ) expect 2 mon -c old.cfg
row CRITICAL "127.0.0.1:$p_old" "serves an old certificate"
ok ica crl --dir server

step "no chain sent, a name not in the certificate: CRITICAL"
cfg leaf.cfg "127.0.0.1:$p_leaf"
expect 2 mon -c leaf.cfg
row CRITICAL "127.0.0.1:$p_leaf" "served chain does not verify.*fullchain.pem"
cfg name.cfg "localhost:$p_new"
expect 2 mon -c name.cfg
row CRITICAL "localhost:$p_new" "not for 'localhost'"

step "nothing listening, a mute peer, a bad endpoint: UNKNOWN for that endpoint only"
cfg none.cfg "127.0.0.1:$p_none"
expect 3 mon -c none.cfg
row UNKNOWN "127.0.0.1:$p_none" "cannot connect to '127.0.0.1:$p_none': Connection refused"
grep -q "^OK  *ca  *server" .out || fail "the other checks were not made"
[ ! -s .err ] || { cat .err; fail "an unreachable endpoint is not an error"; }
cfg mute.cfg "127.0.0.1:$p_mute"
start=$(date +%s)
expect 3 mon -c mute.cfg
[ $(( $(date +%s) - start )) -le 15 ] || fail "the handshake timeout did not hold"
row UNKNOWN "127.0.0.1:$p_mute" "TLS handshake with '127.0.0.1:$p_mute' failed"
cfg bad.cfg "no-port-here" "nosuchhost.invalid:443"
expect 3 mon -c bad.cfg
row UNKNOWN "no-port-here" "invalid endpoint"
row UNKNOWN "nosuchhost.invalid:443" "cannot resolve"

step "all together: the worst decides, the textfile has each endpoint"
cfg all.cfg "127.0.0.1:$p_new" "127.0.0.1:$p_old" "127.0.0.1:$p_none"
expect 3 mon -c all.cfg --textfile all.prom --json
python3 -c '
import json, sys
d = json.load(sys.stdin)
e = {c["name"]: c for c in d["checks"] if c["check"] == "endpoint"}
assert d["exit"] == 3 and d["state"] == "UNKNOWN", d["state"]
assert e["127.0.0.1:'"$p_new"'"]["state"] == "OK"
assert e["127.0.0.1:'"$p_old"'"]["state"] == "WARNING"
assert e["127.0.0.1:'"$p_old"'"]["serial"] == "'"$old"'"
assert e["127.0.0.1:'"$p_none"'"]["state"] == "UNKNOWN"
' <.out || { cat .out; fail "json"; }
grep -q "^tierca_check_state{check=\"endpoint\",ca=\"server\",name=\"127.0.0.1:$p_old\",serial=\"$old\"} 1$" all.prom || { cat all.prom; fail "textfile: old endpoint"; }
grep -q "^tierca_check_state{check=\"endpoint\",name=\"127.0.0.1:$p_none\"} 3$" all.prom || fail "textfile: unreachable endpoint"
grep -q "^tierca_certificate_days_left{check=\"endpoint\",ca=\"server\",name=\"127.0.0.1:$p_new\",serial=\"$new\"} 89$" all.prom || fail "textfile: days left"
echo "monitor_endpoint ok"
