/* register_records.c: /api/records/TYPE[/ID|/import]: search, read, add,
 * change, delete and import a commune's case records. Every change is a
 * records batch (records_batch.h), the same checks and the same path to
 * the totals as `tiersync record` and `tiersync import`; every answer
 * holding a record's values is logged first (access_log.h). */
#include "register_int.h"

#include <stdlib.h>
#include <string.h>

#include "catalog_json.h"
#include "import.h"
#include "vnfold.h"

#define REG_STOP 100 /* a scan callback's "enough" (not an error code) */

static json_t *record_json(const catalog_t *cat, const rec_t *r)
{
    const catalog_rtype *t = &cat->types[r->type];
    json_t *o = json_object();
    for (int f = 0; f < t->nfields; f++)
        json_object_set_new(o, t->fields[f].name, json_string(r->v[f] ? r->v[f] : ""));
    return o;
}

/* ---- search ---- */

typedef struct {
    const catalog_t *cat;
    int type;
    const char *q;
    json_t *list;
    int n;
    bool truncated;
} search_ctx;

static bool matches(const catalog_t *cat, const rec_t *r, const char *q)
{
    const catalog_rtype *t = &cat->types[r->type];
    if (!q || !*q)
        return true;
    for (int f = 0; f < t->nfields; f++) {
        bool searched = f == t->id_field || (t->fields[f].pii && t->fields[f].type == FIELD_STRING);
        if (searched && r->v[f] && vnfold_contains(r->v[f], q))
            return true;
    }
    return false;
}

static int search_cluster(const records_cluster *cl, void *vctx)
{
    search_ctx *x = vctx;
    for (int i = 0; i < cl->n; i++) {
        if (cl->recs[i].type != x->type || !matches(x->cat, &cl->recs[i], x->q))
            continue;
        if (x->n == REG_SEARCH_MAX) {
            x->truncated = true;
            return REG_STOP;
        }
        json_array_append_new(x->list, record_json(x->cat, &cl->recs[i]));
        x->n++;
    }
    return 0;
}

static void search(reg_call *c, int t)
{
    node_t *n = c->r->n;
    const char *q = api_param(c->q->params, "q");
    search_ctx x = {n->catalog, t, q, json_array(), 0, false};
    store_txn *txn;
    ts_err e = {0};
    if (store_read_begin(n->store, &txn, &e)) {
        json_decref(x.list);
        reg_error(c, 500, "%s", e.msg);
        return;
    }
    int rc = records_scan_clusters(n->store, txn, n->catalog, search_cluster, &x, &e);
    store_read_end(txn);
    if (rc != TS_OK && rc != REG_STOP) {
        json_decref(x.list);
        reg_error(c, 500, "%s", e.msg);
        return;
    }
    if (x.n > 0 && !reg_log(c, "search", n->catalog->types[t].name, NULL, x.n)) {
        json_decref(x.list);
        return;
    }
    reg_json(c, 200,
             json_pack("{s:s,s:o,s:b}", "type", n->catalog->types[t].name, "records", x.list,
                       "truncated", x.truncated));
}

/* ---- one record with what it owns ---- */

static void read_one(reg_call *c, int t, const char *id)
{
    node_t *n = c->r->n;
    const catalog_t *cat = n->catalog;
    store_txn *txn;
    ts_err e = {0};
    char key[RECORDS_KEY_MAX + 1];
    size_t klen;
    rec_t rec;
    if (store_read_begin(n->store, &txn, &e)) {
        reg_error(c, 500, "%s", e.msg);
        return;
    }
    int rc = records_find(n->store, txn, cat, t, id, key, &klen, &rec, &e);
    if (rc != TS_OK) {
        store_read_end(txn);
        if (rc == TS_ENOTFOUND)
            reg_error(c, 404, "no %s with id %.64s", cat->types[t].name, id);
        else
            reg_error(c, 500, "%s", e.msg);
        return;
    }
    json_t *body = json_pack("{s:s,s:o}", "type", cat->types[t].name, "record",
                             record_json(cat, &rec));
    /* what it owns: the records of its cluster under its key */
    records_cluster cl;
    records_cluster_init(&cl);
    json_t *owned = json_object();
    rc = records_cluster_load(n->store, txn, cat, key, klen, ~0u, &cl, &e);
    for (int i = 1; rc == TS_OK && i < cl.n; i++) {
        const char *tn = cat->types[cl.recs[i].type].name;
        json_t *list = json_object_get(owned, tn);
        if (!list)
            json_object_set_new(owned, tn, list = json_array());
        json_array_append_new(list, record_json(cat, &cl.recs[i]));
    }
    records_cluster_free(&cl);
    store_read_end(txn);
    json_object_set_new(body, "owned", owned);
    if (rc != TS_OK) {
        json_decref(body);
        reg_error(c, 500, "%s", e.msg);
    } else if (reg_log(c, "read", cat->types[t].name, id, 0)) {
        reg_json(c, 200, body);
    } else {
        json_decref(body);
    }
}

