#!/bin/bash
# bad_input.sh - bad input of every kind (passphrases, key and passphrase
# file modes, CSRs, names, serials, certificates to install, index.txt,
# config, existing CAs, a full or read-only disk, usage) gets a non-zero
# exit, one line on stderr naming what and where, and changes nothing
# (DESIGN.md "Reliability rules"; STYLE.md 22-23).
#
# Each case runs in a subshell, so one failed assertion ends only its
# case; the failures are repeated at the end.
. "$(dirname "$0")/lib.sh"
unset TIERCA_CONFIG TIERCA_NOW

# re STRING: STRING as a literal inside a grep -E pattern.
re() { printf '%s' "$1" | sed 's/[][\.*^$(){}+?|]/\\&/g'; }

# age DIR: backdates every mtime under DIR, so that any write a failing
# command makes, even a temp file made and removed again, shows in a snap.
age() { find "$1" -exec touch -h -d @946684800 {} +; }

# refuse DIR PATTERN CMD...: as `bad`, but with exactly one line on
# stderr, and DIR (a CA directory) left as it was: same names, modes,
# sizes, mtimes and contents.
refuse() {
	local dir=$1 pat=$2
	shift 2
	age "$dir"
	snap "$dir" >"$T/.before"
	bad "$pat" "$@"
	[ "$(grep -c . "$T/.err")" -eq 1 ] ||
		{ cat "$T/.err"; fail "want one line on stderr: $*"; }
	snap "$dir" >"$T/.after"
	diff "$T/.before" "$T/.after" >"$T/.diff" ||
		{ cat "$T/.diff"; fail "failed, but changed '$dir': $*"; }
}

# usage2 DIR PATTERN CMD...: a usage error: exit 2, PATTERN on stderr,
# nothing on stdout, DIR unchanged.
usage2() {
	local dir=$1 pat=$2 rc=0
	shift 2
	age "$dir"
	snap "$dir" >"$T/.before"
	"$@" >"$T/.out" 2>"$T/.err" </dev/null || rc=$?
	[ $rc -eq 2 ] || { cat "$T/.err"; fail "want exit 2, got $rc: $*"; }
	grep -Eq -- "$pat" "$T/.err" ||
		{ cat "$T/.err"; fail "error does not match /$pat/: $*"; }
	[ ! -s "$T/.out" ] || { cat "$T/.out"; fail "usage error wrote to stdout: $*"; }
	snap "$dir" >"$T/.after"
	diff "$T/.before" "$T/.after" >"$T/.diff" ||
		{ cat "$T/.diff"; fail "usage error changed '$dir': $*"; }
}

# newcsr NAME OPENSSL-REQ-ARGS...: $T/NAME.csr (PEM) and $T/NAME.key,
# made by openssl, not by us.
newcsr() {
	local n=$1
	shift
	openssl req -new -nodes -keyout "$T/$n.key" -out "$T/$n.csr" "$@" \
	    >/dev/null 2>&1 || fail "openssl req for $n"
}
ec256() { newcsr "$@" -newkey ec -pkeyopt ec_paramgen_curve:P-256; }

# flip IN OUT TEXT: OUT is the DER of the PEM CSR IN with the first
# character of TEXT changed where TEXT first occurs (inside the signed
# part), so only the signature can tell.
flip() {
	openssl req -in "$1" -outform DER -out "$2.tmp" || fail "openssl req -outform DER"
	python3 - "$2.tmp" "$2" "$3" <<'EOF' || fail "cannot tamper with $1"
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
i = d.find(sys.argv[3].encode())
assert i > 0
d[i] ^= 0x01
open(sys.argv[2], 'wb').write(d)
EOF
	rm -f "$2.tmp"
	# (openssl 3.0 exits 0 either way; its words tell.)
	openssl req -in "$2" -inform DER -verify -noout 2>&1 | grep -q 'verify failure' ||
		fail "openssl does not see the tampering in $2"
}

# serial_of: the serial in the last `ok` output ("... serial HEX, ...").
serial_of() { sed -n 's/.* serial \([0-9A-Fa-f]*\),.*/\1/p' "$T/.out" | head -1; }
enddate() { openssl x509 -in "$1" -noout -enddate | cut -d= -f2; }

# lines FILE: number of lines.
lines() { wc -l <"$1"; }

step "setup: hierarchy, a wrong passphrase, CSRs made by openssl"
hierarchy
KEY=$T/root/private/ca.key
SKEY=$T/server/private/ca.key
WRONG=$T/wrong.pass
printf 'not the right passphrase\n' >"$WRONG"
chmod 600 "$WRONG"
ec256 dev -subj /CN=dev.internal -addext subjectAltName=DNS:dev.internal
ec256 ca -subj /CN=ca.internal -addext subjectAltName=DNS:ca.internal \
    -addext basicConstraints=critical,CA:TRUE
