/* backoff.h: failures counted per key, with waits that double.
 *
 * After rule->free_fails failures a key must wait 1, 2, 4 ... up to
 * rule->max_s seconds after its last failure before it is heard again; a
 * success clears the key, and failures older than rule->forget_ms no longer
 * count. The slots are the caller's fixed array (zeroed to start): when all
 * are taken, the least recently failing key gives way. Not locked: a caller
 * used from several threads holds its own lock. The HTTP wrong-token
 * throttle (http_access.h) and the register's failed-login throttle
 * (session.h) are two rules over it. */
#ifndef TIERSYNC_BACKOFF_H
#define TIERSYNC_BACKOFF_H

#include <stddef.h>
#include <stdint.h>

#define BACKOFF_KEY_MAX 80 /* bytes of a key kept (longer keys are cut) */

typedef struct {
    int free_fails; /* failures allowed before the first wait */
    int max_s;      /* longest wait */
    int64_t forget_ms;
} backoff_rule;

typedef struct {
    uint8_t key[BACKOFF_KEY_MAX];
    size_t klen;
    int fails; /* 0: a free slot */
    int64_t last_ms;
} backoff_slot;

/* Seconds key must still wait (0: it may try now). */
int backoff_wait_s(const backoff_slot *slots, size_t n, const backoff_rule *r, const void *key,
                   size_t klen, int64_t now_ms);
void backoff_failed(backoff_slot *slots, size_t n, const backoff_rule *r, const void *key,
                    size_t klen, int64_t now_ms);
void backoff_succeeded(backoff_slot *slots, size_t n, const void *key, size_t klen);

#endif
