#!/bin/bash
# import.sh - tierca-ica import-easyrsa against PKIs made by Debian's real
# easy-rsa 3: every entry carried over (status, dates, reasons, names,
# keys), the imported CA's first CRL still lists every revoked serial with
# its reason (openssl crl, openssl verify -crl_check), issuance goes on
# without serial collisions, the source is never changed, and bad input
# gets one clear error with nothing created.
. "$(dirname "$0")/lib.sh"
unset TIERCA_CONFIG TIERCA_NOW
EASYRSA=${EASYRSA:-/usr/share/easy-rsa/easyrsa}
[ -x "$EASYRSA" ] || fail "easy-rsa is not installed ($EASYRSA): run tests/setup-deps.sh"

# Passphrases only ever from files: nothing on argv. OpenSSL reads one
# line per use from a file given to both -passin and -passout, so each
# direction has its own.
printf 'easy-rsa ca passphrase 42\n' >"$T/er.in"
cp "$T/er.in" "$T/er.out"
cp "$T/er.in" "$T/er.pass"
printf 'not the passphrase at all\n' >"$T/wrong.pass"
chmod 600 "$T/er.in" "$T/er.out" "$T/er.pass" "$T/wrong.pass"

# er PKI ARGS...: easy-rsa in batch mode on PKI.
er() {
	local pki=$1
	shift
	EASYRSA_BATCH=1 EASYRSA_PKI=$pki EASYRSA_PASSIN=file:$T/er.in \
	    EASYRSA_PASSOUT=file:$T/er.out "$EASYRSA" "$@" >"$T/.er" 2>&1 ||
		{ cat "$T/.er"; fail "easyrsa $*"; }
}
# serial_of CERT: the serial as OpenSSL prints it.
serial_of() { openssl x509 -in "$1" -noout -serial | sed 's/^serial=//'; }
# chk DIR: the source snapshot (names, modes, sizes, mtimes, contents).
nothing_made() {
	[ ! -e "$1" ] || fail "'$1' was created by a failed import"
	! ls -d "$1".tmp-* >/dev/null 2>&1 || fail "'$1.tmp-*' left behind"
}

step "a nopass easy-rsa PKI: servers, clients, an external request, two revocations"
PA=$T/pkiA
er "$PA" init-pki
er "$PA" build-ca nopass
er "$PA" build-server-full web nopass
er "$PA" build-server-full db nopass
er "$PA" build-client-full alice nopass
er "$PA" build-client-full bob nopass
# A certificate signed from a request made elsewhere: easy-rsa has no key.
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -keyout "$T/ext.key" -out "$T/ext.req" -subj "/CN=ext" >/dev/null 2>&1 ||
	fail "openssl req"
er "$PA" import-req "$T/ext.req" ext
er "$PA" sign-req client ext
er "$PA" revoke web keyCompromise
er "$PA" revoke db superseded
er "$PA" gen-crl
WEB=$(awk -F'\t' '$6=="/CN=web" {print $4}' "$PA/index.txt")
DB=$(awk -F'\t' '$6=="/CN=db" {print $4}' "$PA/index.txt")
ALICE=$(serial_of "$PA/issued/alice.crt")
[ -n "$WEB" ] && [ -n "$DB" ] && [ -n "$ALICE" ] || fail "easy-rsa index: $(cat "$PA/index.txt")"
grep -q "keyCompromise" "$PA/index.txt" && grep -q "superseded" "$PA/index.txt" ||
	fail "easy-rsa did not record the reasons: $(cat "$PA/index.txt")"
NSRC=$(grep -c . "$PA/index.txt")
snap "$PA" >"$T/pkiA.before"

step "import it"
ok ica import-easyrsa --dir "$T/A" --kind server "$PA"
grep -q "3 valid, 2 revoked" "$T/.out" || { cat "$T/.out"; fail "import summary"; }
grep -q "not encrypted" "$T/.out" || fail "no warning about the unencrypted CA key"
snap "$PA" >"$T/pkiA.after"
diff "$T/pkiA.before" "$T/pkiA.after" || fail "the import changed the easy-rsa PKI"
[ "$(stat -c %a "$T/A/private")" = 700 ] || fail "private/ not 0700"
[ "$(stat -c %a "$T/A/private/ca.key")" = 600 ] || fail "ca.key not 0600"
head -1 "$T/A/private/ca.key" | grep -q -- "-----BEGIN PRIVATE KEY-----" ||
	fail "the CA key is not PKCS#8"
cmp -s "$T/A/ca.crt" "$T/A/root.crt" || fail "root.crt is not the self-signed ca.crt"
openssl x509 -in "$PA/ca.crt" -outform DER | cmp -s - <(openssl x509 -in "$T/A/ca.crt" -outform DER) ||
	fail "ca.crt is not easy-rsa's"

