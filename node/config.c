/* config.c: INI parsing (inih), validation and the commented file writer. */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void config_defaults(ts_config *c, const char *dir)
{
    memset(c, 0, sizeof *c);
    snprintf(c->dir, sizeof c->dir, "%s", dir ? dir : CONFIG_DEFAULT_DIR);
    snprintf(c->level, sizeof c->level, "commune");
    snprintf(c->http, sizeof c->http, "%s", CONFIG_DEFAULT_HTTP);
    c->trust_loopback = true;
    c->forward_detail = DETAIL_ALL;
    c->flush_ms = CONFIG_DEFAULT_FLUSH_MS;
    c->window = CONFIG_DEFAULT_WINDOW;
    c->max_cells = CONFIG_DEFAULT_MAX_CELLS;
    c->max_msg_bytes = CONFIG_DEFAULT_MAX_MSG_BYTES;
    c->heartbeat_ms = CONFIG_DEFAULT_HEARTBEAT_MS;
    c->late_after_s = CONFIG_DEFAULT_LATE_AFTER_S;
    c->max_clock_skew_s = CONFIG_DEFAULT_MAX_CLOCK_SKEW_S;
    c->map_initial_mb = CONFIG_DEFAULT_MAP_INITIAL_MB;
    c->map_max_mb = CONFIG_DEFAULT_MAP_MAX_MB;
    c->small_cell_k = CONFIG_DEFAULT_SMALL_CELL_K;
    c->audit_retain = CONFIG_DEFAULT_AUDIT_RETAIN;
    c->release_s = CONFIG_DEFAULT_RELEASE_S;
    c->checkpoint_days = CONFIG_DEFAULT_CHECKPOINT_DAYS;
    c->scrub_every_h = CONFIG_DEFAULT_SCRUB_EVERY_H;
    c->join_slow_down_ms = CONFIG_DEFAULT_JOIN_SLOW_DOWN_MS;
    c->session_idle_s = CONFIG_DEFAULT_SESSION_IDLE_S;
    c->access_log_days = CONFIG_DEFAULT_ACCESS_LOG_DAYS;
}

/* The longest "key = value" line the INI reader takes (inih's line buffer
 * holds the line plus "\r\n\0"); a longer value could be written but not
 * read back. */
#define CONFIG_LINE_MAX (INI_MAX_LINE - 3)

/* Refuses what config_write could not write so that config_load reads back
 * the same value: control characters (a newline would inject settings), an
 * inline comment (" ;" ends the value when read) and over-long lines. */
static int copy_str(char *dst, size_t dstsz, const char *key, const char *v, ts_err *e)
{
    const char *dot = strchr(key, '.');
    size_t max = CONFIG_LINE_MAX - strlen(dot ? dot + 1 : key) - 3; /* "key = " */
    if (max > dstsz - 1)
        max = dstsz - 1;
    if (strlen(v) > max)
        return ts_fail(e, TS_EINPUT, "%s is too long (at most %zu bytes)", key, max);
    for (const char *p = v; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return ts_fail(e, TS_EINPUT, "%s must not contain control characters (newline, tab)",
                           key);
        if (*p == ';' && (p == v || p[-1] == ' '))
            return ts_fail(e, TS_EINPUT, "%s must not contain ' ;' (it starts a comment in %s)",
                           key, CONFIG_FILE);
    }
    memcpy(dst, v, strlen(v) + 1);
    return TS_OK;
}

static int parse_int(int *dst, const char *key, const char *v, long lo, long hi, ts_err *e)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end != '\0' || n < lo || n > hi)
        return ts_fail(e, TS_EINPUT, "%s = '%s' is not a whole number from %ld to %ld", key, v, lo,
                       hi);
    *dst = (int)n;
    return TS_OK;
}

static int parse_hours(double *dst, const char *key, const char *v, double hi, ts_err *e)
{
    char *end;
    errno = 0;
    double h = strtod(v, &end);
    if (errno || end == v || *end != '\0' || !(h >= 0 && h <= hi))
        return ts_fail(e, TS_EINPUT, "%s = '%s' is not a number of hours from 0 to %.0f", key, v,
                       hi);
    *dst = h;
    return TS_OK;
}

