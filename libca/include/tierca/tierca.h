/*
 * tierca/tierca.h - the whole public API of libca, one header per module
 * (docs/architecture.md). The tools in cmd/ include the modules they use
 * instead, and never tierca/x509.h: they work with paths, not GnuTLS
 * handles.
 */
#ifndef TIERCA_TIERCA_H
#define TIERCA_TIERCA_H

#include "tierca/common.h"
#include "tierca/fs.h"
#include "tierca/secret.h"
#include "tierca/x509.h"
#include "tierca/store.h"
#include "tierca/ceremony.h"
#include "tierca/check.h"
#include "tierca/issue.h"
#include "tierca/revoke.h"
#include "tierca/query.h"
#include "tierca/export.h"
#include "tierca/import.h"
#include "tierca/pair.h"
#include "tierca/conf.h"
#include "tierca/renew.h"
#include "tierca/monitor.h"
#include "tierca/deploy.h"
#include "tierca/harness.h"

#endif
