/* invite.c: the invitation's text form, its key, and the parent's records
 * of the invitations it made (see invite.h). */
#include "invite.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INVITE_PAYLOAD_MAX                                                        \
    (crypto_sign_PUBLICKEYBYTES + INVITE_SECRET_BYTES + 2 + 1 + TS_CODE_MAX + 1 + \
     CONFIG_ENDPOINT_MAX + INVITE_CHECK_BYTES)

static const char b32_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

/* Base32 of in[0..n) into out (NUL-terminated; 8n/5 + 2 bytes suffice). */
static void b32_encode(const uint8_t *in, size_t n, char *out)
{
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        acc = acc << 8 | in[i];
        for (bits += 8; bits >= 5; bits -= 5)
            *out++ = b32_alphabet[(acc >> (bits - 5)) & 31];
    }
    if (bits)
        *out++ = b32_alphabet[(acc << (5 - bits)) & 31];
    *out = '\0';
}

/* Decodes base32 (either case) into out (max bytes); returns the length, or
 * -1 for a character outside the alphabet or too long an input, -2 for an
 * end no encoder writes (a changed or cut last letter). */
static long b32_decode(const char *in, size_t len, uint8_t *out, size_t max)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int c = tolower((unsigned char)in[i]);
        const char *p = c ? strchr(b32_alphabet, c) : NULL;
        if (!p)
            return -1;
        acc = acc << 5 | (uint32_t)(p - b32_alphabet);
        if ((bits += 5) >= 8) {
            if (n == max)
                return -1;
            out[n++] = (uint8_t)(acc >> (bits - 8));
            bits -= 8;
        }
    }
    /* only the encoder's form: a leftover under 5 bits, all zero, so that
     * every letter counts and a changed last letter is caught */
    if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0)
        return -2;
    return (long)n;
}

static void check_of(const uint8_t *p, size_t n, uint8_t out[INVITE_CHECK_BYTES])
{
    uint8_t h[crypto_generichash_BYTES];
    crypto_generichash(h, sizeof h, p, n, NULL, 0);
    memcpy(out, h, INVITE_CHECK_BYTES);
}

void invite_encode(const invite_t *iv, char out[INVITE_TEXT_MAX])
{
    uint8_t p[INVITE_PAYLOAD_MAX];
    size_t n = 0, lc = strlen(iv->code), le = strlen(iv->endpoint);
    memcpy(p, iv->parent_pk, sizeof iv->parent_pk), n += sizeof iv->parent_pk;
    memcpy(p + n, iv->secret, sizeof iv->secret), n += sizeof iv->secret;
    p[n++] = (uint8_t)(iv->join_port >> 8), p[n++] = (uint8_t)iv->join_port;
    p[n++] = (uint8_t)lc, memcpy(p + n, iv->code, lc), n += lc;
    p[n++] = (uint8_t)le, memcpy(p + n, iv->endpoint, le), n += le;
    check_of(p, n, p + n), n += INVITE_CHECK_BYTES;
    strcpy(out, INVITE_PREFIX);
    b32_encode(p, n, out + strlen(INVITE_PREFIX));
    sodium_memzero(p, sizeof p);
}

/* Copies a length-prefixed string at p[*at] into out (outsz with its NUL). */
static bool take_str(const uint8_t *p, size_t n, size_t *at, char *out, size_t outsz)
{
    if (*at >= n || p[*at] >= outsz || *at + 1 + p[*at] > n)
        return false;
    size_t l = p[(*at)++];
    memcpy(out, p + *at, l);
    out[l] = '\0';
    *at += l;
    return strlen(out) == l;
}

static int parse_payload(const uint8_t *p, size_t n, invite_t *iv, ts_err *e)
{
    const size_t fixed = sizeof iv->parent_pk + sizeof iv->secret + 2;
    size_t at = fixed;
    if (n < fixed || !take_str(p, n, &at, iv->code, sizeof iv->code) ||
        !take_str(p, n, &at, iv->endpoint, sizeof iv->endpoint) || at != n)
        return ts_fail(e, TS_EINPUT, "the invitation is not complete: copy the whole line again");
    memcpy(iv->parent_pk, p, sizeof iv->parent_pk);
    memcpy(iv->secret, p + sizeof iv->parent_pk, sizeof iv->secret);
    iv->join_port = (uint16_t)(p[fixed - 2] << 8 | p[fixed - 1]);
    uint8_t curve[crypto_scalarmult_curve25519_BYTES];
    if (!ts_code_valid(iv->code) || iv->join_port == 0 || strncmp(iv->endpoint, "tcp://", 6) != 0 ||
        crypto_sign_ed25519_pk_to_curve25519(curve, iv->parent_pk) != 0)
        return ts_fail(e, TS_EINPUT,
                       "the invitation holds an invalid code, endpoint or key; "
                       "ask the parent's operator for a new one");
    return TS_OK;
}

