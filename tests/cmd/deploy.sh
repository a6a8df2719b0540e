# deploy: tierca-deploy places managed files under --root with their modes
# and owners, leaves unchanged files alone (same inode and mtime), runs
# deploy-after once per command and only after a change, changes nothing
# in a dry run, and refuses a bad set as a whole: every problem named as
# file:line, nothing placed. One run at a time per root (the run lock):
# a second waits, saying so; the next run after a killed one removes its
# temp files and the empty directories it made, and nothing else.
. "$(dirname "$0")/lib.sh"
dep() { "$B/tierca-deploy" "$@"; }
R=$T/root
mkdir -p "$R" src
AFTER=$T/after.log
: >"$AFTER"

# The owner checks need root: a throw-away user and group, removed again.
OWNER=
if [ "$(id -u)" = 0 ] && command -v useradd >/dev/null; then
	OWNER=tierca-dtest$$
	groupadd "$OWNER" && useradd -M -N -g "$OWNER" -s /usr/sbin/nologin "$OWNER" || fail "cannot make user $OWNER"
	trap 'userdel "$OWNER" 2>/dev/null; groupdel "$OWNER" 2>/dev/null' EXIT
else
	echo "--- not root: owner checks skipped (deploy-owner needs chown)"
fi

# Snapshot of the root, and the stat of every file in it.
snaproot() { snap "$R"; }
# The run lock (var/lib/tierca/deploy.lock) is not state: left out.
stats() { (cd "$R" && find . -type f ! -name '*.lock' -print0 | sort -z | xargs -0 -r stat -c '%n %i %Y %a %U:%G'); }
count() { grep -c -- "$1" "$2" || true; }

step "a first run places everything"
cat >src/app.conf <<EOF
# deploy-target: /etc/app/app.conf
# deploy-after: echo app >>$AFTER
listen = 8080
EOF
cat >src/secret.conf <<EOF
# deploy-target: /etc/app/secret.conf
# deploy-mode: 0640
# deploy-after: echo app >>$AFTER
password = hunter2
EOF
mkdir -p src/js
cat >src/js/site.js <<EOF
// deploy-target: /srv/www/js/site.js
// deploy-mode: 0444
var deployed = true;
EOF
cat >src/tunnel.conf <<EOF
; deploy-target: /etc/stunnel/t.conf
; deploy-after: echo stunnel >>$AFTER
[t]
EOF
# A key: only with deploy-key: yes, and 0600 by default.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key.raw 2>/dev/null || fail "openssl genpkey"
{ echo "# deploy-target: /etc/ssl/private/svc.key"; echo "# deploy-key: yes"; cat key.raw; } >src/svc.key
if [ -n "$OWNER" ]; then
	cat >src/owned.conf <<EOF
# deploy-target: /etc/app/owned.conf
# deploy-owner: $OWNER:$OWNER
# deploy-mode: 0640
owned
EOF
fi
# Not managed: no header, or a header after the first real line; hidden.
printf 'just a note\n# deploy-target: /etc/never\n' >src/README
printf '# deploy-target: relative/ignored\n' >src/.hidden.swp
n=5; [ -n "$OWNER" ] && n=6
ok dep --root "$R" src
grep -q "^tierca-deploy: $n new, 0 changed, 0 unchanged, 0 failed; deploy-after: 2 ran, 0 failed$" "$T/.out" || { cat "$T/.out"; fail "first run summary"; }
[ "$(stat -c %a "$R/etc/app/app.conf")" = 644 ] || fail "default mode"
[ "$(stat -c %a "$R/etc/app/secret.conf")" = 640 ] || fail "deploy-mode 0640"
[ "$(stat -c %a "$R/srv/www/js/site.js")" = 444 ] || fail "deploy-mode 0444"
[ "$(stat -c %a "$R/etc/ssl/private/svc.key")" = 600 ] || fail "a key is 0600 by default"
[ "$(stat -c %a "$R/srv/www/js")" = 755 ] || fail "new directories are 0755"
cmp -s src/app.conf "$R/etc/app/app.conf" || fail "content (the header stays in the file)"
cmp -s src/svc.key "$R/etc/ssl/private/svc.key" || fail "key content"
[ -e "$R/etc/never" ] && fail "an unmanaged file was placed"
[ -n "$(find "$R" -name '.tierca-deploy.*')" ] && fail "temp files left behind"
# deploy-after: once per distinct command, after the files
[ "$(count '^app$' "$AFTER")" = 1 ] || { cat "$AFTER"; fail "deploy-after 'app' not run once"; }
[ "$(count '^stunnel$' "$AFTER")" = 1 ] || fail "deploy-after 'stunnel' not run once"
if [ -n "$OWNER" ]; then
	[ "$(stat -c %U:%G:%a "$R/etc/app/owned.conf")" = "$OWNER:$OWNER:640" ] || fail "deploy-owner: $(stat -c %U:%G:%a "$R/etc/app/owned.conf")"
