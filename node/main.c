/* main.c: the tiersync command: dispatches to a subcommand. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "clock.h"
#include "config.h"

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *summary;
} commands[] = {
    {"init", cli_init, "create a node: data directory, key pair, config file"},
    {"key", cli_key, "print this node's public key"},
    {"child", cli_child, "enrol, remove or list child nodes"},
    {"parent", cli_parent, "pin a parent key read out of band"},
    {"value", cli_value, "set a directly entered value (counts, plans, targets)"},
    {"import", cli_import, "import a CSV list of records (person, episode, ...)"},
    {"record", cli_record, "add, update or delete one record"},
    {"totals", cli_totals, "print rolled-up totals"},
    {"status", cli_status, "show the parent link and every child"},
    {"run", cli_run, "run the node daemon in the foreground"},
    {"catalog", cli_catalog, "publish a new catalog version (root) or show the one in force"},
    {"verify", cli_verify, "check the signed deltas kept against the totals"},
    {"export", cli_export, "export numbers as CSV, DHIS2 JSON, ADX XML, Excel or FHIR"},
    {"report", cli_monthly_report, "write the monthly report (a printable HTML page)"},
    {"backup", cli_backup, "write a hot copy of the store to a file"},
    {"restore", cli_restore, "put a backup back in place (node stopped)"},
    {"user", cli_user, "add, list or remove the case register's accounts"},
    {"access-log", cli_access_log, "print who read or changed which case record"},
    {"tls", cli_tls, "make a self-signed HTTPS certificate (the case register)"},
    {"merge", cli_merge, "merge old communes' records into a new commune from a date"},
    {"retire", cli_retire, "retire a node whose unit was merged into another"},
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: tiersync COMMAND [--dir DIR] [options]\n\n"
            "One node of the tiersync tree (commune, district, province, ...).\n\n"
            "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\n'tiersync COMMAND --help' describes a command. The data directory defaults "
            "to $TIERSYNC_DIR or %s.\n",
            CONFIG_DEFAULT_DIR);
}

int cli_report(const ts_err *e)
{
    fprintf(stderr, "tiersync: %s\n", e->msg);
    return e->code == TS_EINPUT ? 2 : 1;
}

void cli_clock_check(const char *dir)
{
    char note[CLOCK_NOTE_MAX];
    if (clock_suspect((int64_t)time(NULL), clock_store_time(dir), note, sizeof note))
        fprintf(stderr, "tiersync: warning: %s\n", note);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "tiersync %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see 'tiersync %s --help')\n", cmd);
    va_end(ap);
    return 2;
}

int cli_parse_dir_only(int argc, char **argv, const char *cmd, const char *help, const char **dir)
{
    static const struct option opts[] = {CLI_COMMON_OPTS, {0, 0, 0, 0}};
    int o;
    *dir = NULL;
    while ((o = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        switch (o) {
        case 'd': *dir = optarg; break;
        case 'h': fputs(help, stdout); return 0;
        default: return cli_usage_error(cmd, "unknown option");
        }
    }
    return -1;
}

const char *cli_dir(const char *opt)
{
    if (opt)
        return opt;
    const char *env = getenv("TIERSYNC_DIR");
    return env && *env ? env : CONFIG_DEFAULT_DIR;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("tiersync %s\n", TIERSYNC_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "tiersync: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
