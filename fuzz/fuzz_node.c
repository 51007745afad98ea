/* fuzz_node.c: the temporary node the fuzz targets run against. */
#define _XOPEN_SOURCE 700
#include "fuzz_node.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_check.h"
#include "store_lmdb.h"

static fuzz_node the_node;
static int made;

static void die(const char *what, const ts_err *e)
{
    fprintf(stderr, "fuzz: %s: %s\n", what, e ? e->msg : "");
    abort();
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void remove_node(void)
{
    if (!made)
        return;
    node_close(&the_node.n);
    nftw(the_node.dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    made = 0;
}

static int enrol(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    fuzz_node *f = ctx;
    store_unit self = {0}, child = {0};
    store_child ch = {0};
    snprintf(self.name, sizeof self.name, "District 1");
    snprintf(self.level, sizeof self.level, "district");
    snprintf(child.name, sizeof child.name, "Commune 1");
    snprintf(child.parent, sizeof child.parent, FUZZ_SELF);
    snprintf(child.via, sizeof child.via, FUZZ_CHILD);
    child.leaf = true; /* as 'child add' registers it */
    memcpy(ch.pk, f->child.pk, sizeof ch.pk);
    if (store_unit_put(s, txn, FUZZ_SELF, &self, e) ||
        store_unit_put(s, txn, FUZZ_CHILD, &child, e) ||
        store_child_put(s, txn, FUZZ_CHILD, &ch, e))
        return e->code;
    return TS_OK;
}

static int drop_all(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    for (int db = 0; db < DB_COUNT; db++)
        if (store_clear(s, txn, (store_db)db, e))
            return e->code;
    return enrol(s, txn, ctx, e);
}

static void seed_keys(keys_t *k, const char *seed)
{
    crypto_sign_seed_keypair(k->pk, k->sk, (const unsigned char *)seed);
}

fuzz_node *fuzz_node_get(void)
{
    fuzz_node *f = &the_node;
    if (made)
        return f;
    if (sodium_init() < 0)
        die("sodium_init", NULL);
    setenv("TIERSYNC_TODAY", FUZZ_TODAY, 1);
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/tiersync-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir))
        die("mkdtemp", NULL);
    seed_keys(&f->child, FUZZ_CHILD_SEED);
    seed_keys(&f->other, FUZZ_OTHER_SEED);
    ts_config cfg;
    ts_err e = {0};
    char hex[KEYS_PUB_HEX_LEN + 1];
    ts_hex(f->other.pk, sizeof f->other.pk, hex);
    config_defaults(&cfg, f->dir);
    cfg.http[0] = '\0';
    if (config_set(&cfg, "node", "code", FUZZ_SELF, &e) ||
        config_set(&cfg, "node", "name", "District 1", &e) ||
        config_set(&cfg, "node", "level", "district", &e) ||
        config_set(&cfg, "parent", "endpoint", "tcp://127.0.0.1:9", &e) ||
        config_set(&cfg, "parent", "key", hex, &e) || config_write(&cfg, &e))
        die("config", &e);
    keys_t own;
    if (keys_create(&own, f->dir, false, &e))
        die("keys", &e);
    keys_wipe(&own);
    if (node_open(&f->n, f->dir, NODE_OPEN_KEYS, &e))
        die("node_open", &e);
    made = 1;
    atexit(remove_node);
    mdb_env_set_flags(store_env(f->n.store), MDB_NOSYNC, 1);
    if (store_write(f->n.store, enrol, f, &e))
        die("enrol", &e);
    return f;
}

void fuzz_node_reset(fuzz_node *f)
{
    ts_err e = {0};
    if (store_write(f->n.store, drop_all, f, &e))
        die("reset", &e);
}

static void print_problem(void *ctx, bool problem, const char *line)
{
    (void)ctx;
    if (problem)
        fprintf(stderr, "fuzz: verify: %s\n", line);
}

void fuzz_node_check(fuzz_node *f, const char *what)
{
    audit_check_summary sum;
    ts_err e = {0};
    if (audit_check_node(&f->n, NULL, print_problem, NULL, &sum, &e) != TS_OK)
        die("verify", &e);
    if (sum.problems) {
        fprintf(stderr, "fuzz: after %s the store does not add up: %zu problems\n", what,
                sum.problems);
        abort();
    }
}

uint8_t fb_u8(fuzz_bytes *b)
{
    if (!b->n)
        return 0;
    b->n--;
    return *b->p++;
}

uint64_t fb_u64(fuzz_bytes *b)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | fb_u8(b);
    return v;
}

void fb_str(fuzz_bytes *b, char *out, size_t max)
{
    size_t n = fb_u8(b) % (max + 1);
    if (n > b->n)
        n = b->n;
    memcpy(out, b->p, n);
    out[n] = '\0'; /* an embedded NUL just ends the string early */
    b->p += n;
    b->n -= n;
}
