/* cli_backup.c: `tiersync backup` (a hot copy of the store while the node
 * runs) and `tiersync restore` (put one back while it is stopped). */
#include <stdio.h>

#include "backup.h"
#include "cli.h"
#include "config.h"

static const char backup_help[] =
    "usage: tiersync backup --dir DIR FILE\n\n"
    "Writes a consistent copy of the node's store (DIR/db) to FILE while the node\n"
    "keeps running: LMDB's own compacting hot copy, taken in one read transaction.\n"
    "FILE gets mode 0600 and is never overwritten: name a new file each time, e.g.\n"
    "  tiersync backup --dir /var/lib/tiersync /var/backups/tiersync/$(date +%F).mdb\n"
    "A file at FILE is always a complete backup. The store holds the case records\n"
    "(at a commune: names, ID numbers), so keep backups as safe as the node.\n"
    "The key pair (node.key) and tiersync.conf are not in it: copy them once.\n\n"
    "To restore: stop the node, 'tiersync restore --dir DIR FILE', start it.\n";

static const char restore_help[] =
    "usage: tiersync restore --dir DIR FILE\n\n"
    "Replaces the node's store (DIR/db/data.mdb) with FILE, a backup written by\n"
    "'tiersync backup' at this node. Refused while the node runs (stop it first:\n"
    "systemctl stop tiersync), while another command has the store open, and if\n"
    "FILE is not a backup of this node. The replaced store is kept as\n"
    "DIR/db/data.mdb.before-restore.\n\n"
    "Then start the node: its children resend snapshots of their totals and its\n"
    "parent takes a snapshot from it, so every total is exact again. Records and\n"
    "values entered at this node itself after the backup are lost: enter them again.\n";

/* The common command line: --dir DIR FILE. */
static int parse(const char *cmd, const char *help, int argc, char **argv, const char **dir,
                 const char **file)
{
    int done = cli_parse_dir_only(argc, argv, cmd, help, dir);
    if (done >= 0)
        return done == 0 ? -1 : done; /* -1: help printed */
    if (optind >= argc)
        return cli_usage_error(cmd, "name the backup FILE");
    if (optind + 1 < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
    *file = argv[optind];
    *dir = cli_dir(*dir);
    return 0;
}

int cli_backup(int argc, char **argv)
{
    const char *dir = NULL, *file = NULL;
    int rc = parse("backup", backup_help, argc, argv, &dir, &file);
    if (rc)
        return rc < 0 ? 0 : rc;
    ts_config cfg;
    store_t *s = NULL;
    ts_err e = {0};
    uint64_t bytes = 0;
    if (config_load(&cfg, dir, &e) || store_open(&s, &cfg, &e) ||
        backup_write(s, cfg.code, file, &bytes, &e)) {
        store_close(&s);
        return cli_report(&e);
    }
    store_close(&s);
    printf("backup of node %s (%s) written to %s (%llu bytes, mode 0600)\n", cfg.code, cfg.name,
           file, (unsigned long long)bytes);
    return 0;
}

int cli_restore(int argc, char **argv)
{
    const char *dir = NULL, *file = NULL;
    int rc = parse("restore", restore_help, argc, argv, &dir, &file);
    if (rc)
        return rc < 0 ? 0 : rc;
    ts_config cfg;
    ts_err e = {0};
    char kept[TS_PATH_MAX];
    if (config_load(&cfg, dir, &e) || backup_restore(dir, cfg.code, file, kept, sizeof kept, &e))
        return cli_report(&e);
    printf("restored the store of node %s (%s) in %s from %s\n", cfg.code, cfg.name, dir, file);
    if (kept[0])
        printf("the replaced store is kept as %s: delete it once the node is current again\n",
               kept);
    printf("Start the node now; its children and its parent resync it (check with "
           "'tiersync status --dir %s').\n",
           dir);
    return 0;
}
