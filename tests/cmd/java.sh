# java: what a Java service and a browser are handed. keytool reads the
# PKCS#12 export as a keystore (a PrivateKeyEntry, its friendly name as the
# alias, the chain leaf + client intermediate + root) and a truststore
# made by keytool -importcert from `export --trust --der` (one
# trustedCertEntry, the root); the browser-style PKCS#12 of the admin
# client certificate (seed 004, templates/admin.cfg) holds its chain and
# friendly name for openssl too.
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
command -v keytool >/dev/null || { echo "SKIP: no keytool (tests/setup-deps.sh installs default-jre-headless)"; exit 0; }
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2; }

step "hierarchy; the admin client certificate from the shipped template"
hierarchy
printf 'client: { dir = "client"; };\nserver: { dir = "server"; };\n' >tierca.cfg
ok ica -c tierca.cfg issue --template "$top/templates/admin.cfg"
ok ica issue --dir server app --dns app.internal

step "the PKCS#12 exports (passphrase from a file)"
printf 'a java keystore pass\n' >p12.pass; chmod 600 p12.pass
pass=$(head -n1 p12.pass)
ok ica export --dir client admin --pkcs12 admin.p12 --passphrase-file p12.pass
ok ica export --dir server app --pkcs12 app.p12 --passphrase-file p12.pass

step "openssl pkcs12 -info -nokeys: chain of three, friendly name, subjects"
openssl pkcs12 -in admin.p12 -passin file:p12.pass -info -nokeys -out admin-certs.pem 2>info.txt || { cat info.txt; fail "openssl cannot read admin.p12"; }
[ "$(grep -c 'BEGIN CERTIFICATE' admin-certs.pem)" = 3 ] || fail "admin.p12: want leaf, intermediate and root"
grep -q "friendlyName: admin" admin-certs.pem || fail "admin.p12: no friendly name"
grep -q "localKeyID:" admin-certs.pem || fail "admin.p12: the leaf is not tied to its key (localKeyID)"
grep -q "^subject=O = Example, CN = Admin$" admin-certs.pem || fail "admin.p12: not the template's subject"
grep -q "^subject=O = Tierca Test, CN = Test Client ICA$" admin-certs.pem || fail "admin.p12: no client intermediate"
grep -q "^subject=O = Tierca Test, CN = Test Root$" admin-certs.pem || fail "admin.p12: no root"
openssl x509 -in client/issued/admin/cert.pem -noout -ext subjectAltName | grep -q "email:admin@example.internal" || fail "admin: e-mail SAN of the template"

step "keytool: the PKCS#12 is a keystore"
for n in admin app; do
	keytool -list -v -storetype PKCS12 -keystore "$n.p12" -storepass "$pass" >"kt-$n.out" 2>&1 || { cat "kt-$n.out"; fail "keytool -list $n.p12"; }
	grep -q "Your keystore contains 1 entry" "kt-$n.out" || { cat "kt-$n.out"; fail "$n.p12: not one entry"; }
	grep -q "^Alias name: $n$" "kt-$n.out" || { cat "kt-$n.out"; fail "$n.p12: the alias is not the friendly name $n"; }
	grep -q "^Entry type: PrivateKeyEntry$" "kt-$n.out" || fail "$n.p12: no PrivateKeyEntry"
	grep -q "^Certificate chain length: 3$" "kt-$n.out" || fail "$n.p12: chain not 3 long"
done
kind() { [ "$1" = admin ] && echo client || echo server; }
for n in admin app; do
	# The chain in order: leaf, its intermediate, the root, by fingerprint.
	want=$(for f in "$(kind $n)/issued/$n/cert.pem" "$(kind $n)/ca.crt" root/ca.crt; do fp "$f"; done)
	got=$(sed -n 's/^[[:space:]]*SHA256: //p' "kt-$n.out")
	[ "$got" = "$want" ] || { echo "got: $got"; echo "want: $want"; fail "$n.p12: keytool's chain is not leaf, intermediate, root"; }
done
keytool -list -storetype PKCS12 -keystore admin.p12 -storepass "not the passphrase" >kt.bad 2>&1 && fail "keytool opened admin.p12 with a wrong passphrase"
# The whole entry moves into another keystore (as a Java service's setup does).
keytool -importkeystore -noprompt -srckeystore admin.p12 -srcstoretype PKCS12 -srcstorepass "$pass" \
	-destkeystore copy.p12 -deststoretype PKCS12 -deststorepass changeit >imp.out 2>&1 || { cat imp.out; fail "keytool -importkeystore"; }
keytool -list -v -keystore copy.p12 -storepass changeit 2>&1 | grep -q "^Certificate chain length: 3$" || fail "the imported entry lost its chain"

step "keytool: a truststore from export --trust --der"
ok ica export --dir client --trust root.der --der
keytool -importcert -noprompt -alias tierca-root -file root.der -storetype PKCS12 \
	-keystore trust.p12 -storepass changeit >ti.out 2>&1 || { cat ti.out; fail "keytool -importcert root.der"; }
keytool -list -v -storetype PKCS12 -keystore trust.p12 -storepass changeit >kt-trust.out 2>&1 || { cat kt-trust.out; fail "keytool -list trust.p12"; }
grep -q "Your keystore contains 1 entry" kt-trust.out || fail "truststore: not one entry"
grep -q "^Alias name: tierca-root$" kt-trust.out || fail "truststore: alias"
grep -q "^Entry type: trustedCertEntry$" kt-trust.out || fail "truststore: not a trustedCertEntry"
grep -q "^Owner: CN=Test Root, O=Tierca Test$" kt-trust.out || { cat kt-trust.out; fail "truststore: not the root"; }
[ "$(sed -n 's/^[[:space:]]*SHA256: //p' kt-trust.out)" = "$(fp root/ca.crt)" ] || fail "truststore: fingerprint is not the root's"
grep -q "BasicConstraints:\[" kt-trust.out && grep -A2 "BasicConstraints:\[" kt-trust.out | grep -q "CA:true" || fail "truststore: the root is not a CA for Java"
echo "java ok"
