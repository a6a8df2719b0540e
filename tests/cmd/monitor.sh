# monitor: tierca-monitor's states and exit codes over time (TIERCA_NOW):
# an unrenewed 90-day leaf at 10, 65, 85 and 95 days, stale and missing
# CRLs, installed files that are missing, corrupt, mismatched or older
# than the latest issuance, intermediates and a root close to their end;
# the table, JSON (parsed by python) and the Prometheus textfile.
. "$(dirname "$0")/lib.sh"

# row STATE CHECK NAME [PATTERN]: the last output has that table row.
row() {
	grep -E "^$1 +$2 +[a-z-]+ +$3 .*${4:-}" "$T/.out" >/dev/null ||
		{ cat "$T/.out"; fail "no row '$1 $2 $3 ${4:-}'"; }
}
norow() {
	grep -E "^$1 +$2 +[a-z-]+ +$3 " "$T/.out" >/dev/null &&
		{ cat "$T/.out"; fail "unexpected row '$1 $2 $3'"; }
	return 0
}

t0=$(( $(date -u +%s) + 60 ))
# Leaves are issued at t0; checks run at noon of a day, so whole days left
# never sit on a boundary.
at0=$(date -u -d "@$t0" +%Y-%m-%dT%H:%M:%SZ)
at() { date -u -d "@$(( t0 + $1 * 86400 + 43200 ))" +%Y-%m-%dT%H:%M:%SZ; }
# crls DAY: fresh intermediate CRLs made on that day.
crls() {
	TIERCA_NOW=$(at "$1") ok ica crl --dir server
	TIERCA_NOW=$(at "$1") ok ica crl --dir client
}

step "a hierarchy, a template installed under \$T, an unrenewed leaf"
hierarchy
ok root crl --dir root --passphrase-file "$PASSFILE"
mkdir tpl inst
cat >tpl/web.cfg <<EOF
name = "web";
ca = "server";
dns = [ "web.internal" ];
ip = [ "127.0.0.1" ];
install: { cert = "$T/inst/web.crt"; key = "$T/inst/web.key";
           fullchain = "$T/inst/web.fullchain.pem"; };
EOF
cat >tierca.cfg <<EOF
root: { dir = "root"; };
server: { dir = "server"; };
client: { dir = "client"; };
templates = "tpl";
monitor: { warn_days = 30; critical_days = 7; textfile = "tierca.prom"; };
EOF
install_web() {
	cp server/issued/web/cert.pem inst/web.crt
	cp server/issued/web/key.pem inst/web.key
	cp server/issued/web/fullchain.pem inst/web.fullchain.pem
}
TIERCA_NOW=$at0 ok ica -c tierca.cfg issue --template tpl/web.cfg
install_web
TIERCA_NOW=$at0 ok ica issue --dir server db --dns db.internal
TIERCA_NOW=$at0 ok ica issue --dir client alice
crls 0

step "day 1: everything OK (exit 0), table with a summary line"
TIERCA_NOW=$(at 1) expect 0 mon -c tierca.cfg
head -1 .out | grep -q "^OK: [0-9]* checks, 0 critical, 0 warning, 0 unknown" || { cat .out; fail "summary line"; }
grep -q "^STATE .*CHECK .*CA .*NAME .*SERIAL .*NOT AFTER .*DAYS" .out || fail "table header"
row OK certificate db "  88 "
row OK certificate alice
row OK installed web
row OK crl server
row OK crl root
row OK ca server
row OK ca root
# The root's database holds the intermediates: watched once, as CAs.
[ "$(grep -c '^OK *ca ' .out)" = 3 ] || { cat .out; fail "CA certificates not listed once each"; }
[ -z "$(grep -E ' (server|client)-ica ' .out)" ] || fail "intermediates listed twice"

