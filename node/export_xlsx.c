/* export_xlsx.c: the export as an Excel workbook (libxlsxwriter): one sheet
 * per indicator, a unit and period per row, one column per category
 * combination, real numbers (a ratio's with one decimal, empty when it has
 * none), Vietnamese headers frozen above the rows.
 *
 * libxlsxwriter writes to a file, so the workbook is assembled in a private
 * temporary file and its bytes copied to the export's stream (a refused or
 * failed export leaves no file anywhere). Rows arrive unit by unit, each
 * unit's periods in order (export_int.h), so a sheet's row changes exactly
 * when its (unit, period) does; columns are added as combinations appear. */
#include "export_int.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xlsxwriter.h>

#define XLSX_MAX_COLS 1024 /* category combinations on one sheet */
#define XLSX_FIRST_COL 4   /* unit code, unit name, level, period, then values */
#define XLSX_HEAD_ROWS 2   /* the indicator's name, then the column headers */
#define XLSX_SHEET_NAME_MAX 31

typedef struct {
    const catalog_indicator *ind;
    lxw_worksheet *ws;
    int row; /* last row written, XLSX_HEAD_ROWS - 1 before any */
    const tree_unit *u;
    char period[CELL_PERIOD_MAX];
    int ncols;
    char (*cols)[CELL_OPTIONS_MAX];
} xlsx_sheet;

struct export_book {
    const node_t *n;
    lxw_workbook *wb;
    lxw_format *bold;
    lxw_format *tenths; /* a ratio: one decimal */
    char path[64];
    int nsheets;
    xlsx_sheet sheets[CATALOG_MAX_INDICATORS];
};

static void head(export_book *b, xlsx_sheet *s, int col, const char *text)
{
    worksheet_write_string(s->ws, XLSX_HEAD_ROWS - 1, (lxw_col_t)col, text, b->bold);
}

int export_xlsx_open(export_book **bp, const node_t *n, const export_request *r, ts_err *e)
{
    export_book *b = *bp = calloc(1, sizeof *b);
    if (!b)
        return ts_fail(e, TS_ERUNTIME, "out of memory");
    b->n = n;
    const char *tmp = getenv("TMPDIR");
    snprintf(b->path, sizeof b->path, "%.40s/tiersync-xlsx-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(b->path);
    if (fd < 0) {
        b->path[0] = '\0';
        return ts_fail(e, TS_ERUNTIME,
                       "cannot create a temporary file for the workbook in %s "
                       "(set TMPDIR to a writable directory)",
                       tmp && *tmp ? tmp : "/tmp");
    }
    close(fd);
    if (!(b->wb = workbook_new(b->path)))
        return ts_fail(e, TS_ERUNTIME, "cannot start the workbook in %s", b->path);
    b->bold = workbook_add_format(b->wb);
    format_set_bold(b->bold);
    b->tenths = workbook_add_format(b->wb);
    format_set_num_format(b->tenths, "0.0");
    const catalog_t *cat = n->catalog;
    const catalog_indicator *want = r->indicator;
    for (int i = 0; i < cat->ninds; i++) {
        const catalog_indicator *ind = &cat->inds[i];
        bool part = want && want->kind == IND_RATIO &&
            (i == want->numerator || i == want->denominator);
        if (want && want != ind && !part) /* a ratio comes with its parts */
            continue;
        xlsx_sheet *s = &b->sheets[b->nsheets];
        char name[XLSX_SHEET_NAME_MAX + 1];
        snprintf(name, sizeof name, "%s", ind->code);
        if (!(s->ws = workbook_add_worksheet(b->wb, name))) { /* a clash after truncation */
            snprintf(name, sizeof name, "%d", i + 1);
            if (!(s->ws = workbook_add_worksheet(b->wb, name)))
                return ts_fail(e, TS_ERUNTIME, "cannot add the sheet of %s", ind->code);
        }
        s->ind = ind;
        s->row = XLSX_HEAD_ROWS - 1;
        b->nsheets++;
        char title[2 * CATALOG_LABEL_MAX];
        snprintf(title, sizeof title, "%s (%s)", ind->label_vi, ind->code);
        worksheet_write_string(s->ws, 0, 0, title, b->bold);
        static const char *const cols[XLSX_FIRST_COL] = {"Mã đơn vị", "Tên đơn vị", "Cấp",
                                                         "Kỳ báo cáo"};
        for (int c = 0; c < XLSX_FIRST_COL; c++)
            head(b, s, c, cols[c]);
        worksheet_set_column(s->ws, 1, 1, 28, NULL);
        worksheet_freeze_panes(s->ws, XLSX_HEAD_ROWS, XLSX_FIRST_COL);
    }
    return TS_OK;
}

/* "Giới tính: M; Nhóm tuổi: 18-29" for "age_band=18-29,sex=M"; "Giá trị" for none. */
static void options_header(const catalog_t *cat, const char *options, char *out, size_t outsz)
{
    if (!options[0]) {
        snprintf(out, outsz, "Giá trị");
        return;
    }
    out[0] = '\0';
    char buf[CELL_OPTIONS_MAX];
    snprintf(buf, sizeof buf, "%s", options);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            continue;
        *eq = '\0';
        int ci = catalog_category_find(cat, tok);
        size_t len = strlen(out);
        snprintf(out + len, outsz - len, "%s%s: %s", len ? "; " : "",
                 ci >= 0 ? cat->cats[ci].label_vi : tok, eq + 1);
    }
}