step "every entry is listed, with its state and name"
ok ica list --dir "$T/A" --json
python3 - "$PA/index.txt" "$T/.out" <<'EOF' || fail "list does not match easy-rsa's index"
import json, sys
src = [l.rstrip('\n').split('\t') for l in open(sys.argv[1]) if l.strip()]
got = {c['serial']: c for c in json.load(open(sys.argv[2]))['certificates']}
assert len(got) == len(src), (len(got), len(src))
state = {'V': 'valid', 'R': 'revoked', 'E': 'expired'}
for f in src:
    c = got[f[3]]
    assert c['state'] == state[f[0]], (f, c)
    assert c['subject'] == f[5], (f, c)
    if f[0] == 'R':
        reason = f[2].split(',')[1] if ',' in f[2] else 'unspecified'
        assert c['reason'] == reason, (f, c)
names = {c['name'] for c in got.values()}
assert names == {'web', 'db', 'alice', 'bob', 'ext'}, names
EOF
for s in $(cut -f4 "$PA/index.txt"); do
	[ -f "$T/A/certs/$s.pem" ] || fail "no certs/$s.pem"
	[ "$(serial_of "$T/A/certs/$s.pem")" = "$s" ] || fail "certs/$s.pem has another serial"
done
# Keys: where easy-rsa had one, issued/NAME/ has it; ext has none.
for n in alice bob web db; do
	[ "$(stat -c %a "$T/A/issued/$n/key.pem")" = 600 ] || fail "issued/$n/key.pem not 0600"
	[ "$(openssl pkey -in "$T/A/issued/$n/key.pem" -pubout)" = \
	  "$(openssl x509 -in "$T/A/issued/$n/cert.pem" -noout -pubkey)" ] ||
		fail "issued/$n/key.pem does not match its certificate"
	openssl verify -CAfile "$T/A/ca.crt" "$T/A/issued/$n/fullchain.pem" >/dev/null ||
		fail "issued/$n/fullchain.pem does not verify"
done
[ ! -e "$T/A/issued/ext" ] || fail "issued/ext made without a key"
ok ica show --dir "$T/A" alice
grep -q "$ALICE" "$T/.out" || fail "show alice"

step "the first CRL lists every revoked serial with its reason"
ok ica crl --dir "$T/A"
openssl crl -in "$T/A/crl.pem" -noout -text >"$T/crl.txt"
grep -A4 "Serial Number: $WEB" "$T/crl.txt" | grep -q "Key Compromise" ||
	{ cat "$T/crl.txt"; fail "CRL lacks $WEB keyCompromise"; }
grep -A4 "Serial Number: $DB" "$T/crl.txt" | grep -q "Superseded" ||
	{ cat "$T/crl.txt"; fail "CRL lacks $DB superseded"; }
[ "$(grep -c "Serial Number:" "$T/crl.txt")" = 2 ] || fail "CRL entries"
openssl crl -in "$T/A/crl.pem" -noout -CAfile "$T/A/ca.crt" 2>&1 | grep -q "verify OK" ||
	fail "the CRL does not verify against ca.crt"
cat "$T/A/ca.crt" "$T/A/crl.pem" >"$T/A.bundle"
openssl verify -crl_check -CAfile "$T/A.bundle" "$PA/revoked/certs_by_serial/$WEB.crt" >"$T/.v" 2>&1 &&
	fail "openssl accepts the revoked certificate"
grep -q "certificate revoked" "$T/.v" || { cat "$T/.v"; fail "not refused as revoked"; }
openssl verify -crl_check -CAfile "$T/A.bundle" "$PA/issued/alice.crt" >/dev/null ||
	fail "openssl refuses a valid imported certificate"

step "issuance goes on: verifies, and no serial collides"
ok ica issue --dir "$T/A" newhost --dns newhost.example.internal
NEW=$(serial_of "$T/A/issued/newhost/cert.pem")
cut -f4 "$PA/index.txt" | grep -qx "$NEW" && fail "new serial $NEW collides"
openssl verify -CAfile "$T/A/ca.crt" "$T/A/issued/newhost/cert.pem" >/dev/null ||
	fail "the new certificate does not verify against the imported ca.crt"
openssl verify -crl_check -CAfile "$T/A.bundle" "$T/A/issued/newhost/cert.pem" >/dev/null ||
	fail "the new certificate with the CRL"
[ "$(grep -c . "$T/A/index.txt")" = $((NSRC + 1)) ] || fail "index.txt entries"
# A valid imported name stays taken, as any tierca name does.
bad "already has a valid certificate" ica issue --dir "$T/A" alice --dns alice.example.internal
# Revoking an imported certificate works; the next CRL has three.
ok ica revoke --dir "$T/A" bob --reason cessationOfOperation
openssl crl -in "$T/A/crl.pem" -noout -text | grep -c "Serial Number:" | grep -qx 3 ||
	fail "CRL after revoking bob"
# The trust anchors, the CRL bundle and PKCS#12 of a CA that is its own root.
ok ica export --dir "$T/A" --trust "$T/A.trust.pem"
cmp -s "$T/A.trust.pem" "$T/A/ca.crt" || fail "export --trust"
ok ica export --dir "$T/A" --crl-bundle "$T/A.crls.pem"
[ "$(grep -c "BEGIN X509 CRL" "$T/A.crls.pem")" = 1 ] || fail "export --crl-bundle"
ok ica export --dir "$T/A" alice --pkcs12 "$T/alice.p12" --passphrase-file "$PASSFILE"
[ "$(openssl pkcs12 -in "$T/alice.p12" -passin file:"$PASSFILE" -nokeys 2>/dev/null |
    grep -c "BEGIN CERTIFICATE")" = 2 ] || fail "PKCS#12: leaf and CA, once each"