fi

step "a second run changes nothing: same inodes and mtimes, no deploy-after"
before=$(stats)
: >"$AFTER"
sleep 1
ok dep --root "$R" src
grep -q "^tierca-deploy: 0 new, 0 changed, $n unchanged, 0 failed$" "$T/.out" || { cat "$T/.out"; fail "second run summary"; }
[ "$(stats)" = "$before" ] || { diff <(echo "$before") <(stats); fail "unchanged files were touched"; }
[ -s "$AFTER" ] && fail "deploy-after ran without a change"

step "a changed file, a mode and an owner changed by hand: put right"
sed -i 's/8080/9090/' src/app.conf
chmod 0600 "$R/srv/www/js/site.js"
[ -n "$OWNER" ] && chown root:root "$R/etc/app/owned.conf"
ino=$(stat -c %i "$R/etc/app/secret.conf")
ok dep --root "$R" src
c=2; [ -n "$OWNER" ] && c=3
grep -q "^tierca-deploy: 0 new, $c changed, $((n - c)) unchanged, 0 failed; deploy-after: 1 ran, 0 failed$" "$T/.out" || { cat "$T/.out"; fail "change summary"; }
grep -q "^changed .*/srv/www/js/site.js (src/js/site.js: mode 0600 -> 0444)$" "$T/.out" || { cat "$T/.out"; fail "mode change not described"; }
[ "$(stat -c %a "$R/srv/www/js/site.js")" = 444 ] || fail "mode not put right"
cmp -s src/app.conf "$R/etc/app/app.conf" || fail "changed content not placed"
[ "$(stat -c %i "$R/etc/app/secret.conf")" = "$ino" ] || fail "an unchanged file was replaced"
[ "$(count '^app$' "$AFTER")" = 1 ] && [ "$(count '^stunnel$' "$AFTER")" = 0 ] || { cat "$AFTER"; fail "deploy-after of the changed file only"; }
if [ -n "$OWNER" ]; then
	grep -q "owner root:root -> $OWNER:$OWNER" "$T/.out" || { cat "$T/.out"; fail "owner change not described"; }
	[ "$(stat -c %U:%G "$R/etc/app/owned.conf")" = "$OWNER:$OWNER" ] || fail "owner not put right"
fi

step "--dry-run prints the plan and a diff, and changes nothing"
sed -i 's/9090/7070/' src/app.conf
printf '# deploy-target: /etc/app/new.conf\nnew\n' >src/new.conf
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key2.raw 2>/dev/null
{ echo "# deploy-target: /etc/ssl/private/svc.key"; echo "# deploy-key: yes"; cat key2.raw; } >src/svc.key
: >"$AFTER"
s1=$(snaproot)
ok dep --dry-run --root "$R" src
[ "$(snaproot)" = "$s1" ] || fail "a dry run changed the root"
[ -s "$AFTER" ] && fail "a dry run ran deploy-after"
grep -q "^new .*/etc/app/new.conf (src/new.conf, 0644)$" "$T/.out" || { cat "$T/.out"; fail "dry run: new"; }
grep -q "^changed .*/etc/app/app.conf (src/app.conf: content)$" "$T/.out" || fail "dry run: changed"
grep -qx -- "-listen = 9090" "$T/.out" && grep -qx -- "+listen = 7070" "$T/.out" || { cat "$T/.out"; fail "dry run: no diff"; }
grep -q "^unchanged .*/etc/stunnel/t.conf (src/tunnel.conf)$" "$T/.out" || fail "dry run: unchanged"
grep -q "^changed .*/etc/ssl/private/svc.key" "$T/.out" && grep -qx "  (binary or secret, not shown)" "$T/.out" || { cat "$T/.out"; fail "dry run: a key's change"; }
# no line of either key, and no header of a key block, in the output
for k in key.raw key2.raw; do
	sed '/-----/d' "$k" | while read -r l; do grep -qF -- "$l" "$T/.out" && fail "key material in the dry run output"; done
