/* testutil.h: helpers shared by the unit tests (temp dirs, catalog path). */
#ifndef TIERSYNC_TESTUTIL_H
#define TIERSYNC_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
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

/* Writes text to dir/name and returns the path in a static buffer. */
const char *tu_write_file(const char *dir, const char *name, const char *text);

#endif
