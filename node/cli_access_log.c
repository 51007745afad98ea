/* cli_access_log.c: `tiersync access-log`: who read or changed which case
 * record, when and from where (access_log.h), as text or JSON lines. */
#include <jansson.h>
#include <stdio.h>

#include "access_log.h"
#include "cli.h"
#include "node.h"

static const char access_help[] =
    "usage: tiersync access-log --dir DIR [--user NAME] [--record ID] [--json]\n\n"
    "Prints the register's access log, oldest first: every login, failed login and\n"
    "logout, every search and read of a record, every change, every account change,\n"
    "with the account, the address and the record's type and id (never its values).\n"
    "--json prints one JSON object per line.\n";

static int print_text(const access_entry *a, void *ctx)
{
    (void)ctx;
    char t[TS_ISO_TIME_MAX];
    ts_iso_time(a->ms, t);
    printf("%s  %-16s %-20s %-12s %s%s%s", t, a->user, a->addr, a->action, a->type,
           a->type[0] && a->id[0] ? " " : "", a->id);
    if (a->count)
        printf(" (%lld listed)", (long long)a->count);
    putchar('\n');
    return 0;
}

static int print_json(const access_entry *a, void *ctx)
{
    (void)ctx;
    char t[TS_ISO_TIME_MAX];
    ts_iso_time(a->ms, t);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "time", t, "user", a->user, "address",
                          a->addr, "action", a->action, "type", a->type, "id", a->id, "count",
                          (json_int_t)a->count);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (s)
        puts(s);
    free(s);
    return 0;
}

int cli_access_log(int argc, char **argv)
{
    static const struct option opts[] = {CLI_COMMON_OPTS,
                                         {"user", required_argument, 0, 'u'},
                                         {"record", required_argument, 0, 'r'},
                                         {"json", no_argument, 0, 'j'},
                                         {0, 0, 0, 0}};
    const char *dir = NULL, *user = NULL, *record = NULL;
    bool json = false;
    int o;
    while ((o = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        switch (o) {
        case 'd': dir = optarg; break;
        case 'h': fputs(access_help, stdout); return 0;
        case 'u': user = optarg; break;
        case 'r': record = optarg; break;
        case 'j': json = true; break;
        default: return cli_usage_error("access-log", "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error("access-log", "unexpected argument '%s'", argv[optind]);
    node_t n;
    ts_err e = {0};
    if (node_open(&n, cli_dir(dir), 0, &e))
        return cli_report(&e);
    int rc = access_log_scan(n.store, user, record, json ? print_json : print_text, NULL, &e);
    node_close(&n);
    return rc ? cli_report(&e) : 0;
}