ec256 evil -subj /CN=evil.example.com -addext subjectAltName=DNS:evil.example.com
ec256 sha1 -sha1 -subj /CN=sha1.internal -addext subjectAltName=DNS:sha1.internal
newcsr rsa1024 -newkey rsa:1024 -subj /CN=rsa.internal \
    -addext subjectAltName=DNS:rsa.internal
grep -q 'Signature Algorithm: ecdsa-with-SHA1' <(openssl req -in "$T/sha1.csr" -noout -text) ||
	fail "openssl did not make a SHA-1 CSR"
# Two spare intermediates: one to sign and revoke at the root, one to
# install things into.
ok ica init --dir "$T/spare" --kind server --subject "CN=Spare ICA,O=Tierca Test"
ok ica init --dir "$T/fresh" --kind server --subject "CN=Fresh ICA,O=Tierca Test"
ok root init --dir "$T/root2" --subject "CN=Other Root,O=Tierca Test" --passphrase-file "$PASSFILE"
ok root sign --dir "$T/root2" --passphrase-file "$PASSFILE" --kind server --yes \
    "$T/fresh/ca.csr" --out "$T/fresh-root2.crt"
ok root sign --dir "$T/root" --passphrase-file "$PASSFILE" --kind client --yes \
    "$T/fresh/ca.csr" --out "$T/fresh-client.crt"

# 1. Wrong root passphrase: names the key file; the passphrase is never
# echoed; the right one works after it.
t_wrong_root_passphrase() {
	local k; k=$(re "$KEY")
	refuse "$T/root" "wrong passphrase.*'$k'" root sign --dir "$T/root" \
	    --passphrase-file "$WRONG" --kind server --yes "$T/spare/ca.csr" --out "$T/spare.crt"
	! grep -q 'not the right' "$T/.out" "$T/.err" || fail "passphrase printed"
	[ ! -e "$T/spare.crt" ] || fail "sign with a wrong passphrase wrote --out"
	ok root sign --dir "$T/root" --passphrase-file "$PASSFILE" --kind server --yes \
	    "$T/spare/ca.csr" --out "$T/spare.crt"
	SPARE=$(serial_of)
	[ -n "$SPARE" ] || fail "no serial in the sign output"
	echo "$SPARE" >"$T/spare.serial"
	refuse "$T/root" "wrong passphrase.*'$k'" root revoke --dir "$T/root" \
	    --passphrase-file "$WRONG" "$SPARE"
	refuse "$T/root" "wrong passphrase.*'$k'" root crl --dir "$T/root" \
	    --passphrase-file "$WRONG"
	refuse "$T/root" "wrong passphrase.*'$k'" root crl --dir "$T/root" \
	    --passphrase-fd 3 3<"$WRONG"
	ok root crl --dir "$T/root" --passphrase-file "$PASSFILE"
	ok root crl --dir "$T/root" --passphrase-fd 3 3<"$PASSFILE"
	ok root revoke --dir "$T/root" --passphrase-file "$PASSFILE" "$SPARE"
	ok root log --dir "$T/root" --verify
}

# 2. A passphrase file others (or the group) can read: refused, naming the
# file and the modes it wants, before anything is made.
t_passphrase_file_mode() {
	local pf=$T/open.pass m p
	cp "$PASSFILE" "$pf"
	for m in 644 640 604; do
		chmod "$m" "$pf"
		p="'$(re "$pf")'.*0600.*0400"
		refuse "$T/root" "$p" root sign --dir "$T/root" --passphrase-file "$pf" \
		    --kind server --yes "$T/fresh/ca.csr" --out "$T/x.crt"
		refuse "$T/root" "$p" root crl --dir "$T/root" --passphrase-file "$pf"
		refuse "$T/root" "$p" root revoke --dir "$T/root" --passphrase-file "$pf" \
		    7F000000000000000000000000000001
		refuse "$T/server" "$p" ica export --dir "$T/server" x --pkcs12 "$T/x.p12" \
		    --passphrase-file "$pf"
		bad "$p" root init --dir "$T/newroot" --subject CN=New --passphrase-file "$pf"
		bad "$p" ica init --dir "$T/newica" --kind server --subject CN=New \
		    --passphrase-file "$pf"
		[ ! -e "$T/newroot" ] && [ ! -e "$T/newica" ] && [ ! -e "$T/x.crt" ] &&
		    [ ! -e "$T/x.p12" ] || fail "refused passphrase file, but a file was made"
	done
	chmod 400 "$pf"
	ok root crl --dir "$T/root" --passphrase-file "$pf"
}