int config_set(ts_config *c, const char *section, const char *key, const char *v, ts_err *e)
{
    char full[128];
    snprintf(full, sizeof full, "%s.%s", section, key);
#define IS(s, k) (strcmp(section, s) == 0 && strcmp(key, k) == 0)
    if (IS("node", "code")) {
        if (!ts_code_valid(v))
            return ts_fail(e, TS_EINPUT,
                           "node.code = '%s' is not a valid org-unit code (letters, digits, _ "
                           "and -, at most %d)",
                           v, TS_CODE_MAX - 1);
        return copy_str(c->code, sizeof c->code, full, v, e);
    }
    if (IS("node", "name"))
        return copy_str(c->name, sizeof c->name, full, v, e);
    if (IS("node", "level")) {
        if (!ts_code_valid(v))
            return ts_fail(e, TS_EINPUT,
                           "node.level = '%s' must be a word like commune, "
                           "district or province",
                           v);
        return copy_str(c->level, sizeof c->level, full, v, e);
    }
    if (IS("node", "catalog"))
        return copy_str(c->catalog, sizeof c->catalog, full, v, e);
    if (IS("listen", "endpoint"))
        return copy_str(c->listen, sizeof c->listen, full, v, e);
    if (IS("join", "listen"))
        return copy_str(c->join_listen, sizeof c->join_listen, full, v, e);
    if (IS("join", "advertise"))
        return copy_str(c->join_advertise, sizeof c->join_advertise, full, v, e);
    if (IS("join", "slow_down_ms"))
        return parse_int(&c->join_slow_down_ms, full, v, 0, 3600000, e);
    if (IS("http", "address"))
        return copy_str(c->http, sizeof c->http, full, v, e);
    if (IS("http", "hosts")) {
        /* host names (a reverse proxy's public name): letters, digits, . - _ */
        for (const char *p = v; *p; p++)
            if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_, ", *p))
                return ts_fail(e, TS_EINPUT,
                               "http.hosts = '%s': list host names (letters, "
                               "digits, '.', '-') separated by commas, e.g. stats.example.org",
                               v);
        return copy_str(c->http_hosts, sizeof c->http_hosts, full, v, e);
    }
    if (IS("http", "trust_loopback")) {
        if (strcmp(v, "yes") && strcmp(v, "no"))
            return ts_fail(e, TS_EINPUT, "http.trust_loopback = '%s': use yes or no", v);
        c->trust_loopback = strcmp(v, "yes") == 0;
        return TS_OK;
    }
    if (IS("http", "tls_cert"))
        return copy_str(c->tls_cert, sizeof c->tls_cert, full, v, e);
    if (IS("http", "tls_key"))
        return copy_str(c->tls_key, sizeof c->tls_key, full, v, e);
    if (IS("register", "session_idle_s"))
        return parse_int(&c->session_idle_s, full, v, 60, 86400, e);
    if (IS("register", "access_log_days"))
        return parse_int(&c->access_log_days, full, v, 1, 36500, e);
    if (IS("parent", "endpoint"))
        return copy_str(c->parent, sizeof c->parent, full, v, e);
    if (IS("parent", "key")) {
        uint8_t tmp[32];
        if (*v && ts_unhex(v, tmp, sizeof tmp) != 0)
            return ts_fail(e, TS_EINPUT,
                           "parent.key must be the parent's public key: 64 hex "
                           "digits as printed by 'tiersync key' on the parent");
        return copy_str(c->parent_key, sizeof c->parent_key, full, v, e);
    }
    if (IS("parent", "forward_detail")) {
        if (strcmp(v, "all") == 0)
            c->forward_detail = DETAIL_ALL;
        else if (strcmp(v, "self") == 0)
            c->forward_detail = DETAIL_SELF;
        else
            return ts_fail(e, TS_EINPUT, "parent.forward_detail = '%s': use all or self", v);
        return TS_OK;
    }
    if (IS("sync", "flush_ms"))
        return parse_int(&c->flush_ms, full, v, 1, 3600000, e);
    if (IS("sync", "window"))
        return parse_int(&c->window, full, v, 1, 1024, e);
    if (IS("sync", "max_cells"))
        return parse_int(&c->max_cells, full, v, 1, 1000000, e);
    if (IS("sync", "max_message_bytes"))
        return parse_int(&c->max_msg_bytes, full, v, 1024, 1 << 30, e);
    if (IS("sync", "heartbeat_ms"))
        return parse_int(&c->heartbeat_ms, full, v, 100, 3600000, e);
    if (IS("sync", "max_clock_skew_s"))
        return parse_int(&c->max_clock_skew_s, full, v, 1, 365 * 86400, e);
    if (IS("sync", "late_after_s"))
        return parse_int(&c->late_after_s, full, v, 1, 365 * 86400, e);
    if (IS("sync", "release_s"))
        return parse_int(&c->release_s, full, v, 0, 86400, e);
    if (IS("store", "map_initial_mb"))
        return parse_int(&c->map_initial_mb, full, v, 1, 1 << 20, e);
    if (IS("store", "map_max_mb"))
        return parse_int(&c->map_max_mb, full, v, 1, 1 << 24, e);
    if (IS("audit", "retain_deltas"))
        return parse_int(&c->audit_retain, full, v, 0, 1 << 30, e);
    if (IS("audit", "checkpoint_days"))
        return parse_int(&c->checkpoint_days, full, v, 1, 3650, e);
    if (IS("audit", "checkpoint_s"))
        return parse_int(&c->checkpoint_s, full, v, 0, 365 * 86400, e);
    if (IS("audit", "scrub_every_h"))
        return parse_hours(&c->scrub_every_h, full, v, CONFIG_MAX_SCRUB_EVERY_H, e);
    if (IS("read", "small_cell_k"))
        return parse_int(&c->small_cell_k, full, v, DISCLOSE_K_MIN, DISCLOSE_K_MAX, e);
    if (IS("read", "token")) {
        if (c->ntokens >= CONFIG_MAX_TOKENS)
            return ts_fail(e, TS_EINPUT, "too many read.token lines (at most %d)",
                           CONFIG_MAX_TOKENS);
        if (strlen(v) < 16)
            return ts_fail(e, TS_EINPUT, "read.token must be at least 16 characters");
        if (copy_str(c->tokens[c->ntokens], CONFIG_TOKEN_MAX, full, v, e))
            return e->code;
        c->ntokens++;
        return TS_OK;
    }
#undef IS
    return ts_fail(e, TS_EINPUT, "unknown setting '%s' (see the comments in %s for the list)", full,
                   CONFIG_FILE);
}

