/* testutil.c: temp directories, nodes, units, changes, table digests and
 * CURVE sockets for the unit tests (see testutil.h). */
#define _XOPEN_SOURCE 700
#include "testutil.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "delta.h"

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

static int put_units(store_t *s, store_txn *txn, void *vctx, ts_err *e)
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

static int digest_one(const store_val *k, const store_val *v, void *ctx)
{
    uint64_t *h = ctx;
    for (size_t i = 0; i < k->len; i++)
        *h = (*h ^ ((const uint8_t *)k->data)[i]) * 1099511628211ULL;
    for (size_t i = 0; i < v->len; i++)
        *h = (*h ^ ((const uint8_t *)v->data)[i]) * 1099511628211ULL;
    *h = (*h ^ 0xff) * 1099511628211ULL; /* where one entry ends */
    return 0;
}

uint64_t tu_digest_db(node_t *node, store_db db)
{
    store_txn *txn;
    ts_err e = {0};
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    assert_int_equal(store_read_begin(node->store, &txn, &e), TS_OK);
    assert_int_equal(store_scan(node->store, txn, db, NULL, digest_one, &h, NULL, NULL), TS_OK);
    store_read_end(txn);
    return h;
}

void *tu_curve_socket(void *zctx, int type, const keys_t *own, const uint8_t *server_pk)
{
    char pub[KEYS_Z85_LEN], sec[KEYS_Z85_LEN], server[KEYS_Z85_LEN];
    ts_err e = {0};
    int zero = 0, one = 1;
    void *sock = zmq_socket(zctx, type);
    assert_non_null(sock);
    assert_int_equal(keys_curve_public_z85(own->pk, pub, &e), TS_OK);
    assert_int_equal(keys_curve_secret_z85(own, sec, &e), TS_OK);
    assert_int_equal(zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero), 0);
    assert_int_equal(zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, sec, KEYS_Z85_LEN - 1), 0);
    if (!server_pk) {
        assert_int_equal(zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one), 0);
        return sock;
    }
    assert_int_equal(keys_curve_public_z85(server_pk, server, &e), TS_OK);
    assert_int_equal(zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, pub, KEYS_Z85_LEN - 1), 0);
    assert_int_equal(zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server, KEYS_Z85_LEN - 1), 0);
    return sock;
}

const char *tu_endpoint(void *sock)
{
    static char ep[256];
    size_t len = sizeof ep;
    assert_int_equal(zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, ep, &len), 0);
    return ep;
}

void tu_send_envelope(void *sock, const void *id, size_t idlen, const Tiersync__Envelope *env)
{
    uint8_t *buf;
    size_t len;
    wire_pack(env, &buf, &len);
    if (id)
        assert_int_equal(zmq_send(sock, id, idlen, ZMQ_SNDMORE), (int)idlen);
    assert_int_equal(zmq_send(sock, buf, len, 0), (int)len);
    free(buf);
}

Tiersync__Envelope *tu_recv_envelope(void *sock, uint8_t *id, size_t idcap, size_t *idlen,
                                     uint8_t **raw, size_t *rawlen)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&m);
        return NULL;
    }
    if (id) { /* the routing id, then the message */
        assert_true(zmq_msg_size(&m) <= idcap);
        memcpy(id, zmq_msg_data(&m), zmq_msg_size(&m));
        *idlen = zmq_msg_size(&m);
        assert_true(zmq_msg_more(&m));
        assert_true(zmq_msg_recv(&m, sock, 0) >= 0);
    }
    Tiersync__Envelope *env = tiersync__envelope__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
    assert_non_null(env);
    if (raw) {
        *rawlen = zmq_msg_size(&m);
        *raw = malloc(*rawlen);
        memcpy(*raw, zmq_msg_data(&m), *rawlen);
    }
    zmq_msg_close(&m);
    return env;
}

typedef struct {
    const tu_change *c;
    size_t n;
} changes_ctx;

static int apply_changes(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    const changes_ctx *cc = vctx;
    for (size_t i = 0; i < cc->n; i++) {
        const tu_change *c = &cc->c[i];
        ts_cell cell;
        if (cell_set(&cell, c->unit, c->indicator, c->period, c->options, e) ||
            store_apply_cell(s, txn, c->source, &cell, (disclose_fig){c->d, 0}, e))
            return e->code;
    }
    return TS_OK;
}

void tu_apply(node_t *node, const tu_change *changes, size_t n)
{
    changes_ctx cc = {changes, n};
    ts_err e = {0};
    if (store_write(node->store, apply_changes, &cc, &e) != TS_OK)
        fail_msg("applying changes: %s", e.msg);
}

int64_t tu_total(node_t *node, const char *unit, const char *indicator, const char *period,
                 const char *options)
{
    ts_cell c;
    char key[CELL_KEY_MAX];
    ts_err e = {0};
    assert_int_equal(cell_set(&c, unit, indicator, period, options, &e), TS_OK);
    size_t n = cell_key(&c, key);
    store_txn *txn;
    assert_int_equal(store_read_begin(node->store, &txn, &e), TS_OK);
    int64_t v = store_total(node->store, txn, key, n).v;
    store_read_end(txn);
    return v;
}

Tiersync__DeltaBody *tu_delta_body(const Tiersync__Envelope *env, const uint8_t *pk, bool *valid,
                                   uint8_t *hash)
{
    assert_non_null(env);
    assert_int_equal(env->msg_case, TIERSYNC__ENVELOPE__MSG_DELTA);
    const Tiersync__SignedDelta *sd = env->delta;
    *valid = delta_verify(pk, sd->body.data, sd->body.len, sd->signature.data, sd->signature.len);
    if (hash)
        delta_hash(sd->body.data, sd->body.len, hash);
    Tiersync__DeltaBody *b = tiersync__delta_body__unpack(NULL, sd->body.len, sd->body.data);
    assert_non_null(b);
    return b;
}

void tu_cells_text(const Tiersync__DeltaBody *b, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0; i < b->n_cells; i++)
        snprintf(out + strlen(out), cap - strlen(out), "%s%s=%lld", i ? " " : "",
                 b->cells[i]->indicator, (long long)b->cells[i]->value);
}

void tu_node_identity(node_t *n)
{
    crypto_sign_keypair(n->keys.pk, n->keys.sk);
    n->has_keys = true;
    const tu_unit self = {n->cfg.code, "", "", false, false, NULL};
    tu_units_put(n, &self, 1);
}

uint64_t tu_count(node_t *node, store_db db)
{
    store_txn *txn;
    ts_err e = {0};
    assert_int_equal(store_read_begin(node->store, &txn, &e), TS_OK);
    uint64_t c = store_count(node->store, txn, db);
    store_read_end(txn);
    return c;
}

uint64_t tu_meta_u64(node_t *node, const char *key)
{
    store_txn *txn;
    ts_err e = {0};
    assert_int_equal(store_read_begin(node->store, &txn, &e), TS_OK);
    uint64_t v = store_meta_u64(node->store, txn, key);
    store_read_end(txn);
    return v;
}
