/* util.h: small helpers with no better home: clocks, hex, files, code syntax. */
#ifndef TIERSYNC_UTIL_H
#define TIERSYNC_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define TS_CODE_MAX 32 /* org-unit codes: [A-Za-z0-9_-], GSO codes are digits */
#define TS_PATH_MAX 1024

/* Milliseconds since the Unix epoch (wall clock) and since boot (monotonic). */
/* realloc that aborts when memory runs out: for the small, growing arrays
 * whose failure no caller could recover from (n == 0 allocates 1 byte). */
void *ts_xrealloc(void *p, size_t n);

int64_t ts_now_ms(void);
int64_t ts_mono_ms(void);
int64_t ts_mono_us(void);
/* CPU time of this process, all its threads, in microseconds. */
int64_t ts_cpu_us(void);

/* The node's "today" as YYYYMMDD: TIERSYNC_TODAY=YYYY-MM-DD when set (tests),
 * else the local date. */
int ts_today(void);

#define TS_ISO_TIME_MAX 24 /* "YYYY-MM-DDTHH:MM:SSZ" + NUL */

/* Unix milliseconds as UTC ISO 8601 ("2026-11-22T20:47:10Z"). */
void ts_iso_time(int64_t ms, char out[TS_ISO_TIME_MAX]);

/* True when s[0..n) is text: valid UTF-8 (shortest forms, no surrogates)
 * without NUL bytes. */
bool ts_text_valid(const char *s, size_t n);

/* True when s is a valid org-unit code. */
bool ts_code_valid(const char *s);

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void ts_hex(const uint8_t *in, size_t n, char *out);
/* Parses exactly 2n hex digits; 0 on success, -1 otherwise. */
int ts_unhex(const char *in, uint8_t *out, size_t n);
/* The value of one hex digit (either case), or -1. */
int ts_hexval(char c);

/* Reads a whole file (NUL-terminated, *len excludes the NUL). */
int ts_read_file(const char *path, char **data, size_t *len, ts_err *e);
/* Writes a file atomically (temp + rename) with the given mode. */
int ts_write_file(const char *path, const void *data, size_t len, int mode, ts_err *e);

/* snprintf into a path buffer; fails with TS_ERUNTIME if it would truncate. */
int ts_path(char *out, size_t outsz, ts_err *e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Big-endian u64 for LMDB keys that must sort numerically. */
void ts_put_be64(uint8_t *p, uint64_t v);
uint64_t ts_get_be64(const uint8_t *p);

/* For worker threads: signals (SIGTERM, SIGINT) go to the main thread,
 * whose poll they interrupt. */
void ts_block_signals(void);

#endif
