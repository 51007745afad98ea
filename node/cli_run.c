/* cli_run.c: `tiersync run`: the daemon in the foreground. */
#include <stdio.h>

#include "cli.h"
#include "daemon.h"
#include "log.h"

static const char run_help[] =
    "usage: tiersync run --dir DIR\n\n"
    "Runs the node in the foreground until SIGINT or SIGTERM: accepts enrolled\n"
    "children on listen.endpoint, sends this node's changes to its parent, and\n"
    "serves the read API. Logs go to stderr, one line per event.\n";

int cli_run(int argc, char **argv)
{
    static const struct option opts[] = {CLI_COMMON_OPTS, {0, 0, 0, 0}};
    const char *dir = NULL;
    int o;
    while ((o = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        switch (o) {
        case 'd': dir = optarg; break;
        case 'h': fputs(run_help, stdout); return 0;
        default: return cli_usage_error("run", "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error("run", "unexpected argument '%s'", argv[optind]);
    node_t n;
    ts_err e = {0};
    if (node_open(&n, cli_dir(dir), NODE_OPEN_KEYS, &e))
        return cli_report(&e);
    int rc = daemon_run(&n, &e);
    node_close(&n);
    if (rc) {
        log_error("%s", e.msg);
        return e.code == TS_EINPUT ? 2 : 1;
    }
    return 0;
}