static int column_of(export_book *b, xlsx_sheet *s, const char *options, ts_err *e)
{
    for (int i = 0; i < s->ncols; i++)
        if (!strcmp(s->cols[i], options))
            return XLSX_FIRST_COL + i;
    if (s->ncols == XLSX_MAX_COLS) {
        ts_fail(e, TS_EINPUT,
                "indicator %s has more than %d category combinations: export "
                "it in another format",
                s->ind->code, XLSX_MAX_COLS);
        return -1;
    }
    if (s->ncols % 16 == 0) {
        void *c = realloc(s->cols, (size_t)(s->ncols + 16) * sizeof *s->cols);
        if (!c) {
            ts_fail(e, TS_ERUNTIME, "out of memory");
            return -1;
        }
        s->cols = c;
    }
    snprintf(s->cols[s->ncols], CELL_OPTIONS_MAX, "%s", options);
    char h[4 * CATALOG_LABEL_MAX];
    options_header(b->n->catalog, options, h, sizeof h);
    head(b, s, XLSX_FIRST_COL + s->ncols, h);
    return XLSX_FIRST_COL + s->ncols++;
}

int export_xlsx_add(export_book *b, const export_value *x, ts_err *e)
{
    xlsx_sheet *s = NULL;
    for (int i = 0; i < b->nsheets && !s; i++)
        if (!strcmp(b->sheets[i].ind->code, x->c->indicator))
            s = &b->sheets[i];
    if (!s) /* a cell of an indicator the catalog no longer has */
        return TS_OK;
    if (s->u != x->u || strcmp(s->period, x->c->period)) {
        s->u = x->u;
        snprintf(s->period, sizeof s->period, "%s", x->c->period);
        lxw_row_t row = (lxw_row_t)++s->row;
        worksheet_write_string(s->ws, row, 0, x->u->code, NULL);
        worksheet_write_string(s->ws, row, 1, x->u->u.name, NULL);
        worksheet_write_string(s->ws, row, 2, x->u->u.level, NULL);
        worksheet_write_string(s->ws, row, 3, x->c->period, NULL);
    }
    int col = column_of(b, s, x->c->options, e);
    if (col < 0)
        return e->code;
    if (x->ratio && !x->shown[0]) /* a ratio without a value: the cell stays empty */
        return TS_OK;
    lxw_error le = worksheet_write_number(s->ws, (lxw_row_t)s->row, (lxw_col_t)col,
                                          x->ratio ? (double)x->v / 10.0 : (double)x->v,
                                          x->ratio ? b->tenths : NULL);
    if (le != LXW_NO_ERROR)
        return ts_fail(e, TS_EINPUT, "the workbook refused a value of %s: %s", x->c->indicator,
                       lxw_strerror(le));
    return TS_OK;
}

int export_xlsx_close(export_book **bp, FILE *out, ts_err *e)
{
    export_book *b = *bp;
    if (!b)
        return TS_OK;
    int rc = TS_OK;
    if (b->wb) {
        lxw_error le = workbook_close(b->wb);
        if (out && le != LXW_NO_ERROR)
            rc = ts_fail(e, TS_ERUNTIME, "cannot write the workbook: %s", lxw_strerror(le));
    }
    if (out && rc == TS_OK) {
        char *data = NULL;
        size_t len = 0;
        rc = ts_read_file(b->path, &data, &len, e);
        if (rc == TS_OK && fwrite(data, 1, len, out) != len)
            rc = ts_fail(e, TS_ERUNTIME, "out of memory copying the workbook");
        free(data);
    }
    if (b->path[0])
        unlink(b->path);
    for (int i = 0; i < b->nsheets; i++)
        free(b->sheets[i].cols);
    free(b);
    *bp = NULL;
    return rc;
}
