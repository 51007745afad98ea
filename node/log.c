/* log.c: timestamped single-line log records on stderr, escaped, and a
 * per-key limit for lines an attacker can repeat at will. */
#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

#define LOG_LINE_MAX 2048

static log_level max_level(void)
{
    const char *env = getenv("TIERSYNC_LOG");
    if (!env)
        return LOG_INFO;
    if (!strcmp(env, "debug"))
        return LOG_DEBUG;
    if (!strcmp(env, "warn"))
        return LOG_WARN;
    if (!strcmp(env, "error"))
        return LOG_ERROR;
    return LOG_INFO;
}

/* Length of the valid UTF-8 character at s (1-4), or 0 when s does not
 * start one (a NUL ends the string: never part of a character here). */
static size_t utf8_char_len(const char *s)
{
    uint8_t b = (uint8_t)*s;
    size_t n = b < 0x80      ? 1
        : (b & 0xE0) == 0xC0 ? 2
        : (b & 0xF0) == 0xE0 ? 3
        : (b & 0xF8) == 0xF0 ? 4
                             : 0;
    for (size_t i = 1; i < n; i++)
        if (((uint8_t)s[i] & 0xC0) != 0x80)
            return 0;
    return n && ts_text_valid(s, n) ? n : 0;
}

size_t log_escape(char *dst, size_t cap, const char *src)
{
    size_t w = 0;
    while (*src) {
        uint8_t b = (uint8_t)*src;
        size_t n = utf8_char_len(src);
        bool plain = n > 1 || (n == 1 && b >= 0x20 && b != 0x7f);
        size_t need = plain ? n : 4;
        if (w + need >= cap)
            break;
        if (plain)
            memcpy(dst + w, src, n);
        else
            snprintf(dst + w, 5, "\\x%02x", b);
        w += need;
        src += plain ? n : 1;
    }
    dst[w] = '\0';
    return w;
}

static void log_vmsg(log_level lvl, const char *fmt, va_list ap)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    char raw[LOG_LINE_MAX], line[LOG_LINE_MAX];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int n = (int)strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += snprintf(line + n, sizeof line - (size_t)n, ".%03ldZ %s ", ts.tv_nsec / 1000000,
                  names[lvl]);
    vsnprintf(raw, sizeof raw, fmt, ap);
    log_escape(line + n, sizeof line - (size_t)n, raw);
    fprintf(stderr, "%s\n", line);
}

void log_msg(log_level lvl, const char *fmt, ...)
{
    if (lvl > max_level())
        return;
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(lvl, fmt, ap);
    va_end(ap);
}

void log_limit_init(log_limit *l)
{
    memset(l, 0, sizeof *l);
    hmap_str_init(&l->keys);
}

void log_limit_free(log_limit *l)
{
    hmap_str_free(&l->keys);
    free(l->seen);
    memset(l, 0, sizeof *l);
}

/* Forgets the keys whose last line is older than the limit's window. */
static void limit_prune(log_limit *l, int64_t now)
{
    hmap_str old = l->keys;
    struct log_seen *seen = l->seen;
    hmap_str_init(&l->keys);
    l->seen = calloc(l->cap, sizeof *l->seen);
    if (!l->seen)
        abort();
    for (size_t i = 0; i < old.n; i++) {
        size_t len;
        const char *k = hmap_str_key(&old, i, &len);
        struct log_seen s = seen[old.ents[i].val];
        if (now - s.since_ms < LOG_LIMIT_MS) {
            size_t j = hmap_str_put(&l->keys, k, len, (int)l->keys.n, NULL);
            l->seen[l->keys.ents[j].val] = s;
        }
    }
    hmap_str_free(&old);
    free(seen);
}

/* The state of key's line, added when new (NULL: too many keys). */
static struct log_seen *limit_find(log_limit *l, const char *key, int64_t now)
{
    size_t len = strlen(key);
    long i = hmap_str_find(&l->keys, key, len);
    if (i >= 0)
        return &l->seen[l->keys.ents[i].val];
    if (l->keys.n >= LOG_LIMIT_KEYS)
        limit_prune(l, now);
    if (l->keys.n >= LOG_LIMIT_KEYS && len) /* "" is the overflow's, always admitted */
        return NULL;
    if (l->keys.n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->seen = ts_xrealloc(l->seen, l->cap * sizeof *l->seen);
    }
    size_t j = hmap_str_put(&l->keys, key, len, (int)l->keys.n, NULL);
    struct log_seen *s = &l->seen[l->keys.ents[j].val];
    *s = (struct log_seen){.since_ms = now - LOG_LIMIT_MS};
    return s;
}

void log_limited(log_limit *l, const char *key, log_level lvl, const char *fmt, ...)
{
    if (lvl > max_level())
        return;
    int64_t now = ts_mono_ms();
    struct log_seen *s = limit_find(l, key, now);
    if (!s) /* every slot holds a line of the last minute: the overflow shares one */
        s = limit_find(l, "", now);
    if (!s)
        return;
    if (now - s->since_ms < LOG_LIMIT_MS) {
        s->suppressed++;
        return;
    }
    char line[LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (s->suppressed)
        log_msg(lvl, "%s (%llu more like it left out since the last one)", line,
                (unsigned long long)s->suppressed);
    else
        log_msg(lvl, "%s", line);
    s->since_ms = now;
    s->suppressed = 0;
}
