/* util.c: clocks, hex, whole-file I/O and code syntax. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void *ts_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        abort();
    return q;
}

int64_t ts_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int64_t ts_mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int64_t ts_mono_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

int64_t ts_cpu_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

int ts_today(void)
{
    const char *env = getenv("TIERSYNC_TODAY");
    int y, m, d;
    if (env && sscanf(env, "%4d-%2d-%2d", &y, &m, &d) == 3 && m >= 1 && m <= 12 && d >= 1 &&
        d <= 31)
        return y * 10000 + m * 100 + d;
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

void ts_iso_time(int64_t ms, char out[TS_ISO_TIME_MAX])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, TS_ISO_TIME_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

bool ts_code_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= TS_CODE_MAX)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-'))
            return false;
    return true;
}

void ts_hex(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int ts_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int ts_unhex(const char *in, uint8_t *out, size_t n)
{
    if (strlen(in) != 2 * n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int hi = ts_hexval(in[2 * i]), lo = ts_hexval(in[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

int ts_read_file(const char *path, char **data, size_t *len, ts_err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return ts_fail(e, TS_ERUNTIME, "cannot open %s: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (buf && n + 1 >= cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger)
                free(buf);
            buf = bigger;
        }
        if (!buf) {
            fclose(f);
            return ts_fail(e, TS_ERUNTIME, "out of memory reading %s", path);
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return ts_fail(e, TS_ERUNTIME, "cannot read %s", path);
    }
    buf[n] = '\0';
    *data = buf;
    if (len)
        *len = n;
    return TS_OK;
}

int ts_write_file(const char *path, const void *data, size_t len, int mode, ts_err *e)
{
    char tmp[TS_PATH_MAX];
    if (ts_path(tmp, sizeof tmp, e, "%s.tmp", path))
        return e ? e->code : TS_ERUNTIME;
    /* a fresh file: a stale temp file may carry a wider mode (or be a link) */
    if (unlink(tmp) != 0 && errno != ENOENT)
        return ts_fail(e, TS_ERUNTIME, "cannot replace %s: %s", tmp, strerror(errno));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0)
        return ts_fail(e, TS_ERUNTIME, "cannot create %s: %s", tmp, strerror(errno));
    fchmod(fd, (mode_t)mode); /* umask must not widen or narrow it */
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            int err = errno;
            close(fd);
            unlink(tmp);
            return ts_fail(e, TS_ERUNTIME, "cannot write %s: %s", tmp, strerror(err));
        }
        p += w;
        len -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        unlink(tmp);
        return ts_fail(e, TS_ERUNTIME, "cannot flush %s: %s", tmp, strerror(errno));
    }
    if (rename(tmp, path) != 0) {
        int err = errno;
        unlink(tmp);
        return ts_fail(e, TS_ERUNTIME, "cannot rename %s to %s: %s", tmp, path, strerror(err));
    }
    return TS_OK;
}

int ts_path(char *out, size_t outsz, ts_err *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, outsz, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= outsz)
        return ts_fail(e, TS_ERUNTIME, "path too long (limit %zu bytes)", outsz - 1);
    return TS_OK;
}

void ts_put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

uint64_t ts_get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

void ts_block_signals(void)
{
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
}

bool ts_text_valid(const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s, *end = p + n;
    while (p < end) {
        uint8_t b = *p;
        if (b == 0)
            return false;
        if (b < 0x80) {
            p++;
            continue;
        }
        int need;
        uint32_t cp, min;
        if ((b & 0xE0) == 0xC0)
            need = 1, cp = b & 0x1F, min = 0x80;
        else if ((b & 0xF0) == 0xE0)
            need = 2, cp = b & 0x0F, min = 0x800;
        else if ((b & 0xF8) == 0xF0)
            need = 3, cp = b & 0x07, min = 0x10000;
        else
            return false;
        if (end - p <= need)
            return false;
        for (int i = 1; i <= need; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (p[i] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        p += need + 1;
    }
    return true;
}
