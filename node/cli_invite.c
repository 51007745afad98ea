/* cli_invite.c: `tiersync child invite|invites|revoke-invite`: one-time
 * invitations, one at a time or one per unit of a CSV list (see invite.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "csv.h"
#include "invite.h"
#include "util.h"

typedef struct {
    char code[TS_CODE_MAX];
    invite_t iv;
    invite_record rec;
} invite_item;

typedef struct {
    invite_item *items;
    size_t n;
    bool replaced; /* an open invitation was made again */
} invite_batch;

/* "7d", "12h", "30m", "45s" into seconds; -1 if it is none of those. */
static int64_t parse_ttl(const char *s)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    int64_t unit = !strcmp(end, "d") ? 86400
        : !strcmp(end, "h")          ? 3600
        : !strcmp(end, "m")          ? 60
        : !strcmp(end, "s")          ? 1
                                     : 0;
    if (end == s || v <= 0 || !unit || v > INVITE_MAX_TTL_S)
        return -1;
    return v * unit;
}

/* Stores every invitation of b, replacing any earlier one for its code;
 * refuses them all if one code is already enrolled. */
static int put_invites(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    invite_batch *b = ctx;
    b->replaced = false;
    for (size_t i = 0; i < b->n; i++) {
        store_child ch;
        invite_record old;
        const char *code = b->items[i].code;
        if (store_child_get(s, txn, code, &ch) == TS_OK)
            return ts_fail(e, TS_EINPUT,
                           "%s is already enrolled as a child: no invitation "
                           "needed (to enrol a new key: 'tiersync child remove %s' first)",
                           code, code);
        if (invite_get(s, txn, code, &old) == TS_OK && invite_usable(&old, ts_now_ms()))
            b->replaced = true;
        if (invite_put(s, txn, code, &b->items[i].rec, e))
            return e->code;
    }
    return TS_OK;
}

static int add_item(invite_batch *b, node_t *n, const char *code, const char *name, int64_t ttl,
                    ts_err *e)
{
    for (size_t i = 0; i < b->n; i++)
        if (!strcmp(b->items[i].code, code))
            return ts_fail(e, TS_EINPUT, "%s is listed twice", code);
    b->items = ts_xrealloc(b->items, (b->n + 1) * sizeof *b->items);
    invite_item *it = &b->items[b->n];
    if (invite_make(n, code, name, ttl, &it->iv, &it->rec, e))
        return e->code;
    snprintf(it->code, sizeof it->code, "%s", code);
    b->n++;
    return TS_OK;
}

/* The units of a CSV list (code,name per line; a first line "code,..." is
 * a header) into b. */
static int read_units(invite_batch *b, node_t *n, const char *path, int64_t ttl, ts_err *e)
{
    char *buf;
    size_t len;
    if (ts_read_file(path, &buf, &len, e))
        return e->code;
    csv_t c;
    csv_row row;
    int rc = TS_OK;
    csv_init(&c, buf, len);
    while ((rc = csv_next(&c, &row, e)) == TS_OK && row.n > 0) {
        if (row.line == 1 && !strcmp(row.f[0], "code"))
            continue;
        if (row.n > 2) {
            rc = ts_fail(e, TS_EINPUT, "line %d: expected code,name", row.line);
            break;
        }
        if ((rc = add_item(b, n, row.f[0], row.n > 1 ? row.f[1] : "", ttl, e)) != TS_OK) {
            ts_err_wrap(e, "line %d", row.line);
            break;
        }
    }
    free(buf);
    if (rc == TS_OK && b->n == 0)
        rc = ts_fail(e, TS_EINPUT, "no unit is listed (one code,name per line)");
    return rc ? ts_err_wrap(e, "%s", path) : TS_OK;
}

/* The invitations as CSV (code,name,invitation,expires,parent_fingerprint)
 * into a malloc'd buffer. */
static char *as_csv(const invite_batch *b, const char *fp, size_t *len)
{
    char *buf = NULL, iso[TS_ISO_TIME_MAX], text[INVITE_TEXT_MAX];
    FILE *f = open_memstream(&buf, len);
    fputs("code,name,invitation,expires,parent_fingerprint\n", f);
    for (size_t i = 0; i < b->n; i++) {
        const invite_item *it = &b->items[i];
        invite_encode(&it->iv, text);
        ts_iso_time(it->rec.expires_ms, iso);
        csv_write_field(f, it->code);
        fputc(',', f);
        csv_write_field(f, it->rec.name);
        fprintf(f, ",%s,%s,%s\n", text, iso, fp);
    }
    fclose(f);
    sodium_memzero(text, sizeof text);
    return buf;
}

static void print_one(const invite_item *it, const char *fp)
{
    char iso[TS_ISO_TIME_MAX], text[INVITE_TEXT_MAX];
    invite_encode(&it->iv, text);
    ts_iso_time(it->rec.expires_ms, iso);
    printf("%s\n"
           "parent fingerprint: %s (read it aloud; the child prints it when it joins)\n"
           "one use, for %s%s%s%s, until %s. At the child: tiersync init --dir DIR --join "
           "<the line above>\n",
           text, fp, it->code, it->rec.name[0] ? " (" : "", it->rec.name,
           it->rec.name[0] ? ")" : "", iso);
    sodium_memzero(text, sizeof text);
}

