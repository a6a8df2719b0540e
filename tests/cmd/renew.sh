# renew: tierca-renew over time. A daily run for 400 days renews a 90-day
# certificate every ~60 days with a new key, never lets it fall under 29
# days, installs it and reloads once per renewal; plus failures.
. "$(dirname "$0")/lib.sh"
renew() { "$B/tierca-renew" "$@"; }
state() { local d; for d in root server client tpl inst; do echo "== $d"; snap "$T/$d"; done; }
start=$(date -u +%s)
at() { date -u -d "@$((start + $1 * 86400))" +%Y-%m-%dT%H:%M:%SZ; }

step "hierarchy, config, templates"
hierarchy
mkdir -p tpl inst
cat >tpl/web.cfg <<CFG
# deploy-target: /etc/tierca/templates/web.cfg
name = "web";
ca = "server";
subject = "CN=web.internal,O=Drill";
dns = [ "web.internal" ];
install: { cert = "$T/inst/web.crt"; key = "$T/inst/web.key";
           fullchain = "$T/inst/web.fullchain.pem"; chain = "$T/inst/web.chain.pem";
           owner = "root"; group = "root"; mode = 0640; };
reload = "echo \$(date +%s) >> $T/reloads";
CFG
cat >tpl/pinned.cfg <<CFG
name = "pinned";
ca = "server";
dns = [ "pinned.internal" ];
rotate_key = false;
install: { cert = "$T/inst/pinned.crt"; key = "$T/inst/pinned.key"; mode = 0644; };
CFG
cat >tpl/admin.cfg <<CFG
name = "admin";
ca = "client";
cn = "Admin";
CFG
cat >tierca.cfg <<CFG
server: { dir = "server"; };
client: { dir = "client"; };
templates = "tpl";
CFG
export TIERCA_CONFIG=$T/tierca.cfg

step "--dry-run changes nothing"
before=$(state)
TIERCA_NOW=$(at 0) ok renew --dry-run
grep -q "would issue" "$T/.out" || fail "dry run does not say what it would do"
[ "$before" = "$(state)" ] || fail "--dry-run changed files"

step "the first run issues and installs everything"
TIERCA_NOW=$(at 0) ok renew
grep -q "3 issued, 0 renewed" "$T/.out" || { cat "$T/.out"; fail "summary"; }
for f in web.crt web.key web.fullchain.pem web.chain.pem pinned.crt pinned.key; do
	[ -s "inst/$f" ] || fail "inst/$f not installed"
done
[ "$(stat -c %a inst/web.key)" = 640 ] || fail "web.key mode $(stat -c %a inst/web.key)"
[ "$(stat -c %a inst/pinned.key)" = 640 ] || fail "a key installed more open than 0640"
[ "$(stat -c %a inst/pinned.crt)" = 644 ] || fail "pinned.crt mode"
[ "$(wc -l <reloads)" = 1 ] || fail "want one reload after the first issue"
openssl verify -CAfile root/ca.crt -untrusted server/ca.crt -purpose sslserver inst/web.crt >/dev/null || fail "installed cert"
[ -s server/crl.pem ] && [ -s client/crl.pem ] || fail "CRLs not made"

step "idempotent: a second run at the same moment changes nothing"
before=$(state)
TIERCA_NOW=$(at 0) ok renew
grep -q "0 issued, 0 renewed, 0 installed, 3 current" "$T/.out" || { cat "$T/.out"; fail "second run did something"; }
[ "$before" = "$(state)" ] || fail "the second run changed files"

step "400 days of daily runs"
keys=$(openssl pkey -in inst/web.key -pubout | sha256sum)
pinned_key=$(openssl pkey -in inst/pinned.key -pubout | sha256sum)
serial=$(openssl x509 -in inst/web.crt -noout -serial)
renewals=0; min_left=999; last_renewal=0; gaps=""
for d in $(seq 1 400); do
	now=$(at "$d")
	TIERCA_NOW=$now renew >run.out 2>&1 || { cat run.out; fail "day $d: renew failed"; }
	s=$(openssl x509 -in inst/web.crt -noout -serial)
	if [ "$s" != "$serial" ]; then
		renewals=$((renewals + 1)); gaps="$gaps $((d - last_renewal))"; last_renewal=$d
		serial=$s
		k=$(openssl pkey -in inst/web.key -pubout | sha256sum)
		[ "$k" != "$keys" ] || fail "day $d: renewal kept the old key"
		keys=$k
		[ "$(openssl pkey -in inst/pinned.key -pubout | sha256sum)" = "$pinned_key" ] || fail "day $d: rotate_key = false got a new key"
		# The installed pair matches.
		[ "$(openssl x509 -in inst/web.crt -noout -pubkey | sha256sum)" = "$k" ] || fail "day $d: installed cert and key do not match"
	fi
	end=$(date -u -d "$(openssl x509 -in inst/web.crt -noout -enddate | cut -d= -f2)" +%s)
	left=$(( (end - start - d * 86400) / 86400 ))
	[ $left -lt $min_left ] && min_left=$left
	# CRLs stay fresh: the intermediate's never expires in between.
	nu=$(date -u -d "$(openssl crl -in server/crl.pem -noout -nextupdate | cut -d= -f2)" +%s)
	[ "$nu" -gt $((start + d * 86400)) ] || fail "day $d: server CRL expired"
