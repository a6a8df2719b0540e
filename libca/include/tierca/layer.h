/*
 * tierca/layer.h - the layers of libca, lowest first. Every object is
 * compiled with -DTIERCA_LAYER=<its layer> (the Makefile sets it from the
 * folder), and every header refuses to be included from a layer below
 * its own: calls go downward only. docs/architecture.md explains them.
 */
#ifndef TIERCA_LAYER_H
#define TIERCA_LAYER_H

#define TIERCA_LAYER_BASE 1     /* libca/base: errors, files, locks, secrets */
#define TIERCA_LAYER_X509 2     /* libca/x509: the only GnuTLS X.509 user */
#define TIERCA_LAYER_STORE 3    /* libca/store: CA directory, database */
#define TIERCA_LAYER_OPS 4      /* libca/ops: issue, revoke, export, ... */
#define TIERCA_LAYER_AUTO 5     /* libca/auto: config, renew, monitor */
#define TIERCA_LAYER_DEPLOY 6   /* libca/deploy: managed files */
#define TIERCA_LAYER_HARNESS 7  /* libca/harness: libharness.a */
#define TIERCA_LAYER_TEST 8     /* tests/, bench/: may use any layer */
#define TIERCA_LAYER_TOOL 9     /* cmd/: public path-level headers only */

#endif
