/* catalog_dist.c: the parent's half of catalog distribution and the
 * daemon's refresh (catalog_dist.h); the child's half is catalog_fetch.c. */
#include "catalog_dist.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zmq.h>

#include "delta.h"
#include "log.h"
#include "util.h"
#include "wire_text.h"

/* An Envelope is one field of its oneof: its first byte is that field's
 * tag, (field number << 3) | 2 for a length-delimited message. */
#define CATDIST_FETCH_TAG ((TIERSYNC__ENVELOPE__MSG_CATALOG_FETCH << 3) | 2)

struct catdist_route {
    uint8_t len;
    uint8_t id[CATDIST_ROUTE_MAX];
};

bool catdist_offer_fill(const node_t *n, Tiersync__CatalogOffer *o)
{
    const catalog_doc *d = n->catdoc;
    if (!d)
        return false;
    tiersync__catalog_offer__init(o);
    o->id = (char *)d->id;
    o->version = (uint32_t)d->version;
    o->hash = (ProtobufCBinaryData){CATDOC_HASH_BYTES, (uint8_t *)d->hash};
    o->size = d->len;
    return true;
}

void catdist_offer_pack(const node_t *n, uint8_t **out, size_t *len)
{
    Tiersync__CatalogOffer o;
    Tiersync__Envelope env = TIERSYNC__ENVELOPE__INIT;
    *out = NULL;
    *len = 0;
    if (!catdist_offer_fill(n, &o))
        return;
    env.msg_case = TIERSYNC__ENVELOPE__MSG_CATALOG_OFFER;
    env.catalog_offer = &o;
    wire_pack(&env, out, len);
}

bool catdist_is_fetch(const uint8_t *data, size_t len)
{
    return len > 0 && data[0] == CATDIST_FETCH_TAG;
}

static size_t chunk_bytes(const node_t *n)
{
    size_t max = (size_t)n->cfg.max_msg_bytes;
    return max > CATDIST_CHUNK_MIN + CATDIST_CHUNK_OVERHEAD ? max - CATDIST_CHUNK_OVERHEAD : CATDIST_CHUNK_MIN;
}

void catdist_answer(const node_t *n, const uint8_t *data, size_t len, uint8_t **out, size_t *outlen,
                    const char **why)
{
    *out = NULL;
    *outlen = 0;
    *why = NULL;
    Tiersync__Envelope *env = tiersync__envelope__unpack(NULL, len, data);
    const catalog_doc *d = n->catdoc;
    if (!env || env->msg_case != TIERSYNC__ENVELOPE__MSG_CATALOG_FETCH ||
        !wire_text_ok(&tiersync__envelope__descriptor, data, len, NULL)) {
        *why = "undecodable catalog fetch, or one whose id is not text";
    } else if (!d) {
        *why = "a catalog fetch, and this node holds no signed catalog";
    } else if (strcmp(env->catalog_fetch->id, d->id) != 0 || env->catalog_fetch->version != (uint32_t)d->version ||
               env->catalog_fetch->offset >= d->len) {
        catdist_offer_pack(n, out, outlen); /* not what we hold: say what we do */
    } else {
        uint8_t endorsement[crypto_sign_BYTES];
        size_t off = (size_t)env->catalog_fetch->offset, take = d->len - off;
        if (take > chunk_bytes(n))
            take = chunk_bytes(n);
        catdoc_endorse(&n->keys, d->hash, d->version, endorsement);
        Tiersync__CatalogChunk c = TIERSYNC__CATALOG_CHUNK__INIT;
        c.id = (char *)d->id;
        c.version = (uint32_t)d->version;
        c.size = d->len;
        c.offset = off;
        c.data = (ProtobufCBinaryData){take, d->data + off};
        c.root_key = (ProtobufCBinaryData){sizeof d->root_pk, (uint8_t *)d->root_pk};
        c.root_signature = (ProtobufCBinaryData){sizeof d->root_sig, (uint8_t *)d->root_sig};
        c.endorsement = (ProtobufCBinaryData){sizeof endorsement, endorsement};
        Tiersync__Envelope r = TIERSYNC__ENVELOPE__INIT;
        r.msg_case = TIERSYNC__ENVELOPE__MSG_CATALOG_CHUNK;
        r.catalog_chunk = &c;
        wire_pack(&r, out, outlen);
    }
    if (env)
        tiersync__envelope__free_unpacked(env, NULL);
}

