/* cli_report.c: `tiersync report`: the monthly report (the page GET /report
 * serves, report.c) written to an HTML file for printing. The operator of
 * the node reads exact values. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cli.h"
#include "node.h"

static const char report_help[] =
    "usage: tiersync report --dir DIR --period YYYYMM --out FILE.html [--unit CODE]\n"
    "                       [--lang vi|en]\n\n"
    "Writes the monthly report of CODE (default: this node's unit) for the month\n"
    "YYYYMM: a print-ready A4 page in the Vietnamese administrative layout with the\n"
    "catalog's indicators for the unit and each unit directly below it, the year's\n"
    "plan and its progress, the units that have not reported and the signature block.\n"
    "Open FILE in a browser and print it (or save it as PDF). --lang en: in English.\n";

/* The API's JSON error {"error": ...} as a ts_err of the status's kind. */
static int api_error(const api_response *r, ts_err *e)
{
    json_t *o = json_loadb(r->body, r->len, 0, NULL);
    const char *msg = json_string_value(json_object_get(o, "error"));
    ts_fail(e, r->status == 400 ? TS_EINPUT : TS_ERUNTIME, "%s",
            msg ? msg : "the report could not be made");
    json_decref(o);
    return e->code;
}

int cli_monthly_report(int argc, char **argv)
{
    static const struct option opts[] = {CLI_COMMON_OPTS,
                                         {"unit", required_argument, 0, 'u'},
                                         {"period", required_argument, 0, 'p'},
                                         {"out", required_argument, 0, 'o'},
                                         {"lang", required_argument, 0, 'l'},
                                         {0, 0, 0, 0}};
    const char *dir = NULL, *out = NULL;
    api_params p = {0};
    int o;
    while ((o = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        switch (o) {
        case 'd': dir = optarg; break;
        case 'h': fputs(report_help, stdout); return 0;
        case 'u': api_params_add(&p, "unit", optarg); break;
        case 'p': api_params_add(&p, "period", optarg); break;
        case 'l': api_params_add(&p, "lang", optarg); break;
        case 'o': out = optarg; break;
        default: return cli_usage_error("report", "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error("report", "unexpected argument '%s'", argv[optind]);
    if (!out)
        return cli_usage_error("report", "--out FILE.html is required");
    node_t n;
    ts_err e = {0};
    if (node_open(&n, cli_dir(dir), 0, &e))
        return cli_report(&e);
    api_response r;
    api_handle(&n, true, "/report", &p, &r);
    node_close(&n);
    int rc = r.status == 200 ? ts_write_file(out, r.body, r.len, 0640, &e) : api_error(&r, &e);
    api_response_free(&r);
    return rc ? cli_report(&e) : 0;
}