struct load_ctx {
    ts_config *c;
    ts_err *e;
    FILE *f;
    int line;     /* lines read so far: the one being parsed */
    int err_line; /* line of the first refused setting */
    int rc;
};

/* fgets for inih that counts lines and refuses (rather than splits) a line
 * longer than inih's buffer: its tail would otherwise parse as a new line. */
static char *read_line(char *str, int num, void *stream)
{
    struct load_ctx *ctx = stream;
    if (!fgets(str, num, ctx->f))
        return NULL;
    ctx->line++;
    size_t n = strlen(str);
    if (n == (size_t)num - 1 && str[n - 1] != '\n') {
        int ch = fgetc(ctx->f);
        if (ch == EOF || ch == '\n')
            return str; /* it just fits */
        while (ch != EOF && ch != '\n')
            ch = fgetc(ctx->f);
        if (ctx->rc == TS_OK) {
            ctx->rc = ts_fail(ctx->e, TS_EINPUT, "the line is longer than %d bytes", num - 3);
            ctx->err_line = ctx->line;
        }
        str[0] = '\0';
    }
    return str;
}

static int on_entry(void *user, const char *section, const char *key, const char *value
#if INI_HANDLER_LINENO
                    ,
                    int lineno
#endif
)
{
    struct load_ctx *ctx = user;
#if INI_HANDLER_LINENO
    (void)lineno;
#endif
    if (ctx->rc == TS_OK && (ctx->rc = config_set(ctx->c, section, key, value, ctx->e)) != TS_OK)
        ctx->err_line = ctx->line;
    return 1; /* inih reports only malformed lines; ours are in ctx */
}

