# pkcs12: the export for browsers and Java, read back by openssl and
# (when a JDK is installed) keytool; an encrypted intermediate key.
. "$(dirname "$0")/lib.sh"
hierarchy
ok ica issue --dir client admin --cn "Admin" --email admin@example.internal

step "export with a passphrase file"
printf 'export passphrase 1\n' >p12.pass; chmod 600 p12.pass
ok ica export --dir client admin --pkcs12 admin.p12 --passphrase-file p12.pass
[ "$(stat -c %a admin.p12)" = 600 ] || fail "PKCS#12 file is not 0600"
openssl pkcs12 -in admin.p12 -passin file:p12.pass -info -nokeys -out certs.pem 2>info.txt || { cat info.txt; fail "openssl cannot read the PKCS#12"; }
[ "$(grep -c 'BEGIN CERTIFICATE' certs.pem)" = 3 ] || fail "want leaf, intermediate and root in the PKCS#12"
grep -q "friendlyName: admin" certs.pem || fail "no friendly name"
grep -q "PBES2, PBKDF2, AES-256-CBC" info.txt || fail "not PBES2/AES-256"
grep -q "MAC: sha256" info.txt || fail "MAC is not SHA-256"
openssl pkcs12 -in admin.p12 -passin file:p12.pass -nocerts -nodes -out key.pem 2>/dev/null || fail "key not readable"
[ "$(openssl pkey -in key.pem -pubout | sha256sum)" = "$(openssl x509 -in client/issued/admin/cert.pem -noout -pubkey | sha256sum)" ] || fail "PKCS#12 key does not match"
openssl pkcs12 -in admin.p12 -passin pass:wrong -nokeys >/dev/null 2>&1 && fail "wrong passphrase opened the PKCS#12"
# Exporting a CSR-signed name has no key to export.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout dev.key -subj /CN=dev -out dev.csr 2>/dev/null
ok ica sign --dir client dev dev.csr
bad "key is not here" ica export --dir client dev --pkcs12 dev.p12 --passphrase-file p12.pass
[ -e dev.p12 ] && fail "a failed export left a file"
ok ica issue --dir client gone
ok ica revoke --dir client gone
bad "'gone' \\(serial [0-9A-F]+\\) is revoked" ica export --dir client gone --pkcs12 gone.p12 --passphrase-file p12.pass
[ -e gone.p12 ] && fail "a revoked certificate was exported"
bad "no issued certificate 'nobody'" ica export --dir client nobody --pkcs12 x.p12 --passphrase-file p12.pass

if command -v keytool >/dev/null; then
	step "keytool reads it as a keystore"
	keytool -list -v -storetype PKCS12 -keystore admin.p12 -storepass "$(cat p12.pass)" >kt.out 2>&1 || { cat kt.out; fail "keytool -list"; }
	grep -q "Alias name: admin" kt.out || fail "keytool: no alias admin"
	grep -q "Entry type: PrivateKeyEntry" kt.out || fail "keytool: no private key entry"
	grep -q "Certificate chain length: 3" kt.out || fail "keytool: chain not 3 long"
else
	echo "(no keytool here: Java check skipped)"
fi

step "an intermediate with an encrypted key"
printf 'intermediate passphrase\n' >ica.pass; chmod 600 ica.pass
ok ica init --dir enc --kind client --subject "CN=Encrypted ICA" --passphrase-file ica.pass
grep -q "BEGIN ENCRYPTED PRIVATE KEY" enc/private/ca.key || fail "key not encrypted"
ok root sign --dir root --passphrase-file "$PASSFILE" --kind client --yes enc/ca.csr --out enc.crt
ok ica install --dir enc enc.crt --root root/ca.crt
ok ica issue --dir enc carol --passphrase-file ica.pass
bad "no terminal" setsid "$B/tierca-ica" issue --dir enc dave </dev/null
printf 'wrong one entirely\n' >bad.pass; chmod 600 bad.pass
bad "wrong passphrase for key '.*enc/private/ca.key'" ica issue --dir enc dave --passphrase-file bad.pass
openssl verify -CAfile root/ca.crt -untrusted enc/ca.crt -purpose sslclient enc/issued/carol/cert.pem >/dev/null || fail "carol"
echo "pkcs12 ok"
