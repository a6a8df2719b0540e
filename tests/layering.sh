#!/bin/bash
# layering: proves that the compiler still enforces libca's layers
# (docs/architecture.md). Each probe breaks one rule and must fail to
# compile with the rule's own message; one control probe, which breaks
# none, must compile. Run by `make build` (make layering).
#   tests/layering.sh CC "PKG_CFLAGS"
set -u
cc=${1:-cc}
pkg=${2:-}
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/tierca-layering.XXXXXX")
trap 'rm -rf "$work"' EXIT
fails=0

# probe NAME LAYER EXPECT(ok|MESSAGE) EXTRA-FLAGS -- C source lines
probe() {
	local name=$1 layer=$2 expect=$3 extra=$4
	shift 4
	printf '%s\n' "$@" >"$work/$name.c"
	# shellcheck disable=SC2086
	if "$cc" -std=gnu11 -D_GNU_SOURCE -fsyntax-only $pkg -I"$top/libca/include" \
		-DTIERCA_LAYER="$layer" $extra "$work/$name.c" >"$work/$name.log" 2>&1; then
		[ "$expect" = ok ] && return
		echo "layering: probe '$name' compiled: the rule it breaks is not enforced" >&2
	else
		[ "$expect" != ok ] && grep -q -- "$expect" "$work/$name.log" && return
		echo "layering: probe '$name' failed otherwise than expected:" >&2
		head -5 "$work/$name.log" >&2
	fi
	fails=$((fails + 1))
}

tool="-include $top/cmd/tool-rules.h"
lib="-I$top/libca"
# A tool may use the path-level API.
probe tool-ok 9 ok "$tool" '#include "tierca/store.h"' '#include "tierca/renew.h"' \
	'#include "tierca/deploy.h"' 'int main(void) { return 0; }'
# A tool may not include the X.509-level header ...
probe tool-x509 9 'X.509-level' "$tool" '#include "tierca/x509.h"'
# ... nor GnuTLS itself ...
probe tool-gnutls 9 'poisoned' "$tool" '#include <gnutls/x509.h>'
# ... nor an internal header, even when it finds one.
probe tool-internal 9 'internal to libca' "$tool $lib" '#include "store/store-int.h"'
# A lower layer may not include a higher one's headers.
probe base-store 1 'store layer' "$lib" '#include "tierca/store.h"'
probe x509-ops 2 'ops layer' "$lib" '#include "tierca/issue.h"'
probe store-auto 3 'auto layer' "$lib" '#include "tierca/conf.h"'
probe ops-auto-int 4 'internal to libca' "$lib" '#include "auto/auto-int.h"'
probe auto-deploy 5 'deploy layer' "$lib" '#include "tierca/deploy.h"'
probe deploy-harness 6 'harness layer' "$lib" '#include "tierca/harness.h"'
# Going down is fine.
probe auto-ok 5 ok "$lib" '#include "auto/auto-int.h"' 'int f(void) { return 0; }'

[ $fails = 0 ] && exit 0
echo "layering: $fails probe(s) broke" >&2
exit 1