int invite_decode(const char *text, invite_t *iv, ts_err *e)
{
    memset(iv, 0, sizeof *iv);
    while (isspace((unsigned char)*text))
        text++;
    size_t len = strlen(text), pl = strlen(INVITE_PREFIX);
    while (len && isspace((unsigned char)text[len - 1]))
        len--;
    if (len >= 6 && strncmp(text, "tsinv", 5) == 0 && strncmp(text, INVITE_PREFIX, pl) != 0)
        return ts_fail(e, TS_EINPUT,
                       "this invitation is of another version than this tiersync "
                       "reads (%s...): update tiersync or ask for a new invitation",
                       INVITE_PREFIX);
    if (len < pl || strncmp(text, INVITE_PREFIX, pl) != 0)
        return ts_fail(e, TS_EINPUT,
                       "not a tiersync invitation: it starts with %s (as printed "
                       "by 'tiersync child invite' at the parent)",
                       INVITE_PREFIX);
    uint8_t p[INVITE_PAYLOAD_MAX], check[INVITE_CHECK_BYTES];
    long n = b32_decode(text + pl, len - pl, p, sizeof p);
    if (n == -2)
        return ts_fail(e, TS_EINPUT,
                       "the invitation is mistyped or cut (its last letters do "
                       "not fit): copy the whole line again");
    if (n < 0)
        return ts_fail(e, TS_EINPUT,
                       "the invitation holds a character that cannot be in one "
                       "(after %s only letters and the digits 2-7): copy it again",
                       INVITE_PREFIX);
    int rc = TS_OK;
    if (n <= INVITE_CHECK_BYTES)
        rc = ts_fail(e, TS_EINPUT, "the invitation is too short: copy the whole line again");
    else if (check_of(p, (size_t)n - INVITE_CHECK_BYTES, check),
             sodium_memcmp(check, p + n - INVITE_CHECK_BYTES, sizeof check) != 0)
        rc = ts_fail(e, TS_EINPUT,
                     "the invitation is mistyped or cut (its check does not "
                     "match): copy the whole line again");
    else
        rc = parse_payload(p, (size_t)n - INVITE_CHECK_BYTES, iv, e);
    sodium_memzero(p, sizeof p);
    if (rc)
        sodium_memzero(iv, sizeof *iv);
    return rc;
}

void invite_key(const uint8_t secret[INVITE_SECRET_BYTES], uint8_t pk[crypto_sign_PUBLICKEYBYTES],
                uint8_t *sk)
{
    uint8_t seed[crypto_sign_SEEDBYTES], skbuf[crypto_sign_SECRETKEYBYTES];
    crypto_generichash(seed, sizeof seed, secret, INVITE_SECRET_BYTES,
                       (const uint8_t *)INVITE_KEY_DOMAIN, strlen(INVITE_KEY_DOMAIN));
    crypto_sign_seed_keypair(pk, sk ? sk : skbuf, seed);
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(skbuf, sizeof skbuf);
}

/* Splits "tcp://HOST:PORT" (HOST may be [IPv6]) at its last colon. */
static int split_tcp(const char *ep, const char *what, size_t *hostlen, unsigned *port, ts_err *e)
{
    const char *colon = strrchr(ep, ':');
    char *end;
    unsigned long p = colon ? strtoul(colon + 1, &end, 10) : 0;
    if (strncmp(ep, "tcp://", 6) != 0 || !colon || colon <= ep + 6 || !colon[1] || *end || p == 0 ||
        p > 65535)
        return ts_fail(e, TS_EINPUT, "%s = '%s' is not tcp://HOST:PORT", what, ep);
    *hostlen = (size_t)(colon - ep);
    *port = (unsigned)p;
    return TS_OK;
}

static bool wildcard_host(const char *ep, size_t hostlen)
{
    static const char *const any[] = {"tcp://*", "tcp://0.0.0.0", "tcp://[::]", "tcp://::"};
    for (size_t i = 0; i < sizeof any / sizeof any[0]; i++)
        if (hostlen == strlen(any[i]) && strncmp(ep, any[i], hostlen) == 0)
            return true;
    return false;
}

int invite_dialable(const char *ep, const char *what, ts_err *e)
{
    size_t hl = 0;
    unsigned port;
    if (strlen(ep) >= CONFIG_ENDPOINT_MAX)
        return ts_fail(e, TS_EINPUT, "%s is longer than %d bytes", what, CONFIG_ENDPOINT_MAX - 1);
    if (split_tcp(ep, what, &hl, &port, e))
        return e->code;
    if (wildcard_host(ep, hl))
        return ts_fail(e, TS_EINPUT, "%s = '%s' names no address a child can dial", what, ep);
    return TS_OK;
}