done
echo "renewals: $renewals, gaps:$gaps, fewest days left: $min_left"
[ $renewals -ge 6 ] && [ $renewals -le 7 ] || fail "want 6-7 renewals in 400 days, got $renewals"
[ $min_left -ge 29 ] || fail "a certificate got down to $min_left days"
for g in $gaps; do [ "$g" -ge 59 ] && [ "$g" -le 61 ] || fail "renewal gap of $g days, want ~60"; done
[ "$(wc -l <reloads)" = $((renewals + 1)) ] || fail "want one reload per renewal ($(wc -l <reloads) reloads)"

step "a failed reload: reported, non-zero, certificate kept, retried next run"
d=401
sed -i "s|^reload = .*|reload = \"echo tried >> $T/tries; exit 3\";|" tpl/web.cfg
TIERCA_NOW=$(at $((last_renewal + 61))) bad "reload '.*' exited 3" renew
s=$(openssl x509 -in inst/web.crt -noout -serial)
[ "$s" != "$serial" ] || fail "the renewal was lost with the failed reload"
[ "$(wc -l <tries)" = 1 ] || fail "reload not tried once"
TIERCA_NOW=$(at $((last_renewal + 61))) bad "exited 3" renew
[ "$(wc -l <tries)" = 2 ] || fail "the second run did not retry the reload"
[ "$(openssl x509 -in inst/web.crt -noout -serial)" = "$s" ] || fail "the retry issued again instead of retrying the reload"
sed -i "s|^reload = .*|reload = \"echo again >> $T/reloads\";|" tpl/web.cfg
TIERCA_NOW=$(at $((last_renewal + 61))) ok renew
grep -q "again" reloads || fail "the reload was not retried"
TIERCA_NOW=$(at $((last_renewal + 61))) ok renew
grep -q "3 current" "$T/.out" || { cat "$T/.out"; fail "still pending after a good reload"; }

step "a missing or altered installed file is put right, without renewing"
serial_before=$(openssl x509 -in inst/web.crt -noout -serial)
now=$(at $((last_renewal + 61)))
rm inst/web.key
chmod 0600 inst/web.fullchain.pem
TIERCA_NOW=$now ok renew
grep -q "web .*installed serial" "$T/.out" || { cat "$T/.out"; fail "not re-installed"; }
[ -s inst/web.key ] && [ "$(stat -c %a inst/web.fullchain.pem)" = 640 ] || fail "install not repaired"
[ "$(openssl x509 -in inst/web.crt -noout -serial)" = "$serial_before" ] || fail "a repair renewed the certificate"
TIERCA_NOW=$now ok renew
grep -q "3 current" "$T/.out" || { cat "$T/.out"; fail "not current after the repair"; }

step "--json is one JSON document, even with a chatty reload; dry-run lines are whole"
sed -i "s|^reload = .*|reload = \"echo chatty reload output\";|" tpl/web.cfg
TIERCA_NOW=$(at $((last_renewal + 122))) renew --dry-run >dry.out 2>&1 || { cat dry.out; fail "dry run"; }
grep -Eq "^web +would renew \(now serial [0-9A-F]+, until [0-9T:Z-]+\)$" dry.out || { cat dry.out; fail "dry-run line"; }
TIERCA_NOW=$(at $((last_renewal + 122))) renew --json >json.out 2>json.err || { cat json.out json.err; fail "renew --json"; }
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert any(t["action"]=="renew" for t in d["templates"])' json.out || { cat json.out; fail "--json output is not the JSON document"; }
grep -q "chatty reload output" json.err || fail "the reload's output was lost"
last_renewal=$((last_renewal + 122))

step "one run at a time"
exec 9>"$T/.tierca-renew.lock"; flock 9
TIERCA_NOW=$(at 500) ok renew
grep -q "another run is in progress" "$T/.out" || fail "no message while locked"
exec 9>&-

