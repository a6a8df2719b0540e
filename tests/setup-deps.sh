#!/bin/bash
# Installs what tierca needs to build and test, from Debian's packages,
# when something is missing. Used by `make deps` (and so by `make check`
# and `make demo`) and by .ci/run.
set -euo pipefail
pkgs=(build-essential pkg-config libgnutls28-dev libconfig-dev
	libcurl4-gnutls-dev libcunit1-dev gnutls-bin openssl curl
	ca-certificates python3 iproute2 util-linux valgrind
	python3-aiosmtpd faketime strace nginx easy-rsa
	stunnel4 default-jre-headless)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "tierca: installing ${missing[*]}"
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null; then SUDO=sudo; else
		echo "tierca: run as root: apt-get install ${missing[*]}" >&2; exit 1; fi
else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
