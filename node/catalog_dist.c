/* catalog_dist.c: the parent's half of catalog distribution and the
 * daemon's refresh (catalog_dist.h); the child's half is catalog_fetch.c. */
#include "catalog_dist.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zmq.h>

#include "delta.h"
#include "log.h"
#include "rotate_node.h"
#include "util.h"
#include "wire_text.h"

/* An Envelope is one field of its oneof: its first byte is that field's
 * tag, (field number << 3) | 2 for a length-delimited message. */
#define CATDIST_FETCH_TAG ((TIERSYNC__ENVELOPE__MSG_CATALOG_FETCH << 3) | 2)

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

static size_t chunk_bytes(const node_t *n)
{
    size_t max = (size_t)n->cfg.max_msg_bytes;
    return max > CATDIST_CHUNK_MIN + CATDIST_CHUNK_OVERHEAD ? max - CATDIST_CHUNK_OVERHEAD
                                                            : CATDIST_CHUNK_MIN;
}

void catdist_answer(const node_t *n, const keys_t *endorser, const uint8_t *data, size_t len,
                    uint8_t **out, size_t *outlen, const char **why)
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
    } else if (strcmp(env->catalog_fetch->id, d->id) != 0 ||
               env->catalog_fetch->version != (uint32_t)d->version ||
               env->catalog_fetch->offset >= d->len) {
        catdist_offer_pack(n, out, outlen); /* not what we hold: say what we do */
    } else {
        uint8_t endorsement[crypto_sign_BYTES];
        size_t off = (size_t)env->catalog_fetch->offset, take = d->len - off;
        if (take > chunk_bytes(n))
            take = chunk_bytes(n);
        catdoc_endorse(endorser, d->hash, d->version, endorsement);
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

bool catdist_serve(node_t *n, void *router, zmq_msg_t *id, const uint8_t *data, size_t len,
                   const char *child, log_limit *limits)
{
    if (len == 0 || data[0] != CATDIST_FETCH_TAG)
        return false;
    uint8_t *out;
    size_t outlen;
    const char *why;
    catdist_answer(n, rotate_serving_keys(n), data, len, &out, &outlen, &why);
    if (why)
        log_limited(limits, child, LOG_WARN, "child %s: %s", child, why);
    if (out &&
        zmq_send(router, zmq_msg_data(id), zmq_msg_size(id), ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0)
        zmq_send(router, out, outlen, ZMQ_DONTWAIT);
    free(out);
    return true;
}

/* ---- offering to the children ---- */

void catdist_offer_children(int *offered, const node_t *n, const hub_conns *conns, void *router)
{
    if (!n->catdoc || n->catdoc->version == *offered)
        return;
    *offered = n->catdoc->version;
    uint8_t *msg;
    size_t len;
    catdist_offer_pack(n, &msg, &len);
    /* a child not connected now has the offer in its next Welcome */
    size_t sent = msg ? hub_conns_send(conns, router, msg, len, NULL, NULL) : 0;
    free(msg);
    log_info("catalog %s version %d offered to %zu connected children", n->catdoc->id,
             n->catdoc->version, sent);
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
    if (n->catdoc && n->catdoc->version == doc->version &&
        !memcmp(n->catdoc->hash, doc->hash, CATDOC_HASH_BYTES)) {
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
        log_error("catalog: %s; keeping catalog %s version %d", e.msg, n->catalog->id,
                  n->catalog->version);
    w->mtime_ns = mt, w->size = (long long)st.st_size, w->ino = (long long)st.st_ino;
}
