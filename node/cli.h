/* cli.h: the tiersync subcommands. Each returns the process exit status:
 * 0 done, 1 failure at run time, 2 refused input (docs/DESIGN.md, Operating). */
#ifndef TIERSYNC_CLI_H
#define TIERSYNC_CLI_H

#include <getopt.h>
#include <stdbool.h>

#include "config.h"
#include "err.h"

int cli_init(int argc, char **argv);
int cli_key(int argc, char **argv);
int cli_child(int argc, char **argv);
int cli_value(int argc, char **argv);
int cli_import(int argc, char **argv);
int cli_record(int argc, char **argv);
int cli_totals(int argc, char **argv);
int cli_status(int argc, char **argv);
int cli_run(int argc, char **argv);
int cli_verify(int argc, char **argv);
int cli_export(int argc, char **argv);
int cli_monthly_report(int argc, char **argv); /* `tiersync report` */
int cli_backup(int argc, char **argv);
int cli_restore(int argc, char **argv);
int cli_parent(int argc, char **argv);
/* `key rotate` (cli_rotate.c), for cli_key. */
int cli_key_rotate(const char *dir, bool unannounced);
int cli_user(int argc, char **argv);
int cli_access_log(int argc, char **argv);
int cli_tls(int argc, char **argv);
int cli_catalog(int argc, char **argv);
int cli_merge(int argc, char **argv); /* cli_merge.c */
int cli_retire(int argc, char **argv);

/* Makes a self-signed HTTPS certificate for cfg's node, enters it in
 * tiersync.conf and prints its fingerprint (cli_tls.c; init --tls). */
int cli_tls_make(ts_config *cfg, const char *const *hosts, int nhosts, bool force, ts_err *e);

/* `child invite|invites|revoke-invite` (cli_invite.c), for cli_child: the
 * verb, its positional arguments and the options only invite takes. */
typedef struct {
    const char *name, *expires, *csv, *out;
} cli_invite_opts;
int cli_child_invite(const char *dir, const char *verb, int nargs, char **args,
                     const cli_invite_opts *o);

/* Prints "tiersync: <message>" to stderr and returns the error's exit status. */
int cli_report(const ts_err *e);

/* Warns on stderr when this computer's clock cannot be right (clock.h), for
 * the commands that check dates against today. */
void cli_clock_check(const char *dir);

/* Refuses a bad command line: prints the reason and a pointer to --help. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parses the options of a command that takes only --dir and --help.
 * Returns -1 to go on (positional arguments start at optind), else the exit
 * status to return at once (0 after printing help, 2 for a bad option). */
int cli_parse_dir_only(int argc, char **argv, const char *cmd, const char *help, const char **dir);

/* The data directory: --dir, else $TIERSYNC_DIR, else the FHS default. */
const char *cli_dir(const char *opt);

/* getopt_long over argv with the common --dir/--help options handled:
 * returns the option character, -1 at the end, '?' on an unknown option. */
#define CLI_COMMON_OPTS                 \
    {"dir", required_argument, 0, 'd'}, \
    {                                   \
        "help", no_argument, 0, 'h'     \
    }

#endif