done
grep -q "PRIVATE KEY" "$T/.out" && fail "a key block in the dry run output"
grep -q "^would run echo app >>" "$T/.out" || fail "dry run: would run"
grep -q "^tierca-deploy: dry run: 1 new, 2 changed, $((n - 2)) unchanged, 0 failed; deploy-after: 1 to run, 0 failed$" "$T/.out" || { cat "$T/.out"; fail "dry run summary"; }
ok dep --root "$R" src
cmp -s src/svc.key "$R/etc/ssl/private/svc.key" || fail "the changed key was not placed"

step "--json: one document"
ok dep --json --dry-run --root "$R" src
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["dry_run"] is True and d["problems"] == [], d
assert d["counts"] == {"new": 0, "changed": 0, "unchanged": int(sys.argv[2]), "failed": 0, "after_failed": 0}, d["counts"]
f = [x for x in d["files"] if x["target"] == "/etc/ssl/private/svc.key"][0]
assert f["key"] is True and f["mode"] == "0600" and f["state"] == "unchanged", f
' "$T/.out" $((n + 1)) || { cat "$T/.out"; fail "--json"; }

# refused NAME PATTERN: a bad file NAME (already in src/) makes the run fail
# with PATTERN on stderr; the root is not touched, and the file goes.
refused() {
	local name=$1 pat=$2 s
	s=$(snaproot)
	expect 1 dep --root "$R" src
	grep -Eq -- "^tierca-deploy: $pat" "$T/.err" || { cat "$T/.err"; fail "$name: no /$pat/"; }
	grep -q "^tierca-deploy: [0-9]* problems\?; nothing placed$" "$T/.err" || { cat "$T/.err"; fail "$name: no summary"; }
	[ "$(snaproot)" = "$s" ] || fail "$name: the root changed"
	[ -n "$(find "$R" -name '.tierca-deploy.*')" ] && fail "$name: temp files left behind"
	rm -f "src/$3"
}
step "refusals: every problem as file:line, nothing placed"
# with a change pending, so that something would be placed
sed -i 's/7070/6060/' src/app.conf
printf '# deploy-target: etc/relative.conf\n' >src/bad.conf
refused "relative target" "src/bad.conf:1: deploy-target 'etc/relative.conf' is not an absolute path$" bad.conf
printf '# x\n# deploy-target: /etc/app/../shadow\n' >src/bad.conf
refused "dot-dot" "src/bad.conf:2: deploy-target '/etc/app/../shadow' has a '..' component$" bad.conf
printf '# deploy-target: /etc/app/app.conf\n' >src/zdup.conf
refused "duplicate target" "src/zdup.conf:1: deploy-target '/etc/app/app.conf' is also the target of src/app.conf:1$" zdup.conf
printf '# deploy-target: /etc/m.conf\n# deploy-mode: 0989\n' >src/bad.conf
refused "bad mode" "src/bad.conf:2: deploy-mode '0989' is not an octal mode" bad.conf
printf '# deploy-target: /etc/m.conf\n# deploy-mode: 0666\n' >src/bad.conf
refused "world-writable" "src/bad.conf:2: deploy-mode '0666' would let anyone write" bad.conf
printf '# deploy-target: /etc/o.conf\n# deploy-owner: nobody-tierca-x\n' >src/bad.conf
refused "unknown owner" "src/bad.conf:2: deploy-owner: unknown user 'nobody-tierca-x'$" bad.conf
printf '# deploy-target: /etc/o.conf\n# deploy-owner: root:nogroup-tierca-x\n' >src/bad.conf
refused "unknown group" "src/bad.conf:2: deploy-owner: unknown group 'nogroup-tierca-x'$" bad.conf
printf '# deploy-target: /etc/u.conf\n# deploy-reload: now\n' >src/bad.conf
refused "unknown deploy-* key" "src/bad.conf:2: unknown header 'deploy-reload'" bad.conf
{ echo "# deploy-target: /etc/ssl/private/k.key"; cat key.raw; } >src/bad.key
refused "key without deploy-key" "src/bad.key:2: holds a private key: it is deployed only with 'deploy-key: yes' and mode 0600 or 0400$" bad.key
{ echo "# deploy-target: /etc/ssl/private/k.key"; echo "# deploy-key: yes"; echo "# deploy-mode: 0640"; cat key.raw; } >src/bad.key
refused "key with 0640" "src/bad.key:3: holds a private key: mode 0640 refused" bad.key
mkdir -p "$T/elsewhere" "$R/var"
ln -s "$T/elsewhere" "$R/var/link"
printf '# deploy-target: /var/link/x.conf\n' >src/bad.conf
refused "symlink on the path" "src/bad.conf:1: '$R/var/link' is a symlink on the way to '$R/var/link/x.conf': refused$" bad.conf
[ -z "$(ls -A "$T/elsewhere")" ] || fail "written through a symlink"
rm "$R/var/link"; rmdir "$R/var"
mkfifo src/fifo
refused "a FIFO among the sources" "src/fifo: not a regular file \(a special file\)" fifo
ln -s app.conf src/link.conf
refused "a symlink among the sources" "src/link.conf: not a regular file \(a symlink\)" link.conf
printf 'no header\n' >"$T/plain.conf"
s=$(snaproot)
expect 1 dep --root "$R" "$T/plain.conf"
grep -q "plain.conf: not a managed file" "$T/.err" || fail "an explicit unmanaged file"