# 3. A CA key file with open permissions: refused, naming the key file.
t_key_file_mode() {
	local k m; k=$(re "$SKEY")
	for m in 644 640; do
		chmod "$m" "$SKEY"
		refuse "$T/server" "'$k'" ica issue --dir "$T/server" open1 --dns open1.internal
		refuse "$T/server" "'$k'" ica sign --dir "$T/server" open2 "$T/dev.csr"
		refuse "$T/server" "'$k'" ica crl --dir "$T/server"
		refuse "$T/server" "'$k'" ica revoke --dir "$T/server" nosuchname
	done
	chmod 600 "$SKEY"
	ok ica issue --dir "$T/server" open1 --dns open1.internal
	ok ica revoke --dir "$T/server" open1
	chmod 644 "$KEY"
	refuse "$T/root" "'$(re "$KEY")'" root crl --dir "$T/root" --passphrase-file "$PASSFILE"
	chmod 600 "$KEY"
}

# 4. A CSR whose signature does not match its content.
t_csr_bad_signature() {
	flip "$T/dev.csr" "$T/dev-bad.der" dev.internal
	refuse "$T/server" "'$(re "$T/dev-bad.der")'.*bad signature" \
	    ica sign --dir "$T/server" dev "$T/dev-bad.der"
	[ ! -e "$T/server/issued/dev" ] || fail "issued/dev made from a tampered CSR"
	# The intermediate's request, tampered on its way to the root.
	flip "$T/fresh/ca.csr" "$T/ica-bad.der" "Fresh ICA"
	refuse "$T/root" "'$(re "$T/ica-bad.der")'.*bad signature" root sign \
	    --dir "$T/root" --passphrase-file "$PASSFILE" --kind server --yes \
	    "$T/ica-bad.der" --out "$T/ica-bad.crt"
	[ ! -e "$T/ica-bad.crt" ] || fail "root sign wrote a cert for a tampered CSR"
	# The untampered twins, as DER too.
	openssl req -in "$T/dev.csr" -outform DER -out "$T/dev.der"
	ok ica sign --dir "$T/server" dev "$T/dev.der"
}

# 5. Weak CSRs: RSA-1024 and SHA-1, at both the intermediate and the root.
t_csr_weak() {
	local c
	for c in rsa1024 sha1; do
		refuse "$T/server" "'$(re "$T/$c.csr")'" ica sign --dir "$T/server" "$c" "$T/$c.csr"
		refuse "$T/root" "'$(re "$T/$c.csr")'" root sign --dir "$T/root" \
		    --passphrase-file "$PASSFILE" --kind server --yes "$T/$c.csr" --out "$T/$c.crt"
		[ ! -e "$T/$c.crt" ] || fail "root sign wrote a cert for $c.csr"
	done
	grep -Eq 'SHA-?1' "$T/.err" || fail "SHA-1 refusal does not say SHA-1"
}

# 6. A leaf CSR asking for CA:TRUE.
t_csr_ca_true() {
	refuse "$T/server" "CA:TRUE" ica sign --dir "$T/server" ca "$T/ca.csr"
}

# 7. Names outside the server intermediate's constraints (DNS "internal").
t_name_constraints() {
	refuse "$T/server" "evil\.example\.com" ica issue --dir "$T/server" x --dns evil.example.com
	refuse "$T/server" "evil\.example\.com" ica sign --dir "$T/server" x "$T/evil.csr"
	refuse "$T/server" "evil\.example\.com" ica sign --dir "$T/server" x "$T/dev.csr" \
	    --dns evil.example.com
	# A suffix is a whole label, and "internal" inside a name is not under it.
	refuse "$T/server" "'notinternal'" ica issue --dir "$T/server" x --dns notinternal
	refuse "$T/server" "x\.internal\.example\.com" ica issue --dir "$T/server" x \
	    --dns x.internal.example.com
	ok ica issue --dir "$T/server" x --dns x.internal --dns internal
}