int config_load(ts_config *c, const char *dir, ts_err *e)
{
    char path[TS_PATH_MAX];
    config_defaults(c, dir);
    if (ts_path(path, sizeof path, e, "%s/%s", dir, CONFIG_FILE))
        return e->code;
    FILE *f = fopen(path, "r");
    if (!f)
        return ts_fail(e, TS_ERUNTIME, "cannot open %s: %s (run 'tiersync init --dir %s' first)",
                       path, strerror(errno), dir);
    struct load_ctx ctx = {c, e, f, 0, 0, TS_OK};
    int r = ini_parse_stream(read_line, &ctx, on_entry, &ctx);
    int bad = ferror(f);
    fclose(f);
    if (r < 0 || bad)
        return ts_fail(e, TS_ERUNTIME, "cannot read %s", path);
    if (r > 0 && (ctx.rc == TS_OK || r < ctx.err_line))
        return ts_fail(e, TS_EINPUT, "%s line %d: not 'key = value' or '[section]'", path, r);
    if (ctx.rc != TS_OK)
        return ts_err_wrap(e, "%s line %d", path, ctx.err_line);
    if (!c->code[0])
        return ts_fail(e, TS_EINPUT, "%s: node.code is missing", path);
    if (c->parent[0] && !c->parent_key[0])
        return ts_fail(e, TS_EINPUT,
                       "%s: parent.endpoint is set but parent.key is missing; "
                       "add the parent's public key",
                       path);
    if (c->map_initial_mb > c->map_max_mb)
        return ts_fail(e, TS_EINPUT, "%s: store.map_initial_mb exceeds store.map_max_mb", path);
    return TS_OK;
}

