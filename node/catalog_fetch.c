/* catalog_fetch.c: the child's half of catalog distribution
 * (catalog_dist.h): fetching an offered version part by part, then checking
 * and adopting it. One fetch at a time; a version refused is remembered by
 * its hash and not fetched again until another is offered. */
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "catalog_dist.h"
#include "delta.h"
#include "log.h"
#include "util.h"
#include "wire_text.h"

struct catdist_fetch {
    char id[CATALOG_NAME_MAX];
    int version; /* 0: no fetch in progress */
    uint8_t hash[CATDOC_HASH_BYTES];
    uint8_t *buf;
    size_t size, got;
    int64_t asked_ms;
    uint8_t refused[CATDOC_HASH_BYTES]; /* the last version refused */
    bool has_refused;
};

catdist_fetch *catdist_fetch_new(void)
{
    catdist_fetch *f = calloc(1, sizeof(catdist_fetch));
    if (!f)
        abort();
    return f;
}

static void reset(catdist_fetch *f)
{
    free(f->buf);
    f->buf = NULL;
    f->version = 0;
    f->size = f->got = 0;
}

void catdist_fetch_destroy(catdist_fetch **f)
{
    if (!f || !*f)
        return;
    reset(*f);
    free(*f);
    *f = NULL;
}

static void pack_fetch(catdist_fetch *f, uint8_t **out, size_t *len)
{
    Tiersync__CatalogFetch q = TIERSYNC__CATALOG_FETCH__INIT;
    Tiersync__Envelope env = TIERSYNC__ENVELOPE__INIT;
    q.id = f->id;
    q.version = (uint32_t)f->version;
    q.offset = f->got;
    env.msg_case = TIERSYNC__ENVELOPE__MSG_CATALOG_FETCH;
    env.catalog_fetch = &q;
    wire_pack(&env, out, len);
    f->asked_ms = ts_mono_ms();
}

void catdist_on_offer(catdist_fetch *f, const node_t *n, const Tiersync__CatalogOffer *o,
                      uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (!o || !o->id || strcmp(o->id, n->catalog->id) != 0 ||
        o->version <= (uint32_t)n->catalog->version || o->version > INT32_MAX ||
        o->hash.len != CATDOC_HASH_BYTES || o->size == 0 || o->size > CATDOC_MAX_BYTES)
        return; /* another catalog, not newer, or not a document we would take */
    if (f->has_refused && !memcmp(f->refused, o->hash.data, CATDOC_HASH_BYTES))
        return;
    if (f->version == (int)o->version && !memcmp(f->hash, o->hash.data, CATDOC_HASH_BYTES)) {
        pack_fetch(f, out, len); /* the same offer again (a reconnection): go on where we were */
        return;
    }
    reset(f);
    f->buf = malloc(o->size);
    if (!f->buf)
        return;
    snprintf(f->id, sizeof f->id, "%s", o->id);
    f->version = (int)o->version;
    memcpy(f->hash, o->hash.data, CATDOC_HASH_BYTES);
    f->size = o->size;
    log_info("catalog %s version %d offered by the parent (%zu bytes); fetching it", f->id,
             f->version, f->size);
    pack_fetch(f, out, len);
}

static void refuse(catdist_fetch *f, const char *why)
{
    log_error("catalog %s version %d refused: %s; keeping the catalog in force", f->id, f->version,
              why);
    memcpy(f->refused, f->hash, CATDOC_HASH_BYTES);
    f->has_refused = true;
    reset(f);
}

static bool blob_is(const ProtobufCBinaryData *b, size_t n)
{
    return b->len == n && b->data;
}

