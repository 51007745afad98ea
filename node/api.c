/* api.c: the read API's dispatch and shared helpers, and the endpoints
 * about the node itself: /api/info, /api/catalog, /api/units,
 * /api/freshness, /api/export. Numbers: api_totals.c; /metrics:
 * api_metrics.c; the printable monthly report /report: report.c. */
#include "api_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "export.h"
#include "merge_state.h"

static int api_info(api_ctx *c, const api_params *p, api_response *r, ts_err *e);
static int api_catalog(api_ctx *c, const api_params *p, api_response *r, ts_err *e);
static int api_units(api_ctx *c, const api_params *p, api_response *r, ts_err *e);
static int api_freshness(api_ctx *c, const api_params *p, api_response *r, ts_err *e);
static int api_export(api_ctx *c, const api_params *p, api_response *r, ts_err *e);

#define API_MAX_ALLOWED 8

static const struct {
    const char *path;
    api_fn fn;
    const char *allowed[API_MAX_ALLOWED]; /* NULL-terminated */
} endpoints[] = {
    {"/api/info", api_info, {NULL}},
    {"/api/catalog", api_catalog, {NULL}},
    {"/api/units", api_units, {NULL}},
    {"/api/totals", api_totals, {"unit", "indicator", "period", "options", "by", NULL}},
    {"/api/children", api_children, {"unit", "indicator", "period", "options", NULL}},
    {"/api/series",
     api_series,
     {"unit", "indicator", "from", "to", "options", "predecessors", NULL}},
    {"/api/plan", api_plan, {"unit", "year", NULL}},
    {"/api/freshness", api_freshness, {"unit", NULL}},
    {"/api/export", api_export, {"format", "unit", "period", "indicator", "values", NULL}},
    {"/report", api_report, {"unit", "period", "lang", NULL}},
    {"/metrics", api_metrics, {NULL}},
};

bool api_knows(const char *path)
{
    for (size_t i = 0; i < sizeof endpoints / sizeof endpoints[0]; i++)
        if (!strcmp(path, endpoints[i].path))
            return true;
    return false;
}

bool api_params_add(api_params *p, const char *name, const char *value)
{
    if (p->n >= API_MAX_PARAMS)
        return false;
    p->name[p->n] = name;
    p->value[p->n++] = value ? value : "";
    return true;
}

const char *api_param(const api_params *p, const char *name)
{
    for (int i = 0; i < p->n; i++)
        if (!strcmp(p->name[i], name))
            return p->value[i][0] ? p->value[i] : NULL;
    return NULL;
}

int api_bad(api_ctx *c, ts_err *e, const char *param, const char *fmt, ...)
{
    snprintf(c->bad, sizeof c->bad, "%s", param);
    va_list ap;
    va_start(ap, fmt);
    char msg[TS_ERR_MSG_MAX];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ts_fail(e, TS_EINPUT, "%s", msg);
}

static void set_body(api_response *r, int status, const char *type, char *body)
{
    free(r->body);
    r->status = status;
    r->content_type = type;
    r->body = body;
    r->len = body ? strlen(body) : 0;
}

void api_json(api_response *r, json_t *body)
{
    char *s = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!s) {
        set_body(r, 500, "application/json",
                 strdup("{\"error\":\"out of memory writing the answer\"}"));
        return;
    }
    size_t n = strlen(s);
    char *nl = realloc(s, n + 2); /* one line, newline-terminated, for curl users */
    if (nl) {
        nl[n] = '\n', nl[n + 1] = '\0';
        s = nl;
    }
    set_body(r, 200, "application/json; charset=utf-8", s);
}

static void set_error(api_response *r, int status, const char *msg, const char *param)
{
    json_t *o = json_pack("{s:s}", "error", msg);
    if (param && *param)
        json_object_set_new(o, "parameter", json_string(param));
    api_json(r, o);
    r->status = status;
}