int invite_endpoints(const ts_config *c, char advertise[CONFIG_ENDPOINT_MAX],
                     char join_listen[CONFIG_ENDPOINT_MAX], uint16_t *join_port, ts_err *e)
{
    size_t hl;
    unsigned port;
    if (!c->listen[0])
        return ts_fail(e, TS_EINPUT,
                       "this node takes no children: set listen.endpoint in %s "
                       "first",
                       CONFIG_FILE);
    if (split_tcp(c->listen, "listen.endpoint", &hl, &port, e))
        return e->code;
    if (c->join_listen[0]) {
        snprintf(join_listen, CONFIG_ENDPOINT_MAX, "%s", c->join_listen);
    } else if (port == 65535) {
        return ts_fail(e, TS_EINPUT, "listen.endpoint's port is 65535: set join.listen");
    } else if (snprintf(join_listen, CONFIG_ENDPOINT_MAX, "%.*s:%u", (int)hl, c->listen,
                        port + 1) >= CONFIG_ENDPOINT_MAX) {
        return ts_fail(e, TS_EINPUT, "listen.endpoint is too long to derive join.listen");
    }
    if (split_tcp(join_listen, "join.listen", &hl, &port, e))
        return e->code;
    *join_port = (uint16_t)port;
    snprintf(advertise, CONFIG_ENDPOINT_MAX, "%s",
             c->join_advertise[0] ? c->join_advertise : c->listen);
    if (split_tcp(advertise, c->join_advertise[0] ? "join.advertise" : "listen.endpoint", &hl,
                  &port, e))
        return e->code;
    if (wildcard_host(advertise, hl))
        return ts_fail(e, TS_EINPUT,
                       "listen.endpoint %s names no address a child can dial: "
                       "set join.advertise = tcp://HOST:PORT (this node's address as children "
                       "reach it) in %s",
                       advertise, CONFIG_FILE);
    return TS_OK;
}

int invite_join_endpoint(const invite_t *iv, char out[CONFIG_ENDPOINT_MAX], ts_err *e)
{
    size_t hl = 0; /* set by split_tcp; gcc -O3 cannot see it */
    unsigned port;
    if (split_tcp(iv->endpoint, "the invitation's endpoint", &hl, &port, e))
        return e->code;
    snprintf(out, CONFIG_ENDPOINT_MAX, "%.*s:%u", (int)hl, iv->endpoint, iv->join_port);
    return TS_OK;
}

int invite_make(const node_t *n, const char *code, const char *name, int64_t ttl_s, invite_t *iv,
                invite_record *rec, ts_err *e)
{
    char join_listen[CONFIG_ENDPOINT_MAX];
    memset(iv, 0, sizeof *iv);
    memset(rec, 0, sizeof *rec);
    if (!ts_code_valid(code))
        return ts_fail(e, TS_EINPUT, "'%s' is not a valid org-unit code", code);
    if (!strcmp(code, n->cfg.code))
        return ts_fail(e, TS_EINPUT, "%s is this node's own code, not a child", code);
    if (name && strlen(name) >= sizeof rec->name)
        return ts_fail(e, TS_EINPUT, "the name of %s is too long (at most %zu bytes)", code,
                       sizeof rec->name - 1);
    if (ttl_s <= 0 || ttl_s > INVITE_MAX_TTL_S)
        return ts_fail(e, TS_EINPUT, "an invitation lasts from 1 second to 365 days");
    if (invite_endpoints(&n->cfg, iv->endpoint, join_listen, &iv->join_port, e))
        return e->code;
    memcpy(iv->parent_pk, n->keys.pk, sizeof iv->parent_pk);
    snprintf(iv->code, sizeof iv->code, "%s", code);
    randombytes_buf(iv->secret, sizeof iv->secret);
    invite_key(iv->secret, rec->verifier, NULL);
    snprintf(rec->name, sizeof rec->name, "%s", name ? name : "");
    rec->created_ms = ts_now_ms();
    rec->expires_ms = rec->created_ms + ttl_s * 1000;
    rec->state = INVITE_OPEN;
    return TS_OK;
}

int invite_get(store_t *s, store_txn *txn, const char *code, invite_record *rec)
{
    store_val v;
    if (store_get(s, txn, DB_INVITES, code, strlen(code), &v, NULL) != TS_OK ||
        v.len != sizeof *rec)
        return TS_ENOTFOUND;
    memcpy(rec, v.data, sizeof *rec);
    return TS_OK;
}

int invite_put(store_t *s, store_txn *txn, const char *code, const invite_record *rec, ts_err *e)
{
    return store_put(s, txn, DB_INVITES, code, strlen(code), rec, sizeof *rec, e);
}

bool invite_usable(const invite_record *rec, int64_t now_ms)
{
    return rec->state == INVITE_OPEN && now_ms < rec->expires_ms;
}

static int count_one(const store_val *k, const store_val *v, void *ctx)
{
    (void)k;
    uint64_t *c = ctx;
    invite_record rec;
    if (v->len == sizeof rec) {
        memcpy(&rec, v->data, sizeof rec);
        c[0] += invite_usable(&rec, (int64_t)c[1]);
    }
    return 0;
}

int invite_count_usable(store_t *s, store_txn *txn, int64_t now_ms, uint64_t *n, ts_err *e)
{
    uint64_t c[2] = {0, (uint64_t)now_ms};
    int rc = store_scan(s, txn, DB_INVITES, NULL, count_one, c, NULL, e);
    *n = c[0];
    return rc;
}