static int do_invite(node_t *n, int nargs, char **args, const cli_invite_opts *o, ts_err *e)
{
    int64_t ttl = o->expires ? parse_ttl(o->expires) : INVITE_DEFAULT_TTL_S;
    if (ttl < 0)
        return ts_fail(e, TS_EINPUT,
                       "--expires '%s': give a number and d, h, m or s (e.g. "
                       "7d), at most 365 days",
                       o->expires);
    if (nargs > 1 || (nargs == 1) == (o->csv != NULL))
        return ts_fail(e, TS_EINPUT, "invite takes a CODE, or --csv FILE");
    if (o->csv && o->name)
        return ts_fail(e, TS_EINPUT,
                       "--name is for one CODE; with --csv the names are in "
                       "the file");
    invite_batch b = {0};
    int rc = o->csv ? read_units(&b, n, o->csv, ttl, e)
                    : add_item(&b, n, args[0], o->name ? o->name : "", ttl, e);
    if (rc == TS_OK)
        rc = store_write(n->store, put_invites, &b, e);
    char fp[KEYS_FINGERPRINT_LEN];
    keys_fingerprint(n->keys.pk, fp);
    if (rc == TS_OK && o->csv) {
        size_t len;
        char *csv = as_csv(&b, fp, &len);
        if (o->out)
            rc = ts_write_file(o->out, csv, len, 0600, e);
        else
            fwrite(csv, 1, len, stdout);
        sodium_memzero(csv, len);
        free(csv);
        if (rc == TS_OK && o->out)
            printf("%zu invitations written to %s (mode 0600: each line enrols a node; "
                   "send each to its unit only). Parent fingerprint: %s\n",
                   b.n, o->out, fp);
    } else if (rc == TS_OK) {
        print_one(&b.items[0], fp);
    }
    if (rc == TS_OK && b.replaced)
        fprintf(stderr,
                "tiersync: note: the earlier invitation for the same code no longer "
                "works\n");
    sodium_memzero(b.items, b.n * sizeof *b.items);
    free(b.items);
    return rc;
}

static int list_one(const store_val *k, const store_val *v, void *ctx)
{
    (void)ctx;
    invite_record rec;
    if (v->len != sizeof rec)
        return 0;
    memcpy(&rec, v->data, sizeof rec);
    if (!invite_usable(&rec, ts_now_ms()))
        return 0;
    char iso[TS_ISO_TIME_MAX];
    ts_iso_time(rec.expires_ms, iso);
    printf("%-12.*s %-21s %s\n", (int)k->len, (const char *)k->data, iso, rec.name);
    return 0;
}

static int do_list(node_t *n, ts_err *e)
{
    store_txn *txn;
    if (store_read_begin(n->store, &txn, e))
        return e->code;
    printf("%-12s %-21s %s\n", "CODE", "EXPIRES", "NAME");
    int rc = store_scan(n->store, txn, DB_INVITES, NULL, list_one, NULL, NULL, e);
    store_read_end(txn);
    return rc;
}

static int revoke_txn(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    const char *code = ctx;
    invite_record rec;
    if (invite_get(s, txn, code, &rec) != TS_OK || !invite_usable(&rec, ts_now_ms()))
        return ts_fail(e, TS_EINPUT, "no open invitation for %s (see 'tiersync child invites')",
                       code);
    rec.state = INVITE_REVOKED;
    rec.closed_ms = ts_now_ms();
    return invite_put(s, txn, code, &rec, e);
}

int cli_child_invite(const char *dir, const char *verb, int nargs, char **args,
                     const cli_invite_opts *o)
{
    bool invite = !strcmp(verb, "invite"), list = !strcmp(verb, "invites");
    if (!invite && (o->name || o->expires || o->csv || o->out))
        return cli_usage_error("child", "--name, --expires, --csv and --out are for invite");
    if (list && nargs != 0)
        return cli_usage_error("child", "invites takes no arguments");
    if (!invite && !list && nargs != 1)
        return cli_usage_error("child", "revoke-invite takes CODE");
    if (o->out && !o->csv)
        return cli_usage_error("child", "--out goes with --csv");
    node_t n;
    ts_err e = {0};
    if (node_open(&n, cli_dir(dir), invite ? NODE_OPEN_KEYS : 0, &e))
        return cli_report(&e);
    int rc;
    if (invite) {
        rc = do_invite(&n, nargs, args, o, &e);
    } else if (list) {
        rc = do_list(&n, &e);
    } else if ((rc = store_write(n.store, revoke_txn, args[0], &e)) == TS_OK) {
        printf("revoked the invitation for %s: it can no longer be used\n", args[0]);
    }
    node_close(&n);
    return rc ? cli_report(&e) : 0;
}
