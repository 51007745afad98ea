/* testutil.h: helpers shared by the unit tests (temp dirs, catalog path,
 * nodes, units, table digests). */
#ifndef TIERSYNC_TESTUTIL_H
#define TIERSYNC_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "node.h"

/* Creates a fresh empty directory under $TMPDIR (or /tmp); returns a static
 * buffer owned by the caller until the next call. */
char *tu_tmpdir(const char *tag);

/* Removes a directory tree (best effort). */
void tu_rmrf(const char *path);

/* Path of the default catalog in the source tree. */
const char *tu_catalog_path(void);

/* A fresh node with code and the default catalog in a new directory (copied
 * into dir, dirsz bytes), opened into n. */
void tu_node_open(node_t *n, char *dir, size_t dirsz, const char *tag, const char *code);

/* tu_node_open with more settings: {section, key, value} triples ending
 * with a NULL section. */
void tu_node_open_with(node_t *n, char *dir, size_t dirsz, const char *tag, const char *code,
                       const char *const *settings);

/* A unit of the registry as the hub registers it: parent and via ("" for
 * this node's own; parent NULL: not in the registry at all), leaf as
 * 'child add' and announcements set it; child: also an enrolled direct
 * child (with pk, or zeros when NULL). */
typedef struct {
    const char *code, *parent, *via;
    bool leaf, child;
    const uint8_t *pk;
} tu_unit;

/* Writes units[0..n) into n's registry (and children table) in one
 * transaction. */
void tu_units_put(node_t *node, const tu_unit *units, size_t n);

/* A digest of every entry of table db: equal before and after a refused
 * change. */
uint64_t tu_digest_db(node_t *node, store_db db);

/* Writes text to dir/name and returns the path in a static buffer. */
const char *tu_write_file(const char *dir, const char *name, const char *text);

#endif
