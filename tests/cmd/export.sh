# export: what servers and clients are handed. The root's CRL taken from
# a ceremony (only the root's, only a current one, never an older one),
# the CRL bundle a server needs (judged by openssl verify -crl_check_all),
# trust anchors in PEM and DER, the update-ca-certificates layout, and
# the monitor watching the root CRL copies.
. "$(dirname "$0")/lib.sh"
in_days() { date -u -d "+$1 days" +%Y-%m-%dT%H:%M:%SZ; }

step "a hierarchy, CRLs, a leaf"
hierarchy
ok root crl --dir root --passphrase-file "$PASSFILE"
ok ica crl --dir client
ok ica crl --dir server
ok ica issue --dir client alice
ok ica issue --dir client eve

step "a CRL bundle needs the root's CRL first"
s0=$(snap client)
bad "no root CRL .*tierca-ica root-crl" ica export --dir client --crl-bundle b.pem
[ ! -e b.pem ] || fail "a bundle without the root CRL"

step "root-crl: the root's CRL, PEM or DER, taken once"
ok ica root-crl --dir client root/crl.pem
grep -q "^took root CRL number [0-9A-F]*: 0 revoked, next update " "$T/.out" || { cat "$T/.out"; fail "root-crl output"; }
cmp -s client/root-crl.pem root/crl.pem || fail "client/root-crl.pem is not the root's CRL"
ok ica root-crl --dir client root/crl.der
grep -q "^already have root CRL" "$T/.out" || { cat "$T/.out"; fail "the same CRL again is not 'already have'"; }

step "root-crl refuses another root's CRL, an expired one, an older one, garbage"
ok root init --dir other --subject "CN=Other Root" --passphrase-file "$PASSFILE"
ok root crl --dir other --passphrase-file "$PASSFILE"
s1=$(snap client)
bad "root CRL '.*other/crl.pem' is not signed by its CA" ica root-crl --dir client other/crl.pem
TIERCA_NOW=$(in_days 200) bad "root CRL '.*' expired on" ica root-crl --dir client root/crl.pem
cp root/crl.pem old-root-crl.pem
ok root crl --dir root --passphrase-file "$PASSFILE"
ok ica root-crl --dir client root/crl.pem
s1=$(snap client)
bad "root CRL 'old-root-crl.pem' \(number [0-9A-F]*\) is older than the one in" ica root-crl --dir client old-root-crl.pem
echo garbage >junk.pem
bad "cannot parse CRL 'junk.pem'" ica root-crl --dir client junk.pem
bad "not an installed intermediate" ica root-crl --dir root root/crl.pem
[ "$(snap client)" = "$s1" ] || fail "a refused root CRL changed the CA directory"

step "the CRL bundle: openssl verify -crl_check_all accepts alice, refuses a revoked eve"
ok ica export --dir client --crl-bundle bundle.pem
[ "$(grep -c 'BEGIN X509 CRL' bundle.pem)" = 2 ] || fail "the bundle does not hold two CRLs"
[ "$(stat -c %a bundle.pem)" = 644 ] || fail "bundle mode"
openssl verify -crl_check_all -CRLfile bundle.pem -CAfile root/ca.crt -untrusted client/ca.crt \
	-purpose sslclient client/issued/alice/cert.pem >v.out 2>&1 || { cat v.out; fail "alice refused with the bundle"; }
ok ica revoke --dir client eve --reason keyCompromise
ok ica export --dir client --crl-bundle bundle.pem
openssl verify -crl_check_all -CRLfile bundle.pem -CAfile root/ca.crt -untrusted client/ca.crt \
	-purpose sslclient client/issued/eve/cert.pem >v.out 2>&1 && { cat v.out; fail "revoked eve verified"; }
grep -q "certificate revoked" v.out || { cat v.out; fail "eve not refused as revoked"; }
# certtool reads the same bundle
certtool --verify --load-ca-certificate root/ca.crt --load-crl bundle.pem \
	--infile <(cat client/issued/alice/cert.pem client/ca.crt) >ct.out 2>&1 || { cat ct.out; fail "certtool refused alice"; }

step "no bundle with an expired CRL in it (servers would refuse every client)"
cp bundle.pem bundle.before
TIERCA_NOW=$(in_days 20) bad "intermediate CRL '.*crl.pem' expired on .*refuse every client" ica export --dir client --crl-bundle bundle.pem
cmp -s bundle.pem bundle.before || fail "a refused export changed the bundle"

step "trust anchors: PEM root, root + intermediate, DER"
ok ica export --dir server --trust t.pem
[ "$(grep -c 'BEGIN CERTIFICATE' t.pem)" = 1 ] || fail "--trust holds more than the root"
cmp -s <(openssl x509 -in t.pem -outform DER) <(openssl x509 -in root/ca.crt -outform DER) || fail "--trust is not the root"
ok ica export --dir server --trust t2.pem --with-intermediate
[ "$(grep -c 'BEGIN CERTIFICATE' t2.pem)" = 2 ] || fail "--with-intermediate does not hold two"
ok ica export --dir server --trust t.der --der
cmp -s t.der <(openssl x509 -in root/ca.crt -outform DER) || fail "--der is not the root in DER"
bad "DER file holds one certificate" ica export --dir server --trust t3.der --der --with-intermediate
[ ! -e t3.der ] || fail "refused DER export wrote a file"

step "update-ca-certificates layout"
mkdir cadir
ok ica export --dir server --ca-certificates cadir
f="cadir/Test_Root.crt"
[ -f "$f" ] || { ls cadir; fail "no $f"; }
grep -q "^wrote '$f': run update-ca-certificates" "$T/.out" || { cat "$T/.out"; fail "output"; }
cmp -s <(openssl x509 -in "$f" -outform DER) <(openssl x509 -in root/ca.crt -outform DER) || fail "$f is not the root"
bad "'nowhere' is not a directory" ica export --dir server --ca-certificates nowhere

step "usage: one kind of export at a time"
rc=0; ica export --dir client >/dev/null 2>&1 || rc=$?; [ $rc = 2 ] || fail "export with no kind: exit $rc"
rc=0; ica export --dir client --trust a.pem --crl-bundle b2.pem >/dev/null 2>&1 || rc=$?; [ $rc = 2 ] || fail "two kinds: exit $rc"
rc=0; ica export --dir client --der --crl-bundle b2.pem >/dev/null 2>&1 || rc=$?; [ $rc = 2 ] || fail "--der with a bundle: exit $rc"
[ ! -e a.pem ] && [ ! -e b2.pem ] || fail "a usage error wrote a file"

step "the monitor watches each intermediate's copy of the root CRL"
printf 'server: { dir = "server"; };\nclient: { dir = "client"; };\n' >online.cfg
ok ica crl --dir client
expect 0 mon -c online.cfg
grep -Eq "^OK +crl +root +root-crl-client " .out || { cat .out; fail "no root-crl-client row"; }
grep -Eq " root-crl-server " .out && fail "a root-crl row for an intermediate without one"
TIERCA_NOW=$(in_days 175) expect 2 mon -c online.cfg
grep -Eq "^WARNING +crl +root +root-crl-client .*tierca-ica root-crl --dir client" .out || { cat .out; fail "root CRL copy near its end not a WARNING"; }
echo "export ok"