# 8. A leaf that would outlive its issuer: capped, with a warning, never
# silently.
t_leaf_capped() {
	local end now
	end=$(enddate "$T/server/ca.crt")
	now=$(date -u -d "$end - 60 days" +%Y-%m-%dT%H:%M:%SZ)
	TIERCA_NOW=$now ica issue --dir "$T/server" late --dns late.internal --days 90 \
	    >"$T/.out" 2>"$T/.err" || { cat "$T/.err"; fail "capped issue failed"; }
	grep -q 'warning:.*cut' "$T/.err" || { cat "$T/.err"; fail "no warning about the cut"; }
	[ "$(enddate "$T/server/issued/late/cert.pem")" = "$end" ] ||
		fail "notAfter $(enddate "$T/server/issued/late/cert.pem") is not the issuer's $end"
	openssl verify -attime "$(date -d "$now" +%s)" -CAfile "$T/root/ca.crt" \
	    -untrusted "$T/server/ca.crt" "$T/server/issued/late/cert.pem" >/dev/null ||
		fail "openssl does not verify the capped leaf"
	# Within the issuer's life: no warning.
	ok ica issue --dir "$T/server" early --dns early.internal --days 90
	! grep -q warning "$T/.out" || fail "warning without a cut"
	# The root's signature on an intermediate is capped the same way (in
	# a copy: a future entry would date the ceremony log).
	cp -a "$T/root" "$T/rootcap"
	end=$(enddate "$T/rootcap/ca.crt")
	now=$(date -u -d "$end - 100 days" +%Y-%m-%dT%H:%M:%SZ)
	TIERCA_NOW=$now root sign --dir "$T/rootcap" --passphrase-file "$PASSFILE" --kind server \
	    --yes "$T/spare/ca.csr" --out "$T/spare-late.crt" >"$T/.out" 2>"$T/.err" ||
		{ cat "$T/.err"; fail "capped root sign failed"; }
	grep -q 'warning:.*cut' "$T/.err" || { cat "$T/.err"; fail "no warning about the root's cut"; }
	[ "$(enddate "$T/spare-late.crt")" = "$end" ] || fail "intermediate outlives the root"
	rm -rf "$T/rootcap"
}

# 9. Unknown serial or name on revoke; revoking twice.
t_revoke_unknown() {
	local s
	refuse "$T/server" "'00DEADBEEF'" ica revoke --dir "$T/server" 00DEADBEEF
	refuse "$T/server" "'nosuchname'" ica revoke --dir "$T/server" nosuchname
	refuse "$T/root" "'00DEADBEEF'" root revoke --dir "$T/root" --passphrase-file "$PASSFILE" 00DEADBEEF
	refuse "$T/root" "'nosuchname'" root revoke --dir "$T/root" --passphrase-file "$PASSFILE" nosuchname
	ok ica issue --dir "$T/server" twice --dns twice.internal
	s=$(serial_of)
	ok ica revoke --dir "$T/server" twice --reason superseded
	refuse "$T/server" "'twice'" ica revoke --dir "$T/server" twice
	refuse "$T/server" "$s.*already revoked" ica revoke --dir "$T/server" "$s"
	refuse "$T/server" "$s.*already revoked" ica revoke --dir "$T/server" --no-crl "$s"
	# The spare intermediate was revoked at the root in case 1.
	s=$(cat "$T/spare.serial" 2>/dev/null) || fail "no spare intermediate (case 1 failed)"
	refuse "$T/root" "$s.*already revoked" root revoke --dir "$T/root" \
	    --passphrase-file "$PASSFILE" "$s"
}

# 10. Installing a certificate that is not this intermediate's.
t_install_mismatch() {
	local f=$T/fresh r=$T/root/ca.crt
	# The client intermediate's: wrong kind and wrong key, into a fresh
	# intermediate and into an installed one.
	refuse "$f" "'$(re "$T/client.crt")'.*key" ica install --dir "$f" "$T/client.crt" --root "$r"
	refuse "$T/server" "'$(re "$T/client.crt")'.*key" ica install --dir "$T/server" \
	    "$T/client.crt" --root "$r"
	# Another server intermediate's: right kind, different key.
	refuse "$f" "'$(re "$T/server.crt")'.*key" ica install --dir "$f" "$T/server.crt" --root "$r"
	# Right key, signed as a client intermediate.
	refuse "$f" "'$(re "$T/fresh-client.crt")'.*(kind|client|server|clientAuth|serverAuth)" \
	    ica install --dir "$f" "$T/fresh-client.crt" --root "$r"
	# Right key and kind, but from another root.
	refuse "$f" "'$(re "$T/fresh-root2.crt")'.*(chain|root|issuer)" \
	    ica install --dir "$f" "$T/fresh-root2.crt" --root "$r"
	# ... and the right certificate with the wrong root given.
	refuse "$T/server" "'$(re "$T/server.crt")'.*(chain|root|issuer)" \
	    ica install --dir "$T/server" "$T/server.crt" --root "$T/root2/ca.crt"
	# Not a certificate at all.
	printf 'not a certificate\n' >"$T/junk.pem"
	refuse "$f" "'$(re "$T/junk.pem")'" ica install --dir "$f" "$T/junk.pem" --root "$r"
	refuse "$f" "'$(re "$T/junk.pem")'" ica install --dir "$f" "$T/fresh-root2.crt" --root "$T/junk.pem"
	refuse "$f" "'$(re "$T/none.pem")'" ica install --dir "$f" "$T/none.pem" --root "$r"
	# The right one, from the right root.
	ok root sign --dir "$T/root" --passphrase-file "$PASSFILE" --kind server --yes \
	    --permit-dns internal "$f/ca.csr" --out "$T/fresh.crt"
	ok ica install --dir "$f" "$T/fresh.crt" --root "$r"
	ok ica issue --dir "$f" ok --dns ok.internal
}

