/* cli_value.c: `tiersync value set`: numbers entered directly for this unit
 * (counselling points, staff trained, yearly plans). Setting replaces the
 * previous value; what travels upward is the difference. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "merge_state.h"
#include "node.h"

static const char value_help[] =
    "usage: tiersync value set --dir DIR INDICATOR PERIOD VALUE [CATEGORY=OPTION ...]\n\n"
    "Sets this node's own value of a 'value' indicator for a period (YYYYMM or YYYY,\n"
    "as the catalog says) and category options, e.g.\n"
    "  tiersync value set TARGET_REACHED 2026 150 modality=compulsory\n"
    "Every category of the indicator must be given. The value replaces the previous\n"
    "one; the parent receives the difference.\n";

typedef struct {
    ts_cell cell;
    int64_t value, old;
} set_ctx;

static int do_set(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    set_ctx *c = vctx;
    if (merge_refuse_writes(s, txn, e))
        return e->code;
    return store_set_value(s, txn, &c->cell, c->value, &c->old, e);
}

static int parse_count(const char *text, int64_t *out, ts_err *e)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end || v < 0)
        return ts_fail(e, TS_EINPUT, "VALUE '%s' is not a whole number of 0 or more", text);
    *out = v;
    return TS_OK;
}

int cli_value(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) /* "-3" is a refused VALUE, not an option */
        if (argv[i][0] == '-' && argv[i][1] >= '0' && argv[i][1] <= '9')
            return cli_usage_error("value", "VALUE '%s' is not a whole number of 0 or more",
                                   argv[i]);
    const char *dir;
    int done = cli_parse_dir_only(argc, argv, "value", value_help, &dir);
    if (done >= 0)
        return done;
    int nargs = argc - optind;
    char **args = argv + optind;
    if (nargs < 1 || strcmp(args[0], "set") != 0)
        return cli_usage_error("value", "the only action is 'set'");
    if (nargs < 4)
        return cli_usage_error("value", "set takes INDICATOR PERIOD VALUE [CATEGORY=OPTION ...]");

    node_t n;
    ts_err e = {0};
    if (node_open(&n, cli_dir(dir), 0, &e))
        return cli_report(&e);
    set_ctx c = {0};
    const catalog_indicator *ind = catalog_indicator_find(n.catalog, args[1]);
    char opts_canon[CELL_OPTIONS_MAX] = "";
    int rc;
    if (!ind)
        rc = ts_fail(&e, TS_EINPUT, "unknown indicator '%s' (catalog %s)", args[1], n.catalog->id);
    else if (ind->kind == IND_RATIO)
        rc = ts_fail(&e, TS_EINPUT, "%s is a ratio, computed from %s and %s: set those instead",
                     args[1], n.catalog->inds[ind->numerator].code,
                     n.catalog->inds[ind->denominator].code);
    else if (ind->kind != IND_VALUE)
        rc = ts_fail(&e, TS_EINPUT,
                     "%s is counted from case records, not entered: only "
                     "indicators of kind 'value' can be set",
                     args[1]);
    else if (catalog_retired(ind, args[2]))
        rc = ts_fail(&e, TS_EINPUT,
                     "%s is retired from %d (catalog %s version %d): no value is entered "
                     "for %s or later",
                     args[1], ind->retired_from, n.catalog->id, n.catalog->version, args[2]);
    else if ((rc = catalog_period_check(ind, args[2], &e)) == TS_OK &&
             (rc = parse_count(args[3], &c.value, &e)) == TS_OK &&
             (rc = catalog_options_canon_argv(n.catalog, ind, nargs - 4, args + 4, opts_canon,
                                              sizeof opts_canon, &e)) == TS_OK &&
             (rc = cell_set(&c.cell, n.cfg.code, args[1], args[2], opts_canon, &e)) == TS_OK)
        rc = store_write(n.store, do_set, &c, &e);
    if (rc == TS_OK)
        printf("%s %s %s%s%s = %lld (was %lld)\n", n.cfg.code, args[1], args[2],
               opts_canon[0] ? " " : "", opts_canon, (long long)c.value, (long long)c.old);
    node_close(&n);
    return rc ? cli_report(&e) : 0;
}