step "the textfile: written atomically, Prometheus text format"
[ -f tierca.prom ] || fail "no textfile"
ls -a | grep -q '^\.tierca\.prom\.' && fail "temp file left behind"
[ "$(stat -c %a tierca.prom)" = 644 ] || fail "textfile mode"
db_serial=$(openssl x509 -in server/issued/db/cert.pem -noout -serial | cut -d= -f2)
grep -q "^tierca_certificate_not_after_seconds{check=\"certificate\",ca=\"server\",name=\"db\",serial=\"$db_serial\"} [0-9]*$" tierca.prom ||
	{ cat tierca.prom; fail "not_after gauge for db"; }
grep -q "^tierca_certificate_days_left{check=\"certificate\",ca=\"server\",name=\"db\",serial=\"$db_serial\"} 88$" tierca.prom ||
	fail "days_left gauge for db"
grep -q '^tierca_crl_next_update_seconds{ca="server",name="server"} [0-9]*$' tierca.prom || fail "CRL gauge"
grep -q '^tierca_check_state{check="installed",ca="server",name="web",serial="[0-9A-F]*"} 0$' tierca.prom || fail "state gauge"
grep -q '^tierca_monitor_state 0$' tierca.prom || fail "monitor state gauge"
# Every line is a comment (HELP/TYPE) or a sample: name{labels} value.
bad_lines=$(grep -vE '^# (HELP|TYPE) tierca_[a-z_]+ .+$|^tierca_[a-z_]+(\{([a-z_]+="([^"\\]|\\.)*",?)+\})? -?[0-9]+$' tierca.prom || true)
[ -z "$bad_lines" ] || fail "malformed textfile lines: $bad_lines"
# Each family: one TYPE line, and its samples together after it.
for fam in $(sed -n 's/^# TYPE \([a-z_]*\) gauge$/\1/p' tierca.prom); do
	[ "$(grep -c "^# TYPE $fam " tierca.prom)" = 1 ] || fail "TYPE $fam twice"
done
[ "$(grep -v '^#' tierca.prom | sed 's/ [-0-9]*$//' | sort | uniq -d)" = "" ] || fail "duplicate series"

step "--json parses, and says what the table says"
TIERCA_NOW=$(at 1) expect 0 mon -c tierca.cfg --json
python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["state"]=="OK" and d["exit"]==0, d; c=[x for x in d["checks"] if x["name"]=="db"][0]; assert c["days_left"]==88 and c["check"]=="certificate" and c["ca"]=="server", c' <.out ||
	{ cat .out; fail "json"; }

step "day 10: OK"
crls 10
TIERCA_NOW=$(at 10) expect 0 mon -c tierca.cfg
row OK certificate db "  79 "

step "day 20: the CRL made on day 10 has 4 days left: WARNING (exit 1)"
TIERCA_NOW=$(at 20) expect 1 mon -c tierca.cfg
row WARNING crl server "next update"
row WARNING crl client

step "day 30: the CRL has expired: CRITICAL (exit 2); a missing CRL too"
TIERCA_NOW=$(at 30) expect 2 mon -c tierca.cfg
row CRITICAL crl server "expired on .*refuse every client"
grep -q '^tierca_check_state{check="crl",ca="server",name="server"} 2$' tierca.prom || fail "textfile not rewritten"
crls 30
mv client/crl.pem client/crl.pem.away
TIERCA_NOW=$(at 30) expect 2 mon -c tierca.cfg
row CRITICAL crl client "no CRL"
row OK crl server
mv client/crl.pem.away client/crl.pem

step "a revocation the CRL does not carry yet: WARNING"
TIERCA_NOW=$(at 30) ok ica issue --dir client bob
TIERCA_NOW=$(at 30) ok ica revoke --dir client bob --no-crl
TIERCA_NOW=$(at 30) expect 1 mon -c tierca.cfg
row WARNING crl client "lists 0 revocations, index.txt 1"
norow '[A-Z]+' certificate bob
crls 30
TIERCA_NOW=$(at 30) expect 0 mon -c tierca.cfg

step "installed files: missing, corrupt, a key that does not match, a half install"
mv inst/web.crt inst/web.crt.away
TIERCA_NOW=$(at 30) expect 2 mon -c tierca.cfg
row CRITICAL installed web "missing.*\[$T/inst/web.crt\]"
echo "not a certificate" >inst/web.crt
TIERCA_NOW=$(at 30) expect 2 mon -c tierca.cfg
row CRITICAL installed web "not a certificate"
mv inst/web.crt.away inst/web.crt
cp inst/web.key inst/web.key.away
cp server/issued/db/key.pem inst/web.key
TIERCA_NOW=$(at 30) expect 2 mon -c tierca.cfg
row CRITICAL installed web "does not match its key"
mv inst/web.key.away inst/web.key
cp inst/web.fullchain.pem inst/web.fullchain.away
cp server/issued/db/fullchain.pem inst/web.fullchain.pem
TIERCA_NOW=$(at 30) expect 2 mon -c tierca.cfg
row CRITICAL installed web "holds serial $db_serial"
mv inst/web.fullchain.away inst/web.fullchain.pem
TIERCA_NOW=$(at 30) expect 0 mon -c tierca.cfg

step "day 40: renewed but never installed: WARNING; installed: OK"
old_web=$(openssl x509 -in inst/web.crt -noout -serial | cut -d= -f2)
TIERCA_NOW=$(at 40) ok ica -c tierca.cfg issue --template tpl/web.cfg --replace
new_web=$(openssl x509 -in server/issued/web/cert.pem -noout -serial | cut -d= -f2)
TIERCA_NOW=$(at 40) expect 1 mon -c tierca.cfg
row WARNING installed web "renewed \(serial $new_web, .*\) but not installed; the installed one has 49 days left"
grep -q "^WARNING .*installed .*$old_web" .out || fail "the installed (old) serial is not shown"
row OK certificate web "$new_web"
norow '[A-Z]+' certificate "web .*$old_web"
step "day 85: the never-installed renewal is CRITICAL by its days left"
crls 85
TIERCA_NOW=$(at 85) expect 2 mon -c tierca.cfg
row CRITICAL installed web "renewed .* has 4 days left"
install_web

step "the unrenewed 90-day leaf at 65, 85 and 95 days (day 10: above)"
# Fresh CRLs each day so only the leaf decides; web was renewed on day 40
# and is installed now.
for d in 65 85 95; do
	crls $d
	case $d in
	65) want=1; state=WARNING; detail="24 days left, fewer than 30: no template: reissue it \('tierca-ica issue --dir server db --replace" ;;
	85) want=2; state=CRITICAL; detail="4 days left, fewer than 7, act today: no template: reissue it" ;;
	95) want=2; state=CRITICAL; detail="expired on $(date -u -d "@$(( t0 + 90 * 86400 ))" +%Y-%m-%d)" ;;
	esac
	TIERCA_NOW=$(at $d) expect $want mon -c tierca.cfg
	row $state certificate db "$detail"
	grep -q "^tierca_check_state{check=\"certificate\",ca=\"server\",name=\"db\",serial=\"$db_serial\"} $want$" tierca.prom ||
		fail "day $d: textfile state of db"
	head -1 .out | grep -q "^$state: " || { cat .out; fail "day $d: summary"; }
