# crosscheck: everything tierca issues is judged by independent verifiers
# (OpenSSL and GnuTLS's certtool), for every key algorithm.
. "$(dirname "$0")/lib.sh"

step "hierarchy"
hierarchy

step "profiles as OpenSSL reads them"
openssl x509 -in root/ca.crt -noout -text >root.txt
grep -q "CA:TRUE" root.txt || fail "root is not CA:TRUE"
grep -A1 "Basic Constraints: critical" root.txt | grep -q "CA:TRUE" || fail "root basicConstraints not critical"
grep -A1 "Key Usage: critical" root.txt | grep -q "Certificate Sign, CRL Sign" || fail "root keyUsage"
grep -q "Extended Key Usage" root.txt && fail "root must not limit EKU"
openssl x509 -in server/ca.crt -noout -text >sica.txt
grep -q "CA:TRUE, pathlen:0" sica.txt || fail "server ICA pathlen 0"
grep -A1 "Extended Key Usage" sica.txt | grep -q "TLS Web Server Authentication" || fail "server ICA EKU"
grep -A1 "Extended Key Usage" sica.txt | grep -q "Client" && fail "server ICA must not allow clientAuth"
grep -A2 "Name Constraints: critical" sica.txt | grep -q "DNS:internal$" || fail "nameConstraints not in RFC 5280 form"
openssl x509 -in client/ca.crt -noout -text | grep -A1 "Extended Key Usage" | grep -q "TLS Web Client Authentication" || fail "client ICA EKU"
# 10 years and 2 years.
r_days=$(( ( $(date -d "$(openssl x509 -in root/ca.crt -noout -enddate | cut -d= -f2)" +%s) - $(date +%s) ) / 86400 ))
[ "$r_days" -ge 3649 ] && [ "$r_days" -le 3651 ] || fail "root lives $r_days days, want 3650"
i_days=$(( ( $(date -d "$(openssl x509 -in server/ca.crt -noout -enddate | cut -d= -f2)" +%s) - $(date +%s) ) / 86400 ))
[ "$i_days" -ge 729 ] && [ "$i_days" -le 731 ] || fail "intermediate lives $i_days days, want 730"
# The root key is encrypted PKCS#8; key files 0600 in 0700 directories.
grep -q "BEGIN ENCRYPTED PRIVATE KEY" root/private/ca.key || fail "root key not encrypted"
openssl pkcs8 -in root/private/ca.key -passin file:"$PASSFILE" -topk8 -nocrypt -out /dev/null || fail "openssl cannot decrypt the root key"
openssl asn1parse -in root/private/ca.key | grep -q aes-256-cbc || fail "root key not AES-256"
for f in root/private/ca.key server/private/ca.key client/private/ca.key; do
	[ "$(stat -c %a "$f")" = 600 ] || fail "$f is not 0600"
	[ "$(stat -c %a "$(dirname "$f")")" = 700 ] || fail "$(dirname "$f") is not 0700"
done