void api_response_free(api_response *r)
{
    free(r->body);
    r->body = NULL;
    r->len = 0;
}

/* ---- parameters ---- */

int api_get_unit(api_ctx *c, const api_params *p, int *unit, ts_err *e)
{
    const char *v = api_param(p, "unit");
    if (!v) {
        *unit = c->tree.root;
        return TS_OK;
    }
    if (!ts_code_valid(v))
        return api_bad(c, e, "unit", "'%s' is not an org-unit code (letters, digits, _ and -)", v);
    *unit = tree_find(&c->tree, v);
    if (*unit < 0)
        return api_bad(c, e, "unit",
                       "unit %s is not known to this node (%s); "
                       "GET /api/units lists the units it holds",
                       v, c->n->cfg.code);
    return TS_OK;
}

int api_get_indicator(api_ctx *c, const api_params *p, bool required, const catalog_indicator **ind,
                      ts_err *e)
{
    const char *v = api_param(p, "indicator");
    *ind = NULL;
    if (!v)
        return required ? api_bad(c, e, "indicator",
                                  "indicator is required; GET /api/catalog "
                                  "lists the indicators")
                        : TS_OK;
    *ind = catalog_indicator_find(c->n->catalog, v);
    if (!*ind)
        return api_bad(c, e, "indicator",
                       "unknown indicator '%.64s' (catalog %s); "
                       "GET /api/catalog lists the indicators",
                       v, c->n->catalog->id);
    return TS_OK;
}

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return s[n] == '\0';
}

int api_get_period(api_ctx *c, const api_params *p, const char *name, const catalog_indicator *ind,
                   const char **out, ts_err *e)
{
    const char *v = api_param(p, name);
    *out = v;
    if (!v)
        return TS_OK;
    if (ind) {
        ts_err pe = {0};
        if (catalog_period_check(ind, v, &pe))
            return api_bad(c, e, name, "%s", pe.msg);
        return TS_OK;
    }
    size_t n = strlen(v);
    bool ok = (n == 4 && digits(v, 4)) ||
        (n == 6 && digits(v, 6) && atoi(v + 4) >= 1 && atoi(v + 4) <= 12);
    return ok ? TS_OK
              : api_bad(c, e, name,
                        "%s '%.16s' is not a period: use YYYYMM (a month) or "
                        "YYYY (a year)",
                        name, v);
}

static int ind_has_cat(const catalog_t *cat, const catalog_indicator *ind, const char *name)
{
    for (int i = 0; i < ind->ncats; i++)
        if (!strcmp(cat->cats[ind->cats[i]].name, name))
            return ind->cats[i];
    return -1;
}

int api_get_filter(api_ctx *c, const api_params *p, const catalog_indicator *ind, api_filter *f,
                   ts_err *e)
{
    memset(f, 0, sizeof *f);
    const char *v = api_param(p, "options");
    if (!v)
        return TS_OK;
    if (!ind)
        return api_bad(c, e, "options", "options needs an indicator: categories belong to one");
    char buf[CELL_OPTIONS_MAX];
    if (strlen(v) >= sizeof buf)
        return api_bad(c, e, "options", "options is too long (at most %zu bytes)", sizeof buf - 1);
    snprintf(buf, sizeof buf, "%s", v);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            return api_bad(c, e, "options", "'%.64s' is not CATEGORY=OPTION", tok);
        *eq = '\0';
        int ci = ind_has_cat(c->n->catalog, ind, tok);
        if (ci < 0)
            return api_bad(c, e, "options", "%s is not disaggregated by '%.48s'", ind->code, tok);
        const catalog_category *cat = &c->n->catalog->cats[ci];
        if (catalog_option_find(cat, eq + 1) < 0)
            return api_bad(c, e, "options", "'%.48s' is not an option of category %s", eq + 1,
                           cat->name);
        for (int i = 0; i < f->n; i++)
            if (!strcmp(f->cat[i], tok))
                return api_bad(c, e, "options", "category %s is given twice", tok);
        if (f->n == CATALOG_MAX_IND_CATS)
            return api_bad(c, e, "options", "too many categories");
        snprintf(f->cat[f->n], CATALOG_NAME_MAX, "%s", tok);
        snprintf(f->opt[f->n++], CATALOG_NAME_MAX, "%s", eq + 1);
    }
    return TS_OK;
}