printf 'server: { dir = "%s"; };\n' "$T/A" >"$T/mon.cfg"
expect 0 mon -c "$T/mon.cfg"

step "a passphrase-protected easy-rsa CA"
PB=$T/pkiB
er "$PB" init-pki
er "$PB" build-ca
er "$PB" build-client-full carol nopass
er "$PB" build-client-full dave nopass
er "$PB" revoke carol
er "$PB" gen-crl
head -1 "$PB/private/ca.key" | grep -q ENCRYPTED || fail "easy-rsa's CA key is not encrypted"
CAROL=$(cut -f4 "$PB/index.txt" | head -1)
snap "$PB" >"$T/pkiB.before"
bad "wrong passphrase" ica import-easyrsa --dir "$T/B" --kind client "$PB" --passphrase-file "$T/wrong.pass"
nothing_made "$T/B"
bad "passphrase|tty|terminal" ica import-easyrsa --dir "$T/B" --kind client "$PB" </dev/null
nothing_made "$T/B"
ok ica import-easyrsa --dir "$T/B" --kind client "$PB" --passphrase-file "$T/er.pass"
snap "$PB" >"$T/pkiB.after"
diff "$T/pkiB.before" "$T/pkiB.after" || fail "the import changed the encrypted PKI"
head -1 "$T/B/private/ca.key" | grep -q -- "-----BEGIN ENCRYPTED PRIVATE KEY-----" ||
	fail "the imported CA key is not encrypted"
openssl asn1parse -in "$T/B/private/ca.key" | grep -q "aes-256-cbc" ||
	fail "the imported CA key is not AES-256 (PBES2)"
bad "passphrase" ica crl --dir "$T/B" --passphrase-file "$T/wrong.pass"
ok ica crl --dir "$T/B" --passphrase-file "$T/er.pass"
openssl crl -in "$T/B/crl.pem" -noout -text | grep -q "Serial Number: $CAROL" ||
	fail "B's CRL lacks carol"
ok ica issue --dir "$T/B" erin --passphrase-file "$T/er.pass"
openssl verify -CAfile "$T/B/ca.crt" "$T/B/issued/erin/cert.pem" >/dev/null ||
	fail "B's new certificate"
# A nopass PKI imported with a passphrase: encrypted from now on.
ok ica import-easyrsa --dir "$T/A2" --kind server "$PA" --passphrase-file "$PASSFILE"
head -1 "$T/A2/private/ca.key" | grep -q ENCRYPTED || fail "A2's key not encrypted"
# Into an existing empty directory.
mkdir "$T/E"
ok ica import-easyrsa --dir "$T/E" --kind client "$PA"
[ -f "$T/E/ca.crt" ] || fail "import into an empty directory"

step "bad input: one clear error, nothing created"
bad "cannot open easy-rsa PKI '$T/nope'" ica import-easyrsa --dir "$T/X" --kind server "$T/nope"
nothing_made "$T/X"
bad "not an easy-rsa PKI" ica import-easyrsa --dir "$T/X" --kind server "$T"
nothing_made "$T/X"
cp -a "$PA" "$T/bad1"
awk -F'\t' -v OFS='\t' 'NR == 2 { $2 = "2702301200Z" } { print }' "$PA/index.txt" >"$T/bad1/index.txt"
bad "bad1/index.txt:2: corrupt entry: bad expiry date '2702301200Z'" ica import-easyrsa --dir "$T/X" --kind server "$T/bad1"
nothing_made "$T/X"
cp -a "$PA" "$T/bad2"
rm "$T/bad2/certs_by_serial/$ALICE.pem" "$T/bad2/issued/alice.crt"
bad "no certificate found for 1 entry \(serial $ALICE\)" ica import-easyrsa --dir "$T/X" --kind server "$T/bad2"
nothing_made "$T/X"
mkdir "$T/full"
echo keep >"$T/full/file"
snap "$T/full" >"$T/full.before"
bad "'$T/full' is not empty" ica import-easyrsa --dir "$T/full" --kind server "$PA"
snap "$T/full" >"$T/full.after"
diff "$T/full.before" "$T/full.after" || fail "a refused import changed '$T/full'"
! ls -d "$T"/full.tmp-* >/dev/null 2>&1 || fail "temp dir left behind"
bad "already|not empty" ica import-easyrsa --dir "$T/A" --kind server "$PA"
bad "invalid --kind" ica import-easyrsa --dir "$T/X" --kind root "$PA"
nothing_made "$T/X"
snap "$PA" >"$T/pkiA.end"
diff "$T/pkiA.before" "$T/pkiA.end" || fail "the easy-rsa PKI changed"
echo "import: all checks passed"
