/* register_int.h: what the register_*.c files share (internal; callers use
 * register.h). One reg_call per request: the register, the request, the
 * reply being made, and who is logged in. */
#ifndef TIERSYNC_REGISTER_INT_H
#define TIERSYNC_REGISTER_INT_H

#include <jansson.h>

#include "access_log.h"
#include "records_batch.h"
#include "register.h"
#include "session.h"

#define REG_SEARCH_MAX 100 /* records listed by one search */
#define REG_LOG_MAX 2000   /* access log entries listed in the browser */
#define REG_USERS_MAX 256  /* accounts listed */

struct reg {
    node_t *n;
    session_table *sessions;
    bool tls, enabled;
};

typedef struct {
    reg_t *r;
    const reg_request *q;
    reg_reply *out;
    int64_t now_ms;   /* the request's time (reg_request.now_ms or the clock) */
    const char *sid;  /* the session id (the cookie) when logged in */
    session_info who; /* when logged in */
} reg_call;

/* Replies: JSON (takes the reference), an error {"error": msg}, and the
 * refusal of a records batch {"error", "problems": [{field, reason, line}]}. */
void reg_json(reg_call *c, int status, json_t *body);
void reg_error(reg_call *c, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void reg_refused(reg_call *c, const records_problems *ps, const char *msg);

/* Appends to the access log on behalf of the caller; false (and a 500
 * reply) when the log cannot be written: nothing is shown unlogged. */
bool reg_log(reg_call *c, const char *action, const char *type, const char *id, int64_t count);
/* The same for several entries made with reg_entry. */
bool reg_log_many(reg_call *c, access_entry *a, size_t n);
void reg_entry(const reg_call *c, access_entry *a, const char *action, const char *type,
               const char *id, int64_t count);

/* The request body as a JSON object; NULL after replying 400. */
json_t *reg_body_object(reg_call *c);

/* /api/records/... (register_records.c); rest is the path after
 * "/api/records/". */
void reg_records(reg_call *c, const char *rest);

/* /api/users... and /api/access-log (register_admin.c). */
void reg_users(reg_call *c, const char *rest);
void reg_access_log(reg_call *c);

#endif