bool api_filter_match(const api_filter *f, const char *options)
{
    char opt[CATALOG_NAME_MAX];
    for (int i = 0; f && i < f->n; i++)
        if (!query_option_of(options, f->cat[i], opt, sizeof opt) || strcmp(opt, f->opt[i]))
            return false;
    return true;
}

json_t *api_filter_json(const api_filter *f)
{
    json_t *o = json_object();
    for (int i = 0; i < f->n; i++)
        json_object_set_new(o, f->cat[i], json_string(f->opt[i]));
    return o;
}

int api_add(api_ctx *c, disclose_fig *sum, disclose_fig d)
{
    if (disclose_add(sum, d) == 0)
        return 0;
    c->overflow = true;
    return 1;
}

json_t *api_value(const api_ctx *c, const catalog_indicator *ind, disclose_fig f)
{
    return json_integer((json_int_t)query_publish(&c->rd, ind, f));
}

json_t *api_iso_time(int64_t ms)
{
    char buf[TS_ISO_TIME_MAX];
    ts_iso_time(ms, buf);
    return ms ? json_string(buf) : json_null();
}

json_t *api_unit_json(const api_ctx *c, int unit)
{
    const tree_unit *u = &c->tree.units[unit];
    char on[MERGE_DATE_TEXT];
    bool merged = u->u.merged_into[0] != '\0';
    return json_pack("{s:s,s:s,s:s,s:b,s:o,s:o}", "code", u->code, "name", u->u.name, "level",
                     u->u.level, "leaf", tree_is_leaf(&c->tree, unit), "merged_into",
                     merged ? json_string(u->u.merged_into) : json_null(), "merged_on",
                     merged ? json_string(merge_date_text(u->u.merged_on, on)) : json_null());
}

/* ---- freshness ---- */

void api_freshness_of(api_ctx *c, int unit, api_fresh *f)
{
    memset(f, 0, sizeof *f);
    const tree_unit *u = &c->tree.units[unit];
    f->direct = u->enrolled;
    f->via = u->enrolled ? u->code : u->u.via;
    f->state = LINK_CHILD_NEVER;
    link_child ch;
    if (!f->via[0] ||
        link_state_child(c->n->store, c->txn, f->via, c->now_ms, c->n->cfg.late_after_s, &ch) !=
            TS_OK)
        return;
    f->known = true;
    f->last_seq = ch.rec.last_seq;
    f->reported_head = ch.rec.reported_head;
    f->applied = ch.rec.applied;
    f->refused = ch.rec.refused;
    f->last_seen_ms = ch.rec.last_seen_ms;
    f->last_applied_ms = ch.rec.last_applied_ms;
    f->clock_offset_s = ch.clock_offset_s;
    f->state = ch.state;
}

/* Units below top, depth first in code order (bounded by the tree size). */
static void walk(const tree_t *t, int top, int *out, size_t *n)
{
    for (int ch = t->units[top].first_child; ch >= 0 && *n < t->n; ch = t->units[ch].next_sibling) {
        out[(*n)++] = ch;
        walk(t, ch, out, n);
    }
}

