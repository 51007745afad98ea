/* backoff.c: failures per key with doubling waits (backoff.h). */
#include "backoff.h"

#include <string.h>

static size_t cut(size_t klen)
{
    return klen < BACKOFF_KEY_MAX ? klen : BACKOFF_KEY_MAX;
}

/* The slot holding key's live failures, or NULL. */
static backoff_slot *find(const backoff_slot *slots, size_t n, const backoff_rule *r,
                          const void *key, size_t klen, int64_t now_ms)
{
    klen = cut(klen);
    for (size_t i = 0; i < n; i++) {
        const backoff_slot *s = &slots[i];
        if (s->fails && (!r || now_ms - s->last_ms < r->forget_ms) && s->klen == klen &&
            !memcmp(s->key, key, klen))
            return (backoff_slot *)s;
    }
    return NULL;
}

int backoff_wait_s(const backoff_slot *slots, size_t n, const backoff_rule *r, const void *key,
                   size_t klen, int64_t now_ms)
{
    const backoff_slot *s = find(slots, n, r, key, klen, now_ms);
    if (!s || s->fails < r->free_fails)
        return 0;
    int shift = s->fails - r->free_fails;
    int64_t wait_ms = 1000LL * (shift >= 20 ? r->max_s : (1 << shift));
    if (wait_ms > 1000LL * r->max_s)
        wait_ms = 1000LL * r->max_s;
    int64_t left = wait_ms - (now_ms - s->last_ms);
    return left > 0 ? (int)((left + 999) / 1000) : 0;
}

void backoff_failed(backoff_slot *slots, size_t n, const backoff_rule *r, const void *key,
                    size_t klen, int64_t now_ms)
{
    backoff_slot *s = find(slots, n, r, key, klen, now_ms);
    if (!s) { /* a free or forgotten slot, else the least recently failing one */
        s = &slots[0];
        for (size_t i = 0; i < n; i++) {
            backoff_slot *c = &slots[i];
            if (!c->fails || now_ms - c->last_ms >= r->forget_ms) {
                s = c;
                break;
            }
            if (c->last_ms < s->last_ms)
                s = c;
        }
        memset(s, 0, sizeof *s);
        s->klen = cut(klen);
        memcpy(s->key, key, s->klen);
    }
    if (s->fails < 1000)
        s->fails++;
    s->last_ms = now_ms;
}

void backoff_succeeded(backoff_slot *slots, size_t n, const void *key, size_t klen)
{
    backoff_slot *s = find(slots, n, NULL, key, klen, 0);
    if (s)
        memset(s, 0, sizeof *s);
}
