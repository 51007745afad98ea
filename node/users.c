/* users.c: register accounts in table users (users.h). A value is a fixed
 * record: role, times and the crypto_pwhash_str string. Hashing runs before
 * the write transaction (store_write may run its function twice). */
#include "users.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

typedef struct {
    uint32_t role;
    uint32_t pad;
    int64_t created_ms, changed_ms;
    char hash[USERS_HASH_MAX];
} users_entry;

static const char *const role_names[] = {NULL, "viewer", "officer", "admin"};

int users_role_parse(const char *s, users_role *role, ts_err *e)
{
    for (int r = USERS_VIEWER; r <= USERS_ADMIN; r++)
        if (s && !strcmp(s, role_names[r])) {
            *role = (users_role)r;
            return TS_OK;
        }
    return ts_fail(e, TS_EINPUT, "role '%.32s' is not one of admin, officer, viewer", s ? s : "");
}

const char *users_role_name(users_role role)
{
    return role >= USERS_VIEWER && role <= USERS_ADMIN ? role_names[role] : "none";
}

bool users_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= USERS_NAME_MAX || name[0] == '.' || name[0] == '-' || name[0] == '_')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static int check_password(const char *pw, ts_err *e)
{
    size_t n = strlen(pw);
    if (n < USERS_PASSWORD_MIN)
        return ts_fail(e, TS_EINPUT, "the password is too short: at least %d characters",
                       USERS_PASSWORD_MIN);
    if (n > USERS_PASSWORD_MAX)
        return ts_fail(e, TS_EINPUT, "the password is too long: at most %d bytes",
                       USERS_PASSWORD_MAX);
    return TS_OK;
}

