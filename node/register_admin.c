/* register_admin.c: what an admin does in the browser: list, add and
 * remove accounts, set a password (/api/users[/NAME[/password]]), and read
 * the access log (/api/access-log?user=U&record=ID). */
#include "register_int.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static json_t *reg_time(int64_t ms)
{
    char buf[TS_ISO_TIME_MAX];
    ts_iso_time(ms, buf);
    return json_string(buf);
}

static void list_users(reg_call *c)
{
    users_info *u = calloc(REG_USERS_MAX, sizeof *u);
    ts_err e = {0};
    int n = u ? users_list(c->r->n->store, u, REG_USERS_MAX, &e) : -1;
    if (n < 0) {
        free(u);
        reg_error(c, 500, "%s", u ? e.msg : "out of memory");
        return;
    }
    json_t *list = json_array();
    for (int i = 0; i < n && i < REG_USERS_MAX; i++)
        json_array_append_new(list,
                              json_pack("{s:s,s:s,s:o,s:o}", "name", u[i].name, "role",
                                        users_role_name(u[i].role), "created",
                                        reg_time(u[i].created_ms), "password_set",
                                        reg_time(u[i].changed_ms)));
    free(u);
    reg_json(c, 200, json_pack("{s:o}", "users", list));
}

/* Replies to a users_* result: 200 with what was done, or the refusal. */
static void done(reg_call *c, int rc, const ts_err *e, const char *action, const char *name)
{
    if (rc == TS_EINPUT || rc == TS_ENOTFOUND)
        reg_error(c, rc == TS_EINPUT ? 400 : 404, "%s", e->msg);
    else if (rc != TS_OK)
        reg_error(c, 500, "%s", e->msg);
    else if (reg_log(c, action, NULL, name, 0))
        reg_json(c, 200, json_pack("{s:s,s:s}", "done", action, "name", name));
}

static void add_user(reg_call *c)
{
    json_t *o = reg_body_object(c);
    if (!o)
        return;
    const char *name = json_string_value(json_object_get(o, "name"));
    const char *pw = json_string_value(json_object_get(o, "password"));
    const char *role = json_string_value(json_object_get(o, "role"));
    users_role r;
    ts_err e = {0};
    int rc = !name || !pw ? ts_fail(&e, TS_EINPUT, "send {\"name\", \"role\", \"password\"}")
        : users_role_parse(role, &r, &e) ? e.code
                                         : users_add(c->r->n->store, name, r, pw, &e);
    char nm[USERS_NAME_MAX];
    snprintf(nm, sizeof nm, "%s", name ? name : "");
    json_decref(o);
    done(c, rc, &e, "user-add", nm);
}

void reg_users(reg_call *c, const char *rest)
{
    const char *m = c->q->method;
    if (!*rest && !strcmp(m, "GET")) {
        list_users(c);
        return;
    }
    if (!*rest && !strcmp(m, "POST")) {
        add_user(c);
        return;
    }
    char name[USERS_NAME_MAX + 16];
    const char *pw_suffix = "/password";
    snprintf(name, sizeof name, "%s", rest[0] == '/' ? rest + 1 : rest);
    size_t nl = strlen(name), sl = strlen(pw_suffix);
    bool pw = nl > sl && !strcmp(name + nl - sl, pw_suffix);
    if (pw)
        name[nl - sl] = '\0';
    ts_err e = {0};
    if (!pw && !strcmp(m, "DELETE")) {
        int rc = users_remove(c->r->n->store, name, &e);
        if (rc == TS_OK)
            session_end_user(c->r->sessions, name);
        done(c, rc, &e, "user-remove", name);
    } else if (pw && !strcmp(m, "POST")) {
        json_t *o = reg_body_object(c);
        if (!o)
            return;
        const char *p = json_string_value(json_object_get(o, "password"));
        int rc = p ? users_passwd(c->r->n->store, name, p, &e)
                   : ts_fail(&e, TS_EINPUT, "send {\"password\": NEW}");
        json_decref(o);
        if (rc == TS_OK && strcmp(name, c->who.user))
            session_end_user(c->r->sessions, name);
        done(c, rc, &e, "user-passwd", name);
    } else {
        reg_error(c, 405,
                  "accounts: GET or POST /api/users, DELETE /api/users/NAME, "
                  "POST /api/users/NAME/password");
    }
}

typedef struct {
    json_t *list;
    size_t n;
} log_ctx;

static int add_entry(const access_entry *a, void *vctx)
{
    log_ctx *x = vctx;
    json_t *o = json_pack("{s:o,s:s,s:s,s:s,s:s,s:s}", "time", reg_time(a->ms), "user", a->user,
                          "address", a->addr, "action", a->action, "type", a->type, "id", a->id);
    if (a->count)
        json_object_set_new(o, "count", json_integer(a->count));
    json_array_append_new(x->list, o);
    if (++x->n > REG_LOG_MAX) /* keep the newest */
        json_array_remove(x->list, 0);
    return 0;
}

void reg_access_log(reg_call *c)
{
    if (strcmp(c->q->method, "GET") && strcmp(c->q->method, "HEAD")) {
        reg_error(c, 405, "the access log is read only: GET /api/access-log");
        return;
    }
    const char *user = api_param(c->q->params, "user");
    const char *rec = api_param(c->q->params, "record");
    log_ctx x = {json_array(), 0};
    ts_err e = {0};
    if (!reg_log(c, "log-read", NULL, NULL, 0) ||
        access_log_scan(c->r->n->store, user, rec, add_entry, &x, &e) != TS_OK) {
        if (e.code)
            reg_error(c, 500, "%s", e.msg);
        json_decref(x.list);
        return;
    }
    json_t *newest_first = json_array();
    for (size_t i = json_array_size(x.list); i-- > 0;)
        json_array_append(newest_first, json_array_get(x.list, i));
    json_decref(x.list);
    reg_json(c, 200,
             json_pack("{s:o,s:b,s:i}", "entries", newest_first, "truncated", x.n > REG_LOG_MAX,
                       "keep_days", c->r->n->cfg.access_log_days));
}
