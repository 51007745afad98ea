/* test_backup.c: hot copies and restores of a store: the copy holds the
 * numbers of the moment it was taken, has mode 0600, never overwrites a
 * file, is recognised as this node's; a restore puts it back and keeps the
 * replaced file, and is refused (nothing changed) while the daemon's lock is
 * held, while another process has the store open, and for another node's
 * backup or a file that is not a store. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backup.h"
#include "daemon.h"
#include "testutil.h"

#define CODE "343"

static char dir[512];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s", tu_tmpdir("backup"));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmrf(dir);
    return 0;
}

static ts_config conf(const char *code)
{
    ts_config c;
    config_defaults(&c, dir);
    snprintf(c.code, sizeof c.code, "%s", code);
    return c;
}

typedef struct {
    const char *code;
    int64_t value;
} set_ctx;

/* Registers the node's own unit (as 'tiersync init' does) and sets its
 * STAFF_TRAINED 2025 value. */
static int set_fn(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    const set_ctx *c = vctx;
    store_unit u = {0};
    snprintf(u.name, sizeof u.name, "Unit %s", c->code);
    snprintf(u.level, sizeof u.level, "district");
    ts_cell cell;
    if (store_unit_put(s, txn, c->code, &u, e) ||
        cell_set(&cell, c->code, "STAFF_TRAINED", "2025", "", e))
        return e->code;
    return store_set_value(s, txn, &cell, c->value, NULL, e);
}

static store_t *open_with(const char *code, int64_t value)
{
    ts_config c = conf(code);
    store_t *s = NULL;
    ts_err e = {0};
    set_ctx ctx = {code, value};
    if (store_open(&s, &c, &e) != TS_OK || store_write(s, set_fn, &ctx, &e) != TS_OK)
        fail_msg("store: %s", e.msg);
    return s;
}

static int64_t stored_value(const char *code)
{
    ts_config c = conf(code);
    store_t *s = NULL;
    ts_err e = {0};
    store_txn *txn;
    if (store_open(&s, &c, &e) != TS_OK || store_read_begin(s, &txn, &e) != TS_OK)
        fail_msg("store: %s", e.msg);
    ts_cell cell;
    assert_int_equal(cell_set(&cell, code, "STAFF_TRAINED", "2025", "", &e), TS_OK);
    char key[CELL_KEY_MAX];
    size_t klen = cell_key(&cell, key);
    int64_t v = store_get_fig(s, txn, DB_TOTALS, key, klen).v;
    store_read_end(txn);
    store_close(&s);
    return v;
}

static const char *path_in(const char *name)
{
    static char p[2][1024];
    static int i;
    i ^= 1;
    snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
    return p[i];
}