/* ---- changes ---- */

/* Fills row from a JSON object of FIELD: "value" (null: not given); what
 * is not a field, or not a string, is a problem. */
static void row_from_json(const catalog_t *cat, int t, json_t *o, records_row *row,
                          records_problems *ps)
{
    const catalog_rtype *rt = &cat->types[t];
    const char *name;
    json_t *v;
    memset(row, 0, sizeof *row);
    json_object_foreach (o, name, v) {
        int f = catalog_field_find(rt, name);
        if (f < 0)
            records_problem_add(ps, 0, "", "unknown field '%.48s' of %s", name, rt->name);
        else if (json_is_string(v))
            row->v[f] = json_string_value(v);
        else if (!json_is_null(v))
            records_problem_add(ps, 0, rt->fields[f].name, "must be a string");
    }
}

static const char *action_of(records_op op)
{
    return op == RECORDS_INSERT ? "add" : op == RECORDS_UPDATE ? "update" : "delete";
}

static void change(reg_call *c, int t, const char *id, records_op op)
{
    node_t *n = c->r->n;
    const catalog_rtype *rt = &n->catalog->types[t];
    json_t *o = op == RECORDS_DELETE ? json_object() : reg_body_object(c);
    if (!o)
        return;
    records_row row;
    records_batch b = {.type = t, .op = op, .rows = &row, .nrows = 1};
    row_from_json(n->catalog, t, o, &row, &b.problems);
    if (id) { /* the path names the record; a body may repeat the id but not change it */
        if (row.v[rt->id_field] && strcmp(row.v[rt->id_field], id))
            records_problem_add(&b.problems, 0, "id", "differs from the id in the path");
        row.v[rt->id_field] = id;
    }
    ts_err e = {0};
    int rc = records_batch_run(n, &b, &e);
    const char *rid = row.v[rt->id_field] ? row.v[rt->id_field] : "";
    char idcopy[RECORDS_ID_MAX + 1];
    snprintf(idcopy, sizeof idcopy, "%s", rid);
    json_decref(o);
    if (rc == TS_EINPUT) {
        reg_refused(c, &b.problems, e.msg);
        return;
    }
    if (rc != TS_OK) {
        reg_error(c, 500, "%s", e.msg);
        return;
    }
    if (!reg_log(c, action_of(op), rt->name, idcopy, 0))
        return;
    reg_json(c, op == RECORDS_INSERT ? 201 : 200,
             json_pack("{s:s,s:s,s:s,s:b,s:I}", "type", rt->name, "id", idcopy, "done",
                       action_of(op), "unchanged", b.unchanged > 0, "cells", (json_int_t)b.cells));
}

static void import(reg_call *c, int t)
{
    node_t *n = c->r->n;
    const char *tn = n->catalog->types[t].name;
    records_batch b = {0};
    ts_err e = {0};
    if (!c->q->body || !c->q->body_len) {
        reg_error(c, 400, "the body must be the CSV file (a header of field names, then rows)");
        return;
    }
    int rc = import_csv_buffer(n, tn, c->q->body, c->q->body_len, &b, &e);
    if (rc == TS_EINPUT) {
        if (b.problems.total == 0) /* the file itself: bad UTF-8, an unclosed quote */
            records_problem_add(&b.problems, 0, "", "%s", e.msg);
        reg_refused(c, &b.problems, e.msg);
    } else if (rc != TS_OK) {
        reg_error(c, 500, "%s", e.msg);
    } else {
        access_entry *a = calloc(b.nrows ? b.nrows : 1, sizeof *a);
        int id_field = n->catalog->types[t].id_field;
        for (size_t i = 0; a && i < b.nrows; i++)
            reg_entry(c, &a[i], "import", tn, b.rows[i].v[id_field], 0);
        if (!a)
            reg_error(c, 500, "out of memory writing the access log");
        else if (reg_log_many(c, a, b.nrows))
            reg_json(c, 200,
                     json_pack("{s:s,s:I,s:I,s:I,s:I}", "type", tn, "inserted",
                               (json_int_t)b.inserted, "updated", (json_int_t)b.updated,
                               "unchanged", (json_int_t)b.unchanged, "cells", (json_int_t)b.cells));
        free(a);
    }
    free(b.rows);
}