/* The whole document is here: check and adopt it. */
static void adopt(catdist_fetch *f, node_t *n, const uint8_t *parent_pk,
                  const Tiersync__CatalogChunk *c)
{
    catalog_doc d = {0};
    catalog_t *loaded = NULL;
    ts_err e = {0};
    if (!blob_is(&c->root_key, sizeof d.root_pk) ||
        !blob_is(&c->root_signature, sizeof d.root_sig) ||
        !blob_is(&c->endorsement, sizeof d.endorsement)) {
        refuse(f, "its signatures are missing or of the wrong size");
        return;
    }
    snprintf(d.id, sizeof d.id, "%s", f->id);
    d.version = f->version;
    d.data = f->buf;
    d.len = f->size;
    catdoc_hash(d.data, d.len, d.hash);
    memcpy(d.root_pk, c->root_key.data, sizeof d.root_pk);
    memcpy(d.root_sig, c->root_signature.data, sizeof d.root_sig);
    memcpy(d.endorser_pk, parent_pk, sizeof d.endorser_pk);
    memcpy(d.endorsement, c->endorsement.data, sizeof d.endorsement);
    if (memcmp(d.hash, f->hash, CATDOC_HASH_BYTES) != 0) {
        refuse(f, "the document received does not have the hash offered");
        return;
    }
    if (catdoc_accept(n, &d, &loaded, &e) != TS_OK) {
        refuse(f, e.msg);
        return;
    }
    catalog_destroy(&loaded); /* catdist_refresh loads it again, once, from its place */
    if (catdist_refresh(n, &e) != TS_OK)
        log_error("catalog %s version %d: %s", f->id, f->version, e.msg);
    reset(f);
}

void catdist_on_chunk(catdist_fetch *f, node_t *n,
                      const uint8_t parent_pk[crypto_sign_PUBLICKEYBYTES],
                      const Tiersync__CatalogChunk *c, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (!f->version || !c->id || strcmp(c->id, f->id) != 0 || c->version != (uint32_t)f->version ||
        c->size != f->size || c->offset != f->got || c->data.len == 0 ||
        c->data.len > f->size - f->got)
        return; /* not the part we asked for (a late answer): the timeout asks again */
    memcpy(f->buf + f->got, c->data.data, c->data.len);
    f->got += c->data.len;
    if (f->got < f->size)
        pack_fetch(f, out, len);
    else
        adopt(f, n, parent_pk, c);
}

/* Sends a message made here, if any, and frees it. */
static void send_on(void *dealer, uint8_t *msg, size_t len)
{
    if (msg && dealer)
        zmq_send(dealer, msg, len, ZMQ_DONTWAIT);
    free(msg);
}

bool catdist_from_parent(catdist_fetch *f, node_t *n, void *dealer,
                         const uint8_t parent_pk[crypto_sign_PUBLICKEYBYTES],
                         const Tiersync__Envelope *env, const uint8_t *data, size_t len)
{
    const Tiersync__CatalogOffer *o = NULL;
    const Tiersync__CatalogChunk *c = NULL;
    if (env->msg_case == TIERSYNC__ENVELOPE__MSG_WELCOME)
        o = env->welcome->catalog;
    else if (env->msg_case == TIERSYNC__ENVELOPE__MSG_CATALOG_OFFER)
        o = env->catalog_offer;
    else if (env->msg_case == TIERSYNC__ENVELOPE__MSG_CATALOG_CHUNK)
        c = env->catalog_chunk;
    else
        return false;
    /* an id is compared as a C string: it must be all of the field */
    bool text = (o || c) && wire_text_ok(&tiersync__envelope__descriptor, data, len, NULL);
    uint8_t *msg = NULL;
    size_t mlen = 0;
    if (o)
        catdist_on_offer(f, n, text ? o : NULL, &msg, &mlen);
    else if (c && text)
        catdist_on_chunk(f, n, parent_pk, c, &msg, &mlen);
    send_on(dealer, msg, mlen);
    return env->msg_case != TIERSYNC__ENVELOPE__MSG_WELCOME;
}

void catdist_fetch_tick(catdist_fetch *f, void *dealer)
{
    uint8_t *msg = NULL;
    size_t len = 0;
    if (f->version && ts_mono_ms() - f->asked_ms >= CATDIST_FETCH_TIMEOUT_MS)
        pack_fetch(f, &msg, &len);
    send_on(dealer, msg, len);
}
