/* catalog_doc.c: signing, checking, keeping and swapping in signed catalog
 * versions (catalog_doc.h). */
#include "catalog_doc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agg.h"
#include "records.h"
#include "util.h"

#define CATDOC_SIG_LINE_MAX 160 /* "name hex" */

static const char *const SIG_NAMES[] = {"root_key", "root_signature", "endorser_key",
                                        "endorsement"};

void catdoc_hash(const uint8_t *data, size_t len, uint8_t out[CATDOC_HASH_BYTES])
{
    crypto_generichash(out, CATDOC_HASH_BYTES, data, len, NULL, 0);
}

/* prefix (with its NUL) || data, for the detached signatures */
static uint8_t *framed(const char *prefix, const uint8_t *data, size_t len, size_t *out_len)
{
    size_t pl = strlen(prefix) + 1;
    uint8_t *m = malloc(pl + len + 1);
    if (!m)
        return NULL;
    memcpy(m, prefix, pl);
    if (len)
        memcpy(m + pl, data, len);
    *out_len = pl + len;
    return m;
}

static void sign_framed(const keys_t *k, const char *prefix, const uint8_t *data, size_t len,
                        uint8_t *sig)
{
    size_t ml;
    uint8_t *m = framed(prefix, data, len, &ml);
    if (!m) {
        memset(sig, 0, crypto_sign_BYTES); /* verifies as nothing */
        return;
    }
    crypto_sign_detached(sig, NULL, m, ml, k->sk);
    free(m);
}

static bool verify_framed(const uint8_t *pk, const char *prefix, const uint8_t *data, size_t len,
                          const uint8_t *sig)
{
    size_t ml;
    uint8_t *m = framed(prefix, data, len, &ml);
    bool ok = m && crypto_sign_verify_detached(sig, m, ml, pk) == 0;
    free(m);
    return ok;
}

void catdoc_root_sign(const keys_t *k, const uint8_t *data, size_t len,
                      uint8_t sig[crypto_sign_BYTES])
{
    sign_framed(k, CATDOC_ROOT_PREFIX, data, len, sig);
}

bool catdoc_root_verify(const uint8_t pk[crypto_sign_PUBLICKEYBYTES], const uint8_t *data,
                        size_t len, const uint8_t sig[crypto_sign_BYTES])
{
    return verify_framed(pk, CATDOC_ROOT_PREFIX, data, len, sig);
}

static void endorse_msg(const uint8_t hash[CATDOC_HASH_BYTES], int version,
                        uint8_t out[CATDOC_HASH_BYTES + 4])
{
    memcpy(out, hash, CATDOC_HASH_BYTES);
    for (int i = 0; i < 4; i++)
        out[CATDOC_HASH_BYTES + i] = (uint8_t)((uint32_t)version >> (24 - 8 * i));
}

void catdoc_endorse(const keys_t *k, const uint8_t hash[CATDOC_HASH_BYTES], int version,
                    uint8_t sig[crypto_sign_BYTES])
{
    uint8_t m[CATDOC_HASH_BYTES + 4];
    endorse_msg(hash, version, m);
    sign_framed(k, CATDOC_ENDORSE_PREFIX, m, sizeof m, sig);
}

bool catdoc_endorse_verify(const uint8_t pk[crypto_sign_PUBLICKEYBYTES],
                           const uint8_t hash[CATDOC_HASH_BYTES], int version,
                           const uint8_t sig[crypto_sign_BYTES])
{
    uint8_t m[CATDOC_HASH_BYTES + 4];
    endorse_msg(hash, version, m);
    return verify_framed(pk, CATDOC_ENDORSE_PREFIX, m, sizeof m, sig);
}

/* ---- files ------------------------------------------------------------ */

static int doc_path(char *out, size_t outsz, const char *dir, const char *name, ts_err *e)
{
    return ts_path(out, outsz, e, "%s/%s/%s", dir, CATDOC_DIR, name);
}

bool catdoc_path(const char *dir, char *out, size_t outsz)
{
    struct stat st;
    return doc_path(out, outsz, dir, CATDOC_FILE, NULL) == TS_OK && stat(out, &st) == 0;
}