done
grep -q "^tierca_certificate_days_left{check=\"certificate\",ca=\"server\",name=\"db\",serial=\"$db_serial\"} -6$" tierca.prom ||
	{ grep db tierca.prom; fail "negative days left once expired"; }
TIERCA_NOW=$(at 95) expect 2 mon -c tierca.cfg --json
python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["exit"]==2 and d["counts"]["CRITICAL"]>=1, d; assert d["checks"][0]["state"]=="CRITICAL", d["checks"][0]' <.out ||
	{ cat .out; fail "json at day 95"; }
step "a revoked name is history, not an alert"
TIERCA_NOW=$(at 95) ok ica revoke --dir server db --reason cessationOfOperation
TIERCA_NOW=$(at 95) ok ica revoke --dir client alice --reason cessationOfOperation
crls 95
TIERCA_NOW=$(at 95) expect 0 mon -c tierca.cfg
norow '[A-Z]+' certificate db

step "day 110: a templated name nearing its end points at tierca-renew"
crls 110
TIERCA_NOW=$(at 110) expect 1 mon -c tierca.cfg
row WARNING certificate web "20 days left, fewer than 30: tierca-renew renews it: is the daily job running"

step "intermediates close to their end: WARNING under leaf+renew days, CRITICAL under leaf days"
mkdir ica2
ok ica init --dir ica2/warn --kind server --subject "CN=Short Server ICA"
ok ica init --dir ica2/crit --kind client --subject "CN=Short Client ICA"
ok root sign --dir root --passphrase-file "$PASSFILE" --kind server --days 100 --yes ica2/warn/ca.csr --out ica2/warn.crt
ok root sign --dir root --passphrase-file "$PASSFILE" --kind client --days 80 --yes ica2/crit/ca.csr --out ica2/crit.crt
ok ica install --dir ica2/warn ica2/warn.crt --root root/ca.crt
ok ica install --dir ica2/crit ica2/crit.crt --root root/ca.crt
ok ica crl --dir ica2/warn
ok ica crl --dir ica2/crit
printf 'server: { dir = "ica2/warn"; };\n' >ica-warn.cfg
printf 'client: { dir = "ica2/crit"; };\n' >ica-crit.cfg
expect 1 mon -c ica-warn.cfg
row WARNING ca server "fewer than 120: have the root sign a new intermediate"
row OK ca root
expect 2 mon -c ica-crit.cfg
row CRITICAL ca client "fewer than 90: new leaves are cut short"

