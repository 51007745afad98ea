/* register_api.c: the register's dispatch (register.h), its pages, the
 * login session endpoints and the helpers the other register_*.c files
 * share (register_int.h). */
#include "register_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"
#include "web.h"

#define REG_PAGE "/register"
#define REG_RECORDS "/api/records/"
#define REG_USERS "/api/users"
#define REG_LOG_PATH "/api/access-log"
#define REG_SESSION "/api/session"

static const char *const page_files[][2] = {
    {REG_PAGE, "/register.html"},         {REG_PAGE "/", "/register.html"},
    {"/register.html", "/register.html"}, {"/register.js", "/register.js"},
    {"/register.css", "/register.css"},
};

bool reg_owns(const char *path)
{
    for (size_t i = 0; i < sizeof page_files / sizeof page_files[0]; i++)
        if (!strcmp(path, page_files[i][0]))
            return true;
    return !strcmp(path, REG_SESSION) || !strncmp(path, REG_RECORDS, strlen(REG_RECORDS)) ||
        !strcmp(path, "/api/records") || !strcmp(path, REG_USERS) ||
        !strncmp(path, REG_USERS "/", strlen(REG_USERS) + 1) || !strcmp(path, REG_LOG_PATH);
}

reg_t *reg_new(node_t *n, bool tls, bool loopback)
{
    reg_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->n = n;
    r->tls = tls;
    r->enabled = tls || loopback;
    r->sessions = session_new(n->cfg.session_idle_s);
    if (!r->sessions)
        free(r), r = NULL;
    return r;
}

void reg_destroy(reg_t **r)
{
    if (!r || !*r)
        return;
    session_destroy(&(*r)->sessions);
    free(*r);
    *r = NULL;
}

bool reg_enabled(const reg_t *r)
{
    return r->enabled;
}

void reg_reply_free(reg_reply *out)
{
    if (!out->asset)
        free(out->body);
    out->body = NULL;
    out->len = 0;
}

/* ---- replies and the log ---- */

void reg_json(reg_call *c, int status, json_t *body)
{
    reg_reply *o = c->out;
    char *s = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!o->asset)
        free(o->body);
    o->asset = false;
    o->status = s ? status : 500;
    o->content_type = "application/json; charset=utf-8";
    o->body = s ? s : strdup("{\"error\":\"out of memory writing the answer\"}");
    o->len = o->body ? strlen(o->body) : 0;
}