static int api_freshness(api_ctx *c, const api_params *p, api_response *r, ts_err *e)
{
    int top;
    if (api_get_unit(c, p, &top, e))
        return e->code;
    int *order = malloc((c->tree.n + 1) * sizeof *order);
    if (!order)
        return ts_fail(e, TS_ERUNTIME, "out of memory");
    size_t n = 0;
    walk(&c->tree, top, order, &n);
    json_t *units = json_array();
    int count[LINK_CHILD_CURRENT + 1] = {0};
    for (size_t i = 0; i < n; i++) {
        const tree_unit *u = &c->tree.units[order[i]];
        api_fresh f;
        api_freshness_of(c, order[i], &f);
        count[f.state]++;
        json_t *o = api_unit_json(c, order[i]);
        json_object_set_new(o, "parent", json_string(u->u.parent));
        json_object_set_new(o, "depth", json_integer(u->depth - c->tree.units[top].depth));
        json_object_set_new(o, "direct", json_boolean(f.direct));
        json_object_set_new(o, "via", json_string(f.via));
        json_object_set_new(o, "last_seq",
                            f.known ? json_integer((json_int_t)f.last_seq) : json_null());
        json_object_set_new(o, "reported_head",
                            f.known ? json_integer((json_int_t)f.reported_head) : json_null());
        json_object_set_new(o, "last_seen", api_iso_time(f.last_seen_ms));
        json_object_set_new(o, "last_applied", api_iso_time(f.last_applied_ms));
        json_object_set_new(o, "age_s",
                            f.last_seen_ms ? json_integer((c->now_ms - f.last_seen_ms) / 1000)
                                           : json_null());
        json_object_set_new(o, "clock_offset_s",
                            f.known && f.last_seen_ms ? json_integer(f.clock_offset_s)
                                                      : json_null());
        json_object_set_new(o, "state", json_string(link_child_state_name(f.state)));
        json_array_append_new(units, o);
    }
    free(order);
    api_json(r,
             json_pack("{s:s,s:s,s:o,s:i,s:i,s:{s:i,s:i,s:i,s:i},s:o}", "unit",
                       c->tree.units[top].code, "access", query_access(&c->rd), "now",
                       api_iso_time(c->now_ms), "late_after_s", c->n->cfg.late_after_s,
                       "max_clock_skew_s", c->n->cfg.max_clock_skew_s, "summary", "current",
                       count[LINK_CHILD_CURRENT], "behind", count[LINK_CHILD_BEHIND], "late",
                       count[LINK_CHILD_LATE], "never", count[LINK_CHILD_NEVER], "units", units));
    return TS_OK;
}

/* ---- the node, its catalog and its tree ---- */

static const char *const period_names[] = {"month", "year", "any"};
static const char *const kind_names[] = {"stock", "flow", "reach", "value", "ratio", "after"};

static int api_info(api_ctx *c, const api_params *p, api_response *r, ts_err *e)
{
    (void)p, (void)e;
    char today[16], month[16], year[16];
    snprintf(today, sizeof today, "%04d-%02d-%02d", c->today / 10000, c->today / 100 % 100,
             c->today % 100);
    snprintf(month, sizeof month, "%06d", c->today / 100);
    snprintf(year, sizeof year, "%04d", c->today / 10000);
    const ts_config *cfg = &c->n->cfg;
    api_json(r,
             json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:i,s:b,s:{s:s,s:i},s:I}", "code",
                       cfg->code, "name", cfg->name, "level", cfg->level, "version",
                       TIERSYNC_VERSION, "today", today, "month", month, "year", year, "access",
                       query_access(&c->rd), "small_cell_k", cfg->small_cell_k, "late_after_s",
                       cfg->late_after_s, "has_parent", cfg->parent[0] != '\0', "catalog", "id",
                       c->n->catalog->id, "version", c->n->catalog->version, "units",
                       (json_int_t)c->tree.n));
    return TS_OK;
}

static json_t *label_json(const char *vi, const char *en)
{
    return json_pack("{s:s,s:s}", "vi", vi, "en", en);
}

