/* backup.h: hot copies of a node's store, and putting one back.
 *
 * A backup is LMDB's own compacting copy (mdb_env_copyfd2 with
 * MDB_CP_COMPACT) of DIR/db/data.mdb, taken inside one read transaction, so
 * it is consistent while the daemon and other commands keep writing. It is a
 * single LMDB data file, readable with mdb_stat -n.
 *
 * Restoring replaces DIR/db/data.mdb while no process has the environment
 * open. The restored node is behind its parent and its children: the
 * children resend snapshots of their totals and the parent resyncs this
 * node's contribution (docs/DESIGN.md, The replication link), so every total is
 * exact again.
 * What was entered at the node itself after the backup is lost. */
#ifndef TIERSYNC_BACKUP_H
#define TIERSYNC_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define BACKUP_FILE_MODE 0600
#define BACKUP_DATA_FILE "data.mdb" /* LMDB's data file inside DIR/db */
#define BACKUP_LOCK_FILE "lock.mdb" /* LMDB's lock file inside DIR/db */
#define BACKUP_KEPT_SUFFIX ".before-restore"

/* Writes a compacted consistent copy of the open store s to path, mode
 * 0600, and checks it reads back as a store of unit code. Refuses
 * (TS_EINPUT) if path exists: a backup never overwrites anything, and a
 * file at path is always complete (written aside, then linked into place).
 * *bytes receives the backup's size. */
int backup_write(store_t *s, const char *code, const char *path, uint64_t *bytes, ts_err *e);

/* Checks that path is a tiersync store whose own unit is code (opened read
 * only, without a lock file). TS_EINPUT naming the reason otherwise. */
int backup_check(const char *path, const char *code, ts_err *e);

/* Replaces dir's store with the backup at path, which must be a store of
 * unit code. Refused (TS_EINPUT, nothing changed) while the daemon holds
 * DIR/run.lock or any process has DIR/db open; both stay locked while the
 * file is swapped. The replaced data file is kept as
 * DIR/db/data.mdb.before-restore, whose path goes to kept (kept[0] = '\0'
 * when there was none). New files get the data directory's owner when run
 * as root, so the node's own user can still open them. */
int backup_restore(const char *dir, const char *code, const char *path, char *kept, size_t keptsz,
                   ts_err *e);

#endif
