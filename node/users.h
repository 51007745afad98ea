/* users.h: the accounts of a commune's case register (table users).
 *
 * Each account has a name, a role and an Argon2id password hash
 * (libsodium crypto_pwhash_str: the salt and cost are inside the string).
 * Roles, from least to most:
 *   viewer   the dashboard only; never a record
 *   officer  reads and changes records
 *   admin    an officer who also manages accounts and reads the access log
 * The table never leaves the node (store.h). */
#ifndef TIERSYNC_USERS_H
#define TIERSYNC_USERS_H

#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>

#include "store.h"

#define USERS_NAME_MAX 33       /* bytes with the NUL: letters, digits, . _ - */
#define USERS_PASSWORD_MIN 8    /* bytes */
#define USERS_PASSWORD_MAX 1024 /* bytes; longer ones are refused, not cut */
#define USERS_HASH_MAX crypto_pwhash_STRBYTES

typedef enum { USERS_VIEWER = 1, USERS_OFFICER = 2, USERS_ADMIN = 3 } users_role;

typedef struct {
    char name[USERS_NAME_MAX];
    users_role role;
    int64_t created_ms;
    int64_t changed_ms; /* password last set */
} users_info;

/* "admin", "officer", "viewer"; TS_EINPUT naming the choices otherwise. */
int users_role_parse(const char *s, users_role *role, ts_err *e);
const char *users_role_name(users_role role);

/* A valid account name: 1..32 of [A-Za-z0-9._-], starting with a letter
 * or digit. */
bool users_name_valid(const char *name);

/* Creates an account (TS_EINPUT if the name is taken or invalid, or the
 * password too short or too long). Hashing takes a fraction of a second
 * and some 64 MiB, on purpose. */
int users_add(store_t *s, const char *name, users_role role, const char *password, ts_err *e);

/* Sets a new password (TS_ENOTFOUND with a message for an unknown name). */
int users_passwd(store_t *s, const char *name, const char *password, ts_err *e);

/* Removes an account. Refuses (TS_EINPUT) to remove the last admin while
 * other accounts remain: someone must be able to manage them. */
int users_remove(store_t *s, const char *name, ts_err *e);

/* Every account in name order (at most max; returns how many there are). */
int users_list(store_t *s, users_info *out, int max, ts_err *e);

/* Checks a login. TS_OK and *info when name and password match;
 * TS_EINPUT ("wrong name or password", the same for both) otherwise. A
 * matching hash made with weaker settings than today's is renewed. */
int users_check(store_t *s, const char *name, const char *password, users_info *info, ts_err *e);

/* The account's current role; TS_ENOTFOUND when it is gone. */
int users_get(store_t *s, const char *name, users_info *info, ts_err *e);

#endif
