/* cli_verify.c: `tiersync verify`: checks the audit trail and the totals
 * (audit_check.h) and prints every finding; exit 0 when all holds, 1 when not. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "audit_check.h"

#define VERIFY_MAX_SHOWN 200 /* problem lines printed; the rest are counted */

static const char verify_help[] =
    "usage: tiersync verify --dir DIR [--unit CODE] [--quiet]\n\n"
    "Checks that this node's numbers are the ones its children signed:\n"
    "  - every child's retained signed deltas form an unbroken chain (signatures\n"
    "    verify with the enrolled key, seq follows seq, each names the hash of the\n"
    "    one before) up to the seq and hash recorded as applied last;\n"
    "  - each child's contribution equals the sum of its deltas since its last\n"
    "    snapshot (and the checkpoint, where audit.retain_deltas pruned older ones);\n"
    "  - every total equals the roll-up of this node's own values and the children's\n"
    "    contributions through the unit tree.\n"
    "--unit CODE checks only the child whose subtree holds CODE, and the totals of\n"
    "CODE and the units below it. Every problem names the child, seq or cell, and\n"
    "the expected and found values. --quiet prints only problems and the summary.\n"
    "Exit status: 0 everything holds, 1 something does not, 2 refused input.\n";

typedef struct {
    bool quiet;
    size_t shown;
} print_ctx;

static void print_line(void *vctx, bool problem, const char *line)
{
    print_ctx *p = vctx;
    if (!problem) {
        if (!p->quiet)
            printf("ok: %s\n", line);
        return;
    }
    if (p->shown++ < VERIFY_MAX_SHOWN)
        printf("PROBLEM: %s\n", line);
}

int cli_verify(int argc, char **argv)
{
    static const struct option opts[] = {CLI_COMMON_OPTS,
                                         {"unit", required_argument, 0, 'u'},
                                         {"quiet", no_argument, 0, 'q'},
                                         {0, 0, 0, 0}};
    const char *dir = NULL, *unit = NULL;
    print_ctx pc = {false, 0};
    int o;
    while ((o = getopt_long(argc, argv, "d:hq", opts, NULL)) != -1) {
        switch (o) {
        case 'd': dir = optarg; break;
        case 'h': fputs(verify_help, stdout); return 0;
        case 'u': unit = optarg; break;
        case 'q': pc.quiet = true; break;
        default: return cli_usage_error("verify", "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error("verify", "unexpected argument '%s'", argv[optind]);
    node_t n;
    ts_err e = {0};
    if (node_open(&n, cli_dir(dir), 0, &e))
        return cli_report(&e);
    audit_check_summary sum;
    int rc = audit_check_node(&n, unit, print_line, &pc, &sum, &e);
    const char *self = n.cfg.code;
    if (rc == TS_OK && pc.shown > VERIFY_MAX_SHOWN)
        printf("... and %zu more problems not shown\n", pc.shown - VERIFY_MAX_SHOWN);
    if (rc == TS_OK && sum.problems == 0)
        printf("verify %s: everything holds: %zu children, %zu signed deltas, %zu totals "
               "checked\n",
               self, sum.children, sum.deltas, sum.cells);
    else if (rc == TS_OK)
        printf("verify %s: %zu problems found (%zu children, %zu signed deltas, %zu totals "
               "checked)\n",
               self, sum.problems, sum.children, sum.deltas, sum.cells);
    node_close(&n);
    if (rc)
        return cli_report(&e);
    return sum.problems ? 1 : 0;
}