step "a root within the intermediates' lifetime"
ok root init --dir root-short --subject "CN=Short Root" --days 800 --passphrase-file "$PASSFILE"
ok root crl --dir root-short --passphrase-file "$PASSFILE"
printf 'root: { dir = "root-short"; };\n' >root-short.cfg
expect 1 mon -c root-short.cfg
row WARNING ca root "fewer than 910: plan a new root"
TIERCA_NOW=$(at 160) expect 2 mon -c root-short.cfg
row CRITICAL ca root "fewer than 730: new intermediates are cut short"
row WARNING crl root "sign a new one at a root ceremony"

step "the online host (no root directory): the published root CRL is watched"
mkdir pub
openssl crl -in root/crl.pem -outform DER -out pub/root.crl
printf 'server: { dir = "server"; };\nclient: { dir = "client"; };\nmonitor: { root_crl = "pub/root.crl"; textfile = "online.prom"; };\n' >online.cfg
# (the server's "web" has expired by now: the exit is CRITICAL throughout,
# the rows tell)
crls 140
TIERCA_NOW=$(at 140) expect 2 mon -c online.cfg
row OK crl root-crl
row OK ca root
grep -q '^tierca_crl_next_update_seconds{ca="root",name="root-crl"} [0-9]*$' online.prom || fail "root CRL gauge"
# made at day 0 for 180 days: 30 days ahead of its end the ceremony is due
TIERCA_NOW=$(at 160) expect 2 mon -c online.cfg
row WARNING crl root-crl "sign a new one at a root ceremony"
TIERCA_NOW=$(at 185) expect 2 mon -c online.cfg
row CRITICAL crl root-crl "expired on .*refuse every client"
ok root init --dir other-root --subject "CN=Other Root" --passphrase-file "$PASSFILE"
ok root crl --dir other-root --passphrase-file "$PASSFILE"
cp other-root/crl.pem pub/root.crl
TIERCA_NOW=$(at 140) expect 2 mon -c online.cfg
row CRITICAL crl root-crl "not signed by the root CA"
rm pub/root.crl
TIERCA_NOW=$(at 140) expect 2 mon -c online.cfg
row CRITICAL crl root-crl "no CRL"
echo garbage >pub/root.crl
TIERCA_NOW=$(at 140) expect 2 mon -c online.cfg
row CRITICAL crl root-crl