# 11. A corrupt index.txt line: every verb that reads it names file:line.
t_index_corrupt() {
	local d=$T/idx i p how
	for how in date fields; do
		rm -rf "$d"
		cp -a "$T/client" "$d"
		: >"$d/index.txt"
		for i in 1 2 3; do ok ica issue --dir "$d" "c$i" --cn "c$i.internal"; done
		[ "$(lines "$d/index.txt")" -eq 3 ] || fail "want 3 index lines"
		case $how in
		date) sed -i '2s/^V\t[0-9]*Z/V\t99garbageZ/' "$d/index.txt" ;;
		fields) sed -i '2s/.*/this is not an index line/' "$d/index.txt" ;;
		esac
		sed -n 2p "$d/index.txt" | grep -Eq 'garbage|not an index' || fail "line 2 not broken"
		p="$(re "$d/index.txt"):2"
		refuse "$d" "$p" ica list --dir "$d"
		refuse "$d" "$p" ica list --dir "$d" --json
		refuse "$d" "$p" ica show --dir "$d" c1
		refuse "$d" "$p" ica revoke --dir "$d" c1
		refuse "$d" "$p" ica revoke --dir "$d" c3 --no-crl
		refuse "$d" "$p" ica crl --dir "$d"
		refuse "$d" "$p" ica issue --dir "$d" c1 --cn c1.internal
		refuse "$d" "$p" ica issue --dir "$d" c1 --cn c1.internal --replace
		# A new name too: a database known to be corrupt is not added to.
		refuse "$d" "$p" ica issue --dir "$d" c4 --cn c4.internal
	done
	rm -rf "$d"
}

# 12. Config: a bad type, an unknown key, a syntax error, a missing key,
# a weak key algorithm; each with file:line, from -c or $TIERCA_CONFIG.
t_config() {
	local c f p
	cfg() { printf "$2" >"$T/$1.cfg"; }
	cfg type 'server: { dir = "server"; };\npolicy: { leaf_days = "ninety"; };\n'
	cfg unknown 'server: { dir = "server"; };\npolicy: { leaf_days = 90;\n    leaf_dayz = 30; };\n'
	cfg syntax 'server: { dir = "server"; };\npolicy: { leaf_days = 90; };\nmonitor = ;\n'
	cfg top '# comment\nroot: { dir = "root"; };\nroot_dir = "root";\n'
	cfg nodir '# comment\nserver: { };\n'
	cfg nofrom 'monitor: { warn_days = 30;\n  mail: { url = "smtp://127.0.0.1:25"; to = [ "ops@example.internal" ]; }; };\n'
	cfg weak 'policy: {\n  leaf_key = "rsa-1024"; };\n'
	cfg group 'server: { dir = "server"; };\n\npolicy = 5;\n'
	for c in type:2 unknown:3 syntax:3 top:3 nodir:2 nofrom:2 weak:2 group:3; do
		f=$T/${c%%:*}.cfg
		p="$(re "$f"):${c#*:}: "
		refuse "$T/server" "$p" ica issue -c "$f" --dir "$T/server" cfg --dns cfg.internal
		refuse "$T/root" "$p" root crl -c "$f" --dir "$T/root" --passphrase-file "$PASSFILE"
		TIERCA_CONFIG=$f refuse "$T/server" "$p" ica list --dir "$T/server"
	done
	refuse "$T/server" "'$(re "$T/none.cfg")'" ica list -c "$T/none.cfg" --dir "$T/server"
	# A config without the root's dir, and no --dir: a usage error.
	cfg noroot 'client: { dir = "client"; };\n'
	usage2 "$T/root" "--dir" root crl -c "$T/noroot.cfg" --passphrase-file "$PASSFILE"
	cfg good 'server: { dir = "server"; };\npolicy: { leaf_days = 45; renew_before_days = 10; };\n'
	ok ica issue -c "$T/good.cfg" --dir "$T/server" cfg --dns cfg.internal
	[ "$(enddate "$T/server/issued/cfg/cert.pem")" = "$(enddate "$T/server/certs/$(serial_of).pem")" ] ||
		fail "issued/cfg/cert.pem is not certs/SERIAL.pem"
	openssl x509 -in "$T/server/issued/cfg/cert.pem" -noout -checkend $((44 * 86400)) >/dev/null &&
		! openssl x509 -in "$T/server/issued/cfg/cert.pem" -noout -checkend $((46 * 86400)) \
		    >/dev/null || fail "policy.leaf_days = 45 not applied"
}

