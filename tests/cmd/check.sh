# check: `tierca-ica check` (ca_check) proves that every certificate a
# CA directory records is one this CA signed. Planted faults, each in a
# copy of a clean intermediate: a certificate of another CA under a
# recorded serial (name, serial, notAfter and subject all as the index
# line says), one made under this CA's name by another key, one whose
# signature was altered, one whose serial is not its index line's. Each
# is found, the report names the file, the exit is 1. (crash.sh covers
# the database, key, CRL and leftover faults.)
. "$(dirname "$0")/lib.sh"
unset TIERCA_CONFIG TIERCA_NOW
S=$T/server
chk() { "$B/tierca-ica" check --dir "$1"; }
# planted NAME PATTERN: the copy $T/p holds one fault; the checker finds it.
planted() {
	expect 1 chk "$T/p"
	grep -Eq -- "$2" "$T/.out" || { cat "$T/.out"; fail "checker missed: $1"; }
	grep -q "problem" "$T/.err" || { cat "$T/.err"; fail "no summary on stderr: $1"; }
	echo "- $1: $(head -1 "$T/.out")"
	rm -rf "$T/p"
}

step "a clean hierarchy passes"
hierarchy
ok ica issue --dir "$S" a1 --dns a1.internal
ok ica issue --dir "$S" a2 --dns a2.internal
ok ica revoke --dir "$S" a2
ok chk "$S"
ok chk "$T/client"
ok chk "$T/root"

# The fixtures: another CA, and a CA under the server ICA's own name
# with another key; a1's serial, notAfter and subject, to be signed by
# either.
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout other.key -subj "/CN=Other CA" -days 30 -out other.crt 2>/dev/null || fail "openssl req"
dn=$(openssl x509 -in "$S/ca.crt" -noout -subject -nameopt compat | sed 's/^subject=//')
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout twin.key -subj "$dn" -days 30 -out twin.crt 2>/dev/null || fail "openssl req twin"
line=$(grep -P '\ta1\t' "$S/index.txt")
s1=$(cut -f4 <<<"$line"); e1=$(cut -f2 <<<"$line")
s2=$(grep -P '\ta2\t' "$S/index.txt" | cut -f4)
cat >a1.tpl <<TPL
cn = "a1.internal"
serial = 0x00$s1
expiration_date = "20${e1:0:2}-${e1:2:2}-${e1:4:2} ${e1:6:2}:${e1:8:2}:${e1:10:2}"
dns_name = "a1.internal"
tls_www_server
TPL
# resign CA KEY OUT: a1's certificate made again by another signer.
resign() {
	certtool --generate-certificate --load-privkey "$S/issued/a1/key.pem" \
	    --load-ca-certificate "$1" --load-ca-privkey "$2" --template a1.tpl \
	    --outfile "$3" >/dev/null 2>&1 || fail "certtool: resign by $1"
	openssl x509 -in "$3" -noout -serial | grep -Eq "=(00)?$s1$" || fail "resigned serial: $(openssl x509 -in "$3" -noout -serial)"
}

step "planted: what the index records, signed by someone else"
cp -a "$S" p; resign other.crt other.key "p/certs/$s1.pem"
planted "a certificate of another CA under a recorded serial" \
    "certs/$s1\.pem: issued by 'CN=Other CA', not by this CA"
cp -a "$S" p; resign twin.crt twin.key "p/certs/$s1.pem"
planted "this CA's name, another key" "certs/$s1\.pem: issued under this CA's name by another key"
# The issued pair too: its cert.pem is the same forged certificate, and
# it matches its key, so only the signature gives it away.
cp -a "$S" p; resign other.crt other.key "p/certs/$s1.pem"; cp "p/certs/$s1.pem" p/issued/a1/cert.pem
planted "a forged issued pair" "certs/$s1\.pem: issued by 'CN=Other CA'"
# Only the installed pair forged: certs/ holds the genuine one.
cp -a "$S" p; resign other.crt other.key p/issued/a1/cert.pem
planted "a forged issued/NAME/cert.pem" "issued/a1/cert\.pem: is not .*certs/$s1\.pem, the certificate recorded"
cp -a "$S" p
openssl x509 -in "$S/certs/$s2.pem" -outform DER |
    python3 -c 'import sys; d=bytearray(sys.stdin.buffer.read()); d[-1]^=1; sys.stdout.buffer.write(d)' |
    openssl x509 -inform DER -out "p/certs/$s2.pem" || fail "tamper"
planted "an altered signature (revoked entry)" "certs/$s2\.pem: signature does not verify with the CA's certificate"

step "planted: a certificate under another serial's name"
cp -a "$S" p; cp "p/certs/$s1.pem" "p/certs/$s2.pem"
planted "a certificate whose serial is not its index line's" "certs/$s2\.pem: holds serial $s1, not $s2"

step "a root's certificates: the intermediates it signed"
cp -a "$T/root" p
rs=$(sed -n 1p p/index.txt | cut -f4)
rs2=$(sed -n 2p p/index.txt | cut -f4)
cp "p/certs/$rs2.pem" "p/certs/$rs.pem"
planted "the root: an intermediate's certificate under the other's serial" "holds serial $rs2, not $rs"

step "independent judge: the clean CA's certificates verify with openssl"
for f in "$S"/certs/*.pem; do
	openssl verify -partial_chain -CAfile "$S/ca.crt" "$f" >/dev/null || fail "openssl rejects $f"
done
echo "check ok"