bool catdoc_root_key(const char *dir, uint8_t pk[crypto_sign_PUBLICKEYBYTES])
{
    char path[TS_PATH_MAX], *text = NULL;
    bool ok = doc_path(path, sizeof path, dir, CATDOC_ROOT_FILE, NULL) == TS_OK &&
        ts_read_file(path, &text, NULL, NULL) == TS_OK && strlen(text) >= KEYS_PUB_HEX_LEN;
    if (ok) {
        text[KEYS_PUB_HEX_LEN] = '\0';
        ok = keys_parse_public(text, pk, NULL) == TS_OK;
    }
    free(text);
    return ok;
}

static uint8_t *sig_field(catalog_doc *d, int i, size_t *n)
{
    uint8_t *f[] = {d->root_pk, d->root_sig, d->endorser_pk, d->endorsement};
    size_t sz[] = {sizeof d->root_pk, sizeof d->root_sig, sizeof d->endorser_pk,
                   sizeof d->endorsement};
    *n = sz[i];
    return f[i];
}

static int parse_sigs(catalog_doc *d, const char *path, char *text, ts_err *e)
{
    int seen = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *sp = strchr(line, ' ');
        for (int i = 0; sp && i < 4; i++) {
            size_t n;
            uint8_t *f = sig_field(d, i, &n);
            if ((size_t)(sp - line) == strlen(SIG_NAMES[i]) &&
                !strncmp(line, SIG_NAMES[i], (size_t)(sp - line)) && strlen(sp + 1) == 2 * n &&
                ts_unhex(sp + 1, f, n) == 0)
                seen |= 1 << i;
        }
    }
    return seen == 0xf
        ? TS_OK
        : ts_fail(e, TS_EINPUT, "%s: expected the lines %s, %s, %s and %s, each with its hex value",
                  path, SIG_NAMES[0], SIG_NAMES[1], SIG_NAMES[2], SIG_NAMES[3]);
}

int catdoc_load(catalog_doc **out, const char *dir, ts_err *e)
{
    char path[TS_PATH_MAX], spath[TS_PATH_MAX], *text = NULL;
    *out = NULL;
    if (!catdoc_path(dir, path, sizeof path))
        return TS_OK;
    catalog_doc *d = calloc(1, sizeof *d);
    catalog_t *c = NULL;
    if (!d)
        return ts_fail(e, TS_ERUNTIME, "out of memory");
    if (ts_read_file(path, (char **)&d->data, &d->len, e) ||
        doc_path(spath, sizeof spath, dir, CATDOC_SIG_FILE, e) ||
        ts_read_file(spath, &text, NULL, e) || parse_sigs(d, spath, text, e) ||
        catalog_load(&c, path, e)) {
        free(text);
        catdoc_destroy(&d);
        return e->code;
    }
    free(text);
    snprintf(d->id, sizeof d->id, "%s", c->id);
    d->version = c->version;
    catalog_destroy(&c);
    catdoc_hash(d->data, d->len, d->hash);
    *out = d;
    return TS_OK;
}

void catdoc_destroy(catalog_doc **d)
{
    if (!d || !*d)
        return;
    free((*d)->data);
    free(*d);
    *d = NULL;
}

static int write_sigs(const char *dir, const catalog_doc *d, ts_err *e)
{
    char path[TS_PATH_MAX], text[4 * CATDOC_SIG_LINE_MAX] = "";
    size_t len = 0;
    for (int i = 0; i < 4; i++) {
        size_t n;
        char hex[2 * crypto_sign_BYTES + 1];
        const uint8_t *f = sig_field((catalog_doc *)d, i, &n);
        ts_hex(f, n, hex);
        len += (size_t)snprintf(text + len, sizeof text - len, "%s %s\n", SIG_NAMES[i], hex);
    }
    if (doc_path(path, sizeof path, dir, CATDOC_SIG_FILE, e))
        return e->code;
    return ts_write_file(path, text, len, 0644, e);
}