void catdist_serve(const node_t *n, void *router, const void *id, size_t idlen, const uint8_t *data, size_t len,
                   const char *child, log_limit *limits)
{
    uint8_t *out;
    size_t outlen;
    const char *why;
    catdist_answer(n, data, len, &out, &outlen, &why);
    if (why)
        log_limited(limits, child, LOG_WARN, "child %s: %s", child, why);
    if (out && zmq_send(router, id, idlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0)
        zmq_send(router, out, outlen, ZMQ_DONTWAIT);
    free(out);
}

/* ---- offering to the children ---- */

void catdist_routes_init(catdist_routes *r, const node_t *n)
{
    memset(r, 0, sizeof *r);
    hmap_str_init(&r->index);
    r->offered = n->catdoc ? n->catdoc->version : 0;
}

void catdist_routes_free(catdist_routes *r)
{
    hmap_str_free(&r->index);
    free(r->slots);
    memset(r, 0, sizeof *r);
}

void catdist_routes_note(catdist_routes *r, const char *child, const void *id, size_t idlen)
{
    if (idlen == 0 || idlen > CATDIST_ROUTE_MAX)
        return;
    size_t k = hmap_str_put(&r->index, child, strlen(child), 0, NULL);
    if (k >= r->nslots) {
        size_t cap = r->nslots ? 2 * r->nslots : 64;
        while (cap <= k)
            cap *= 2;
        struct catdist_route *s = realloc(r->slots, cap * sizeof *s);
        if (!s)
            return;
        memset(s + r->nslots, 0, (cap - r->nslots) * sizeof *s);
        r->slots = s;
        r->nslots = cap;
    }
    r->slots[k].len = (uint8_t)idlen;
    memcpy(r->slots[k].id, id, idlen);
}

void catdist_routes_offer(catdist_routes *r, const node_t *n, void *router)
{
    if (!n->catdoc || n->catdoc->version == r->offered)
        return;
    r->offered = n->catdoc->version;
    uint8_t *msg;
    size_t len;
    catdist_offer_pack(n, &msg, &len);
    size_t sent = 0;
    for (size_t k = 0; msg && k < r->index.n && k < r->nslots; k++) {
        /* a child gone since is not an error: its next Welcome offers it */
        if (zmq_send(router, r->slots[k].id, r->slots[k].len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
            continue;
        sent += zmq_send(router, msg, len, ZMQ_DONTWAIT) >= 0;
    }
    free(msg);
    log_info("catalog %s version %d offered to %zu connected children", n->catdoc->id, n->catdoc->version, sent);
}

/* ---- the daemon ---- */

int catdist_refresh(node_t *n, ts_err *e)
{
    catalog_doc *doc = NULL;
    catalog_t *next = NULL;
    char path[TS_PATH_MAX];
    if (catdoc_load(&doc, n->cfg.dir, e))
        return e->code;
    if (!doc)
        return TS_OK;
    if (n->catdoc && n->catdoc->version == doc->version && !memcmp(n->catdoc->hash, doc->hash, CATDOC_HASH_BYTES)) {
        catdoc_destroy(&doc);
        return TS_OK;
    }
    if (doc->version > n->catalog->version || strcmp(doc->id, n->catalog->id) != 0) {
        if (!catdoc_path(n->cfg.dir, path, sizeof path) || catalog_load(&next, path, e) ||
            catalog_compat_check(n->catalog, next, e) || catdoc_swap(n, next, e)) {
            catalog_destroy(&next);
            catdoc_destroy(&doc);
            return e->code ? e->code : TS_EINPUT;
        }
        log_info("catalog %s version %d in force", doc->id, doc->version);
    }
    catdoc_destroy(&n->catdoc);
    n->catdoc = doc;
    return TS_OK;
}

void catdist_watch_tick(catdist_watch *w, node_t *n)
{
    int64_t now = ts_mono_ms();
    char path[TS_PATH_MAX];
    struct stat st;
    if (now < w->next_ms)
        return;
    w->next_ms = now + CATDIST_WATCH_MS;
    if (!catdoc_path(n->cfg.dir, path, sizeof path) || stat(path, &st) != 0)
        return;
    long long mt = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    if (mt == w->mtime_ns && (long long)st.st_size == w->size && (long long)st.st_ino == w->ino)
        return;
    ts_err e = {0};
    if (catdist_refresh(n, &e) != TS_OK)
        log_error("catalog: %s; keeping catalog %s version %d", e.msg, n->catalog->id, n->catalog->version);
    w->mtime_ns = mt, w->size = (long long)st.st_size, w->ino = (long long)st.st_ino;
}