int config_write(const ts_config *c, ts_err *e)
{
    char path[TS_PATH_MAX];
    if (ts_path(path, sizeof path, e, "%s/%s", c->dir, CONFIG_FILE))
        return e->code;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return ts_fail(e, TS_ERUNTIME, "out of memory writing %s", path);
    fprintf(f,
            "# tiersync node configuration. Lines starting with # are comments.\n"
            "# Changes take effect when 'tiersync run' restarts.\n\n"
            "[node]\n"
            "# Org-unit code of this node (e.g. a GSO code: province 34, district 343).\n"
            "code = %s\n"
            "# Display name, UTF-8.\n"
            "name = %s\n"
            "# Level in the administrative tree: commune, district, province, ...\n"
            "level = %s\n"
            "# Catalog file; empty means the default drug-treatment catalog.\n"
            "catalog = %s\n\n"
            "[listen]\n"
            "# Where enrolled children connect (tcp://IP:PORT); empty: no children.\n"
            "endpoint = %s\n\n"
            "[join]\n"
            "# Where children with an invitation ('tiersync child invite') join; open only\n"
            "# while invitations are outstanding. Empty: listen.endpoint's port + 1.\n"
            "listen = %s\n"
            "# This node's replication endpoint as children reach it, written into\n"
            "# invitations. Empty: listen.endpoint (which must then not be 0.0.0.0 or *).\n"
            "advertise = %s\n"
            "# An address whose join failed waits this long before its next try (ms),\n"
            "# doubling with each further failure up to 64 times as long.\n"
            "slow_down_ms = %d\n\n"
            "[http]\n"
            "# Read API and dashboard (IP:PORT); empty disables it.\n"
            "address = %s\n"
            "# Host names, besides this address, that requests may name in their Host\n"
            "# header (a reverse proxy's public name), separated by commas.\n"
            "hosts = %s\n"
            "# yes: readers on this machine (loopback) may read protected values without a\n"
            "# token. Set no behind a reverse proxy on the same machine.\n"
            "trust_loopback = %s\n"
            "# HTTPS: a PEM certificate and its key (relative to the data directory or\n"
            "# absolute); both empty: plain HTTP. 'tiersync tls' makes a self-signed pair.\n"
            "# The case register is served beyond loopback only over HTTPS.\n"
            "tls_cert = %s\n"
            "tls_key = %s\n\n"
            "[parent]\n"
            "# The parent's endpoint and public key; empty endpoint: this node is a root.\n"
            "endpoint = %s\n"
            "key = %s\n"
            "# all: forward every unit's numbers (drill-down above); self: only this unit's.\n"
            "forward_detail = %s\n\n"
            "[sync]\n"
            "# Send pending changes upward every flush_ms milliseconds.\n"
            "flush_ms = %d\n"
            "# At most this many unacknowledged deltas in flight.\n"
            "window = %d\n"
            "# At most this many cells in one delta.\n"
            "max_cells = %d\n"
            "# Larger incoming messages are refused.\n"
            "max_message_bytes = %d\n"
            "# Transport heartbeat interval; a peer silent for 3 intervals is dropped.\n"
            "heartbeat_ms = %d\n"
            "# A child silent for this many seconds is shown as late.\n"
            "late_after_s = %d\n"
            "# A child whose clock is further off than this (seconds) is warned of.\n"
            "max_clock_skew_s = %d\n"
            "# Changes derived from this node's own records leave together, at most once\n"
            "# per release_s seconds, stamped with the release time (so parents never see\n"
            "# when one record changed); 0 sends them at every flush (tests, demos).\n"
            "# Values that are not about persons leave every flush_ms.\n"
            "release_s = %d\n\n"
            "[store]\n"
            "# LMDB map size: start, and the most it may grow to when full (MiB).\n"
            "map_initial_mb = %d\n"
            "map_max_mb = %d\n\n"
            "[audit]\n"
            "# Signed deltas kept per child for 'tiersync verify': the newest N (up to N + N/8\n"
            "# between folds); older ones are folded into a checkpoint (their sum). 0 keeps\n"
            "# every delta.\n"
            "retain_deltas = %d\n"
            "# Send the parent a checkpoint (a signed snapshot of this node's contribution)\n"
            "# at least every checkpoint_days; a parent keeps each child's deltas only back\n"
            "# to the second-newest checkpoint.\n"
            "checkpoint_days = %d\n"
            "# For tests only: when above 0, a checkpoint every checkpoint_s seconds instead.\n"
            "checkpoint_s = %d\n"
            "# The daemon re-checks its store against the signed deltas (as 'tiersync\n"
            "# verify' does) every scrub_every_h hours, at low priority; 0 = never.\n"
            "scrub_every_h = %g\n\n"
            "[register]\n"
            "# The case register (communes): a login session ends after this many idle\n"
            "# seconds; the access log keeps this many days.\n"
            "session_idle_s = %d\n"
            "access_log_days = %d\n\n"
            "[read]\n"
            "# Readers without a token see every count derived from records randomly\n"
            "# rounded to a multiple of k (docs/SECURITY.md); 2 to 100.\n"
            "small_cell_k = %d\n"
            "# Read tokens (one per line, at least 16 characters) for exact values.\n",
            c->code, c->name, c->level, c->catalog, c->listen, c->join_listen, c->join_advertise,
            c->join_slow_down_ms, c->http, c->http_hosts, c->trust_loopback ? "yes" : "no",
            c->tls_cert, c->tls_key, c->parent, c->parent_key,
            c->forward_detail == DETAIL_SELF ? "self" : "all", c->flush_ms, c->window, c->max_cells,
            c->max_msg_bytes, c->heartbeat_ms, c->late_after_s, c->max_clock_skew_s, c->release_s,
            c->map_initial_mb, c->map_max_mb, c->audit_retain, c->checkpoint_days, c->checkpoint_s,
            c->scrub_every_h, c->session_idle_s, c->access_log_days, c->small_cell_k);
    for (int i = 0; i < c->ntokens; i++)
        fprintf(f, "token = %s\n", c->tokens[i]);
    fclose(f);
    int rc = ts_write_file(path, buf, len, 0640, e);
    free(buf);
    return rc;
}
