/* backup.c: hot copies with LMDB's compacting copy, and the guarded swap
 * that restores one (see backup.h). */
#include "backup.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "store_lmdb.h"

#define BACKUP_COPY_CHUNK (1 << 20)
#define BACKUP_UNITS_DB "units" /* the org-unit registry (store.h) */

/* fsyncs the directory holding path, so a new name survives a crash. */
static int sync_parent_dir(const char *path, ts_err *e)
{
    char buf[TS_PATH_MAX];
    if (ts_path(buf, sizeof buf, e, "%s", path))
        return e->code;
    const char *d = dirname(buf);
    int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return ts_fail(e, TS_ERUNTIME, "cannot open %s: %s", d, strerror(errno));
    int rc = fsync(fd);
    int err = errno;
    close(fd);
    return rc ? ts_fail(e, TS_ERUNTIME, "cannot flush %s: %s", d, strerror(err)) : TS_OK;
}

int backup_check(const char *path, const char *code, ts_err *e)
{
    MDB_env *env = NULL;
    store_txn *txn = NULL;
    MDB_dbi dbi;
    MDB_val k = store_mdb_val(code, strlen(code)), v;
    store_unit u;
    int rc = mdb_env_create(&env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs(env, DB_COUNT);
    if (rc == 0)
        rc = mdb_env_open(env, path, MDB_RDONLY | MDB_NOSUBDIR | MDB_NOLOCK, BACKUP_FILE_MODE);
    if (rc == 0)
        rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
    if (rc != 0) {
        mdb_env_close(env);
        return ts_fail(e, TS_EINPUT, "%s is not a readable tiersync store backup: %s", path,
                       store_strerror(rc));
    }
    int out = TS_OK;
    rc = mdb_dbi_open(txn, BACKUP_UNITS_DB, 0, &dbi);
    if (rc != 0)
        out = ts_fail(e, TS_EINPUT,
                      "%s is an LMDB file but not a tiersync store (no '%s' "
                      "table)",
                      path, BACKUP_UNITS_DB);
    else if ((rc = mdb_get(txn, dbi, &k, &v)) != 0 ||
             !store_unit_decode(&(store_val){v.mv_data, v.mv_size}, &u) || u.via[0])
        /* a node registers its own unit with via = "" (cli_init.c); a parent
         * holds its children's units with via set, so this tells them apart */
        out = ts_fail(e, TS_EINPUT,
                      "%s is not a backup of node %s (it does not hold unit %s "
                      "as its own); use a backup taken at node %s",
                      path, code, code, code);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return out;
}

/* Gives the finished file tmp the name path, never replacing a file: link()
 * fails if path exists. Where the filesystem has no hard links (a FAT USB
 * stick), rename() after a last check instead. */
static int put_in_place(const char *tmp, const char *path, ts_err *e)
{
    struct stat st;
    int rc = link(tmp, path);
    if (rc != 0 && (errno == EPERM || errno == EOPNOTSUPP))
        rc = lstat(path, &st) == 0 ? (errno = EEXIST, -1) : rename(tmp, path);
    if (rc == 0)
        return TS_OK;
    if (errno == EEXIST)
        return ts_fail(e, TS_EINPUT,
                       "%s appeared while the backup was written; nothing was "
                       "overwritten: name a new file",
                       path);
    return ts_fail(e, TS_ERUNTIME, "cannot create %s: %s", path, strerror(errno));
}

int backup_write(store_t *s, const char *code, const char *path, uint64_t *bytes, ts_err *e)
{
    struct stat st;
    if (lstat(path, &st) == 0)
        return ts_fail(e, TS_EINPUT,
                       "%s already exists; a backup never overwrites a file: "
                       "name a new one, or move the old one away first",
                       path);
    char tmp[TS_PATH_MAX];
    if (ts_path(tmp, sizeof tmp, e, "%s.partial-XXXXXX", path))
        return e->code;
    int fd = mkstemp(tmp);
    if (fd < 0)
        return ts_fail(e, TS_ERUNTIME, "cannot create a file next to %s: %s", path,
                       strerror(errno));
    int rc = TS_OK, mrc;
    if (fchmod(fd, BACKUP_FILE_MODE) != 0)
        rc = ts_fail(e, TS_ERUNTIME, "cannot set the mode of %s: %s", tmp, strerror(errno));
    else if ((mrc = mdb_env_copyfd2(store_env(s), fd, MDB_CP_COMPACT)) != 0)
        rc = ts_fail(e, TS_ERUNTIME, "cannot copy the store to %s: %s", tmp, store_strerror(mrc));
    else if (fsync(fd) != 0 || fstat(fd, &st) != 0)
        rc = ts_fail(e, TS_ERUNTIME, "cannot flush %s: %s", tmp, strerror(errno));
    if (close(fd) != 0 && rc == TS_OK)
        rc = ts_fail(e, TS_ERUNTIME, "cannot close %s: %s", tmp, strerror(errno));
    if (rc == TS_OK && backup_check(tmp, code, e) != TS_OK) {
        ts_err_wrap(e, "the copy did not read back");
        rc = e->code = TS_ERUNTIME;
    }
    if (rc == TS_OK)
        rc = put_in_place(tmp, path, e);
    unlink(tmp);
    if (rc == TS_OK && (rc = sync_parent_dir(path, e)) == TS_OK && bytes)
        *bytes = (uint64_t)st.st_size;
    return rc;
}

/* Root restoring a node's files must leave them to the node's own user. */
static int own_like(int fd, const struct stat *owner, const char *what, ts_err *e)
{
    if (geteuid() != 0 || fchown(fd, owner->st_uid, owner->st_gid) == 0)
        return TS_OK;
    return ts_fail(e, TS_ERUNTIME, "cannot give %s to the data directory's owner: %s", what,
                   strerror(errno));
}

/* Opens (creating with the directory's owner) the file dir/name. */
static int open_owned(const char *dir, const char *name, int flags, const struct stat *owner,
                      int *fd, ts_err *e)
{
    char path[TS_PATH_MAX];
    if (ts_path(path, sizeof path, e, "%s/%s", dir, name))
        return e->code;
    *fd = open(path, flags | O_CLOEXEC);
    if (*fd < 0 && errno == ENOENT) {
        *fd = open(path, flags | O_CREAT | O_EXCL | O_CLOEXEC, BACKUP_FILE_MODE);
        if (*fd >= 0 && own_like(*fd, owner, path, e)) {
            close(*fd);
            *fd = -1;
            return e->code;
        }
    }
    return *fd < 0 ? ts_fail(e, TS_ERUNTIME, "cannot open %s: %s", path, strerror(errno)) : TS_OK;
}

/* Takes the daemon's lock and LMDB's exclusive lock (a write lock on byte
 * 0 of lock.mdb, which every process with the environment open holds
 * shared): while both are held nothing can open the store. */
static int lock_node(const char *dir, const char *db, const struct stat *owner, int *runfd,
                     int *lmdbfd, ts_err *e)
{
    if (open_owned(dir, DAEMON_LOCK_FILE, O_RDONLY, owner, runfd, e))
        return e->code;
    if (flock(*runfd, LOCK_EX | LOCK_NB) != 0)
        return ts_fail(e, TS_EINPUT,
                       "the node in %s is running ('tiersync run' holds %s/%s); "
                       "stop it first (systemctl stop tiersync), then restore",
                       dir, dir, DAEMON_LOCK_FILE);
    if (open_owned(db, BACKUP_LOCK_FILE, O_RDWR, owner, lmdbfd, e))
        return e->code;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
    if (fcntl(*lmdbfd, F_SETLK, &fl) != 0)
        return ts_fail(e, TS_EINPUT,
                       "another process has the store %s open (a tiersync "
                       "command still running?); let it finish, then restore",
                       db);
    return TS_OK;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Copies the backup at src into a new file named from the template tmp. */
static int copy_in(const char *src, char *tmp, const struct stat *owner, ts_err *e)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return ts_fail(e, TS_ERUNTIME, "cannot open %s: %s", src, strerror(errno));
    int out = mkstemp(tmp);
    if (out < 0) {
        close(in);
        return ts_fail(e, TS_ERUNTIME, "cannot create %s: %s", tmp, strerror(errno));
    }
    char *buf = malloc(BACKUP_COPY_CHUNK);
    int rc = !buf ? ts_fail(e, TS_ERUNTIME, "out of memory copying %s", src)
        : fchmod(out, BACKUP_FILE_MODE) != 0
        ? ts_fail(e, TS_ERUNTIME, "cannot set the mode of %s: %s", tmp, strerror(errno))
        : own_like(out, owner, tmp, e);
    while (rc == TS_OK) {
        ssize_t n = read(in, buf, BACKUP_COPY_CHUNK);
        if (n == 0)
            break;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = ts_fail(e, TS_ERUNTIME, "cannot read %s: %s", src, strerror(errno));
        else if (write_all(out, buf, (size_t)n) != 0)
            rc = ts_fail(e, TS_ERUNTIME, "cannot write %s: %s", tmp, strerror(errno));
    }
    free(buf);
    if (rc == TS_OK && fsync(out) != 0)
        rc = ts_fail(e, TS_ERUNTIME, "cannot flush %s: %s", tmp, strerror(errno));
    close(out);
    close(in);
    if (rc != TS_OK)
        unlink(tmp);
    return rc;
}

/* With the node locked: keeps the current data file, moves the copy in. */
static int swap_in(const char *db, const char *src, const struct stat *owner, char *kept,
                   size_t keptsz, ts_err *e)
{
    char data[TS_PATH_MAX], tmp[TS_PATH_MAX], old[TS_PATH_MAX];
    if (ts_path(data, sizeof data, e, "%s/%s", db, BACKUP_DATA_FILE) ||
        ts_path(tmp, sizeof tmp, e, "%s/%s.restore-XXXXXX", db, BACKUP_DATA_FILE) ||
        ts_path(old, sizeof old, e, "%s%s", data, BACKUP_KEPT_SUFFIX))
        return e->code;
    if (copy_in(src, tmp, owner, e))
        return e->code;
    /* The old file gets a second name before the new one takes its place:
     * whenever this stops, data.mdb is the old store or the whole new one. */
    bool had_data = access(data, F_OK) == 0;
    if (had_data && ((unlink(old) != 0 && errno != ENOENT) || link(data, old) != 0)) {
        int err = errno;
        unlink(tmp);
        return ts_fail(e, TS_ERUNTIME,
                       "cannot keep the current store as %s: %s; nothing "
                       "was changed",
                       old, strerror(err));
    }
    if (rename(tmp, data) != 0) {
        int err = errno;
        unlink(tmp);
        if (had_data)
            unlink(old);
        return ts_fail(e, TS_ERUNTIME,
                       "cannot move the backup into %s: %s; nothing was "
                       "changed",
                       data, strerror(err));
    }
    snprintf(kept, keptsz, "%s", had_data ? old : "");
    return sync_parent_dir(data, e);
}

int backup_restore(const char *dir, const char *code, const char *path, char *kept, size_t keptsz,
                   ts_err *e)
{
    char db[TS_PATH_MAX];
    struct stat owner;
    kept[0] = '\0';
    if (ts_path(db, sizeof db, e, "%s/%s", dir, STORE_SUBDIR))
        return e->code;
    if (stat(dir, &owner) != 0)
        return ts_fail(e, TS_EINPUT, "no node in %s: %s", dir, strerror(errno));
    if (backup_check(path, code, e))
        return e->code;
    if (mkdir(db, 0700) == 0) {
        int dfd = open(db, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int rc = dfd < 0 ? ts_fail(e, TS_ERUNTIME, "cannot open %s: %s", db, strerror(errno))
                         : own_like(dfd, &owner, db, e);
        if (dfd >= 0)
            close(dfd);
        if (rc)
            return rc;
    } else if (errno != EEXIST) {
        return ts_fail(e, TS_ERUNTIME, "cannot create %s: %s", db, strerror(errno));
    }
    int runfd = -1, lmdbfd = -1;
    int rc = lock_node(dir, db, &owner, &runfd, &lmdbfd, e);
    if (rc == TS_OK)
        rc = swap_in(db, path, &owner, kept, keptsz, e);
    /* closing drops both locks; a later opener finds lock.mdb unused and
     * LMDB resets it, so no reader slot of the old file survives */
    if (lmdbfd >= 0)
        close(lmdbfd);
    if (runfd >= 0)
        close(runfd);
    return rc;
}
