/* cli_export.c: `tiersync export`: this node's numbers as CSV, DHIS2
 * dataValueSets JSON, IHE ADX XML, an Excel workbook or a FHIR Bundle of
 * MeasureReports, for the systems ministries run.
 * The same writer serves GET /api/export (export.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "export.h"
#include "node.h"

static const char export_help[] =
    "usage: tiersync export --dir DIR --format csv|dhis2|adx|xlsx|fhir [--unit CODE] [--period P]\n"
    "                       [--indicator CODE] [--values own|total] [--mapping FILE]\n"
    "                       [--output FILE]\n\n"
    "Writes the numbers this node holds for CODE (default: this node's unit) and every\n"
    "unit below it, to standard output or FILE.\n"
    "  --format csv    unit,unit_name,level,indicator,period,options,value\n"
    "  --format dhis2  DHIS2 dataValueSets JSON (POST it to /api/dataValueSets)\n"
    "  --format adx    IHE ADX XML (POST it to DHIS2's /api/dataValueSets with\n"
    "                  Content-Type application/adx+xml)\n"
    "  --format xlsx   an Excel workbook: one sheet per indicator, units and periods\n"
    "                  as rows, category combinations as columns (use --output)\n"
    "  --format fhir   a FHIR R4 Bundle of MeasureReports (IHE mADX), one per unit,\n"
    "                  indicator and period\n"
    "  --period P      YYYYMM: that month; YYYY: the year and each of its months\n"
    "  --values own    each unit's own numbers, not rolled up (the default but for\n"
    "                  xlsx: receivers add units up themselves); total: the roll-ups\n"
    "                  (the default of xlsx)\n"
    "  --mapping FILE  codes -> DHIS2 UIDs / ADX codes / FHIR Measure URLs (see\n"
    "                  docs/API.md); default DIR/dhis2-mapping.json if it exists,\n"
    "                  else every code as is\n"
    "The operator of the node sees exact values: no rounding here.\n";

typedef struct {
    const char *format, *unit, *period, *indicator, *values, *mapping, *output;
} export_args;

static int prepare(node_t *n, const export_args *a, export_request *x, export_mapping **map,
                   ts_err *e)
{
    if (export_format_parse(a->format, &x->format, e))
        return e->code;
    x->values = export_values_default(x->format);
    if (a->values && export_values_parse(a->values, &x->values, e))
        return e->code;
    if (a->indicator && !(x->indicator = catalog_indicator_find(n->catalog, a->indicator)))
        return ts_fail(e, TS_EINPUT, "unknown indicator '%s' (catalog %s)", a->indicator,
                       n->catalog->id);
    if (a->period) {
        size_t len = strlen(a->period);
        if ((len != 4 && len != 6) || strspn(a->period, "0123456789") != len ||
            (len == 6 && (atoi(a->period + 4) < 1 || atoi(a->period + 4) > 12)))
            return ts_fail(e, TS_EINPUT, "--period '%s' is not YYYYMM or YYYY", a->period);
        if (x->indicator && catalog_period_check(x->indicator, a->period, e))
            return e->code;
        x->period = a->period;
    }
    if (a->mapping)
        return export_mapping_load(map, n->catalog, a->mapping, e);
    return export_mapping_default(map, n, e);
}

static int run_export(node_t *n, const export_args *a, ts_err *e)
{
    export_request x = {0};
    export_mapping *map = NULL;
    x.rd = (query_reader){true, n->cfg.small_cell_k};
    x.now_ms = ts_now_ms();
    if (prepare(n, a, &x, &map, e))
        return e->code;
    x.map = map;
    store_txn *txn = NULL;
    tree_t t;
    int rc = store_read_begin(n->store, &txn, e);
    if (rc == TS_OK && (rc = tree_load(&t, n->store, txn, e)) == TS_OK) {
        const char *unit = a->unit ? a->unit : n->cfg.code;
        x.unit = tree_find(&t, unit);
        char *buf = NULL;
        size_t len = 0;
        FILE *mem = NULL;
        if (x.unit < 0)
            rc = ts_fail(e, TS_EINPUT,
                         "unit %s is not known to this node ('tiersync totals' "
                         "lists the units it holds)",
                         unit);
        else if (!(mem = open_memstream(&buf, &len)))
            rc = ts_fail(e, TS_ERUNTIME, "out of memory");
        else
            rc = export_write(n, txn, &t, &x, mem, e);
        if (mem)
            fclose(mem);
        tree_free(&t);
        store_read_end(txn);
        txn = NULL;
        if (rc == TS_ENOTFOUND) /* nothing matched: refuse, write nothing */
            rc = e->code = TS_EINPUT;
        if (rc == TS_OK) { /* the whole export or nothing: no half-written files */
            ts_err we = {0};
            if (a->output)
                rc = ts_write_file(a->output, buf, len, 0640, &we);
            else if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0)
                rc = ts_fail(&we, TS_ERUNTIME, "cannot write the export to standard output");
            if (rc)
                *e = we;
        }
        free(buf);
    }
    store_read_end(txn);
    export_mapping_destroy(&map);
    return rc;
}

int cli_export(int argc, char **argv)
{
    static const struct option opts[] = {CLI_COMMON_OPTS,
                                         {"format", required_argument, 0, 'f'},
                                         {"unit", required_argument, 0, 'u'},
                                         {"period", required_argument, 0, 'p'},
                                         {"indicator", required_argument, 0, 'i'},
                                         {"values", required_argument, 0, 'v'},
                                         {"mapping", required_argument, 0, 'm'},
                                         {"output", required_argument, 0, 'o'},
                                         {0, 0, 0, 0}};
    const char *dir = NULL;
    export_args a = {0};
    int o;
    while ((o = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        switch (o) {
        case 'd': dir = optarg; break;
        case 'h': fputs(export_help, stdout); return 0;
        case 'f': a.format = optarg; break;
        case 'u': a.unit = optarg; break;
        case 'p': a.period = optarg; break;
        case 'i': a.indicator = optarg; break;
        case 'v': a.values = optarg; break;
        case 'm': a.mapping = optarg; break;
        case 'o': a.output = optarg; break;
        default: return cli_usage_error("export", "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error("export", "unexpected argument '%s'", argv[optind]);
    if (!a.format)
        return cli_usage_error("export", "--format is required: csv, dhis2, adx, xlsx or fhir");
    if (a.unit && !ts_code_valid(a.unit))
        return cli_usage_error("export", "--unit '%s' is not an org-unit code", a.unit);
    node_t n;
    ts_err e = {0};
    if (node_open(&n, cli_dir(dir), 0, &e))
        return cli_report(&e);
    int rc = run_export(&n, &a, &e);
    node_close(&n);
    return rc ? cli_report(&e) : 0;
}