step "leaves of every key algorithm, verified by openssl and certtool"
n=0
for alg in ecdsa-p256 ecdsa-p384 ecdsa-p521 ed25519 rsa-2048 rsa-3072; do
	n=$((n + 1))
	ok ica issue --dir server "web$n" --dns "web$n.internal" --dns "alt$n.internal" --ip 127.0.0.$n --key "$alg"
	ok ica issue --dir client "user$n" --cn "user $n" --email "user$n@example.internal" --key "$alg"
	s=server/issued/web$n; c=client/issued/user$n
	[ "$(stat -c %a "$s/key.pem")" = 600 ] || fail "$s/key.pem not 0600"
	openssl verify -x509_strict -CAfile root/ca.crt -untrusted server/ca.crt -purpose sslserver "$s/cert.pem" >/dev/null || fail "openssl: $alg server leaf"
	openssl verify -x509_strict -CAfile root/ca.crt -untrusted client/ca.crt -purpose sslclient "$c/cert.pem" >/dev/null || fail "openssl: $alg client leaf"
	# Crossed purposes are refused.
	openssl verify -CAfile root/ca.crt -untrusted server/ca.crt -purpose sslclient "$s/cert.pem" >/dev/null 2>&1 && fail "server leaf accepted as client"
	openssl verify -CAfile root/ca.crt -untrusted client/ca.crt -purpose sslserver "$c/cert.pem" >/dev/null 2>&1 && fail "client leaf accepted as server"
	certtool --verify --load-ca-certificate root/ca.crt --infile "$s/fullchain.pem" >ct.out 2>&1 || { cat ct.out; fail "certtool: $alg server chain"; }
	grep -q "Chain verification output: Verified" ct.out || fail "certtool did not verify $alg"
	certtool --verify --load-ca-certificate root/ca.crt --infile "$c/fullchain.pem" >/dev/null 2>&1 || fail "certtool: $alg client chain"
	# The key in key.pem is the certificate's.
	[ "$(openssl pkey -in "$s/key.pem" -pubout | sha256sum)" = "$(openssl x509 -in "$s/cert.pem" -noout -pubkey | sha256sum)" ] || fail "$alg key does not match"
	openssl x509 -in "$s/cert.pem" -noout -text >leaf.txt
	grep -q "CA:FALSE" leaf.txt || fail "leaf not CA:FALSE"
	grep -q "DNS:web$n.internal, DNS:alt$n.internal, IP Address:127.0.0.$n" leaf.txt || fail "SANs"
	case $alg in rsa-*) grep -q "Digital Signature, Key Encipherment" leaf.txt || fail "RSA server keyUsage" ;;
		*) grep -A1 "Key Usage" leaf.txt | grep -q "Key Encipherment" && fail "non-RSA with keyEncipherment" ;; esac
	days=$(( ( $(date -d "$(openssl x509 -in "$s/cert.pem" -noout -enddate | cut -d= -f2)" +%s) - $(date +%s) ) / 86400 ))
	[ "$days" -ge 89 ] && [ "$days" -le 90 ] || fail "leaf lives $days days, want 90"
	# Serial: 128 random bits, positive; the file is named after it.
	sn=$(openssl x509 -in "$s/cert.pem" -noout -serial | cut -d= -f2)
	[ -f "server/certs/$sn.pem" ] || fail "no certs/$sn.pem"
	[ ${#sn} -le 34 ] && [ ${#sn} -ge 30 ] || fail "serial $sn is not ~128 bits"
done
# One RSA-4096 root-to-leaf path too (slow keygen: once).
ok ica issue --dir server big --dns big.internal --key rsa-4096
openssl verify -CAfile root/ca.crt -untrusted server/ca.crt -purpose sslserver server/issued/big/cert.pem >/dev/null || fail "rsa-4096"

step "name constraints: SANs and a host-like CN are both checked"
bad "name 'evil.example.com' is outside" ica issue --dir server evil1 --dns evil.example.com
bad "CN 'evil.example.com' is outside" ica issue --dir server evil2 --dns ok.internal --cn evil.example.com
[ -e server/issued/evil1 ] || [ -e server/issued/evil2 ] && fail "a refused certificate was published"

step "no two serials alike, index.txt consistent with certs/"
cut -f4 server/index.txt | sort | uniq -d | grep -q . && fail "duplicate serial"
for sn in $(awk -F'\t' '{print $4}' server/index.txt); do
	[ -f "server/certs/$sn.pem" ] || fail "index serial $sn has no certificate"
	got=$(openssl x509 -in "server/certs/$sn.pem" -noout -serial | cut -d= -f2)
	[ "$got" = "$sn" ] || fail "certs/$sn.pem holds serial $got"
done
[ "$(wc -l <server/index.txt)" = 7 ] || fail "want 7 index lines"
awk -F'\t' 'NF != 6 { exit 1 }' server/index.txt || fail "index.txt line without 6 fields"

step "revocation and CRLs: openssl -crl_check_all and certtool --verify-crl"
ok ica revoke --dir client user2 --reason keyCompromise
ok ica revoke --dir client "$(openssl x509 -in client/issued/user3/cert.pem -noout -serial | cut -d= -f2)" --reason superseded
ok root crl --dir root --passphrase-file "$PASSFILE"
cat root/crl.pem client/crl.pem >crls.pem
openssl verify -crl_check_all -CRLfile crls.pem -CAfile root/ca.crt -untrusted client/ca.crt -purpose sslclient client/issued/user1/cert.pem >/dev/null || fail "valid client refused with CRLs"
openssl verify -crl_check_all -CRLfile crls.pem -CAfile root/ca.crt -untrusted client/ca.crt -purpose sslclient client/issued/user2/cert.pem >v.out 2>&1 && fail "revoked user2 accepted"
grep -q "certificate revoked" v.out || fail "user2: not refused as revoked"
openssl crl -in client/crl.pem -noout -text >crl.txt
grep -q "Key Compromise" crl.txt || fail "reason keyCompromise not in CRL"
grep -q "Superseded" crl.txt || fail "reason superseded not in CRL"
grep -q "X509v3 CRL Number" crl.txt || fail "no CRL number"
grep -q "X509v3 Authority Key Identifier" crl.txt || fail "no AKI"
[ "$(grep -c 'Serial Number' crl.txt)" = 2 ] || fail "CRL should list 2 entries"
openssl crl -in client/crl.der -inform DER -noout || fail "crl.der unreadable"
certtool --verify-crl --load-ca-certificate client/ca.crt --infile client/crl.pem >ct.out 2>&1 || { cat ct.out; fail "certtool --verify-crl"; }
grep -q "Verification output: Verified" ct.out || fail "certtool did not verify the CRL"
certtool --verify-crl --load-ca-certificate root/ca.crt --infile root/crl.pem >/dev/null 2>&1 || fail "certtool root CRL"
# CRL numbers increase; nextUpdate: 14 days (intermediate), 180 (root).
n1=$(openssl crl -in client/crl.pem -noout -crlnumber | cut -d= -f2)
ok ica crl --dir client
n2=$(openssl crl -in client/crl.pem -noout -crlnumber | cut -d= -f2)
[ $((16#$n2)) -gt $((16#$n1)) ] || fail "CRL number did not increase ($n1 -> $n2)"
nu=$(( ( $(date -d "$(openssl crl -in client/crl.pem -noout -nextupdate | cut -d= -f2)" +%s) - $(date +%s) ) / 86400 ))
[ "$nu" -ge 13 ] && [ "$nu" -le 14 ] || fail "intermediate CRL nextUpdate in $nu days, want 14"
nu=$(( ( $(date -d "$(openssl crl -in root/crl.pem -noout -nextupdate | cut -d= -f2)" +%s) - $(date +%s) ) / 86400 ))
[ "$nu" -ge 179 ] && [ "$nu" -le 180 ] || fail "root CRL nextUpdate in $nu days, want 180"
# --if-due leaves a fresh CRL alone, and makes one a week later.
before=$(sha256sum client/crl.pem)
ok ica crl --dir client --if-due
[ "$before" = "$(sha256sum client/crl.pem)" ] || fail "--if-due rewrote a fresh CRL"
TIERCA_NOW=$(date -u -d '+8 days' +%Y-%m-%dT%H:%M:%SZ) ok ica crl --dir client --if-due
[ "$before" != "$(sha256sum client/crl.pem)" ] || fail "--if-due did not renew a week-old CRL"

step "the root revokes an intermediate"
ok root revoke --dir root "$(openssl x509 -in server/ca.crt -noout -serial | cut -d= -f2)" --reason CACompromise --passphrase-file "$PASSFILE"
cat root/crl.pem server/crl.pem >crls.pem 2>/dev/null || { ok ica crl --dir server; cat root/crl.pem server/crl.pem >crls.pem; }
openssl verify -crl_check_all -CRLfile crls.pem -CAfile root/ca.crt -untrusted server/ca.crt server/issued/web1/cert.pem >v.out 2>&1 && fail "leaf of a revoked intermediate accepted"
grep -q "certificate revoked" v.out || fail "not refused as revoked"
ok root log --dir root --verify
grep -q "CA Compromise" <(openssl crl -in root/crl.pem -noout -text) || fail "root CRL lacks the reason"

step "openssl ca reads our database"
cat >ossl.cnf <<CNF
[ca]
default_ca = c
[c]
dir = $T/client
database = \$dir/index.txt
crlnumber = $T/crlnumber.ossl
certificate = \$dir/ca.crt
private_key = \$dir/private/ca.key
default_md = sha384
default_crl_days = 7
CNF
echo 01 >crlnumber.ossl
openssl ca -config ossl.cnf -gencrl -out ossl.crl >/dev/null 2>&1 || fail "openssl ca -gencrl cannot read index.txt"
[ "$(openssl crl -in ossl.crl -noout -text | grep -c 'Serial Number')" = 2 ] || fail "openssl ca sees a different revocation list"
echo "crosscheck ok"
