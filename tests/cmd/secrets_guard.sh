# secrets_guard: tierca-deploy --check-secrets and tools/pre-commit on a
# scratch git repository whose .gitattributes sends secret/** through
# git-crypt (seed 003): key material there passes, anywhere else it is
# refused with file:line, one line per file; the hook blocks a commit
# that adds a key and lets a clean one through. git-crypt itself is not
# needed: git check-attr only reads .gitattributes.
here=$(cd "$(dirname "$0")/../.." && pwd)
. "$(dirname "$0")/lib.sh"
unset TIERCA_CONFIG TIERCA_NOW
command -v git >/dev/null || fail "git missing"
dep() { "$B/tierca-deploy" "$@"; }

step "a scratch repository with secret/** under git-crypt"
mkdir repo && cd repo
git init -q .
git config user.name "Tierca Test"
git config user.email "test@example.internal"
git config commit.gpgsign false
printf 'secret/** filter=git-crypt diff=git-crypt\n' >.gitattributes
mkdir -p secret conf keys
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out secret/web.key 2>/dev/null
cp secret/web.key keys/web.key
{ printf 'x\ny\n'; cat secret/web.key; } >conf/bundle.pem   # BEGIN on line 3
openssl genrsa -traditional -out keys/rsa.pem 2048 2>/dev/null
head -1 keys/rsa.pem | grep -q "BEGIN RSA PRIVATE KEY" || fail "traditional RSA key"
ssh-keygen -q -t ed25519 -N '' -f keys/id_ed25519 2>/dev/null ||
	printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n' >keys/id_ed25519
openssl req -new -x509 -key secret/web.key -subj /CN=web -days 1 -out conf/web.crt 2>/dev/null
openssl pkcs12 -export -inkey secret/web.key -in conf/web.crt -passout pass:x \
    -out conf/web.bin 2>/dev/null   # PKCS#12 under a name that hides it
printf 'smtp_user = "monitor";\nsmtp_password = "pw";\n' >conf/secrets.cfg
printf 'name = "web";\nca = "server";\n' >conf/web.cfg       # clean
cp "$PASSFILE" conf/README                                     # clean text
cp secret/web.key secret/copy.key

step "check-secrets: protected keys pass, every other one refused with file:line"
expect 0 dep --check-secrets secret conf/web.crt conf/web.cfg conf/README
grep -q "5 files checked, 2 with key material, all protected by git-crypt" "$T/.out" ||
	{ cat "$T/.out"; fail "summary"; }
expect 1 dep --check-secrets .
cat "$T/.err"
for want in "keys/web.key:1: PEM private key" "conf/bundle.pem:3: PEM private key" \
    "keys/rsa.pem:1: PEM private key" "keys/id_ed25519:1: PEM private key" \
    "conf/web.bin:1: PKCS#12 file" "conf/secrets.cfg:2: password or passphrase setting"; do
	grep -q "^tierca-deploy: \./$want not protected by git-crypt (filter unspecified)" "$T/.err" ||
		fail "not refused as it should be: $want"
done
[ "$(grep -c 'not protected' "$T/.err")" = 6 ] || fail "want exactly 6 refused files"
! grep -q "secret/" "$T/.err" || fail "a git-crypt path refused"
grep -q "6 files refused" "$T/.err" || fail "no summary line"
# Outside any repository git cannot vouch for a key: refused.
mkdir "$T/norepo"; cp secret/web.key "$T/norepo/"
expect 1 dep --check-secrets "$T/norepo"
grep -q "norepo/web.key:1: PEM private key not protected by git-crypt (git cannot tell)" "$T/.err" ||
	{ cat "$T/.err"; fail "outside a repository"; }
# A usage error: flags of the deploy run do not mix.
expect 2 dep --check-secrets --dry-run .

step "the pre-commit hook"
cp "$here/tools/pre-commit" .git/hooks/pre-commit
chmod +x .git/hooks/pre-commit
export TIERCA_DEPLOY=$B/tierca-deploy
git add .gitattributes conf/web.cfg conf/web.crt secret/web.key
git commit -q -m "clean, and a key under git-crypt" >"$T/.out" 2>&1 ||
	{ cat "$T/.out"; fail "a clean commit was blocked"; }
[ "$(git log --oneline | wc -l)" = 1 ] || fail "the clean commit is not there"
git add keys/web.key
rc=0; git commit -q -m "a key in the open" >"$T/.out" 2>&1 || rc=$?
cat "$T/.out"
[ $rc != 0 ] || fail "the hook let a key through"
grep -q "keys/web.key:1: PEM private key not protected by git-crypt" "$T/.out" || fail "hook message"
[ "$(git log --oneline | wc -l)" = 1 ] || fail "a commit was made"
# Staged content counts, not the working tree: a key staged and then
# emptied in the working tree is still refused.
: >keys/web.key
rc=0; git commit -q -m "still the staged key" >"$T/.out" 2>&1 || rc=$?
[ $rc != 0 ] || fail "the staged key got through once the working copy was empty"
git reset -q -- keys/web.key
# A secrets file too; then a clean commit passes.
git add conf/secrets.cfg
rc=0; git commit -q -m "smtp password" >"$T/.out" 2>&1 || rc=$?
[ $rc != 0 ] || fail "the hook let a secrets file through"
git reset -q -- conf/secrets.cfg
git add conf/README secret/copy.key
git commit -q -m "clean again" >"$T/.out" 2>&1 || { cat "$T/.out"; fail "clean commit blocked"; }
[ "$(git log --oneline | wc -l)" = 2 ] || fail "want two commits"
echo "secrets_guard ok"
