/* session.c: login sessions and the failed-login throttle (session.h), in
 * two small fixed arrays under one mutex: HTTP connections are served by
 * libmicrohttpd's thread while the CLI never sees them. */
#include "session.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "util.h"

typedef struct {
    bool live;
    uint8_t id_hash[crypto_generichash_BYTES];
    session_info info;
} session_slot;

struct session_table {
    pthread_mutex_t mu;
    int idle_s;
    uint8_t csrf_key[crypto_generichash_KEYBYTES]; /* CSRF token = BLAKE2b(key, session id) */
    session_slot s[SESSION_MAX];
    backoff_slot th[SESSION_THROTTLE_MAX];
};

session_table *session_new(int idle_s)
{
    if (sodium_init() < 0)
        return NULL;
    session_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    pthread_mutex_init(&t->mu, NULL);
    t->idle_s = idle_s;
    randombytes_buf(t->csrf_key, sizeof t->csrf_key);
    return t;
}

void session_destroy(session_table **t)
{
    if (!t || !*t)
        return;
    pthread_mutex_destroy(&(*t)->mu);
    sodium_memzero(*t, sizeof **t);
    free(*t);
    *t = NULL;
}

static void hash_token(const uint8_t *tok, size_t n, uint8_t out[crypto_generichash_BYTES])
{
    crypto_generichash(out, crypto_generichash_BYTES, tok, n, NULL, 0);
}

/* The hash of a hex token; false when it is not SESSION_ID_BYTES of hex. */
static bool hash_hex(const char *hex, uint8_t out[crypto_generichash_BYTES])
{
    uint8_t raw[SESSION_ID_BYTES];
    if (!hex || strlen(hex) != 2 * SESSION_ID_BYTES || ts_unhex(hex, raw, sizeof raw) != 0)
        return false;
    hash_token(raw, sizeof raw, out);
    return true;
}

/* The CSRF token of the session whose raw id is raw, as hex. */
static void csrf_of(const session_table *t, const uint8_t raw[SESSION_ID_BYTES],
                    char hex[SESSION_TOKEN_HEX])
{
    uint8_t tok[SESSION_ID_BYTES];
    crypto_generichash(tok, sizeof tok, raw, SESSION_ID_BYTES, t->csrf_key, sizeof t->csrf_key);
    ts_hex(tok, sizeof tok, hex);
}

void session_create(session_table *t, const char *user, users_role role, int64_t now_ms,
                    char id[SESSION_TOKEN_HEX], char csrf[SESSION_TOKEN_HEX])
{
    pthread_mutex_lock(&t->mu);
    int pick = 0;
    for (int i = 0; i < SESSION_MAX; i++) {
        session_slot *s = &t->s[i];
        if (!s->live || now_ms - s->info.last_ms > (int64_t)t->idle_s * 1000) {
            pick = i;
            break;
        }
        if (s->info.last_ms < t->s[pick].info.last_ms)
            pick = i; /* full: the longest idle one makes room */
    }
    session_slot *s = &t->s[pick];
    memset(s, 0, sizeof *s);
    uint8_t raw[SESSION_ID_BYTES];
    randombytes_buf(raw, sizeof raw);
    ts_hex(raw, sizeof raw, id);
    hash_token(raw, sizeof raw, s->id_hash);
    csrf_of(t, raw, csrf);
    sodium_memzero(raw, sizeof raw);
    snprintf(s->info.user, sizeof s->info.user, "%s", user);
    s->info.role = role;
    s->info.created_ms = s->info.last_ms = now_ms;
    s->live = true;
    pthread_mutex_unlock(&t->mu);
}

/* The live slot of id, or NULL (caller holds the lock). */
static session_slot *find(session_table *t, const char *id)
{
    uint8_t h[crypto_generichash_BYTES];
    if (!hash_hex(id, h))
        return NULL;
    for (int i = 0; i < SESSION_MAX; i++)
        if (t->s[i].live && sodium_memcmp(t->s[i].id_hash, h, sizeof h) == 0)
            return &t->s[i];
    return NULL;
}

bool session_get(session_table *t, const char *id, int64_t now_ms, session_info *out)
{
    pthread_mutex_lock(&t->mu);
    session_slot *s = find(t, id);
    if (s && now_ms - s->info.last_ms > (int64_t)t->idle_s * 1000) {
        memset(s, 0, sizeof *s);
        s = NULL;
    }
    if (s) {
        s->info.last_ms = now_ms;
        *out = s->info;
    }
    pthread_mutex_unlock(&t->mu);
    return s != NULL;
}

bool session_csrf(session_table *t, const char *id, char csrf[SESSION_TOKEN_HEX])
{
    uint8_t raw[SESSION_ID_BYTES];
    if (!id || strlen(id) != 2 * SESSION_ID_BYTES || ts_unhex(id, raw, sizeof raw) != 0)
        return false;
    csrf_of(t, raw, csrf);
    return true;
}

bool session_csrf_ok(session_table *t, const char *id, const char *token)
{
    char want[SESSION_TOKEN_HEX];
    if (!token || strlen(token) != 2 * SESSION_ID_BYTES || !session_csrf(t, id, want))
        return false;
    pthread_mutex_lock(&t->mu);
    bool live = find(t, id) != NULL;
    pthread_mutex_unlock(&t->mu);
    return live && sodium_memcmp(want, token, 2 * SESSION_ID_BYTES) == 0;
}

void session_end(session_table *t, const char *id)
{
    pthread_mutex_lock(&t->mu);
    session_slot *s = find(t, id);
    if (s)
        memset(s, 0, sizeof *s);
    pthread_mutex_unlock(&t->mu);
}

void session_end_user(session_table *t, const char *user)
{
    pthread_mutex_lock(&t->mu);
    for (int i = 0; i < SESSION_MAX; i++)
        if (t->s[i].live && !strcmp(t->s[i].info.user, user))
            memset(&t->s[i], 0, sizeof t->s[i]);
    pthread_mutex_unlock(&t->mu);
}

/* ---- the throttle ---- */

static const backoff_rule login_rule = {SESSION_FREE_FAILS, SESSION_MAX_WAIT_S,
                                        SESSION_FORGET_S * 1000LL};

int session_wait_s(session_table *t, const char *key, int64_t now_ms)
{
    pthread_mutex_lock(&t->mu);
    int wait = backoff_wait_s(t->th, SESSION_THROTTLE_MAX, &login_rule, key, strlen(key), now_ms);
    pthread_mutex_unlock(&t->mu);
    return wait;
}

void session_failed(session_table *t, const char *key, int64_t now_ms)
{
    pthread_mutex_lock(&t->mu);
    backoff_failed(t->th, SESSION_THROTTLE_MAX, &login_rule, key, strlen(key), now_ms);
    pthread_mutex_unlock(&t->mu);
}

void session_succeeded(session_table *t, const char *key)
{
    pthread_mutex_lock(&t->mu);
    backoff_succeeded(t->th, SESSION_THROTTLE_MAX, key, strlen(key));
    pthread_mutex_unlock(&t->mu);
}
