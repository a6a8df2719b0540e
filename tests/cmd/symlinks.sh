# symlinks: a symlink planted where a CA keeps its key, database, CRL
# state, certificates or issued pairs (and where a leftover staging
# directory of a crashed run would lie) is refused with one clear line
# naming it, and the file or directory it points to, outside the CA, is
# left exactly as it was: not read as a key, not written, not emptied.
# (bad_input.sh covers modes, corrupt files and faults; the unit tests
# cover the O_NOFOLLOW reads and the lock file.)
. "$(dirname "$0")/lib.sh"
unset TIERCA_CONFIG TIERCA_NOW

step "a hierarchy, a pair issued, a CRL"
hierarchy
ok ica issue --dir server web --dns web.internal
ok ica crl --dir server
ok root crl --dir root --passphrase-file "$PASSFILE"

# plant CA REL: a copy of CA with REL replaced by a symlink to
# $T/outside/REL's stand-in (a directory for private, certs, issued and
# issued/NAME, a file otherwise), filled with precious content. The copy
# is in $C.
plant() {
	local ca=$1 rel=$2
	rm -rf "$T/c" "$T/outside"
	cp -a "$T/$ca" "$T/c"
	mkdir "$T/outside"
	C=$T/c
	case $rel in
	private|certs|issued|issued/*)
		mkdir -p "$T/outside/d"
		for f in key.pem cert.pem chain.pem fullchain.pem ca.key; do
			echo "precious $f" >"$T/outside/d/$f"
		done
		rm -rf "${C:?}/$rel"
		ln -s "$T/outside/d" "$C/$rel" ;;
	*)
		echo "precious" >"$T/outside/f"
		chmod 600 "$T/outside/f"
		rm -f "$C/$rel"
		ln -s "$T/outside/f" "$C/$rel" ;;
	esac
	(cd "$T/outside" && find . -print0 | sort -z | xargs -0 stat -c '%n %a %s %Y' &&
	    find . -type f -print0 | sort -z | xargs -0 sha256sum) >"$T/outside.before"
}
# untouched: the target outside is as it was.
untouched() {
	(cd "$T/outside" && find . -print0 | sort -z | xargs -0 stat -c '%n %a %s %Y' &&
	    find . -type f -print0 | sort -z | xargs -0 sha256sum) >"$T/outside.after"
	diff "$T/outside.before" "$T/outside.after" || fail "written through the symlink at $1"
}
# refused CA REL CMD...: CMD (on $C) fails naming the symlink at REL.
refused() {
	local ca=$1 rel=$2; shift 2
	plant "$ca" "$rel"
	bad "refusing symlink '$C/$rel'" "$@"
	untouched "$rel"
	echo "- $ca/$rel: $(cat "$T/.err")"
}

step "the intermediate: every name issue, revoke and crl use"
for rel in private private/ca.key certs issued index.txt index.txt.attr \
    crlnumber crl.pem crl.der ca.crt root.crt chain.pem kind .lock; do
	refused server $rel ica issue --dir "$T/c" n1 --dns n1.internal
done
for rel in crlnumber crl.pem crl.der index.txt; do
	refused server $rel ica crl --dir "$T/c"
	refused server $rel ica revoke --dir "$T/c" web
done
refused server root-crl.pem ica export --dir "$T/c" --crl-bundle "$T/bundle.pem"
[ ! -e "$T/bundle.pem" ] || fail "export wrote through a planted root-crl.pem"
refused server private/ca.key ica crl --dir "$T/c"

step "issued/NAME a symlink: not swapped out and emptied"
# The pair of an earlier generation is replaced on --replace: a symlink
# there used to be exchanged and its target's files unlinked.
refused server issued/web ica issue --dir "$T/c" web --dns web.internal --replace
plant server issued/fresh
bad "refusing symlink '$C/issued/fresh'" ica issue --dir "$T/c" fresh --dns fresh.internal
untouched issued/fresh
! grep -q fresh "$C/index.txt" || fail "a refused issue was recorded"

step "a planted leftover staging directory (its name has our pid in it)"
plant server issued/web
rm "$C/issued/web"
cp -a "$T/server/issued/web" "$C/issued/web"
# exec keeps the pid: the tool finds the link where its staging goes.
rc=0
bash -c 'ln -s "$1" "$2/issued/.web.new.$$" && exec "$3/tierca-ica" issue --dir "$2" web --dns web.internal --replace' \
    sh "$T/outside/d" "$C" "$B" >"$T/.out" 2>&1 || rc=$?
[ $rc = 0 ] || { cat "$T/.out"; fail "issue with a planted staging link: rc $rc"; }
untouched "issued/.web.new.PID"
[ -z "$(find "$C/issued" -maxdepth 1 -name '.*' -print)" ] || { ls -la "$C/issued"; fail "staging leftovers"; }
[ -f "$C/issued/web/key.pem" ] && [ ! -L "$C/issued/web" ] || fail "issued/web not a fresh pair"

step "issued/, issued/NAME and certs/ a symlink: revoke, crl and check refuse"
# ca_open refuses a link at issued/ and certs/; below them every path is
# walked from the CA directory's fd (openat2 RESOLVE_BENEATH |
# RESOLVE_NO_SYMLINKS), so a link at issued/NAME is never followed
# either, whoever planted it and whenever.
for rel in issued certs; do
	refused server $rel ica revoke --dir "$T/c" web
	refused server $rel ica crl --dir "$T/c"
	refused server $rel ica check --dir "$T/c"
done
# revoke and crl never go into issued/NAME (the index names the serial):
# they do their work and the link's target is neither read nor written.
plant server issued/web
ok ica revoke --dir "$T/c" web
ok ica crl --dir "$T/c"
untouched issued/web
# check reports it as a problem, naming the link: exit 1.
plant server issued/web
expect 1 ica check --dir "$T/c"
grep -q "$C/issued/web: a symlink (refused, not followed)" "$T/.out" || { cat "$T/.out"; fail "check did not name issued/web"; }
untouched issued/web
echo "- server/issued/web: $(cat "$T/.out")"
# export of a pair through a planted issued/NAME: refused, nothing read.
plant server issued/web
bad "refusing symlink '$C/issued/web'" ica export --dir "$T/c" web --pkcs12 "$T/web.p12" --passphrase-file "$PASSFILE"
untouched issued/web
[ ! -e "$T/web.p12" ] || fail "export read a key through a planted issued/web"

step "the root: key, database, CRL state and the ceremony log"
for rel in private private/ca.key index.txt crlnumber crl.pem ceremony.log certs; do
	refused root $rel root crl --dir "$T/c" --passphrase-file "$PASSFILE"
done
refused root certs root sign --dir "$T/c" --passphrase-file "$PASSFILE" --kind server --yes \
    "$T/server/ca.csr" --out "$T/x.crt"
[ ! -e "$T/x.crt" ] || fail "a refused sign wrote --out"

step "the CA directory itself a symlink"
rm -rf "$T/c"; ln -s "$T/server" "$T/c"
bad "refusing symlink '$T/c'" ica issue --dir "$T/c" n2 --dns n2.internal
! grep -q n2 "$T/server/index.txt" || fail "issued through a symlinked CA directory"
echo "symlinks ok"