step "all problems at once"
printf '# deploy-target: rel\n' >src/bad1.conf
printf '# deploy-target: /etc/x\n# deploy-colour: red\n' >src/bad2.conf
printf '# deploy-target: /etc/x\n' >src/bad3.conf
s=$(snaproot)
expect 1 dep --root "$R" src
[ "$(grep -c '^tierca-deploy: src/bad' "$T/.err")" = 3 ] || { cat "$T/.err"; fail "not every problem listed"; }
grep -q "^tierca-deploy: 3 problems; nothing placed$" "$T/.err" || fail "problem count"
[ "$(snaproot)" = "$s" ] || fail "the root changed"
rm src/bad1.conf src/bad2.conf src/bad3.conf
ok dep --root "$R" src
cmp -s src/app.conf "$R/etc/app/app.conf" || fail "the pending change after the refusals"

step "a failing deploy-after: reported, exit 1, the file stays placed"
printf '# deploy-target: /etc/f.conf\n# deploy-after: echo on-stdout; exit 3\nf\n' >src/f.conf
expect 1 dep --root "$R" src
grep -q "^tierca-deploy: deploy-after 'echo on-stdout; exit 3' exited 3$" "$T/.err" || { cat "$T/.err"; fail "failed deploy-after not reported"; }
grep -qx "on-stdout" "$T/.err" || fail "deploy-after's output is not on stderr"
grep -q "on-stdout" "$T/.out" && fail "deploy-after's output on stdout"
grep -q "; deploy-after: 0 ran, 1 failed$" "$T/.out" || { cat "$T/.out"; fail "summary of a failed deploy-after"; }
cmp -s src/f.conf "$R/etc/f.conf" || fail "file of a failed deploy-after"
ok dep --root "$R" src   # unchanged now: the command does not run again

