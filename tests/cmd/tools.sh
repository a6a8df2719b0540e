# tools: the command surface -- help, versions, the tierca front command,
# make install, passphrases from a tty (a real pty via script(1)) and an
# fd, and the root's confirmation before it signs.
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)

step "help and version on every tool, usage errors exit 2"
for t in tierca tierca-root tierca-ica; do
	"$B/$t" --help | grep -q "usage: $t" || fail "$t --help"
	"$B/$t" --version | grep -Eq "^$t [0-9]+\.[0-9]+" || fail "$t --version"
	rc=0; "$B/$t" >/dev/null 2>&1 || rc=$?; [ $rc = 2 ] || fail "$t without arguments: exit $rc, want 2"
	rc=0; "$B/$t" frobnicate >/dev/null 2>&1 || rc=$?; [ $rc = 2 ] || fail "$t unknown verb: exit $rc"
done

step "tierca dispatches git-style"
"$B/tierca" root --help | grep -q "usage: tierca-root" || fail "tierca root --help"
"$B/tierca" ica --version | grep -q "^tierca-ica " || fail "tierca ica --version"
ok "$B/tierca" root init --dir "$T/r0" --subject "CN=Via Front" --passphrase-file "$PASSFILE"
[ -s "$T/r0/ca.crt" ] || fail "tierca root init made no root"

step "make install PREFIX DESTDIR"
make -s -C "$top" install PREFIX=/usr DESTDIR="$T/stage" >/dev/null || fail "make install"
for t in tierca tierca-root tierca-ica; do
	[ -x "$T/stage/usr/bin/$t" ] || fail "$t not installed"
done
"$T/stage/usr/bin/tierca" ica --version | grep -q tierca-ica || fail "installed front command cannot find its tools"

step "passphrase from a terminal: asked twice on init, never echoed"
command -v script >/dev/null || fail "script(1) missing (util-linux)"
# type LINE...: what a person types, each line after its prompt (the
# prompt discards type-ahead, as it should).
type_slowly() { local l; for l in "$@"; do sleep 1; printf '%s\n' "$l"; done; sleep 1; }
type_slowly 'a tty passphrase here' 'a tty passphrase here' |
	script -qec "$B/tierca-root init --dir $T/r1 --subject CN=Tty" /dev/null >tty.out 2>&1 || { cat tty.out; fail "init from a tty"; }
grep -q "New root key passphrase" tty.out || fail "no prompt"
grep -q "Repeat the passphrase" tty.out || fail "no confirmation prompt"
grep -q "tty passphrase" tty.out && fail "passphrase echoed"
type_slowly 'a tty passphrase here' |
	script -qec "$B/tierca-root crl --dir $T/r1" /dev/null >tty.out 2>&1 || { cat tty.out; fail "crl with a tty passphrase"; }
type_slowly 'one passphrase here' 'another passphrase' |
	script -qec "$B/tierca-root init --dir $T/r2 --subject CN=Mismatch" /dev/null >tty.out 2>&1 && fail "mismatched passphrases accepted"
grep -q "do not match" tty.out || fail "mismatch not reported"
[ -e "$T/r2/private/ca.key" ] && fail "mismatch left a key behind"
# No terminal at all: a clear error, not a hang.
bad "no terminal" setsid "$B/tierca-root" crl --dir "$T/r1" </dev/null

step "passphrase from a file descriptor"
ok "$B/tierca-root" crl --dir "$T/r0" --passphrase-fd 3 3<"$PASSFILE"
printf 'wrong passphrase here\n' | bad "wrong passphrase for key '.*ca.key'" "$B/tierca-root" crl --dir "$T/r0" --passphrase-fd 0
bad "short" "$B/tierca-root" init --dir "$T/r3" --subject CN=Short --passphrase-fd 3 3< <(echo short)

step "the root asks before it signs"
ok ica init --dir "$T/s" --kind server --subject "CN=Asked ICA"
bad "no terminal to confirm" setsid "$B/tierca-root" sign --dir "$T/r0" --passphrase-file "$PASSFILE" --kind server "$T/s/ca.csr" --out "$T/s.crt" </dev/null
[ -e "$T/s.crt" ] && fail "signed without confirmation"
type_slowly n |
	script -qec "$B/tierca-root sign --dir $T/r0 --passphrase-file $PASSFILE --kind server $T/s/ca.csr --out $T/s.crt" /dev/null >tty.out 2>&1 && fail "signed after 'n'"
