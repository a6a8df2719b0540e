#!/bin/bash
# demo: a whole three-tier hierarchy in a local folder (default ./demo):
# offline root, server and client intermediates, server certificates for
# the reverse proxies of seed 004, one admin client certificate, a
# revocation, CRLs, then a listing and independent verification; the
# daily jobs: tierca-renew from templates, tierca-monitor with its
# textfile and a mail to a local SMTP server; a drill 65 days ahead.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-$here/bin}
D=${1:-demo}
export TZ=UTC
if [ -e "$D" ]; then
	echo "demo: '$D' exists; remove it first (rm -rf $D) to start over" >&2
	exit 1
fi
mkdir -p "$D"; cd "$D"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
# runs CMD, which must exit with CODE (tierca-monitor: 1 is WARNING).
run_rc() {
	local want=$1 rc=0; shift
	printf '$ %s\n' "$*"
	"$@" || rc=$?
	echo "(exit $rc)"
	[ "$rc" = "$want" ] || { echo "demo: expected exit $want" >&2; exit 1; }
}
smtpd_pid=
trap '[ -z "$smtpd_pid" ] || kill "$smtpd_pid" 2>/dev/null' EXIT

# The demo's root passphrase: random, in a 0600 file (never on argv).
umask 077
head -c 24 /dev/urandom | base64 >root.pass
umask 022

say "offline root (in real life: on the air-gapped laptop)"
run "$B/tierca" root init --dir root --subject "CN=Demo Root CA,O=Example" --passphrase-file root.pass

say "server and client intermediates on the CA host"
run "$B/tierca-ica" init --dir server-ica --kind server --subject "CN=Demo Server ICA,O=Example"
run "$B/tierca-ica" init --dir client-ica --kind client --subject "CN=Demo Client ICA,O=Example"

say "signing session: the root signs both requests"
run "$B/tierca-root" sign --dir root --passphrase-file root.pass --kind server --permit-dns internal --yes server-ica/ca.csr --out server-ica.crt
run "$B/tierca-root" sign --dir root --passphrase-file root.pass --kind client --yes client-ica/ca.csr --out client-ica.crt
run "$B/tierca-root" crl --dir root --passphrase-file root.pass

say "back on the CA host: install the signed intermediates"
run "$B/tierca-ica" install --dir server-ica server-ica.crt --root root/ca.crt
run "$B/tierca-ica" install --dir client-ica client-ica.crt --root root/ca.crt

say "per-host reverse proxy certificates and one admin client certificate"
for h in monitoring git media; do
	run "$B/tierca-ica" issue --dir server-ica "$h" --dns "$h.internal"
done
run "$B/tierca-ica" issue --dir client-ica admin --cn "Admin" --email admin@example.internal
run "$B/tierca-ica" issue --dir client-ica laptop-old --cn "Old laptop"

say "a lost laptop: revoke its certificate (the CRL is regenerated at once)"
run "$B/tierca-ica" revoke --dir client-ica laptop-old --reason keyCompromise
run "$B/tierca-ica" crl --dir server-ica

say "the daily cron job: tierca-renew issues and installs from templates"
mkdir -p templates installed
for h in grafana forgejo; do
	cat >templates/$h.cfg <<CFG
# deploy-target: /etc/tierca/templates/$h.cfg
name = "$h-proxy";
ca = "server";
dns = [ "$h.internal" ];
install: { cert = "$(pwd)/installed/$h.crt"; key = "$(pwd)/installed/$h.key";
           fullchain = "$(pwd)/installed/$h.fullchain.pem"; mode = 0640; };
reload = "echo reloaded $h >> $(pwd)/installed/reloads.log";
CFG
done
cat >tierca.cfg <<CFG
server: { dir = "server-ica"; };
client: { dir = "client-ica"; };
policy: { leaf_days = 90; renew_before_days = 30; crl_days = 14; crl_every_days = 7; };
templates = "templates";
CFG
export TIERCA_CONFIG=$(pwd)/tierca.cfg
run "$B/tierca-renew"
run "$B/tierca-renew"
say "daily monitoring: certificates, CA certificates, CRLs, installed files"
# The copy of the root CRL that the servers load, brought from the ceremony.
cp root/crl.pem root-crl.pem
mail=
if /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
	# A local SMTP server (Debian's python3-aiosmtpd) into the maildir mail/.
	port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	mkdir -p mail/tmp mail/new mail/cur
	/usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$port" -c aiosmtpd.handlers.Mailbox "$(pwd)/mail" >smtpd.log 2>&1 &
	smtpd_pid=$!
	for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
	mail="mail: { url = \"smtp://127.0.0.1:$port\"; starttls = false;
                   from = \"pki@example.internal\"; to = [ \"ops@example.internal\" ]; };"
fi
cat >>tierca.cfg <<CFG
monitor: { warn_days = 30; critical_days = 7; textfile = "tierca.prom";
           root_crl = "root-crl.pem";
           $mail };
CFG
run_rc 0 "$B/tierca-monitor"
run grep -E '^tierca_(monitor_state|crl_next_update_seconds)' tierca.prom

say "what the CA host holds"
run "$B/tierca-ica" list --dir server-ica
run "$B/tierca-ica" list --dir client-ica
run "$B/tierca-root" log --dir root --verify

say "independent checks: openssl verify with CRLs"
cat root/crl.pem server-ica/crl.pem >server-crls.pem
cat root/crl.pem client-ica/crl.pem >client-crls.pem
run openssl verify -crl_check_all -CRLfile server-crls.pem -CAfile root/ca.crt -untrusted server-ica/ca.crt -purpose sslserver server-ica/issued/monitoring/cert.pem
run openssl verify -crl_check_all -CRLfile client-crls.pem -CAfile root/ca.crt -untrusted client-ica/ca.crt -purpose sslclient client-ica/issued/admin/cert.pem
if openssl verify -crl_check_all -CRLfile client-crls.pem -CAfile root/ca.crt -untrusted client-ica/ca.crt -purpose sslclient client-ica/issued/laptop-old/cert.pem 2>/dev/null; then
	echo "demo: the revoked certificate verified!" >&2; exit 1
fi
echo "client-ica/issued/laptop-old/cert.pem: refused (revoked), as it should be"

in65=$(date -u -d '+65 days' +%Y-%m-%dT%H:%M:%SZ)
say "a drill, 65 days ahead (TIERCA_NOW=$in65): the proxies are renewed with new keys and reloaded"
echo "first the monitor, as if no daily job had run for 65 days: the CRLs have"
echo "expired (CRITICAL), the 90-day certificates have 24 days left (WARNING)"
TIERCA_NOW=$in65 run_rc 2 "$B/tierca-monitor" ${mail:+--mail}
TIERCA_NOW=$in65 run "$B/tierca-renew"
run cat installed/reloads.log
echo "after tierca-renew (new keys, fresh CRLs), only the certificates issued"
echo "by hand still need attention"
TIERCA_NOW=$in65 run_rc 1 "$B/tierca-monitor"
if [ -n "$mail" ]; then
	say "the mail the monitor sent (in $(pwd)/mail/new)"
	m=$(ls mail/new | head -1)
	[ -n "$m" ] || { echo "demo: no mail arrived" >&2; exit 1; }
	sed -n '/^Subject:/p' "mail/new/$m"
	sed -n '/^$/,$p' "mail/new/$m" | head -12
fi

say "done: the hierarchy is in $(pwd)"
