/* err.h: the one error style of tiersync.
 *
 * Library code never prints. A function that can fail returns an int status
 * (TS_OK or a TS_E* code) and fills a ts_err the caller passed in; only the
 * CLI and daemon edges print err->msg. The codes double as process exit
 * statuses (docs/DESIGN.md, Operating): 1 run-time failure, 2 refused input. */
#ifndef TIERSYNC_ERR_H
#define TIERSYNC_ERR_H

#define TS_ERR_MSG_MAX 1024

enum {
    TS_OK = 0,
    TS_ERUNTIME = 1, /* something failed at run time: disk, network, LMDB */
    TS_EINPUT = 2,   /* the caller's input was refused; nothing changed */
    TS_ENOTFOUND = 3 /* a looked-up item does not exist (callers decide) */
};

typedef struct {
    int code;
    char msg[TS_ERR_MSG_MAX];
} ts_err;

/* Records code and a printf-style message in e (may be NULL); returns code. */
int ts_fail(ts_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prefixes e->msg with "context: " (keeps the code); returns e->code. */
int ts_err_wrap(ts_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