static int api_catalog(api_ctx *c, const api_params *p, api_response *r, ts_err *e)
{
    (void)p, (void)e;
    const catalog_t *cat = c->n->catalog;
    json_t *cats = json_array(), *inds = json_array();
    for (int i = 0; i < cat->ncats; i++) {
        json_t *opts = json_array();
        for (int k = 0; k < cat->cats[i].noptions; k++)
            json_array_append_new(opts, json_string(cat->cats[i].options[k]));
        json_array_append_new(cats,
                              json_pack("{s:s,s:o,s:o}", "name", cat->cats[i].name, "label",
                                        label_json(cat->cats[i].label_vi, cat->cats[i].label_en),
                                        "options", opts));
    }
    for (int i = 0; i < cat->ninds; i++) {
        const catalog_indicator *ind = &cat->inds[i];
        json_t *by = json_array();
        for (int k = 0; k < ind->ncats; k++)
            json_array_append_new(by, json_string(cat->cats[ind->cats[k]].name));
        const char *target_of = NULL;
        if (ind->kind == IND_VALUE && !strncmp(ind->code, "TARGET_", 7) &&
            catalog_indicator_find(cat, ind->code + 7))
            target_of = ind->code + 7;
        json_t *o = json_pack("{s:s,s:s,s:s,s:o,s:o,s:o}", "code", ind->code, "kind",
                              kind_names[ind->kind], "period", period_names[ind->period], "label",
                              label_json(ind->label_vi, ind->label_en), "categories", by,
                              "target_of", target_of ? json_string(target_of) : json_null());
        if (ind->kind == IND_RATIO)
            json_object_update_new(
                o,
                json_pack("{s:s,s:s,s:i}", "numerator", cat->inds[ind->numerator].code,
                          "denominator", cat->inds[ind->denominator].code, "factor", ind->factor));
        json_array_append_new(inds, o);
    }
    api_json(r,
             json_pack("{s:s,s:i,s:o,s:o}", "id", cat->id, "version", cat->version, "categories",
                       cats, "indicators", inds));
    return TS_OK;
}

static int api_units(api_ctx *c, const api_params *p, api_response *r, ts_err *e)
{
    (void)p;
    const tree_t *t = &c->tree;
    int *order = malloc((t->n + 1) * sizeof *order);
    if (!order)
        return ts_fail(e, TS_ERUNTIME, "out of memory");
    size_t n = 0;
    order[n++] = t->root;
    walk(t, t->root, order, &n);
    for (size_t i = 0; i < t->n && n < t->n; i++) /* units whose parent is not held */
        if (!tree_in_subtree(t, (int)i, t->root))
            order[n++] = (int)i;
    json_t *units = json_array();
    for (size_t i = 0; i < n; i++) {
        const tree_unit *u = &t->units[order[i]];
        json_t *kids = json_array();
        for (int ch = u->first_child; ch >= 0; ch = t->units[ch].next_sibling)
            json_array_append_new(kids, json_string(t->units[ch].code));
        json_t *o = api_unit_json(c, order[i]);
        json_object_set_new(o, "parent", json_string(u->u.parent));
        json_object_set_new(o, "via", json_string(u->u.via));
        json_object_set_new(o, "depth", json_integer(u->depth));
        json_object_set_new(o, "announced", json_boolean(u->announced));
        json_object_set_new(o, "enrolled", json_boolean(u->enrolled));
        json_object_set_new(o, "children", kids);
        json_array_append_new(units, o);
    }
    free(order);
    api_json(r, json_pack("{s:s,s:o}", "root", t->units[t->root].code, "units", units));
    return TS_OK;
}

/* ---- export ---- */

