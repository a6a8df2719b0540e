# lib.sh - helpers for the integration tests (sourced). $B holds the
# tools, $T is this test's scratch directory (removed by the runner).
set -u
cd "$T" || exit 1
PASSFILE=$T/root.pass
printf 'correct horse battery staple\n' >"$PASSFILE"; chmod 600 "$PASSFILE"

# Tool shorthands.
root() { "$B/tierca-root" "$@"; }
ica()  { "$B/tierca-ica" "$@"; }
mon()  { "$B/tierca-monitor" "$@"; }

fail() { echo "FAILED: $*" >&2; exit 1; }
step() { echo "--- $*"; }

# ok CMD...: must succeed.
ok() { "$@" >"$T/.out" 2>&1 || { cat "$T/.out"; fail "expected success: $*"; }; }
# expect CODE CMD...: must exit with CODE (tierca-monitor's states);
# output in $T/.out and $T/.err.
expect() {
	local want=$1; shift
	local rc=0
	"$@" >"$T/.out" 2>"$T/.err" || rc=$?
	[ $rc = "$want" ] || { cat "$T/.out" "$T/.err"; fail "exit $rc, want $want: $*"; }
}
# bad PATTERN CMD...: must fail with a non-zero exit, one line on stderr
# matching PATTERN (grep -E), and no crash.
bad() {
	local pat=$1; shift
	local rc=0
	"$@" >"$T/.out" 2>"$T/.err" || rc=$?
	[ $rc -ne 0 ] || { cat "$T/.out" "$T/.err"; fail "expected failure: $*"; }
	[ $rc -lt 128 ] || { cat "$T/.err"; fail "crashed (rc $rc): $*"; }
	grep -Eq -- "$pat" "$T/.err" || { cat "$T/.err"; fail "error does not match /$pat/: $*"; }
	[ "$(grep -c . "$T/.err")" -le 2 ] || { cat "$T/.err"; fail "more than one error line: $*"; }
}
# Snapshot of a directory tree (names, modes, contents) to prove that a
# failed command changed nothing.
# Lock files are not state: they are left out.
snap() { (cd "$1" && find . -name '*.lock' -prune -o -print0 | sort -z |
	xargs -0 stat -c '%n %a %s %Y' 2>/dev/null; find . -type f ! -name '*.lock' -print0 | sort -z | xargs -0 sha256sum) ; }

# A whole hierarchy in $T: root/, server/, client/ (server ICA with
# nameConstraints "internal"), installed.
hierarchy() {
	ok root init --dir "$T/root" --subject "CN=Test Root,O=Tierca Test" --passphrase-file "$PASSFILE"
	ok ica init --dir "$T/server" --kind server --subject "CN=Test Server ICA,O=Tierca Test"
	ok ica init --dir "$T/client" --kind client --subject "CN=Test Client ICA,O=Tierca Test"
	ok root sign --dir "$T/root" --passphrase-file "$PASSFILE" --kind server --permit-dns internal --yes "$T/server/ca.csr" --out "$T/server.crt"
	ok root sign --dir "$T/root" --passphrase-file "$PASSFILE" --kind client --yes "$T/client/ca.csr" --out "$T/client.crt"
	ok ica install --dir "$T/server" "$T/server.crt" --root "$T/root/ca.crt"
	ok ica install --dir "$T/client" "$T/client.crt" --root "$T/root/ca.crt"
}

# A free TCP port on 127.0.0.1.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
# Waits until 127.0.0.1:$1 accepts connections (10 s at most).
wait_port() { local i; for i in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; return 1; }
