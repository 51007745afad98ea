/* testutil.c: temp directories and fixtures for the unit tests. */
#define _XOPEN_SOURCE 700
#include "testutil.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *tu_tmpdir(const char *tag)
{
    static char buf[512];
    const char *base = getenv("TMPDIR");
    snprintf(buf, sizeof buf, "%s/tiersync-%s-XXXXXX", base ? base : "/tmp", tag);
    if (!mkdtemp(buf)) {
        perror("mkdtemp");
        abort();
    }
    return buf;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

void tu_rmrf(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *tu_catalog_path(void)
{
    const char *p = getenv("TIERSYNC_CATALOG");
    return p ? p : "catalog/drug-treatment.json";
}

const char *tu_write_file(const char *dir, const char *name, const char *text)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        abort();
    }
    fputs(text, f);
    fclose(f);
    return path;
}

void tu_node_open(node_t *n, char *dir, size_t dirsz, const char *tag, const char *code)
{
    tu_node_open_with(n, dir, dirsz, tag, code, NULL);
}

void tu_node_open_with(node_t *n, char *dir, size_t dirsz, const char *tag, const char *code,
                       const char *const *settings)
{
    snprintf(dir, dirsz, "%s", tu_tmpdir(tag));
    ts_config cfg;
    ts_err e = {0};
    config_defaults(&cfg, dir);
    assert_int_equal(config_set(&cfg, "node", "code", code, &e), TS_OK);
    assert_int_equal(config_set(&cfg, "node", "catalog", tu_catalog_path(), &e), TS_OK);
    for (const char *const *kv = settings; kv && kv[0]; kv += 3)
        if (config_set(&cfg, kv[0], kv[1], kv[2], &e) != TS_OK)
            fail_msg("%s.%s = %s: %s", kv[0], kv[1], kv[2], e.msg);
    assert_int_equal(config_write(&cfg, &e), TS_OK);
    assert_int_equal(node_open(n, dir, 0, &e), TS_OK);
}

typedef struct {
    const tu_unit *units;
    size_t n;
} units_ctx;

static int put_units(store_t *s, MDB_txn *txn, void *vctx, ts_err *e)
{
    const units_ctx *c = vctx;
    for (size_t i = 0; i < c->n; i++) {
        const tu_unit *t = &c->units[i];
        store_unit u = {.leaf = t->leaf};
        snprintf(u.parent, sizeof u.parent, "%s", t->parent ? t->parent : "");
        snprintf(u.via, sizeof u.via, "%s", t->via ? t->via : "");
        if (t->parent && store_unit_put(s, txn, t->code, &u, e))
            return e->code;
        store_child ch = {0};
        if (t->pk)
            memcpy(ch.pk, t->pk, sizeof ch.pk);
        if (t->child && store_child_put(s, txn, t->code, &ch, e))
            return e->code;
    }
    return TS_OK;
}

void tu_units_put(node_t *node, const tu_unit *units, size_t n)
{
    units_ctx c = {units, n};
    ts_err e = {0};
    assert_int_equal(store_write(node->store, put_units, &c, &e), TS_OK);
}

static int digest_one(const MDB_val *k, const MDB_val *v, void *ctx)
{
    uint64_t *h = ctx;
    for (size_t i = 0; i < k->mv_size; i++)
        *h = (*h ^ ((const uint8_t *)k->mv_data)[i]) * 1099511628211ULL;
    for (size_t i = 0; i < v->mv_size; i++)
        *h = (*h ^ ((const uint8_t *)v->mv_data)[i]) * 1099511628211ULL;
    *h = (*h ^ 0xff) * 1099511628211ULL; /* where one entry ends */
    return 0;
}

uint64_t tu_digest_db(node_t *node, store_db db)
{
    MDB_txn *txn;
    ts_err e = {0};
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    assert_int_equal(store_read_begin(node->store, &txn, &e), TS_OK);
    assert_int_equal(store_scan(node->store, txn, db, NULL, digest_one, &h), 0);
    store_read_end(txn);
    return h;
}