step "under libfaketime, without TIERCA_NOW"
if [ -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ] && command -v faketime >/dev/null; then
	days_ahead=$(( last_renewal + 61 + 40 ))
	# An ASan build wants its runtime first; libfaketime is preloaded
	# ahead of it here, which is harmless for this check.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		faketime -f "+${days_ahead}d" "$B/tierca-renew" >ft.out 2>&1 || { cat ft.out; fail "renew under faketime"; }
	grep -q "renewed" ft.out || { cat ft.out; fail "faketime run did not renew"; }
else
	echo "(libfaketime not installed: skipped)"
fi

step "policy.revoke_superseded: the replaced certificate is revoked once its successor is reloaded"
cat >>tierca.cfg <<CFG
policy: { revoke_superseded = true; };
CFG
old_serial=$(openssl x509 -in inst/web.crt -noout -serial | cut -d= -f2)
later=$(( $(date -u -d "$(openssl x509 -in inst/web.crt -noout -enddate | cut -d= -f2)" +%s) - 20 * 86400 ))
# The reload fails: the service may still serve the old one, so it stays
# valid, and is remembered for the run that gets through.
sed -i "s|^reload = .*|reload = \"exit 3\";|" tpl/web.cfg
TIERCA_NOW=$(date -u -d "@$later" +%Y-%m-%dT%H:%M:%SZ) renew >r.out 2>&1 && { cat r.out; fail "a failed reload exited 0"; }
grep -q "web: reload 'exit 3' exited 3" r.out || { cat r.out; fail "failed reload not reported"; }
grep -q "^V.*	$old_serial	web	" server/index.txt || fail "revoked although the service may still serve it"
grep -qx "$old_serial" server/issued/.web.superseded || fail "the replaced serial is not remembered"
sed -i "s|^reload = .*|reload = \"true\";|" tpl/web.cfg
TIERCA_NOW=$(date -u -d "@$(( later + 3600 ))" +%Y-%m-%dT%H:%M:%SZ) ok renew
grep -q "superseded $old_serial revoked" "$T/.out" || { cat "$T/.out"; fail "superseded not revoked"; }
grep -q "^R.*,superseded	$old_serial	web	" server/index.txt || fail "index lacks the superseded revocation"
openssl crl -in server/crl.pem -noout -text | grep -A5 "$old_serial" | grep -q Superseded || fail "CRL lacks the superseded entry"
[ ! -e server/issued/.web.superseded ] || fail "superseded marker left behind"
TIERCA_NOW=$(date -u -d "@$(( later + 7200 ))" +%Y-%m-%dT%H:%M:%SZ) ok renew
grep -q "superseded [0-9A-F]* revoked" "$T/.out" && { cat "$T/.out"; fail "revoked twice"; }

step "no daily churn once a certificate ends with its intermediate"
ok ica init --dir short --kind server --subject "CN=Short ICA"
ok root sign --dir root --passphrase-file "$PASSFILE" --kind server --days 45 --yes short/ca.csr --out short.crt
ok ica install --dir short short.crt --root root/ca.crt
mkdir tpl2
printf 'name = "s";\nca = "server";\ndns = [ "s.internal" ];\n' >tpl2/s.cfg
printf 'server: { dir = "short"; };\ntemplates = "tpl2";\n' >short.cfg
TIERCA_CONFIG=$T/short.cfg ok renew
grep -q "validity cut" "$T/.out" || true
n1=$(wc -l <short/index.txt)
for d in 1 2 3; do TIERCA_CONFIG=$T/short.cfg TIERCA_NOW=$(date -u -d "+$((d * 5)) days" +%Y-%m-%dT%H:%M:%SZ) ok renew; done
[ "$(wc -l <short/index.txt)" = "$n1" ] || fail "renewed a certificate that already ends with its intermediate"

step "bad input"
printf 'name = "x";\nca = "server";\ndns = [ "x.internal" ];\nsize = 3;\n' >tpl/x.cfg
bad "x.cfg:4: unknown key 'size'" renew
printf 'name = "x";\nca = "middle";\ndns = [ "x.internal" ];\n' >tpl/x.cfg
bad "x.cfg:2: 'ca' must be" renew
printf 'name = "x";\nca = "server";\ndns = [ "x.internal" ];\ninstall: { cert = "%s/nowhere/x.crt"; };\n' "$T" >tpl/x.cfg
bad "directory '.*nowhere' does not exist" renew
[ -e nowhere ] && fail "created a missing install directory"
printf 'name = "x";\nca = "server";\ndns = [ "x.internal" ];\nreload = "no-such-command-here";\n' >tpl/x.cfg
TIERCA_NOW=$(at 500) bad "command not found" renew
rm tpl/x.cfg
bad "templates '.*' and '.*' both have name 'web'" sh -c "cp $T/tpl/web.cfg $T/tpl/web2.cfg && exec $B/tierca-renew"
rm tpl/web2.cfg
echo "renew ok"
