/* cli_totals.c: `tiersync totals`: the rolled-up totals as a table or JSON. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "node.h"
#include "query.h"
#include "ratio.h"

static const char totals_help[] =
    "usage: tiersync totals --dir DIR [--unit CODE] [--indicator CODE] [--period P]\n"
    "                       [--options CAT=OPT,...] [--json]\n\n"
    "Prints the totals this node holds. A unit's total includes every unit below it.\n"
    "--json prints one JSON array of {\"unit\",\"indicator\",\"period\",\"options\",\"value\"}.\n"
    "A ratio indicator is listed when --indicator names it: its value is computed from\n"
    "the unit's rolled-up numerator and denominator (null when the denominator is 0),\n"
    "and --json adds \"numerator\" and \"denominator\".\n";

/* The operator at the node is an exact reader: counts as held, never a
 * cell key; an entry that holds only a key (count 0) is not a total. */
static int print_row(const ts_cell *c, disclose_fig f, void *ctx)
{
    json_t *arr = ctx;
    int64_t v = f.v;
    if (v == 0)
        return 0;
    if (arr) {
        json_array_append_new(arr,
                              json_pack("{s:s,s:s,s:s,s:o,s:I}", "unit", c->unit, "indicator",
                                        c->indicator, "period", c->period, "options",
                                        query_options_json(c->options), "value", (json_int_t)v));
    } else {
        printf("%-10s %-22s %-7s %-40s %12lld\n", c->unit, c->indicator, c->period,
               c->options[0] ? c->options : "-", (long long)v);
    }
    return 0;
}

/* A ratio's rows: one per unit, period and option combo of its categories. */
static int print_ratio(node_t *n, store_txn *txn, const catalog_indicator *ind,
                       const query_filter *f, json_t *arr, ts_err *e)
{
    ratio_set rs;
    ratio_set_init(&rs, n->catalog, ind);
    int rc = ratio_set_scan(&rs, n->store, txn, f->unit, f->period, e);
    ratio_set_sort(&rs);
    for (size_t i = 0; i < rs.n && rc == TS_OK; i++) {
        const ratio_row *r = &rs.rows[i];
        if (f->options && strcmp(f->options, r->options))
            continue;
        if (arr) {
            json_array_append_new(
                arr,
                json_pack("{s:s,s:s,s:s,s:o,s:o,s:I,s:I}", "unit", r->unit, "indicator", ind->code,
                          "period", r->period, "options", query_options_json(r->options), "value",
                          ratio_json(ind, r->num.v, r->den.v), "numerator", (json_int_t)r->num.v,
                          "denominator", (json_int_t)r->den.v));
        } else {
            char v[RATIO_TEXT_MAX];
            ratio_text(ind, r->num.v, r->den.v, v, sizeof v);
            printf("%-10s %-22s %-7s %-40s %12s\n", r->unit, ind->code, r->period,
                   r->options[0] ? r->options : "-", v[0] ? v : "null");
        }
    }
    ratio_set_free(&rs);
    return rc ? ts_fail(e, TS_ERUNTIME, "out of memory listing %s", ind->code) : TS_OK;
}

int cli_totals(int argc, char **argv)
{
    static const struct option opts[] = {CLI_COMMON_OPTS,
                                         {"unit", required_argument, 0, 'u'},
                                         {"indicator", required_argument, 0, 'i'},
                                         {"period", required_argument, 0, 'p'},
                                         {"options", required_argument, 0, 'o'},
                                         {"json", no_argument, 0, 'j'},
                                         {0, 0, 0, 0}};
    const char *dir = NULL;
    query_filter f = {0};
    bool as_json = false;
    int o;
    while ((o = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        switch (o) {
        case 'd': dir = optarg; break;
        case 'h': fputs(totals_help, stdout); return 0;
        case 'u': f.unit = optarg; break;
        case 'i': f.indicator = optarg; break;
        case 'p': f.period = optarg; break;
        case 'o': f.options = optarg; break;
        case 'j': as_json = true; break;
        default: return cli_usage_error("totals", "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error("totals", "unexpected argument '%s'", argv[optind]);
    node_t n;
    ts_err e = {0};
    if (node_open(&n, cli_dir(dir), 0, &e))
        return cli_report(&e);
    int rc = TS_OK;
    const catalog_indicator *ind = f.indicator ? catalog_indicator_find(n.catalog, f.indicator)
                                               : NULL;
    char canon[CELL_OPTIONS_MAX];
    if (f.indicator && !ind)
        rc = ts_fail(&e, TS_EINPUT, "unknown indicator '%s' (catalog %s)", f.indicator,
                     n.catalog->id);
    else if (f.unit && !ts_code_valid(f.unit))
        rc = ts_fail(&e, TS_EINPUT, "'%s' is not a valid org-unit code", f.unit);
    else if (f.period && ind)
        rc = catalog_period_check(ind, f.period, &e);
    if (rc == TS_OK && f.options && ind &&
        (rc = catalog_options_canon(n.catalog, ind, f.options, canon, sizeof canon, &e)) == TS_OK)
        f.options = canon;
    store_txn *txn = NULL;
    if (rc == TS_OK && (rc = store_read_begin(n.store, &txn, &e)) == TS_OK) {
        json_t *arr = as_json ? json_array() : NULL;
        if (!as_json)
            printf("%-10s %-22s %-7s %-40s %12s\n", "UNIT", "INDICATOR", "PERIOD", "OPTIONS",
                   "VALUE");
        if (ind && ind->kind == IND_RATIO)
            rc = print_ratio(&n, txn, ind, &f, arr, &e);
        else if (query_totals(n.store, txn, &f, print_row, arr) == QUERY_FAILED)
            rc = query_failed(&e);
        store_read_end(txn);
        if (arr && rc == TS_OK) { /* no partial answer */
            json_dumpf(arr, stdout, JSON_COMPACT | JSON_ENSURE_ASCII);
            putchar('\n');
        }
        json_decref(arr);
    }
    node_close(&n);
    return rc ? cli_report(&e) : 0;
}
