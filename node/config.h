/* config.h: a node's configuration file (DIR/tiersync.conf, INI format).
 *
 * Every default and limit lives here, next to the parser that can override
 * it, so there is one place to read what a node does when left alone. The
 * file format is documented by the commented file `tiersync init` writes. */
#ifndef TIERSYNC_CONFIG_H
#define TIERSYNC_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "disclose.h"
#include "err.h"
#include "util.h"

#define CONFIG_FILE "tiersync.conf"
#define CONFIG_NAME_MAX 256
#define CONFIG_ENDPOINT_MAX 256
#define CONFIG_TOKEN_MAX 128
#define CONFIG_MAX_TOKENS 8

/* Defaults (docs/DESIGN.md, The replication link and Reading). */
#define CONFIG_DEFAULT_DIR "/var/lib/tiersync"
#define CONFIG_DEFAULT_FLUSH_MS 100
#define CONFIG_DEFAULT_WINDOW 8
#define CONFIG_DEFAULT_MAX_CELLS 5000 /* cells per outgoing delta */
#define CONFIG_DEFAULT_MAX_MSG_BYTES (4 * 1024 * 1024)
#define CONFIG_DEFAULT_HEARTBEAT_MS 2000
#define CONFIG_DEFAULT_LATE_AFTER_S 86400 /* a child silent this long is "late" */
#define CONFIG_DEFAULT_MAP_INITIAL_MB 64
#define CONFIG_DEFAULT_MAP_MAX_MB 65536
#define CONFIG_DEFAULT_MAX_CLOCK_SKEW_S 300 /* a child's clock further off is warned of */
#define CONFIG_DEFAULT_SMALL_CELL_K DISCLOSE_K_DEFAULT
#define CONFIG_DEFAULT_HTTP "127.0.0.1:8600"
#define CONFIG_DEFAULT_AUDIT_RETAIN 0 /* signed deltas kept per child; 0 = all */
#define CONFIG_DEFAULT_RELEASE_S 900  /* record-derived changes leave once per window */
#define CONFIG_DEFAULT_CHECKPOINT_DAYS \
    30 /* a signed snapshot of the contribution at least this often */
#define CONFIG_DEFAULT_SCRUB_EVERY_H 24.0 /* hours between self-checks; 0 = never */
#define CONFIG_MAX_SCRUB_EVERY_H 8760.0
#define CONFIG_DEFAULT_JOIN_SLOW_DOWN_MS 1000 /* first wait after a failed join */
#define CONFIG_DEFAULT_SESSION_IDLE_S 1800    /* a register session idle this long ends */
#define CONFIG_DEFAULT_ACCESS_LOG_DAYS 1825   /* access log entries kept (five years) */

typedef enum { DETAIL_ALL, DETAIL_SELF } config_detail;

typedef struct {
    char dir[TS_PATH_MAX];
    /* [node] */
    char code[TS_CODE_MAX];
    char name[CONFIG_NAME_MAX];
    char level[TS_CODE_MAX];
    char catalog[TS_PATH_MAX]; /* empty: the default catalog */
    /* [listen] */
    char listen[CONFIG_ENDPOINT_MAX]; /* empty: this node takes no children */
    /* [join] */
    char join_listen[CONFIG_ENDPOINT_MAX];    /* empty: listen's port + 1 */
    char join_advertise[CONFIG_ENDPOINT_MAX]; /* empty: listen.endpoint */
    int join_slow_down_ms;
    /* [http] */
    char http[CONFIG_ENDPOINT_MAX];   /* empty: no HTTP API */
    char http_hosts[CONFIG_NAME_MAX]; /* more names the Host header may give (comma-separated) */
    bool trust_loopback;              /* loopback readers without a token may read */
    char tls_cert[TS_PATH_MAX];       /* PEM files; both set: HTTPS (relative to dir) */
    char tls_key[TS_PATH_MAX];
    /* [parent] */
    char parent[CONFIG_ENDPOINT_MAX]; /* empty: this node is a root */
    char parent_key[65];              /* hex Ed25519 public key */
    config_detail forward_detail;
    /* [sync] */
    int flush_ms;
    int window;
    int max_cells;
    int max_msg_bytes;
    int heartbeat_ms;
    int late_after_s;
    int max_clock_skew_s;
    int release_s; /* record-derived changes leave at most once per release_s; 0 = every flush */
    /* [store] */
    int map_initial_mb;
    int map_max_mb;
    /* [audit] */
    int audit_retain;     /* retain_deltas: newest signed deltas kept per child, 0 = all */
    int checkpoint_days;  /* send a checkpoint (signed snapshot) at least this often */
    int checkpoint_s;     /* tests only: when > 0, every checkpoint_s seconds instead */
    double scrub_every_h; /* hours between the daemon's self-checks (scrub.h); 0 = never */
    /* [register] */
    int session_idle_s;
    int access_log_days;
    /* [read] */
    int small_cell_k;
    int ntokens;
    char tokens[CONFIG_MAX_TOKENS][CONFIG_TOKEN_MAX];
} ts_config;

/* Fills c with every default (dir included). */
void config_defaults(ts_config *c, const char *dir);

/* Loads DIR/tiersync.conf over the defaults and validates it. TS_ERUNTIME if
 * it cannot be read; TS_EINPUT naming the line and key if it is invalid. */
int config_load(ts_config *c, const char *dir, ts_err *e);

/* Parses one "key = value" of section into c (used by the loader and tests). */
int config_set(ts_config *c, const char *section, const char *key, const char *value, ts_err *e);

/* Writes c as a fully commented config file to DIR/tiersync.conf. */
int config_write(const ts_config *c, ts_err *e);

#endif