if [ -n "$OWNER" ] && command -v setpriv >/dev/null; then
	step "not root: another owner is refused before anything is placed"
	chmod o+x "$T"
	mkdir -p np/src np/root
	printf '# deploy-target: /x.conf\n# deploy-owner: root\nx\n' >np/src/x.conf
	printf '# deploy-target: /y.conf\ny\n' >np/src/y.conf
	chown -R "$OWNER:$OWNER" np
	asuser() { setpriv --reuid="$OWNER" --regid="$OWNER" --clear-groups "$@"; }
	expect 1 asuser "$B/tierca-deploy" --root "$T/np/root" "$T/np/src"
	grep -q "np/src/x.conf:2: deploy-owner 'root' needs root (this runs as uid $(id -u "$OWNER"))$" "$T/.err" || { cat "$T/.err"; fail "non-root owner"; }
	[ -z "$(ls -A np/root)" ] || fail "placed something as non-root"
	rm np/src/x.conf
	ok asuser "$B/tierca-deploy" --root "$T/np/root" "$T/np/src"
	[ "$(stat -c %U:%a np/root/y.conf)" = "$OWNER:644" ] || fail "non-root placement"
fi

step "a failed rename: what was placed stays, a directory made for the rest goes"
printf '# deploy-target: /etc/app/za.conf\nza\n' >src/za.conf
printf '# deploy-target: /opt/brand/new/zb.conf\nzb\n' >src/zb.conf
TIERCA_FAULT=rename:2 expect 1 dep --root "$R" src
grep -q "^tierca-deploy: cannot place '$R/opt/brand/new/zb.conf': " "$T/.err" || { cat "$T/.err"; fail "failed rename not reported"; }
cmp -s src/za.conf "$R/etc/app/za.conf" || fail "the file renamed before the failure"
[ ! -e "$R/opt" ] || { find "$R/opt"; fail "directories made for a file that was not placed are left"; }
[ -z "$(find "$R" -name '.tierca-deploy.*')" ] || fail "temp files left after a failed rename"
[ ! -s "$R/var/lib/tierca/deploy.lock" ] || fail "the lock is not cleared after a failed run"
rm src/za.conf src/zb.conf

LOCK=$R/var/lib/tierca/deploy.lock
step "a run killed earlier: its leftovers go, nothing else"
[ -f "$LOCK" ] && [ ! -s "$LOCK" ] || fail "no empty run lock at $LOCK"
mkdir -p "$R/srv/gone" "$R/srv/made/deeper" "$R/srv/full" "$R/opt/other" "$T/outside"
ours() { echo "staged by a dead run" >"$1"; }
ours "$R/etc/app/.tierca-deploy.0123456789ab"     # a target's directory
ours "$R/srv/gone/.tierca-deploy.cccccccccccc"    # a directory the run noted
ours "$R/opt/other/.tierca-deploy.0123456789ab"   # neither: not ours to judge
# Not our names, or not files we make: never removed.
notours=".tierca-deploy.notours12345 .tierca-deploy.0123456789AB .tierca-deploy.0123456789abc tierca-deploy.0123456789ab .tierca-deploy.0123456789a"
for n in $notours; do echo "user file" >"$R/etc/app/$n"; done
echo "outside" >"$T/outside/f"
ln -s "$T/outside/f" "$R/etc/app/.tierca-deploy.aaaaaaaaaaaa"
mkdir "$R/etc/app/.tierca-deploy.bbbbbbbbbbbb"
echo "user file" >"$R/srv/full/keep"
# The dead run's notes after the mark: directories it staged in and made,
# one with "..", a torn last line.
printf '\0t /srv/gone\nd /srv/made\nd /srv/made/deeper\nd /srv/full\nt /srv/../opt/other\nt /opt/oth' >"$LOCK"
ok dep --root "$R" src
grep -q "^tierca-deploy: warning: removed 4 leftovers of an interrupted run" "$T/.out" || { cat "$T/.out"; fail "leftovers not removed, or not said"; }
[ ! -e "$R/etc/app/.tierca-deploy.0123456789ab" ] || fail "our temp file in a target's directory is left"
[ ! -e "$R/srv/gone/.tierca-deploy.cccccccccccc" ] || fail "our temp file in a noted directory is left"
[ ! -e "$R/srv/made" ] || fail "empty directories the dead run made are left"
[ -f "$R/srv/full/keep" ] || fail "a noted directory that is not empty was touched"
[ -f "$R/opt/other/.tierca-deploy.0123456789ab" ] || fail "removed a file in a directory that is neither noted nor a target's"
for n in $notours; do [ -f "$R/etc/app/$n" ] || fail "removed a user's file '$n'"; done
[ -L "$R/etc/app/.tierca-deploy.aaaaaaaaaaaa" ] && [ -f "$T/outside/f" ] || fail "a symlink under our name was removed or followed"
[ -d "$R/etc/app/.tierca-deploy.bbbbbbbbbbbb" ] || fail "a directory under our name was removed"
[ ! -s "$LOCK" ] || fail "the lock is not cleared"
for n in $notours .tierca-deploy.aaaaaaaaaaaa .tierca-deploy.bbbbbbbbbbbb; do rm -rf "$R/etc/app/$n"; done
rm -rf "$R/srv/full" "$R/srv/gone" "$R/opt/other" "$T/outside"

