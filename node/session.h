/* session.h: the register's login sessions and the login throttle, held in
 * the daemon's memory (a restart logs everyone out, by design: nothing of a
 * session is written to disk).
 *
 * A session id is 256 random bits, given to the browser once (the cookie)
 * and kept here only as its BLAKE2b hash, so a memory dump does not yield
 * live cookies. Each session has its own CSRF token, a keyed BLAKE2b hash of
 * its id under a key made when the daemon starts: every write must send it
 * back in X-CSRF-Token, which a page of another site cannot read. A session
 * unused for idle_s seconds ends.
 *
 * The throttle counts failed logins per key (the client address, and the
 * account name): after SESSION_FREE_FAILS failures a key must wait, twice
 * as long after each further one (up to SESSION_MAX_WAIT_S), before
 * another attempt is heard; a success clears its keys (backoff.h). */
#ifndef TIERSYNC_SESSION_H
#define TIERSYNC_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "users.h"

#define SESSION_ID_BYTES 32
#define SESSION_TOKEN_HEX (2 * SESSION_ID_BYTES + 1) /* hex with the NUL */
#define SESSION_MAX 256          /* live sessions; the longest idle is ended beyond */
#define SESSION_THROTTLE_MAX 512 /* keys remembered by the throttle */
#define SESSION_FREE_FAILS 3
#define SESSION_MAX_WAIT_S 300
#define SESSION_FORGET_S 3600 /* failures this old no longer count */
#define SESSION_KEY_MAX 80

typedef struct session_table session_table;

typedef struct {
    char user[USERS_NAME_MAX];
    users_role role;
    int64_t created_ms, last_ms;
} session_info;

session_table *session_new(int idle_s);
void session_destroy(session_table **t);

/* Starts a session for user: its id and CSRF token as hex into id and csrf. */
void session_create(session_table *t, const char *user, users_role role, int64_t now_ms,
                    char id[SESSION_TOKEN_HEX], char csrf[SESSION_TOKEN_HEX]);

/* Looks the session id up; false when unknown or idle too long (then it
 * ends). A found session counts as used now. */
bool session_get(session_table *t, const char *id, int64_t now_ms, session_info *out);

/* The CSRF token of session id (false when id is not a session id's form;
 * the caller checks that the session is live). */
bool session_csrf(session_table *t, const char *id, char csrf[SESSION_TOKEN_HEX]);

/* True when session id is live and token is its CSRF token (compared in
 * constant time). */
bool session_csrf_ok(session_table *t, const char *id, const char *token);

/* Ends one session; every session of a user (removed, new password); the
 * role of every session of a user changes with the account. */
void session_end(session_table *t, const char *id);
void session_end_user(session_table *t, const char *user);

/* Throttle: seconds key must still wait (0: may try now). */
int session_wait_s(session_table *t, const char *key, int64_t now_ms);
void session_failed(session_table *t, const char *key, int64_t now_ms);
void session_succeeded(session_table *t, const char *key);

#endif