void reg_error(reg_call *c, int status, const char *fmt, ...)
{
    char msg[TS_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    reg_json(c, status, json_pack("{s:s}", "error", msg));
}

void reg_refused(reg_call *c, const records_problems *ps, const char *msg)
{
    json_t *list = json_array();
    for (int i = 0; i < ps->n; i++) {
        json_t *p = json_pack("{s:s,s:s}", "field", ps->p[i].field, "reason", ps->p[i].reason);
        if (ps->p[i].line > 0)
            json_object_set_new(p, "line", json_integer(ps->p[i].line));
        json_array_append_new(list, p);
    }
    reg_json(c, 400,
             json_pack("{s:s,s:o,s:i,s:i}", "error", msg, "problems", list, "total", ps->total,
                       "rows", ps->rows));
}

void reg_entry(const reg_call *c, access_entry *a, const char *action, const char *type,
               const char *id, int64_t count)
{
    memset(a, 0, sizeof *a);
    a->ms = ts_now_ms();
    snprintf(a->user, sizeof a->user, "%s", c->who.user[0] ? c->who.user : "-");
    snprintf(a->addr, sizeof a->addr, "%s", c->q->addr ? c->q->addr : "?");
    snprintf(a->action, sizeof a->action, "%s", action);
    snprintf(a->type, sizeof a->type, "%s", type ? type : "");
    snprintf(a->id, sizeof a->id, "%s", id ? id : "");
    a->count = count;
}

bool reg_log_many(reg_call *c, access_entry *a, size_t n)
{
    ts_err e = {0};
    if (access_log_append(c->r->n->store, a, n, c->r->n->cfg.access_log_days, &e) == TS_OK)
        return true;
    log_error("register: the access log cannot be written: %s", e.msg);
    reg_error(c, 500, "the access log cannot be written, so nothing is shown: %s", e.msg);
    return false;
}

bool reg_log(reg_call *c, const char *action, const char *type, const char *id, int64_t count)
{
    access_entry a;
    reg_entry(c, &a, action, type, id, count);
    return reg_log_many(c, &a, 1);
}

json_t *reg_body_object(reg_call *c)
{
    json_error_t je;
    json_t *o = c->q->body ? json_loadb(c->q->body, c->q->body_len, JSON_REJECT_DUPLICATES, &je)
                           : NULL;
    if (!json_is_object(o)) {
        json_decref(o);
        reg_error(c, 400, "the body must be a JSON object (Content-Type: application/json)");
        return NULL;
    }
    return o;
}

/* ---- pages ---- */

static void serve_page(reg_call *c, const char *file)
{
    const web_asset *a = web_find(file);
    if (!a) {
        reg_error(c, 404, "the register's page %s is missing from this build", file);
        return;
    }
    c->out->status = 200;
    c->out->content_type = a->content_type;
    c->out->body = (char *)a->data;
    c->out->len = a->len;
    c->out->asset = true;
}

/* ---- sessions ---- */

static void set_cookie(reg_call *c, const char *value, bool clear)
{
    snprintf(c->out->set_cookie, sizeof c->out->set_cookie,
             "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s", REG_COOKIE, value,
             c->r->tls ? "; Secure" : "", clear ? "; Max-Age=0" : "");
}

static json_t *session_json(reg_call *c, const char *csrf)
{
    return json_pack("{s:s,s:s,s:s,s:i,s:s,s:s}", "user", c->who.user, "role",
                     users_role_name(c->who.role), "csrf", csrf, "idle_s",
                     c->r->n->cfg.session_idle_s, "unit", c->r->n->cfg.code, "name",
                     c->r->n->cfg.name);
}

static void login(reg_call *c)
{
    json_t *o = reg_body_object(c);
    if (!o)
        return;
    const char *user = json_string_value(json_object_get(o, "user"));
    const char *pw = json_string_value(json_object_get(o, "password"));
    if (!user || !pw) {
        json_decref(o);
        reg_error(c, 400, "send {\"user\": NAME, \"password\": PASSWORD}");
        return;
    }
    session_table *t = c->r->sessions;
    char by_addr[SESSION_KEY_MAX], by_user[SESSION_KEY_MAX];
    snprintf(by_addr, sizeof by_addr, "a:%s", c->q->addr);
    snprintf(by_user, sizeof by_user, "u:%.*s", USERS_NAME_MAX, user);
    int64_t now = c->now_ms;
    int wait = session_wait_s(t, by_addr, now);
    int wait_user = session_wait_s(t, by_user, now);
    if (wait_user > wait)
        wait = wait_user;
    users_info info;
    ts_err e = {0};
    bool known = users_name_valid(user) && users_get(c->r->n->store, user, &info, &e) == TS_OK;
    /* a name that is no account may be a password typed in the wrong box */
    snprintf(c->who.user, sizeof c->who.user, "%s", known ? user : "?");
    if (wait > 0) {
        json_decref(o);
        log_info("register: login of %s from %s refused: %d s to wait after failed logins",
                 c->who.user, c->q->addr, wait);
        c->out->retry_after = wait;
        reg_error(c, 429, "too many failed logins: wait %d seconds and try again", wait);
        return;
    }
    int rc = users_check(c->r->n->store, user, pw, &info, &e);
    json_decref(o);
    if (!c->q->now_ms)
        now = ts_now_ms(); /* the wait counts from the answer, not from before the hashing */
    if (rc != TS_OK) {
        session_failed(t, by_addr, now);
        session_failed(t, by_user, now);
        log_info("register: failed login as %s from %s", c->who.user, c->q->addr);
        if (reg_log(c, "login-failed", NULL, NULL, 0))
            reg_error(c, rc == TS_EINPUT ? 401 : 500, "%s", e.msg);
        return;
    }
    session_succeeded(t, by_addr);
    session_succeeded(t, by_user);
    char sid[SESSION_TOKEN_HEX], csrf[SESSION_TOKEN_HEX];
    session_create(t, info.name, info.role, now, sid, csrf);
    c->who.role = info.role;
    log_info("register: %s (%s) logged in from %s", info.name, users_role_name(info.role),
             c->q->addr);
    if (!reg_log(c, "login", NULL, NULL, 0)) {
        session_end(t, sid);
        return;
    }
    set_cookie(c, sid, false);
    reg_json(c, 200, session_json(c, csrf));
}

static void session_endpoint(reg_call *c, bool logged_in)
{
    const char *m = c->q->method;
    if (!strcmp(m, "POST")) {
        login(c);
    } else if (!logged_in) {
        reg_error(c, 401, "not logged in: POST /api/session with {\"user\", \"password\"}");
    } else if (!strcmp(m, "GET") || !strcmp(m, "HEAD")) {
        char csrf[SESSION_TOKEN_HEX];
        session_csrf(c->r->sessions, c->sid, csrf);
        reg_json(c, 200, session_json(c, csrf));
    } else if (!strcmp(m, "DELETE")) {
        session_end(c->r->sessions, c->sid);
        log_info("register: %s logged out from %s", c->who.user, c->q->addr);
        if (reg_log(c, "logout", NULL, NULL, 0)) {
            set_cookie(c, "", true);
            reg_json(c, 200, json_pack("{s:b}", "logged_out", 1));
        }
    } else {
        reg_error(c, 405, "/api/session takes GET, POST (log in) and DELETE (log out)");
    }
}

/* The caller's live session into c->who, with the account's current role
 * (an account removed or changed from the command line counts at once). */
static bool find_session(reg_call *c)
{
    if (!c->q->cookie || !session_get(c->r->sessions, c->q->cookie, c->now_ms, &c->who))
        return false;
    users_info info;
    ts_err e = {0};
    if (users_get(c->r->n->store, c->who.user, &info, &e) != TS_OK) {
        session_end(c->r->sessions, c->q->cookie);
        memset(&c->who, 0, sizeof c->who);
        return false;
    }
    c->who.role = info.role;
    c->sid = c->q->cookie;
    return true;
}

static bool is_write(const char *m)
{
    return strcmp(m, "GET") && strcmp(m, "HEAD");
}

/* Whether this node serves the register at all; replies 404 when not. */
static bool served_here(reg_call *c)
{
    store_txn *txn;
    ts_err e = {0};
    if (store_read_begin(c->r->n->store, &txn, &e)) {
        reg_error(c, 500, "%s", e.msg);
        return false;
    }
    bool held = records_held_here(c->r->n->store, txn);
    store_read_end(txn);
    if (!held)
        reg_error(c, 404,
                  "no case register here: node %s has children and holds counts only; "
                  "the register is on each commune's own node",
                  c->r->n->cfg.code);
    else if (!c->r->enabled)
        reg_error(c, 404,
                  "the case register is off: this node serves HTTP beyond loopback "
                  "without TLS; set [http] tls_cert and tls_key (tiersync tls --dir DIR) or "
                  "bind http.address to 127.0.0.1");
    return held && c->r->enabled;
}

bool reg_session_live(reg_t *r, const char *cookie)
{
    session_info who;
    users_info info;
    ts_err e = {0};
    return r && r->enabled && cookie && session_get(r->sessions, cookie, ts_now_ms(), &who) &&
        users_get(r->n->store, who.user, &info, &e) == TS_OK;
}

void reg_handle(reg_t *r, const reg_request *q, reg_reply *out)
{
    memset(out, 0, sizeof *out);
    reg_call call = {.r = r, .q = q, .out = out, .now_ms = q->now_ms ? q->now_ms : ts_now_ms()};
    reg_call *c = &call;
    const char *p = q->path;
    if (!served_here(c))
        return;
    for (size_t i = 0; i < sizeof page_files / sizeof page_files[0]; i++)
        if (!strcmp(p, page_files[i][0])) {
            if (is_write(q->method))
                reg_error(c, 405, "the register's pages take GET only");
            else
                serve_page(c, page_files[i][1]);
            return;
        }
    bool logged_in = find_session(c);
    if (logged_in && is_write(q->method) && !session_csrf_ok(r->sessions, c->sid, q->csrf)) {
        reg_error(c, 403,
                  "a change needs the session's CSRF token in the X-CSRF-Token header "
                  "(from the answer of POST or GET /api/session)");
        return;
    }
    if (!strcmp(p, REG_SESSION)) {
        session_endpoint(c, logged_in);
        return;
    }
    if (!logged_in) {
        reg_error(c, 401, "log in first: POST /api/session with {\"user\", \"password\"}");
        return;
    }
    bool admin = c->who.role == USERS_ADMIN;
    if (!strncmp(p, REG_RECORDS, strlen(REG_RECORDS)) || !strcmp(p, "/api/records")) {
        if (c->who.role < USERS_OFFICER)
            reg_error(c, 403, "%s is a viewer: records need an officer's or admin's account",
                      c->who.user);
        else
            reg_records(c, p[strlen("/api/records")] ? p + strlen(REG_RECORDS) : "");
    } else if (!admin) {
        reg_error(c, 403, "%s is not an admin: accounts and the access log need an admin",
                  c->who.user);
    } else if (!strcmp(p, REG_LOG_PATH)) {
        reg_access_log(c);
    } else {
        reg_users(c, p + strlen(REG_USERS));
    }
}