static int api_export(api_ctx *c, const api_params *p, api_response *r, ts_err *e)
{
    export_request x = {0};
    x.rd = c->rd;
    x.now_ms = c->now_ms;
    const char *fmt = api_param(p, "format"), *vals = api_param(p, "values");
    ts_err pe = {0};
    if (!fmt)
        return api_bad(c, e, "format", "format is required: csv, dhis2, adx, xlsx or fhir");
    if (export_format_parse(fmt, &x.format, &pe))
        return api_bad(c, e, "format", "%s", pe.msg);
    x.values = export_values_default(x.format);
    if (vals && export_values_parse(vals, &x.values, &pe))
        return api_bad(c, e, "values", "%s", pe.msg);
    if (api_get_unit(c, p, &x.unit, e) || api_get_indicator(c, p, false, &x.indicator, e) ||
        api_get_period(c, p, "period", NULL, &x.period, e))
        return e->code;
    export_mapping *map = NULL;
    if (export_mapping_default(&map, c->n, e))
        return e->code == TS_EINPUT ? ts_fail(e, TS_ERUNTIME, "%s", e->msg) : e->code;
    x.map = map;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        export_mapping_destroy(&map);
        return ts_fail(e, TS_ERUNTIME, "out of memory");
    }
    int rc = export_write(c->n, c->txn, &c->tree, &x, f, e);
    fclose(f);
    export_mapping_destroy(&map);
    if (rc) {
        free(buf);
        return rc;
    }
    free(r->body);
    r->status = 200;
    r->content_type = export_content_type(x.format);
    r->body = buf;
    r->len = len;
    snprintf(r->filename, sizeof r->filename, "tiersync-%s%s%s.%s", c->tree.units[x.unit].code,
             x.period ? "-" : "", x.period ? x.period : "", export_extension(x.format));
    return TS_OK;
}

/* ---- dispatch ---- */

static int check_params(api_ctx *c, const api_params *p, const char *const *allowed, ts_err *e)
{
    for (int i = 0; i < p->n; i++) {
        bool ok = false;
        for (int k = 0; allowed[k] && !ok; k++)
            ok = !strcmp(p->name[i], allowed[k]);
        if (!ok) {
            char list[256] = "";
            for (int k = 0; allowed[k]; k++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", k ? ", " : "",
                         allowed[k]);
            return api_bad(c, e, p->name[i],
                           "unknown parameter '%.32s' (this endpoint takes: "
                           "%s)",
                           p->name[i], list[0] ? list : "none");
        }
        for (int k = 0; k < i; k++)
            if (!strcmp(p->name[i], p->name[k]))
                return api_bad(c, e, p->name[i], "parameter %.32s is given twice", p->name[i]);
    }
    return TS_OK;
}

void api_handle(node_t *n, bool exact, const char *path, const api_params *p, api_response *r)
{
    memset(r, 0, sizeof *r);
    size_t i = 0, count = sizeof endpoints / sizeof endpoints[0];
    while (i < count && strcmp(path, endpoints[i].path))
        i++;
    if (i == count) {
        char msg[160];
        snprintf(msg, sizeof msg, "no such endpoint: %.64s (see docs/API.md)", path);
        set_error(r, 404, msg, NULL);
        return;
    }
    api_ctx c = {
        .n = n, .rd = {exact, n->cfg.small_cell_k}, .now_ms = ts_now_ms(), .today = ts_today()};
    ts_err e = {0};
    int rc = check_params(&c, p, endpoints[i].allowed, &e);
    if (rc == TS_OK && (rc = store_read_begin(n->store, &c.txn, &e)) == TS_OK) {
        rc = tree_load(&c.tree, n->store, c.txn, &e);
        if (rc == TS_OK)
            rc = endpoints[i].fn(&c, p, r, &e);
        tree_free(&c.tree);
        store_read_end(c.txn);
    }
    if (rc == TS_OK && c.unread)
        rc = query_failed(&e);
    if (rc == TS_OK && c.overflow)
        rc = ts_fail(&e, TS_ERUNTIME,
                     "a sum of counts for this answer leaves the 64-bit range: "
                     "a stored total is corrupt; run 'tiersync verify' on this node");
    if (rc == TS_EINPUT)
        set_error(r, 400, e.msg, c.bad);
    else if (rc == TS_ENOTFOUND)
        set_error(r, 404, e.msg, NULL);
    else if (rc != TS_OK)
        set_error(r, 500, e.msg, NULL);
}
