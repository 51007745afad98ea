/* log.h: one line per event to stderr (journald adds the rest).
 * Levels: error, warn, info, debug; TIERSYNC_LOG=debug shows debug lines.
 * Never pass a secret or a PII value to anything above log_debug.
 *
 * A record is always one line of valid UTF-8: log_msg escapes every
 * control byte and every byte that is not part of valid UTF-8 in the
 * formatted line (log_escape), so a value that came from outside (a code,
 * a name, a Nack detail) cannot end the line early and forge another. */
#ifndef TIERSYNC_LOG_H
#define TIERSYNC_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "hmap.h"

typedef enum { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG } log_level;

#define LOG_LIMIT_MS 60000  /* a repeated line is said once per minute */
#define LOG_LIMIT_KEYS 1024 /* distinct repeated lines tracked; the rest share one */

void log_msg(log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* Copies src into dst (cap bytes, cap >= 1) as printable valid UTF-8:
 * bytes below 0x20, 0x7f and bytes outside a valid UTF-8 sequence become
 * "\xNN"; valid multi-byte characters stay. Cuts at a character boundary
 * when dst is full; always NUL-terminates. Returns the length written. */
size_t log_escape(char *dst, size_t cap, const char *src);

/* Repeated lines, per key (a peer and a reason): the first is logged, the
 * next ones within LOG_LIMIT_MS only counted; the first one after that is
 * logged with the count of those left out. Owned by one thread. */
typedef struct {
    hmap_str keys; /* key -> index into seen */
    struct log_seen {
        int64_t since_ms;    /* when the key's line was last written */
        uint64_t suppressed; /* lines left out since */
    } * seen;
    size_t cap;
} log_limit;

void log_limit_init(log_limit *l);
void log_limit_free(log_limit *l);
void log_limited(log_limit *l, const char *key, log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
