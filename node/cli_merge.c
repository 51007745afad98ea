/* cli_merge.c: `tiersync merge` (old communes' records into a new one, or
 * old provinces' children under a new one, from a date on) and `tiersync
 * retire` (an old node, once its last changes left). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "daemon.h"
#include "merge_int.h"
#include "outbox.h"
#include "parent_move.h"

static const char merge_help[] =
    "usage: tiersync merge --dir NEW --from OLD_DIR [--from OLD_DIR ...] --on YYYY-MM-01\n"
    "                      [--new-endpoint tcp://HOST:PORT]\n\n"
    "Merges the old communes whose data directories are given with --from into the\n"
    "new commune at --dir (all on this machine; the new node enrolled under its\n"
    "parent beforehand). From the date on (the first day of a month, not after\n"
    "today) the old units' records count under the new unit: every record, with\n"
    "its record key, moves into the new store; every month from the date on and\n"
    "every year containing it or after moves from the old units to the new one;\n"
    "entered values of those periods move too. Periods that ended before the date\n"
    "stay the old units' history, frozen (corrections to them are not counted after\n"
    "the merge). Every ancestor's totals are the same after both nodes' deltas\n"
    "arrive as before. The old nodes refuse record and value changes from the\n"
    "start of the merge on.\n\n"
    "Record ids must be unique across the units: a merge that would make two records\n"
    "share an id is refused, naming them, and changes nothing. A merge interrupted\n"
    "(crash, power cut) is finished by running the same command again. The daemons\n"
    "may run meanwhile. Afterwards keep each old node's daemon running until its\n"
    "last changes are acknowledged by its parent, then 'tiersync retire' it.\n\n"
    "Nodes with children (provinces) merge the same way one level up: every child\n"
    "of an old node is enrolled at the new one with its key; the old units are\n"
    "listed there as merged into the new one; their entered values from the date\n"
    "on move. Each old node's daemon, kept running, then tells its children to\n"
    "move (a ParentMove message: the new node's code, endpoint and key); each\n"
    "child takes it from the parent it pins, rewrites parent.endpoint and\n"
    "parent.key in its config and sends its whole contribution, every period, to\n"
    "the new node. --new-endpoint is the address the children dial (default: the\n"
    "new node's join.advertise, else its listen.endpoint).\n";

static const char retire_help[] =
    "usage: tiersync retire --dir OLD\n\n"
    "Retires a node whose unit was merged into another ('tiersync merge'), once its\n"
    "daemon is stopped, every change it made has been acknowledged by its\n"
    "parent and, for a node with children, every child was told to move. The daemon then refuses to start on it; records and values cannot be\n"
    "changed; totals, status and export still read it. The data stays until an\n"
    "operator deletes the directory.\n";

static void print_counts(const char *old, const char *nw, const merge_counts *c, int on)
{
    char d[MERGE_DATE_TEXT];
    merge_date_text(on, d);
    if (c->taken && c->children)
        printf("%s: %zu children enrolled at %s; %zu entered values from %s added there\n", old,
               c->children, nw, c->values, d);
    else if (c->taken)
        printf("%s: %zu records (%zu case files) moved into %s; %zu entered values from %s "
               "added there; %s's own numbers changed in %zu cells\n",
               old, c->records, c->clusters, nw, c->values, d, nw, c->cells_new);
    else
        printf("%s: its records were in %s already\n", old, nw);
    if (c->given_up)
        printf("%s: gave up %zu cells from %s on; marked merged into %s\n", old, c->cells_old, d,
               nw);
    else
        printf("%s: had given up its periods from %s already\n", old, d);
}

static int merge_dirs(const char *dir, char **from, int nfrom, int on, const char *endpoint)
{
    node_t nw, olds[MERGE_OLD_MAX];
    node_t *po[MERGE_OLD_MAX];
    merge_counts counts[MERGE_OLD_MAX];
    ts_err e = {0};
    int opened = 0, rc;
    /* its key: the old units' children pin it (a province merge) */
    if (node_open(&nw, dir, NODE_OPEN_KEYS, &e))
        return cli_report(&e);
    for (rc = TS_OK; opened < nfrom && rc == TS_OK; opened++) {
        po[opened] = &olds[opened];
        if ((rc = node_open(&olds[opened], from[opened], 0, &e)) != TS_OK)
            ts_err_wrap(&e, "--from %s", from[opened]);
    }
    if (rc != TS_OK)
        opened--; /* the one that failed is not open */
    if (rc == TS_OK)
        rc = merge_run(&nw, po, nfrom, on, endpoint, counts, &e);
    for (int i = 0; i < opened && rc == TS_OK; i++)
        print_counts(olds[i].cfg.code, nw.cfg.code, &counts[i], on);
    if (rc == TS_OK)
        printf("merged into %s. Keep each old node's daemon running until 'tiersync status' "
               "shows nothing pending%s, then: tiersync retire --dir OLD_DIR\n",
               nw.cfg.code, counts[0].children ? " and every child was told to move" : "");
    for (int i = 0; i < opened; i++)
        node_close(&olds[i]);
    node_close(&nw);
    return rc ? cli_report(&e) : 0;
}