static void test_backup_is_a_snapshot_and_never_overwrites(void **state)
{
    (void)state;
    store_t *s = open_with(CODE, 7);
    ts_err e = {0};
    uint64_t bytes = 0;
    const char *b1 = path_in("b1.mdb");
    assert_int_equal(backup_write(s, CODE, b1, &bytes, &e), TS_OK);
    struct stat st;
    assert_int_equal(stat(b1, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal((uint64_t)st.st_size, bytes);
    assert_int_equal(backup_check(b1, CODE, &e), TS_OK);

    /* a second backup to the same name is refused and leaves the file alone */
    set_ctx later = {CODE, 9};
    assert_int_equal(store_write(s, set_fn, &later, &e), TS_OK);
    assert_int_equal(backup_write(s, CODE, b1, &bytes, &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "already exists"));
    struct stat st2;
    assert_int_equal(stat(b1, &st2), 0);
    assert_int_equal(st2.st_ino, st.st_ino);
    assert_int_equal(st2.st_size, st.st_size);
    store_close(&s);

    /* the backup holds 7, the store 9; restoring brings 7 back */
    assert_int_equal(stored_value(CODE), 9);
    char kept[TS_PATH_MAX];
    assert_int_equal(backup_restore(dir, CODE, b1, kept, sizeof kept, &e), TS_OK);
    assert_int_equal(stored_value(CODE), 7);
    assert_string_equal(kept, path_in("db/data.mdb" BACKUP_KEPT_SUFFIX));
    assert_int_equal(access(kept, F_OK), 0);
    assert_int_equal(stat(path_in("db/data.mdb"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* the backup itself is left as it was, usable again */
    assert_int_equal(backup_check(b1, CODE, &e), TS_OK);
}

static void test_foreign_and_garbage_refused(void **state)
{
    (void)state;
    store_t *s = open_with(CODE, 5);
    ts_err e = {0};
    const char *b = path_in("b.mdb");
    assert_int_equal(backup_write(s, CODE, b, NULL, &e), TS_OK);
    store_close(&s);

    /* another node's backup: refused, the store unchanged */
    assert_int_equal(backup_check(b, "344", &e), TS_EINPUT);
    char kept[TS_PATH_MAX];
    assert_int_equal(backup_restore(dir, "344", b, kept, sizeof kept, &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "not a backup of node 344"));

    /* a file that is not a store */
    const char *junk = tu_write_file(dir, "junk.mdb", "not an LMDB file\n");
    assert_int_equal(backup_restore(dir, CODE, junk, kept, sizeof kept, &e), TS_EINPUT);
    assert_int_equal(access(path_in("db/data.mdb" BACKUP_KEPT_SUFFIX), F_OK), -1);
    assert_int_equal(stored_value(CODE), 5);
}

static void test_restore_refused_while_daemon_runs(void **state)
{
    (void)state;
    store_t *s = open_with(CODE, 3);
    ts_err e = {0};
    const char *b = path_in("b.mdb");
    assert_int_equal(backup_write(s, CODE, b, NULL, &e), TS_OK);
    set_ctx later = {CODE, 4};
    assert_int_equal(store_write(s, set_fn, &later, &e), TS_OK);
    store_close(&s);

    /* the daemon holds DIR/run.lock with flock (daemon.c) */
    int fd = open(path_in(DAEMON_LOCK_FILE), O_RDWR | O_CREAT, 0600);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
    char kept[TS_PATH_MAX];
    assert_int_equal(backup_restore(dir, CODE, b, kept, sizeof kept, &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "is running"));
    assert_int_equal(stored_value(CODE), 4);
    close(fd);
    assert_int_equal(backup_restore(dir, CODE, b, kept, sizeof kept, &e), TS_OK);
    assert_int_equal(stored_value(CODE), 3);
}

static void test_restore_refused_while_store_open_elsewhere(void **state)
{
    (void)state;
    store_t *s = open_with(CODE, 11);
    ts_err e = {0};
    const char *b = path_in("b.mdb");
    assert_int_equal(backup_write(s, CODE, b, NULL, &e), TS_OK);
    set_ctx later = {CODE, 12};
    assert_int_equal(store_write(s, set_fn, &later, &e), TS_OK);
    store_close(&s);

    /* another process (a running command) has the environment open */
    int ready[2], go[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(go), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        ts_config c = conf(CODE);
        store_t *cs = NULL;
        ts_err ce = {0};
        char x = store_open(&cs, &c, &ce) == TS_OK ? 'y' : 'n';
        if (write(ready[1], &x, 1) != 1 || read(go[0], &x, 1) != 1)
            _exit(2);
        store_close(&cs);
        _exit(0);
    }
    char x = 0;
    assert_int_equal(read(ready[0], &x, 1), 1);
    assert_int_equal(x, 'y');
    char kept[TS_PATH_MAX];
    int rc = backup_restore(dir, CODE, b, kept, sizeof kept, &e);
    assert_int_equal(write(go[1], "g", 1), 1);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(rc, TS_EINPUT);
    assert_non_null(strstr(e.msg, "has the store"));
    assert_int_equal(stored_value(CODE), 12);
    /* once it is gone, the restore goes through */
    assert_int_equal(backup_restore(dir, CODE, b, kept, sizeof kept, &e), TS_OK);
    assert_int_equal(stored_value(CODE), 11);
    close(ready[0]), close(ready[1]), close(go[0]), close(go[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_backup_is_a_snapshot_and_never_overwrites, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_foreign_and_garbage_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_refused_while_daemon_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_refused_while_store_open_elsewhere, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