step "bad input: UNKNOWN (exit 3) with a clear message, not a crash"
expect 3 mon --bogus
expect 3 mon -c tierca.cfg extra
grep -q "unexpected argument 'extra'" .err || fail "extra argument message"
printf 'monitor: { warn_days = "x"; };\n' >broken.cfg
expect 3 mon -c broken.cfg
grep -q "broken.cfg:1: 'warn_days' must be an integer" .err || { cat .err; fail "config error"; }
printf 'policy: { leaf_days = 90; };\n' >empty.cfg
expect 3 mon -c empty.cfg
grep -q "no CA directory to watch" .err || fail "nothing to watch"
expect 3 mon -c tierca.cfg --mail
grep -q -- "--mail needs a monitor.mail group" .err || fail "--mail without monitor.mail"
printf 'server: { dir = "nowhere"; };\n' >nowhere.cfg
expect 3 mon -c nowhere.cfg
row UNKNOWN config server "cannot open CA directory"
# A malformed template, a template for an intermediate not configured.
mkdir tpl-bad
printf 'name = "x";\nca = "server";\ndns = [ "x.internal" ];\nowner = "me";\n' >tpl-bad/x.cfg
printf 'server: { dir = "server"; };\ntemplates = "tpl-bad";\n' >tplbad.cfg
crls 95
TIERCA_NOW=$(at 95) expect 3 mon -c tplbad.cfg
row UNKNOWN config templates "x.cfg:4: unknown key 'owner'"
mkdir tpl-client
printf 'name = "cl";\nca = "client";\n' >tpl-client/cl.cfg
printf 'server: { dir = "server"; };\ntemplates = "tpl-client";\n' >tplcl.cfg
TIERCA_NOW=$(at 95) expect 3 mon -c tplcl.cfg
row UNKNOWN config cl "no client.dir"
# A corrupt database: every renewal would fail.
cp -a server server-corrupt
printf 'garbage line\n' >>server-corrupt/index.txt
printf 'server: { dir = "server-corrupt"; };\n' >corrupt.cfg
TIERCA_NOW=$(at 95) expect 2 mon -c corrupt.cfg
row CRITICAL config server "corrupt entry"
# The textfile cannot be written: reported, and UNKNOWN unless worse.
printf 'server: { dir = "server"; };\n' >server-only.cfg
TIERCA_NOW=$(at 95) expect 0 mon -c server-only.cfg
TIERCA_NOW=$(at 95) expect 3 mon -c server-only.cfg --textfile "$T/no/such/dir/x.prom"
grep -q "cannot write textfile: cannot create a file in '$T/no/such/dir'" .err || { cat .err; fail "textfile error"; }
[ "$(grep -c . .err)" = 1 ] || fail "more than one error line"
grep -q "^OK: " .out || fail "no report when the textfile failed"
# The root's database now holds newer, short intermediates: CRITICAL
# wins over the delivery problem.
TIERCA_NOW=$(at 95) expect 2 mon -c tierca.cfg --textfile "$T/no/such/dir/x.prom"
row CRITICAL certificate server-ica "fewer than 90"
# Label values are escaped as the text format wants.
printf 'server: { dir = "server"; };\nmonitor: { endpoints = [ "we\\"ird\\\\:1" ]; };\n' >esc.cfg
TIERCA_NOW=$(at 95) expect 3 mon -c esc.cfg --textfile esc.prom
grep -qF 'tierca_check_state{check="endpoint",name="we\"ird\\:1"} 3' esc.prom || { cat esc.prom; fail "label escaping"; }
echo "monitor ok"
