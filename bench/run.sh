#!/bin/sh
# run.sh - `make bench': installs the peers it compares with when they are
# missing (Debian: openssl, easy-rsa, gnutls-bin), then runs bench/bench.py
# against the tools in $B/bin and the bench programs in $B/bench.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${B:=$here/../build}"

missing=""
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
command -v certtool >/dev/null 2>&1 || missing="$missing gnutls-bin"
command -v easyrsa >/dev/null 2>&1 || [ -x /usr/share/easy-rsa/easyrsa ] ||
	missing="$missing easy-rsa"
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
if [ -n "$missing" ]; then
	echo "bench: installing$missing" >&2
	sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	$sudo apt-get install -y $missing >/dev/null ||
		{ $sudo apt-get update >/dev/null && $sudo apt-get install -y $missing >/dev/null; }
fi

exec python3 "$here/bench.py" --build "$B" --out "$here/results.json" "$@"