# 12b. Certificate templates: a missing key, an unknown key, a bad type,
# the wrong intermediate; file:line (a real line, not 0).
t_template() {
	local f p c
	tpl() { printf "$2" >"$T/$1.tpl"; }
	tpl noname '# deploy-target: /etc/tierca/templates/x.cfg\nca = "server";\ndns = [ "t.internal" ];\n'
	tpl unknown 'name = "t2";\nca = "server";\ndns = [ "t2.internal" ];\nfrob = 1;\n'
	tpl type 'name = "t3";\nca = "server";\ndns = [ "t3.internal" ];\ndays = "ninety";\n'
	tpl syntax 'name = "t4";\nca = "server";\ndns = = [ "t4.internal" ];\n'
	for c in unknown:4 type:4 syntax:3; do
		f=$T/${c%%:*}.tpl
		refuse "$T/server" "$(re "$f"):${c#*:}: " ica issue --dir "$T/server" --template "$f"
	done
	f=$T/noname.tpl
	refuse "$T/server" "$(re "$f")(:[0-9]+)?: missing key .name." ica issue --dir "$T/server" --template "$f"
	grep -q ":0: " "$T/.err" && fail "line 0 is no line: $(cat "$T/.err")"
	tpl client 'name = "t5";\nca = "client";\nsubject = "CN=t5";\n'
	refuse "$T/server" "'$(re "$T/client.tpl")'.*client" ica issue --dir "$T/server" \
	    --template "$T/client.tpl"
	ok ica issue --dir "$T/client" --template "$T/client.tpl"
}

# 13. init over an existing CA: refused, the CA byte-for-byte unchanged.
t_init_existing() {
	refuse "$T/root" "'$(re "$T/root")'.*(exists|already)" root init --dir "$T/root" \
	    --subject "CN=Evil Root" --passphrase-file "$PASSFILE"
	refuse "$T/root" "'$(re "$T/root")'.*(exists|already)" root init --dir "$T/root" \
	    --subject "CN=Evil Root" --passphrase-file "$PASSFILE" --key rsa-2048 --days 30
	refuse "$T/server" "'$(re "$T/server")'.*(exists|already)" ica init --dir "$T/server" \
	    --kind server --subject "CN=Evil ICA"
	refuse "$T/client" "'$(re "$T/client")'.*(exists|already)" ica init --dir "$T/client" \
	    --kind server --subject "CN=Evil ICA"
	refuse "$T/root" "'$(re "$T/root")'" ica init --dir "$T/root" --kind server \
	    --subject "CN=Evil ICA"
}

# 14. Disk faults during issue: one line naming a path; afterwards no new
# index line, certificate or issued/NAME, no temp files; and the same
# issue succeeds once the fault is gone.
# after_fault DIR NAME LINES CERTS: the checks after a failed issue.
after_fault() {
	local d=$1 n=$2 e=0
	no() { echo "FAILED: $*"; e=1; }
	[ "$(grep -c . "$T/.err")" -eq 1 ] || { cat "$T/.err"; no "want one line on stderr"; }
	grep -Eq "'$(re "$d")/[^']*'" "$T/.err" || { cat "$T/.err"; no "error names no path in $d"; }
	[ "$(lines "$d/index.txt")" -eq "$3" ] || { tail -1 "$d/index.txt"; no "index.txt has a new line"; }
	[ "$(ls "$d/certs" | wc -l)" -eq "$4" ] || no "certs/ has a new file"
	[ ! -e "$d/issued/$n" ] || no "issued/$n exists"
	[ -z "$(find "$d/certs" "$d/issued" "$d" -maxdepth 1 -name '.*' ! -name . ! -name .lock ! -name .index.txt.ok)" ] ||
		{ find "$d" -name '.*' ! -name .lock ! -name .index.txt.ok; no "temp files left"; }
	if ica issue --dir "$d" "$n" --dns "$n.internal" >"$T/.out" 2>&1; then
		ica show --dir "$d" "$n" >/dev/null || no "show after the fault failed"
	else
		cat "$T/.out"; no "the same issue fails after the fault is gone"
	fi
	return $e
}
# certs/ or issued/ a regular file (needs no privileges).
t_fault_not_a_dir() {
	local d=$T/fd w nl nc rc n=0
	for w in certs issued; do
		rm -rf "$d"
		cp -a "$T/server" "$d"
		nl=$(lines "$d/index.txt"); nc=$(ls "$d/certs" | wc -l)
		mv "$d/$w" "$d/$w.away"
		: >"$d/$w"
		rc=0
		ica issue --dir "$d" "nd$w" --dns "nd$w.internal" >"$T/.out" 2>"$T/.err" || rc=$?
		rm "$d/$w"
		mv "$d/$w.away" "$d/$w"
		[ $rc -ne 0 ] && [ $rc -lt 128 ] || { cat "$T/.err"; fail "$w as a file: rc $rc"; }
		echo "- $w a file: $(cat "$T/.err")"
		after_fault "$d" "nd$w" "$nl" "$nc" || n=$((n + 1))
	done
	[ $n -eq 0 ] || fail "$n of 2 faults left a trace or a block"
}
# In a private mount namespace, so nothing is left mounted even if this
# script dies; the namespace ends with its last process.
can_mount() { unshare -m --propagation private sh -c \
	'mount -t tmpfs -o size=64k tmpfs "$1"' sh "$T" 2>/dev/null; }
