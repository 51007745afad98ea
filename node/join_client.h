/* join_client.h: the child's side of joining (`tiersync init --join`): one
 * Join to the parent's join socket, the parent authenticated by the key the
 * invitation pins, and the parent's signed answer. */
#ifndef TIERSYNC_JOIN_CLIENT_H
#define TIERSYNC_JOIN_CLIENT_H

#include "config.h"
#include "invite.h"
#include "keys.h"

#define JOIN_CLIENT_TIMEOUT_MS 30000 /* default wait for the parent's answer */
#define JOIN_CLIENT_ROGUE_TRIES 3 /* handshakes failed before we call the server not the parent */

typedef struct {
    char parent_code[TS_CODE_MAX];
    char name[CONFIG_NAME_MAX]; /* the name the invitation was made with, or "" */
} join_answer;

/* Asks the parent of iv to enrol child's key under iv's code, waiting up to
 * timeout_ms (and, when the parent says to slow down, retrying within it).
 * TS_OK once the parent has enrolled the key (*ans filled); TS_EINPUT with
 * the parent's reason when it refused; TS_ERUNTIME when no parent answered,
 * or the server did not prove it holds the pinned key. */
int join_client_run(const invite_t *iv, const keys_t *child, int timeout_ms, join_answer *ans,
                    ts_err *e);

#endif