grep -q "csr sha256:" tty.out || fail "CSR SHA-256 not shown before the question"
[ -e "$T/s.crt" ] && fail "'n' still signed"
type_slowly y |
	script -qec "$B/tierca-root sign --dir $T/r0 --passphrase-file $PASSFILE --kind server $T/s/ca.csr --out $T/s.crt" /dev/null >tty.out 2>&1 || { cat tty.out; fail "'y' did not sign"; }
[ -s "$T/s.crt" ] || fail "no certificate after 'y'"
want=$(sha256sum "$T/s/ca.csr" | cut -d' ' -f1)
grep -q "$want" tty.out || fail "shown CSR SHA-256 is not the file's"

step "the ceremony log records every act and detects edits"
ok root log --dir "$T/r0" --verify
grep -q "entries" "$T/.out" || fail "log --verify prints no summary"
[ "$(wc -l <"$T/r0/ceremony.log")" = 3 ] || fail "want 3 acts (init, crl, sign)"
grep -q "	sign	" "$T/r0/ceremony.log" || fail "sign not logged"
grep -q "csr_sha256=$want" "$T/r0/ceremony.log" || fail "sign entry lacks the CSR hash"
cp "$T/r0/ceremony.log" log.bak
sed -i '2s/crl/CRL/' "$T/r0/ceremony.log"
bad "ceremony.log:2" root log --dir "$T/r0" --verify
cp log.bak "$T/r0/ceremony.log"
sed -i '2d' "$T/r0/ceremony.log"
bad "ceremony.log:2" root log --dir "$T/r0" --verify
cp log.bak "$T/r0/ceremony.log"
head -n 2 log.bak >"$T/r0/ceremony.log"
bad "ceremony.head" root log --dir "$T/r0" --verify
# A broken log stops the next act before the key signs anything.
bad "does not verify" root crl --dir "$T/r0" --passphrase-file "$PASSFILE"
cp log.bak "$T/r0/ceremony.log"
ok root log --dir "$T/r0" --verify

step "a crash between an act's log entry and its head: explicit recovery"
bad "nothing to accept" root log --dir "$T/r0" --accept-last
cp "$T/r0/ceremony.head" head.before
ok root crl --dir "$T/r0" --passphrase-file "$PASSFILE"
cp head.before "$T/r0/ceremony.head"          # the head update never happened
bad "one entry behind the log: act 4" root log --dir "$T/r0" --verify
bad "one entry behind" root crl --dir "$T/r0" --passphrase-file "$PASSFILE"
ok root log --dir "$T/r0" --accept-last
ok root log --dir "$T/r0" --verify
[ "$(wc -l <"$T/r0/ceremony.log")" = 5 ] || fail "the recovery is not on the record"
grep -q "	accept-last	accepted_entry=4" "$T/r0/ceremony.log" || fail "no accept-last entry"
# An edited log is not "one behind": accept-last refuses it.
cp "$T/r0/ceremony.log" log.bak2
sed -i '3s/sign/SIGN/' "$T/r0/ceremony.log"
bad "ceremony.log:3" root log --dir "$T/r0" --accept-last
cp log.bak2 "$T/r0/ceremony.log"
ok root crl --dir "$T/r0" --passphrase-file "$PASSFILE"

step "the root tool never touches the network"
if command -v strace >/dev/null; then
	# (LeakSanitizer needs ptrace, which strace holds: no leak check here.)
	ASAN_OPTIONS=detect_leaks=0 strace -f -e trace=socket,connect -o st.out "$B/tierca-root" crl --dir "$T/r0" --passphrase-file "$PASSFILE" >/dev/null 2>&1 || fail "crl under strace"
	grep -E 'socket\(AF_INET|connect\(' st.out | grep -v AF_UNIX && fail "tierca-root opened a network socket"
fi
echo "tools ok"