step "two deploys at once: one waits for the other, saying so"
# A run holding the lock: the next one waits, then finds the set in place.
( exec 9>>"$LOCK"; flock 9; : >"$T/held"; sleep 2 ) &
holder=$!
while [ ! -e "$T/held" ]; do sleep 0.05; done
sed -i 's/6060/5050/' src/app.conf
start=$(date +%s%N)
ok dep --root "$R" src
[ $(( ($(date +%s%N) - start) / 1000000 )) -ge 1000 ] || fail "did not wait for the lock"
grep -q "^tierca-deploy: warning: another tierca-deploy is placing files under '$R': waiting for it to finish (lock '$LOCK')$" "$T/.out" || { cat "$T/.out"; fail "no word of the wait"; }
grep -q "^tierca-deploy: 0 new, 1 changed, " "$T/.out" || { cat "$T/.out"; fail "after the wait"; }
wait $holder
# Two started together: both succeed, each change is placed once (the
# second plans again under the lock), nothing is left over.
sed -i 's/5050/4040/' src/app.conf
sed -i 's/^var deployed = .*/var deployed = "twice";/' src/js/site.js
dep --root "$R" src >"$T/d1.out" 2>&1 & p1=$!
dep --root "$R" src >"$T/d2.out" 2>&1 & p2=$!
wait $p1 || { cat "$T/d1.out"; fail "the first of two deploys"; }
wait $p2 || { cat "$T/d2.out"; fail "the second of two deploys"; }
c1=$(sed -n 's/^tierca-deploy: 0 new, \([0-9]*\) changed, .*/\1/p' "$T/d1.out")
c2=$(sed -n 's/^tierca-deploy: 0 new, \([0-9]*\) changed, .*/\1/p' "$T/d2.out")
[ "$((c1 + c2))" = 2 ] || { cat "$T/d1.out" "$T/d2.out"; fail "two deploys placed $c1 + $c2 changes, not 2"; }
cmp -s src/app.conf "$R/etc/app/app.conf" && cmp -s src/js/site.js "$R/srv/www/js/site.js" || fail "two deploys: content"
[ -z "$(find "$R" -name '.tierca-deploy.*')" ] && [ ! -s "$LOCK" ] || fail "two deploys: leftovers"

step "sources from the config, relative to it; usage errors"
mkdir -p cfgdir/tree
printf '# deploy-target: /etc/from-config.conf\n' >cfgdir/tree/c.conf
printf 'deploy: { sources = [ "tree" ]; };\n' >cfgdir/tierca.cfg
mkdir elsewhere-cwd
(cd elsewhere-cwd && "$B/tierca-deploy" -c ../cfgdir/tierca.cfg --root "$R") >"$T/.out" 2>&1 || { cat "$T/.out"; fail "deploy.sources"; }
[ -f "$R/etc/from-config.conf" ] || fail "deploy.sources not relative to the config"
printf 'templates = "templates";\n' >cfgdir/nosrc.cfg
expect 2 dep -c cfgdir/nosrc.cfg --root "$R"
grep -q "nothing to deploy" "$T/.err" || fail "no sources"
expect 2 dep --root relative/path src
expect 2 dep --frobnicate src
expect 1 dep --root "$T/no-such-dir" src
grep -q "root '$T/no-such-dir' is not a directory" "$T/.err" || fail "missing root"
ok dep --version
ok dep --help
echo "deploy ok"