/* ---- the forms' description ---- */

static const char *const field_types[] = {"string", "date", "enum", "ref"};

/* A field's label: that of the category read from it, when there is one. */
static json_t *field_label(const catalog_t *cat, int t, int f)
{
    for (int i = 0; i < cat->ncats; i++)
        if (cat->cats[i].kind == CAT_FIELD && cat->cats[i].rtype == t && cat->cats[i].field == f)
            return json_pack("{s:s,s:s}", "vi", cat->cats[i].label_vi, "en", cat->cats[i].label_en);
    return json_null();
}

static void types(reg_call *c)
{
    const catalog_t *cat = c->r->n->catalog;
    json_t *list = json_array();
    for (int t = 0; t < cat->ntypes; t++) {
        const catalog_rtype *rt = &cat->types[t];
        json_t *fields = json_array();
        for (int f = 0; f < rt->nfields; f++) {
            const catalog_field *fd = &rt->fields[f];
            json_t *values = json_array();
            for (int v = 0; v < fd->nvalues; v++)
                json_array_append_new(values, json_string(fd->values[v]));
            json_array_append_new(fields,
                                  json_pack("{s:s,s:s,s:b,s:b,s:o,s:o,s:o}", "name", fd->name,
                                            "type", field_types[fd->type], "required", fd->required,
                                            "pii", fd->pii, "values", values, "ref",
                                            fd->ref_type >= 0
                                                ? json_string(cat->types[fd->ref_type].name)
                                                : json_null(),
                                            "label", field_label(cat, t, f)));
        }
        json_t *owner = rt->owner_ref >= 0
            ? json_string(cat->types[rt->fields[rt->owner_ref].ref_type].name)
            : json_null();
        json_array_append_new(
            list, json_pack("{s:s,s:o,s:o}", "name", rt->name, "owner", owner, "fields", fields));
    }
    reg_json(c, 200, json_pack("{s:s,s:o}", "catalog", cat->id, "types", list));
}

void reg_records(reg_call *c, const char *rest)
{
    if (!*rest) {
        if (strcmp(c->q->method, "GET") && strcmp(c->q->method, "HEAD"))
            reg_error(c, 405, "GET /api/records lists the record types and their fields");
        else
            types(c);
        return;
    }
    const catalog_t *cat = c->r->n->catalog;
    char type[CATALOG_NAME_MAX], list[CJ_LIST_MAX];
    const char *slash = strchr(rest, '/');
    size_t tl = slash ? (size_t)(slash - rest) : strlen(rest);
    snprintf(type, sizeof type, "%.*s", (int)(tl < sizeof type ? tl : sizeof type - 1), rest);
    int t = tl < sizeof type ? catalog_rtype_find(cat, type) : -1;
    if (t < 0) {
        reg_error(
            c, 404, "no record type '%.48s' (record types: %s)", type,
            cj_join(list, sizeof list, cat->types[0].name, sizeof cat->types[0], cat->ntypes));
        return;
    }
    const char *id = slash && slash[1] ? slash + 1 : NULL;
    const char *m = c->q->method;
    bool get = !strcmp(m, "GET") || !strcmp(m, "HEAD");
    if (!id && get)
        search(c, t);
    else if (!id && !strcmp(m, "POST"))
        change(c, t, NULL, RECORDS_INSERT);
    else if (id && !strcmp(id, "import") && !strcmp(m, "POST"))
        import(c, t);
    else if (id && get)
        read_one(c, t, id);
    else if (id && !strcmp(m, "PATCH"))
        change(c, t, id, RECORDS_UPDATE);
    else if (id && !strcmp(m, "DELETE"))
        change(c, t, id, RECORDS_DELETE);
    else
        reg_error(c, 405,
                  "%s /api/records/%s%s is not an operation: GET (search, read), POST "
                  "(add, /import), PATCH (change), DELETE",
                  m, type, id ? "/ID" : "");
}