t_fault_read_only() {
	local d=$T/ro w nl nc rc n=0
	can_mount || { echo "SKIP read-only bind mounts: cannot mount here"; return 0; }
	for w in certs issued index.txt; do
		rm -rf "$d"
		cp -a "$T/server" "$d"
		nl=$(lines "$d/index.txt"); nc=$(ls "$d/certs" | wc -l)
		rc=0
		unshare -m --propagation private sh -c '
			mount --bind -o ro "$1/$2" "$1/$2" || exit 99
			trap "umount \"$1/$2\"" EXIT
			"$B/tierca-ica" issue --dir "$1" "$3" --dns "$3.internal"
		' sh "$d" "$w" "ro-${w%.txt}" >"$T/.out" 2>"$T/.err" || rc=$?
		[ $rc -ne 99 ] || fail "bind mount failed"
		[ $rc -ne 0 ] && [ $rc -lt 128 ] || { cat "$T/.err"; fail "read-only $w: rc $rc"; }
		echo "- read-only $w: $(cat "$T/.err")"
		after_fault "$d" "ro-${w%.txt}" "$nl" "$nc" || n=$((n + 1))
	done
	[ $n -eq 0 ] || fail "$n of 3 faults left a trace or a block"
}
t_fault_disk_full() {
	local d m=$T/mnt free nl nc rc n=0
	can_mount || { echo "SKIP full disk: cannot mount a tmpfs here"; return 0; }
	# Free pages left on a full tmpfs: 0 fails the first write; more
	# let the failure come later, after some files are written.
	for free in 0 1 2 3 4; do
		d=$T/full$free
		rm -rf "$d"
		nl=$(lines "$T/server/index.txt"); nc=$(ls "$T/server/certs" | wc -l)
		mkdir -p "$m"
		rc=0
		unshare -m --propagation private sh -c '
			m=$1 free=$2 d=$3
			mount -t tmpfs -o size=4m tmpfs "$m" || exit 99
			trap "umount \"$m\"" EXIT
			cp -a "$4" "$m/ca" || exit 99
			dd if=/dev/zero of="$m/fill" bs=4k 2>/dev/null
			[ "$free" -eq 0 ] || truncate -s -$((free * 4))k "$m/fill"
			rc=0
			"$B/tierca-ica" issue --dir "$m/ca" "full$free" --dns "full$free.internal" || rc=$?
			# What the fault left, taken out of the namespace, with
			# the paths as they were.
			rm -f "$m/fill"
			cp -a "$m/ca" "$d" || exit 99
			exit $rc
		' sh "$m" "$free" "$d" "$T/server" >"$T/.out" 2>"$T/.err" || rc=$?
		rmdir "$m"
		[ $rc -ne 99 ] || fail "tmpfs setup failed"
		if [ $rc -eq 0 ]; then
			# Enough space after all: a whole issue, then fine.
			ok ica show --dir "$d" "full$free"
			continue
		fi
		[ $rc -lt 128 ] || { cat "$T/.err"; fail "disk full: crash (rc $rc)"; }
		sed -i "s|'$(re "$m")/ca|'$d|g" "$T/.err"
		echo "- $free pages free: $(cat "$T/.err")"
		after_fault "$d" "full$free" "$nl" "$nc" || n=$((n + 1))
		rm -rf "$d"
	done
	[ $n -eq 0 ] || fail "$n of 5 full-disk faults left a trace or a block"
}

