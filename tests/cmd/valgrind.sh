# valgrind: one full scenario with every tool under memcheck: no errors,
# no definite leaks.
. "$(dirname "$0")/lib.sh"
command -v valgrind >/dev/null || fail "valgrind missing"
real=$B
mkdir vgbin
for t in tierca tierca-root tierca-ica tierca-renew tierca-monitor; do
	# valgrind 3.19 (Debian 12) does not know openat2(2) and warns at
	# every call: the tools take their component walk instead, the same
	# rule (no link beneath a CA directory), now checked under memcheck.
	cat >vgbin/$t <<W
#!/bin/sh
TIERCA_NO_OPENAT2=1 exec valgrind -q --leak-check=full --errors-for-leak-kinds=definite \
	--error-exitcode=99 --log-file=$T/vg.%p.log "$real/$t" "\$@"
W
	chmod +x vgbin/$t
done
B=$T/vgbin
hierarchy
ok ica issue --dir server web --dns web.internal --ip 127.0.0.1
ok ica issue --dir client alice --cn Alice --email alice@example.internal
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout dev.key \
	-subj /CN=dev.internal -addext subjectAltName=DNS:dev.internal -out dev.csr 2>/dev/null
ok ica sign --dir server dev dev.csr
ok ica revoke --dir client alice --reason keyCompromise
ok ica crl --dir server
ok ica crl --dir server --if-due
ok ica list --dir client --json
ok ica show --dir server web
printf 'p12 passphrase\n' >p12.pass; chmod 600 p12.pass
ok ica export --dir server web --pkcs12 web.p12 --passphrase-file p12.pass
ok root crl --dir root --passphrase-file "$PASSFILE"
ok root log --dir root --verify
ok "$B/tierca" ica --version
# The lifecycle tools: renew from a template (issue, install), monitor.
mkdir tpl inst
printf 'name = "app";\nca = "server";\ndns = [ "app.internal" ];\ninstall: { cert = "%s/inst/app.crt"; key = "%s/inst/app.key"; mode = 0640; };\nreload = "true";\n' "$T" "$T" >tpl/app.cfg
printf 'server: { dir = "server"; };\nclient: { dir = "client"; };\ntemplates = "tpl";\nmonitor: { textfile = "tierca.prom"; };\n' >vg.cfg
ok "$B/tierca-renew" -c vg.cfg
ok "$B/tierca-renew" -c vg.cfg --json
rc=0; "$B/tierca-monitor" -c vg.cfg --json >mon.out 2>&1 || rc=$?
[ $rc -le 2 ] || { cat mon.out; fail "monitor exit $rc"; }
# Failure paths must be clean too.
bad "already has a valid certificate" ica issue --dir server web --dns web.internal
bad "outside the issuer's name constraints" ica issue --dir server evil --dns evil.example.com
bad "no certificate with serial or name" ica revoke --dir server nobody
printf 'wrong passphrase, really\n' >w.pass; chmod 600 w.pass
bad "wrong passphrase" root crl --dir root --passphrase-file w.pass
printf 'x = ;\n' >broken.cfg
bad "broken.cfg:1" ica -c broken.cfg list --dir server
errs=$(cat vg.*.log 2>/dev/null)
[ -z "$errs" ] || { echo "$errs" | head -60; fail "valgrind reported errors"; }
echo "valgrind ok: $(ls vg.*.log | wc -l) runs, clean"