int cli_merge(int argc, char **argv)
{
    static const struct option opts[] = {CLI_COMMON_OPTS,
                                         {"from", required_argument, 0, 'f'},
                                         {"on", required_argument, 0, 'o'},
                                         {"new-endpoint", required_argument, 0, 'n'},
                                         {0, 0, 0, 0}};
    const char *dir = NULL, *ontext = NULL, *endpoint = NULL;
    char *from[MERGE_OLD_MAX];
    int nfrom = 0, o;
    while ((o = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        switch (o) {
        case 'd': dir = optarg; break;
        case 'h': fputs(merge_help, stdout); return 0;
        case 'f':
            if (nfrom == MERGE_OLD_MAX)
                return cli_usage_error("merge", "--from given more than %d times", MERGE_OLD_MAX);
            from[nfrom++] = optarg;
            break;
        case 'o': ontext = optarg; break;
        case 'n': endpoint = optarg; break;
        default: return cli_usage_error("merge", "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error("merge", "unexpected argument '%s'", argv[optind]);
    if (!nfrom)
        return cli_usage_error("merge", "give the old units' data directories with --from");
    if (!ontext)
        return cli_usage_error("merge",
                               "give the date the merge takes effect with --on YYYY-MM-01");
    int on;
    ts_err e = {0};
    if (merge_date_parse(ontext, ts_today(), &on, &e))
        return cli_report(&e);
    return merge_dirs(cli_dir(dir), from, nfrom, on, endpoint);
}

/* ---- retire ----------------------------------------------------------- */

static int retire_fn(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    const node_t *n = vctx;
    merge_state m;
    merge_state_get(s, txn, &m);
    if (m.phase == MERGE_NONE || m.phase == MERGE_MERGING)
        return ts_fail(e, TS_EINPUT,
                       "unit %s %s: only a unit merged into another is retired; run (or finish) "
                       "'tiersync merge' first",
                       store_self_code(s), m.phase ? "is still being merged" : "was not merged");
    if (m.phase == MERGE_RETIRED)
        return TS_OK;
    uint64_t pending = store_count(s, txn, DB_PENDING) + store_count(s, txn, DB_HELD) +
        store_count(s, txn, DB_ANNOUNCE),
             outbox = outbox_count(s, txn);
    if (n->cfg.parent[0] && (pending || outbox)) /* a root sends nothing up */
        return ts_fail(e, TS_EINPUT,
                       "%s still has changes its parent has not acknowledged (%llu cells or "
                       "announcements pending, %llu deltas in the outbox): run 'tiersync run' "
                       "on it until 'tiersync status' shows none, stop it, and retire again",
                       store_self_code(s), (unsigned long long)pending, (unsigned long long)outbox);
    char first[TS_CODE_MAX];
    size_t untold = parent_move_untold(s, txn, first);
    if (untold)
        return ts_fail(e, TS_EINPUT,
                       "%zu child%s of %s (%s%s) %s not yet been told to move to %s: run "
                       "'tiersync run' on %s until each has connected once (its log says "
                       "'told to move'), stop it, and retire again",
                       untold, untold == 1 ? "" : "ren", store_self_code(s), first,
                       untold > 1 ? ", ..." : "", untold == 1 ? "has" : "have", m.into,
                       store_self_code(s));
    m.phase = MERGE_RETIRED;
    return merge_state_put(s, txn, &m, e);
}

int cli_retire(int argc, char **argv)
{
    const char *dir;
    int done = cli_parse_dir_only(argc, argv, "retire", retire_help, &dir);
    if (done >= 0)
        return done;
    if (optind < argc)
        return cli_usage_error("retire", "unexpected argument '%s'", argv[optind]);
    node_t n;
    ts_err e = {0};
    int lockfd = -1;
    if (daemon_lock(cli_dir(dir), &lockfd, &e))
        return cli_report(&e);
    int rc = node_open(&n, cli_dir(dir), 0, &e);
    if (rc == TS_OK) {
        rc = store_write(n.store, retire_fn, &n, &e);
        if (rc == TS_OK)
            printf("%s retired: its daemon no longer starts; its data is kept read-only in %s\n",
                   n.cfg.code, n.cfg.dir);
        node_close(&n);
    }
    close(lockfd);
    return rc ? cli_report(&e) : 0;
}
