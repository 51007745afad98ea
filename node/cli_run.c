/* cli_run.c: `tiersync run`: the daemon in the foreground. */
#include <stdio.h>

#include "cli.h"
#include "daemon.h"
#include "log.h"
#include "merge_state.h"

static const char run_help[] =
    "usage: tiersync run --dir DIR\n\n"
    "Runs the node in the foreground until SIGINT or SIGTERM: accepts enrolled\n"
    "children on listen.endpoint, sends this node's changes to its parent, and\n"
    "serves the read API. Logs go to stderr, one line per event.\n";

int cli_run(int argc, char **argv)
{
    const char *dir;
    int done = cli_parse_dir_only(argc, argv, "run", run_help, &dir);
    if (done >= 0)
        return done;
    if (optind < argc)
        return cli_usage_error("run", "unexpected argument '%s'", argv[optind]);
    node_t n;
    ts_err e = {0};
    if (node_open(&n, cli_dir(dir), NODE_OPEN_KEYS, &e))
        return cli_report(&e);
    int rc = merge_refuse_run(n.store, &e);
    if (rc == TS_OK)
        rc = daemon_run(&n, &e);
    node_close(&n);
    if (rc) {
        log_error("%s", e.msg);
        return e.code == TS_EINPUT ? 2 : 1;
    }
    return 0;
}