static int write_root(const char *dir, const uint8_t *pk, ts_err *e)
{
    char path[TS_PATH_MAX], hex[KEYS_PUB_HEX_LEN + 2];
    ts_hex(pk, crypto_sign_PUBLICKEYBYTES, hex);
    strcat(hex, "\n");
    if (doc_path(path, sizeof path, dir, CATDOC_ROOT_FILE, e))
        return e->code;
    return ts_write_file(path, hex, strlen(hex), 0644, e);
}

/* The document's own checks: the root key pinned (or to be pinned), the
 * root's signature, the endorsement. */
static int check_signatures(const char *dir, const catalog_doc *doc, ts_err *e)
{
    uint8_t pinned[crypto_sign_PUBLICKEYBYTES];
    char fp[KEYS_FINGERPRINT_LEN], want[KEYS_FINGERPRINT_LEN];
    keys_fingerprint(doc->root_pk, fp);
    if (catdoc_root_key(dir, pinned) && sodium_memcmp(pinned, doc->root_pk, sizeof pinned) != 0) {
        keys_fingerprint(pinned, want);
        return ts_fail(
            e, TS_EINPUT,
            "catalog %s version %d is signed by key %s, not by the root key %s this node pins",
            doc->id, doc->version, fp, want);
    }
    if (!catdoc_root_verify(doc->root_pk, doc->data, doc->len, doc->root_sig))
        return ts_fail(
            e, TS_EINPUT,
            "catalog %s version %d: the root's signature (key %s) does not match the document",
            doc->id, doc->version, fp);
    keys_fingerprint(doc->endorser_pk, fp);
    if (!catdoc_endorse_verify(doc->endorser_pk, doc->hash, doc->version, doc->endorsement))
        return ts_fail(e, TS_EINPUT,
                       "catalog %s version %d: the endorsement by %s is missing or does not match",
                       doc->id, doc->version, fp);
    return TS_OK;
}

int catdoc_accept(node_t *n, const catalog_doc *doc, catalog_t **loaded, ts_err *e)
{
    const char *dir = n->cfg.dir;
    char cdir[TS_PATH_MAX], tmp[TS_PATH_MAX], path[TS_PATH_MAX];
    catalog_t *next = NULL;
    *loaded = NULL;
    if (doc->len > CATDOC_MAX_BYTES)
        return ts_fail(e, TS_EINPUT, "catalog %s version %d: %zu bytes, at most %d", doc->id,
                       doc->version, doc->len, CATDOC_MAX_BYTES);
    if (check_signatures(dir, doc, e))
        return e->code;
    if (ts_path(cdir, sizeof cdir, e, "%s/%s", dir, CATDOC_DIR) ||
        doc_path(tmp, sizeof tmp, dir, CATDOC_FILE ".new", e) ||
        doc_path(path, sizeof path, dir, CATDOC_FILE, e))
        return e->code;
    if (mkdir(cdir, 0755) != 0 && errno != EEXIST)
        return ts_fail(e, TS_ERUNTIME, "cannot create %s: %s", cdir, strerror(errno));
    if (ts_write_file(tmp, doc->data, doc->len, 0644, e))
        return e->code;
    int rc = catalog_load(&next, tmp, e);
    if (rc == TS_OK && (strcmp(next->id, doc->id) != 0 || next->version != doc->version))
        rc = ts_fail(e, TS_EINPUT,
                     "the document is catalog %s version %d, offered as %s version %d", next->id,
                     next->version, doc->id, doc->version);
    if (rc == TS_OK)
        rc = catalog_compat_check(n->catalog, next, e);
    /* the signatures first: a reader of catalog.json always finds its own */
    if (rc == TS_OK && !catdoc_root_key(dir, (uint8_t[crypto_sign_PUBLICKEYBYTES]){0}))
        rc = write_root(dir, doc->root_pk, e);
    if (rc == TS_OK && (rc = write_sigs(dir, doc, e)) == TS_OK && rename(tmp, path) != 0)
        rc = ts_fail(e, TS_ERUNTIME, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    if (rc != TS_OK) {
        unlink(tmp);
        catalog_destroy(&next);
        return rc;
    }
    memcpy(next->path, path, strlen(path) + 1);
    *loaded = next;
    return TS_OK;
}
