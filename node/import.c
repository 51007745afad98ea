/* import.c: maps a CSV file's header to the catalog's fields and its rows
 * to a records batch (import.h). The file is read whole and parsed in
 * place: the rows point into that one buffer. */
#include "import.h"

#include <stdlib.h>
#include <string.h>

#include "catalog_json.h"
#include "csv.h"

#define IMPORT_ECHO_MAX 48 /* bytes of an unknown column name repeated */

/* Trims ASCII spaces and tabs in place. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

/* Maps header columns to field indices (col[i] = field of column i). */
static void read_header(const catalog_t *c, int t, const csv_row *h, int *col, records_problems *ps)
{
    const catalog_rtype *rt = &c->types[t];
    bool seen[CATALOG_MAX_FIELDS] = {false};
    char list[CJ_LIST_MAX];
    for (int i = 0; i < h->n; i++) {
        const char *name = trim(h->f[i]);
        int f = catalog_field_find(rt, name);
        col[i] = f;
        if (f < 0)
            records_problem_add(
                ps, h->line, "", "unknown column '%.*s' (columns of %s: %s)", IMPORT_ECHO_MAX, name,
                rt->name,
                cj_join(list, sizeof list, rt->fields[0].name, sizeof rt->fields[0], rt->nfields));
        else if (seen[f])
            records_problem_add(ps, h->line, name, "column given twice");
        else
            seen[f] = true;
    }
    for (int f = 0; f < rt->nfields; f++)
        if (rt->fields[f].required && !seen[f])
            records_problem_add(ps, h->line, rt->fields[f].name,
                                "required column missing from the header");
}

/* Parses every row after the header into b->rows. */
static int read_rows(csv_t *csv, const int *col, int ncols, records_batch *b, ts_err *e)
{
    size_t cap = 1024;
    b->rows = malloc(cap * sizeof *b->rows);
    for (;;) {
        csv_row row;
        if (!b->rows)
            return ts_fail(e, TS_ERUNTIME, "out of memory");
        if (csv_next(csv, &row, e))
            return TS_EINPUT;
        if (row.n == 0)
            return TS_OK;
        if (row.n != ncols) {
            records_problem_add(&b->problems, row.line, "", "%d fields, the header has %d", row.n,
                                ncols);
            continue;
        }
        if (b->nrows == cap) {
            records_row *more = realloc(b->rows, 2 * cap * sizeof *b->rows);
            if (!more)
                return ts_fail(e, TS_ERUNTIME, "out of memory after %zu rows", b->nrows);
            b->rows = more;
            cap *= 2;
        }
        records_row *r = &b->rows[b->nrows++];
        memset(r, 0, sizeof *r);
        r->line = row.line;
        for (int i = 0; i < ncols; i++)
            r->v[col[i]] = trim(row.f[i]);
    }
}

int import_csv_buffer(node_t *n, const char *type_name, char *buf, size_t len, records_batch *b,
                      ts_err *e)
{
    const catalog_t *c = n->catalog;
    char list[CJ_LIST_MAX];
    int t = catalog_rtype_find(c, type_name);
    memset(&b->problems, 0, sizeof b->problems);
    b->rows = NULL;
    b->nrows = 0;
    if (t < 0)
        return ts_fail(e, TS_EINPUT, "unknown record type '%.*s' (record types: %s)",
                       IMPORT_ECHO_MAX, type_name,
                       cj_join(list, sizeof list, c->types[0].name, sizeof c->types[0], c->ntypes));
    b->type = t;
    b->op = RECORDS_UPSERT;
    csv_t csv;
    csv_row header;
    int col[CSV_MAX_FIELDS];
    csv_init(&csv, buf, len);
    int rc = csv_next(&csv, &header, e);
    if (rc == TS_OK && header.n == 0)
        rc = ts_fail(e, TS_EINPUT, "the file is empty: its first line must name the columns (%s)",
                     cj_join(list, sizeof list, c->types[t].fields[0].name,
                             sizeof c->types[t].fields[0], c->types[t].nfields));
    if (rc == TS_OK) {
        read_header(c, t, &header, col, &b->problems);
        if (b->problems.total > 0)
            rc = ts_fail(e, TS_EINPUT, "the header is refused; nothing was changed");
    }
    if (rc == TS_OK)
        rc = read_rows(&csv, col, header.n, b, e);
    if (rc == TS_OK) /* also reports the rows of a wrong shape read above */
        rc = records_batch_run(n, b, e);
    return rc;
}

int import_csv(node_t *n, const char *type_name, const char *path, records_batch *b, ts_err *e)
{
    char *buf;
    size_t len;
    if (ts_read_file(path, &buf, &len, e))
        return e->code;
    int rc = import_csv_buffer(n, type_name, buf, len, b, e);
    if (rc != TS_OK)
        ts_err_wrap(e, "%s", path);
    free(b->rows);
    b->rows = NULL;
    free(buf);
    return rc;
}