# 15. Usage errors: exit 2, and nothing touched.
t_usage() {
	local s=$T/server
	usage2 "$s" "missing --dir" ica issue x --dns x.internal
	usage2 "$s" "missing --dir" ica list
	usage2 "$T/root" "missing --dir" root crl --passphrase-file "$PASSFILE"
	usage2 "$T/root" "missing --dir" root sign --kind server "$T/spare/ca.csr" --out "$T/x.crt" --yes
	usage2 "$s" "unknown verb 'frob'" ica frob --dir "$s"
	usage2 "$T/root" "unknown verb 'frob'" root frob --dir "$T/root"
	usage2 "$s" "frobnicate" ica issue --dir "$s" x --dns x.internal --frobnicate
	usage2 "$T/root" "frobnicate" root crl --dir "$T/root" --frobnicate
	usage2 "$s" "usage" ica issue --dir "$s"
	usage2 "$s" "usage" ica revoke --dir "$s"
	usage2 "$s" "usage" ica sign --dir "$s" x
	usage2 "$T/root" "usage" root sign --dir "$T/root" --passphrase-file "$PASSFILE" \
	    "$T/spare/ca.csr" --out "$T/x.crt" --yes
	usage2 "$T/root" "kind" root sign --dir "$T/root" --passphrase-file "$PASSFILE" \
	    --kind root "$T/spare/ca.csr" --out "$T/x.crt" --yes
	usage2 "$s" "'ninety'" ica issue --dir "$s" x --dns x.internal --days ninety
	usage2 "$s" "'0'" ica issue --dir "$s" x --dns x.internal --days 0
	usage2 "$s" "rsa-1024" ica issue --dir "$s" x --dns x.internal --key rsa-1024
	usage2 "$s" "reason" ica revoke --dir "$s" x --reason because
	usage2 "$T/root" "not both" root crl --dir "$T/root" --passphrase-file "$PASSFILE" \
	    --passphrase-fd 0
	usage2 "$T/root" "passphrase-fd" root crl --dir "$T/root" --passphrase-fd -1
	[ ! -e "$T/x.crt" ] || fail "a usage error wrote --out"
}

# 16. The passphrase is never taken from argv or the environment.
t_passphrase_not_argv_env() {
	local v pass
	pass=$(cat "$PASSFILE")
	usage2 "$T/root" "passphrase" root crl --dir "$T/root" --passphrase "$pass"
	usage2 "$T/root" "passphrase" root crl --dir "$T/root" "--passphrase=$pass"
	usage2 "$T/root" "pass" root crl --dir "$T/root" --pass "$pass"
	usage2 "$T/server" "passphrase" ica export --dir "$T/server" x --pkcs12 "$T/x.p12" \
	    --passphrase "$pass"
	# With every plausible variable set to the right passphrase and no
	# terminal (setsid: no controlling tty), there is nothing to read it
	# from.
	for v in TIERCA_PASSPHRASE TIERCA_ROOT_PASSPHRASE TIERCA_PASS TIERCA_ROOT_PASS \
	    TIERCA_KEY_PASSPHRASE TIERCA_PASSWORD; do
		export "$v=$pass"
	done
	refuse "$T/root" "passphrase" setsid -w "$B/tierca-root" crl --dir "$T/root"
	! grep -q "$pass" "$T/.err" || fail "passphrase printed"
	refuse "$T/root" "passphrase" setsid -w "$B/tierca-root" revoke --dir "$T/root" 00DEADBEEF
	refuse "$T/server" "passphrase" setsid -w "$B/tierca-ica" export --dir "$T/server" x \
	    --pkcs12 "$T/x.p12"
	[ ! -e "$T/x.p12" ] || fail "export without a passphrase wrote a file"
	# No such variable in the binaries at all.
	for v in tierca-root tierca-ica; do
		! strings "$B/$v" | grep -Ei '^TIERCA_[A-Z_]*PASS' ||
			fail "$v names a passphrase variable"
	done
}

failed=()
: >"$T/failures"
for c in t_wrong_root_passphrase t_passphrase_file_mode t_key_file_mode \
    t_csr_bad_signature t_csr_weak t_csr_ca_true t_name_constraints t_leaf_capped \
    t_revoke_unknown t_install_mismatch t_index_corrupt t_config t_template t_init_existing \
    t_fault_not_a_dir t_fault_read_only t_fault_disk_full t_usage \
    t_passphrase_not_argv_env; do
	start=$(date +%s)
	if ("$c") >"$T/case.log" 2>&1; then
		echo "ok   $c ($(( $(date +%s) - start ))s)"; grep SKIP "$T/case.log" || true
	else
		echo "FAIL $c"
		# The tool's words and ours, briefly: the runner shows 40 lines.
		{ echo "== $c"; grep -E '^(FAILED|tierca-|- )' "$T/case.log" | tail -12; } \
		    >>"$T/failures"
		failed+=("$c")
	fi
done
[ ${#failed[@]} -eq 0 ] || { cat "$T/failures"; fail "${#failed[@]} case(s): ${failed[*]}"; }