static int hash_password(const char *pw, char out[USERS_HASH_MAX], ts_err *e)
{
    if (sodium_init() < 0)
        return ts_fail(e, TS_ERUNTIME, "libsodium failed to start");
    if (crypto_pwhash_str(out, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return ts_fail(e, TS_ERUNTIME,
                       "out of memory hashing the password (Argon2id needs "
                       "%zu MiB)",
                       (size_t)crypto_pwhash_MEMLIMIT_INTERACTIVE >> 20);
    return TS_OK;
}

static int get_entry(store_t *s, store_txn *txn, const char *name, users_entry *u)
{
    store_val v;
    if (store_get(s, txn, DB_USERS, name, strlen(name), &v, NULL) != TS_OK || v.len != sizeof *u)
        return TS_ENOTFOUND;
    memcpy(u, v.data, sizeof *u);
    u->hash[USERS_HASH_MAX - 1] = '\0';
    return TS_OK;
}

typedef struct {
    const char *name;
    users_entry u;
    enum { PUT_NEW, PUT_EXISTING, PUT_REMOVE } how;
} put_ctx;

typedef struct {
    int admins, others;
} count_ctx;

static int count_roles(const store_val *k, const store_val *v, void *vctx)
{
    (void)k;
    count_ctx *c = vctx;
    users_entry u;
    if (v->len == sizeof u) {
        memcpy(&u, v->data, sizeof u);
        u.role == USERS_ADMIN ? c->admins++ : c->others++;
    }
    return 0;
}

static int put_fn(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    put_ctx *x = vctx;
    users_entry old;
    bool exists = get_entry(s, txn, x->name, &old) == TS_OK;
    if (x->how == PUT_NEW && exists)
        return ts_fail(e, TS_EINPUT,
                       "an account named %s exists already (use 'tiersync user "
                       "passwd' to set its password)",
                       x->name);
    if (x->how != PUT_NEW && !exists)
        return ts_fail(e, TS_ENOTFOUND, "no account named %s ('tiersync user list' shows them)",
                       x->name);
    if (x->how == PUT_REMOVE) {
        count_ctx c = {0};
        if (store_scan(s, txn, DB_USERS, "", count_roles, &c, NULL, e))
            return e->code;
        if (old.role == USERS_ADMIN && c.admins == 1 && c.others > 0)
            return ts_fail(e, TS_EINPUT,
                           "%s is the last admin and other accounts remain: make "
                           "another admin first",
                           x->name);
        return store_del(s, txn, DB_USERS, x->name, strlen(x->name), e);
    }
    if (x->how == PUT_EXISTING) {
        x->u.role = old.role;
        x->u.created_ms = old.created_ms;
    }
    return store_put(s, txn, DB_USERS, x->name, strlen(x->name), &x->u, sizeof x->u, e);
}

static int put(store_t *s, put_ctx *x, const char *password, ts_err *e)
{
    if (!users_name_valid(x->name))
        return ts_fail(e, TS_EINPUT,
                       "'%.40s' is not an account name: 1 to %d letters, digits, "
                       ". _ or -",
                       x->name, USERS_NAME_MAX - 1);
    if (password && (check_password(password, e) || hash_password(password, x->u.hash, e)))
        return e->code;
    x->u.changed_ms = ts_now_ms();
    int rc = store_write(s, put_fn, x, e);
    sodium_memzero(x->u.hash, sizeof x->u.hash);
    return rc;
}

int users_add(store_t *s, const char *name, users_role role, const char *password, ts_err *e)
{
    put_ctx x = {.name = name, .how = PUT_NEW};
    x.u.role = role;
    x.u.created_ms = ts_now_ms();
    return put(s, &x, password, e);
}

int users_passwd(store_t *s, const char *name, const char *password, ts_err *e)
{
    put_ctx x = {.name = name, .how = PUT_EXISTING};
    return put(s, &x, password, e);
}

int users_remove(store_t *s, const char *name, ts_err *e)
{
    put_ctx x = {.name = name, .how = PUT_REMOVE};
    return put(s, &x, NULL, e);
}

typedef struct {
    users_info *out;
    int max, n;
} list_ctx;

static int list_one(const store_val *k, const store_val *v, void *vctx)
{
    list_ctx *l = vctx;
    users_entry u;
    if (v->len != sizeof u || k->len >= USERS_NAME_MAX)
        return 0;
    if (l->n < l->max) {
        memcpy(&u, v->data, sizeof u);
        users_info *i = &l->out[l->n];
        snprintf(i->name, sizeof i->name, "%.*s", (int)k->len, (const char *)k->data);
        i->role = (users_role)u.role;
        i->created_ms = u.created_ms;
        i->changed_ms = u.changed_ms;
    }
    l->n++;
    return 0;
}

int users_list(store_t *s, users_info *out, int max, ts_err *e)
{
    store_txn *txn;
    if (store_read_begin(s, &txn, e))
        return -1;
    list_ctx l = {out, max, 0};
    int rc = store_scan(s, txn, DB_USERS, "", list_one, &l, NULL, e);
    store_read_end(txn);
    return rc ? -1 : l.n;
}

static int read_entry(store_t *s, const char *name, users_entry *u, ts_err *e)
{
    store_txn *txn;
    if (store_read_begin(s, &txn, e))
        return e->code;
    int rc = get_entry(s, txn, name, u);
    store_read_end(txn);
    return rc;
}

int users_get(store_t *s, const char *name, users_info *info, ts_err *e)
{
    users_entry u;
    int rc = users_name_valid(name) ? read_entry(s, name, &u, e) : TS_ENOTFOUND;
    if (rc == TS_ENOTFOUND)
        return ts_fail(e, TS_ENOTFOUND, "no account named %.40s", name);
    if (rc)
        return rc;
    snprintf(info->name, sizeof info->name, "%s", name);
    info->role = (users_role)u.role;
    info->created_ms = u.created_ms;
    info->changed_ms = u.changed_ms;
    sodium_memzero(&u, sizeof u);
    return TS_OK;
}

int users_check(store_t *s, const char *name, const char *password, users_info *info, ts_err *e)
{
    users_entry u;
    size_t pwlen = strlen(password);
    int rc = users_name_valid(name) && pwlen <= USERS_PASSWORD_MAX ? read_entry(s, name, &u, e)
                                                                   : TS_ENOTFOUND;
    if (rc == TS_ERUNTIME)
        return rc;
    if (sodium_init() < 0)
        return ts_fail(e, TS_ERUNTIME, "libsodium failed to start");
    if (rc == TS_ENOTFOUND) {
        /* about the time a real account takes: no probing names by timing */
        char dummy[USERS_HASH_MAX];
        hash_password("not an account", dummy, e);
        return ts_fail(e, TS_EINPUT, "wrong name or password");
    }
    if (crypto_pwhash_str_verify(u.hash, password, pwlen) != 0) {
        sodium_memzero(&u, sizeof u);
        return ts_fail(e, TS_EINPUT, "wrong name or password");
    }
    if (crypto_pwhash_str_needs_rehash(u.hash, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                       crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        ts_err ignored = {0}; /* the login stands even if the renewal fails */
        users_passwd(s, name, password, &ignored);
    }
    snprintf(info->name, sizeof info->name, "%s", name);
    info->role = (users_role)u.role;
    info->created_ms = u.created_ms;
    info->changed_ms = u.changed_ms;
    sodium_memzero(&u, sizeof u);
    return TS_OK;
}
