/* report.c: GET /report?unit=U&period=YYYYMM[&lang=vi|en] (and `tiersync
 * report`): the monthly report as a print-ready HTML page in the Vietnamese
 * administrative layout: the issuing unit and the national motto, the
 * number and date lines, the title and period, then the catalog's
 * indicators for the unit and each unit directly below it (indicators as
 * rows; units as rows instead when there are many), the year's plan and
 * its progress up to the month, which units below have not reported (the
 * freshness rule of /api/freshness), and the signature block.
 *
 * Every figure goes through api_value() (a ratio through api_fig_json), so
 * the report follows the reader's access exactly as the API does; every
 * text is HTML-escaped. The
 * layout is node/web/report.css (A4 via @page, landscape when wide). */
#include "api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web.h"

#define REPORT_MAX_UNIT_COLUMNS 6 /* the unit and 5 below it; more: units become rows */
#define REPORT_PORTRAIT_COLUMNS 7 /* wider tables print landscape */
#define REPORT_CSS "/report.css"  /* node/web/report.css */

typedef struct {
    const char *lang, *motto1, *motto2, *number, *title, *subtitle, *period, *sec_data, *sec_plan,
        *sec_units, *no, *indicator, *unit, *total, *target, *actual, *percent, *never, *late,
        *all_reported, *last_seen, *recipients, *recipients_list, *preparer, *head, *sign_note,
        *sign_note_head, *rounded_note, *made_by, *none;
} report_text;

static const report_text text_vi = {
    "vi",
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "Số: ........../BC-",
    "BÁO CÁO",
    "Kết quả thực hiện các chỉ số tháng %02d năm %04d",
    "Kỳ báo cáo: từ ngày 01/%02d/%04d đến ngày %02d/%02d/%04d",
    "I. SỐ LIỆU CÁC CHỈ SỐ",
    "II. TIẾN ĐỘ THỰC HIỆN KẾ HOẠCH NĂM %04d",
    "III. TÌNH TRẠNG BÁO CÁO CỦA ĐƠN VỊ TRỰC THUỘC",
    "STT",
    "Chỉ số",
    "Đơn vị",
    "Tổng",
    "Kế hoạch",
    "Thực hiện",
    "Đạt (%)",
    "Chưa báo cáo",
    "Báo cáo trễ",
    "Tất cả đơn vị trực thuộc đã báo cáo.",
    "lần cuối",
    "Nơi nhận:",
    "- Như trên;<br>- Lưu: VT.",
    "NGƯỜI LẬP BIỂU",
    "THỦ TRƯỞNG ĐƠN VỊ",
    "(Ký, ghi rõ họ tên)",
    "(Ký, ghi rõ họ tên, đóng dấu)",
    "Số liệu từ hồ sơ được làm tròn đến bội số của %d (người đọc không có mã đọc).",
    "Lập bởi tiersync lúc",
    "Chưa có kế hoạch cho năm này."};

static const report_text text_en = {
    "en",
    "SOCIALIST REPUBLIC OF VIET NAM",
    "Independence - Freedom - Happiness",
    "No.: ........../BC-",
    "REPORT",
    "Indicators for %s %04d",
    "Reporting period: from 01/%02d/%04d to %02d/%02d/%04d",
    "I. INDICATORS",
    "II. PROGRESS AGAINST THE PLAN FOR %04d",
    "III. REPORTING STATUS OF THE UNITS BELOW",
    "No.",
    "Indicator",
    "Unit",
    "Total",
    "Plan",
    "Achieved",
    "Achieved (%)",
    "Not reported",
    "Reporting late",
    "Every unit below has reported.",
    "last seen",
    "Recipients:",
    "- As above;<br>- Filed.",
    "PREPARED BY",
    "HEAD OF UNIT",
    "(Signature, full name)",
    "(Signature, full name, seal)",
    "Counts from records are rounded to multiples of %d (read without a token).",
    "Made by tiersync at",
    "No plan for this year yet."};

static const char *const months_en[] = {"January",   "February", "March",    "April",
                                        "May",       "June",     "July",     "August",
                                        "September", "October",  "November", "December"};

typedef struct {
    api_ctx *c;
    FILE *f;
    const report_text *tx;
    int unit;
    char month[8], year[8];
    int *units; /* the unit, then each unit directly below it */
    int nunits;
} report;

static void esc(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* A figure as the API shows it: an integer with the language's thousands
 * separator, a percentage with the language's decimal point, or "—". */
static void put_json(const report *rp, json_t *v)
{
    if (json_is_integer(v)) {
        char digits[32], out[48];
        json_int_t x = json_integer_value(v);
        snprintf(digits, sizeof digits, "%lld", (long long)(x < 0 ? -x : x));
        size_t n = strlen(digits), o = 0;
        if (x < 0)
            out[o++] = '-';
        for (size_t i = 0; i < n; i++) {
            if (i && (n - i) % 3 == 0)
                out[o++] = rp->tx == &text_vi ? '.' : ',';
            out[o++] = digits[i];
        }
        out[o] = '\0';
        fputs(out, rp->f);
    } else if (json_is_real(v)) {
        char s[32];
        snprintf(s, sizeof s, "%.1f", json_real_value(v));
        char *dot = strchr(s, '.');
        if (dot && rp->tx == &text_vi)
            *dot = ',';
        fputs(s, rp->f);
    } else {
        fputs("—", rp->f);
    }
}

static bool fig_zero(api_fig f)
{
    return !f.v.v && !f.num.v && !f.den.v;
}

static const char *ind_label(const report *rp, const catalog_indicator *ind)
{
    return rp->tx == &text_vi ? ind->label_vi : ind->label_en;
}

/* Target indicators (TARGET_X of an X) belong to the plan section. */
static bool is_target(const catalog_t *cat, const catalog_indicator *ind)
{
    return ind->kind == IND_VALUE && !strncmp(ind->code, "TARGET_", 7) &&
        catalog_indicator_find(cat, ind->code + 7);
}

/* The period an indicator's row shows: the month, or the year for yearly
 * indicators; an indicator of any period shows the year when the unit has
 * a figure for the year and none for the month. */
static const char *row_period(report *rp, const catalog_indicator *ind)
{
    if (ind->period == PERIOD_YEAR)
        return rp->year;
    if (ind->period == PERIOD_ANY) {
        const char *code = rp->c->tree.units[rp->unit].code;
        if (fig_zero(api_fig_sum(rp->c, code, ind, rp->month, NULL)) &&
            !fig_zero(api_fig_sum(rp->c, code, ind, rp->year, NULL)))
            return rp->year;
    }
    return rp->month;
}

static void put_period(const report *rp, const char *p)
{
    if (strlen(p) == 4)
        fputs(p, rp->f);
    else
        fprintf(rp->f, "%.2s/%.4s", p + 4, p);
}

static void put_cell(report *rp, int unit, const catalog_indicator *ind, const char *period)
{
    api_fig v = api_fig_sum(rp->c, rp->c->tree.units[unit].code, ind, period, NULL);
    api_fresh fr;
    api_freshness_of(rp->c, unit, &fr);
    fputs("<td class=\"num\">", rp->f);
    if (unit != rp->unit && fig_zero(v) && fr.state == LINK_CHILD_NEVER) {
        fputs("—", rp->f);
    } else { /* a count, or a ratio of the unit's own parts (— without a value) */
        json_t *j = api_fig_json(rp->c, ind, v);
        put_json(rp, j);
        json_decref(j);
    }
    fputs("</td>", rp->f);
}

/* The unit's name, with a mark when it has not reported. */
static void put_unit_name(report *rp, int unit)
{
    const tree_unit *u = &rp->c->tree.units[unit];
    esc(rp->f, u->u.name[0] ? u->u.name : u->code);
    if (unit == rp->unit) {
        fprintf(rp->f, " (%s)", rp->tx->total);
        return;
    }
    api_fresh fr;
    api_freshness_of(rp->c, unit, &fr);
    if (fr.state == LINK_CHILD_NEVER || fr.state == LINK_CHILD_LATE)
        fprintf(rp->f, "<br><span class=\"mark\">%s</span>",
                fr.state == LINK_CHILD_NEVER ? rp->tx->never : rp->tx->late);
}

static void data_table(report *rp)
{
    const catalog_t *cat = rp->c->n->catalog;
    const report_text *tx = rp->tx;
    FILE *f = rp->f;
    bool transpose = rp->nunits > REPORT_MAX_UNIT_COLUMNS;
    fprintf(f, "<h2>%s</h2>\n<table class=\"data\" id=\"data\">\n<thead><tr><th>%s</th>",
            tx->sec_data, tx->no);
    if (!transpose) {
        fprintf(f, "<th class=\"ind\">%s</th>", tx->indicator);
        for (int i = 0; i < rp->nunits; i++) {
            fputs("<th>", f);
            put_unit_name(rp, rp->units[i]);
            fputs("</th>", f);
        }
        fputs("</tr></thead>\n<tbody>\n", f);
        int no = 0;
        for (int k = 0; k < cat->ninds; k++) {
            const catalog_indicator *ind = &cat->inds[k];
            if (is_target(cat, ind))
                continue;
            const char *per = row_period(rp, ind);
            fprintf(f, "<tr><td class=\"no\">%d</td><td>", ++no);
            esc(f, ind_label(rp, ind));
            fputs(" <span class=\"per\">(", f);
            put_period(rp, per);
            fputs(")</span></td>", f);
            for (int i = 0; i < rp->nunits; i++)
                put_cell(rp, rp->units[i], ind, per);
            fputs("</tr>\n", f);
        }
    } else {
        fprintf(f, "<th class=\"unit\">%s</th>", tx->unit);
        for (int k = 0; k < cat->ninds; k++) {
            const catalog_indicator *ind = &cat->inds[k];
            if (is_target(cat, ind))
                continue;
            fputs("<th>", f);
            esc(f, ind_label(rp, ind));
            fputs(" <span class=\"per\">(", f);
            put_period(rp, row_period(rp, ind));
            fputs(")</span></th>", f);
        }
        fputs("</tr></thead>\n<tbody>\n", f);
        for (int i = 0; i < rp->nunits; i++) {
            fprintf(f, "<tr><td class=\"no\">%d</td><td>", i + 1);
            put_unit_name(rp, rp->units[i]);
            fputs("</td>", f);
            for (int k = 0; k < cat->ninds; k++)
                if (!is_target(cat, &cat->inds[k]))
                    put_cell(rp, rp->units[i], &cat->inds[k], row_period(rp, &cat->inds[k]));
            fputs("</tr>\n", f);
        }
    }
    fputs("</tbody></table>\n", f);
}

/* "modality=methadone,sex=M" as "methadone, M" */
static void put_options(FILE *f, json_t *options)
{
    const char *k;
    json_t *v;
    int i = 0;
    json_object_foreach (options, k, v) {
        fputs(i++ ? ", " : " — ", f);
        esc(f, json_string_value(v) ? json_string_value(v) : "");
    }
}

static void plan_row_html(report *rp, const catalog_indicator *x, json_t *fig, json_t *options)
{
    FILE *f = rp->f;
    fputs("<tr><td>", f);
    esc(f, ind_label(rp, x));
    if (options)
        put_options(f, options);
    fputs("</td><td class=\"num\">", f);
    put_json(rp, json_object_get(fig, "target"));
    fputs("</td><td class=\"num\">", f);
    put_json(rp, json_object_get(fig, "actual"));
    fputs("</td><td class=\"num\">", f);
    put_json(rp, json_object_get(fig, "percent"));
    fputs("</td></tr>\n", f);
}

static int plan_table(report *rp, ts_err *e)
{
    FILE *f = rp->f;
    api_ctx *c = rp->c;
    int today = c->today, through = atoi(rp->month) * 100 + 31;
    if (through < today) /* progress up to the report's month, not today's */
        c->today = through;
    json_t *plans = api_plan_json(c, rp->unit, atoi(rp->year));
    c->today = today;
    if (!plans)
        return ts_fail(e, TS_ERUNTIME, "out of memory");
    fputs("<h2>", f);
    fprintf(f, rp->tx->sec_plan, atoi(rp->year));
    fputs("</h2>\n", f);
    size_t i;
    json_t *p;
    int shown = 0;
    json_array_foreach (plans, i, p) {
        json_t *total = json_object_get(p, "total");
        const catalog_indicator *x = catalog_indicator_find(
            c->n->catalog, json_string_value(json_object_get(p, "actual_indicator")));
        json_t *tg = json_object_get(total, "target");
        if (!x || (json_is_integer(tg) && json_integer_value(tg) == 0))
            continue;
        if (!shown++)
            fprintf(f,
                    "<table class=\"data\" id=\"plan\">\n<thead><tr><th>%s</th><th>%s</th>"
                    "<th>%s</th><th>%s</th></tr></thead>\n<tbody>\n",
                    rp->tx->indicator, rp->tx->target, rp->tx->actual, rp->tx->percent);
        plan_row_html(rp, x, total, NULL);
        size_t k;
        json_t *row;
        json_array_foreach (json_object_get(p, "rows"), k, row)
            plan_row_html(rp, x, row, json_object_get(row, "options"));
    }
    fputs(shown ? "</tbody></table>\n" : "", f);
    if (!shown)
        fprintf(f, "<p>%s</p>\n", rp->tx->none);
    json_decref(plans);
    return TS_OK;
}

static void status_list(report *rp)
{
    FILE *f = rp->f;
    fprintf(f, "<h2>%s</h2>\n", rp->tx->sec_units);
    int listed = 0;
    for (int i = 1; i < rp->nunits; i++) {
        api_fresh fr;
        api_freshness_of(rp->c, rp->units[i], &fr);
        bool never = fr.state == LINK_CHILD_NEVER;
        if (!never && fr.state != LINK_CHILD_LATE)
            continue;
        fputs(listed++ ? "" : "<ul class=\"status\">\n", f);
        fputs("<li>", f);
        put_unit_name(rp, rp->units[i]);
        if (!never) {
            char when[TS_ISO_TIME_MAX];
            ts_iso_time(fr.last_seen_ms, when);
            fprintf(f, " (%s %s)", rp->tx->last_seen, when);
        }
        fputs("</li>\n", f);
    }
    if (listed)
        fputs("</ul>\n", f);
    else
        fprintf(f, "<p>%s</p>\n", rp->tx->all_reported);
}

static void header(report *rp)
{
    FILE *f = rp->f;
    const report_text *tx = rp->tx;
    const tree_unit *u = &rp->c->tree.units[rp->unit];
    int y = atoi(rp->year), m = atoi(rp->month + 4), today = rp->c->today;
    fputs("<table class=\"head\"><tr><td><div class=\"issuer\">", f);
    esc(f, u->u.name[0] ? u->u.name : u->code);
    fprintf(f, "</div><div>%s", tx->number);
    esc(f, u->code);
    fprintf(f,
            "</div></td><td><div class=\"motto1\">%s</div><div class=\"motto2\">%s</div>"
            "<div class=\"date\">",
            tx->motto1, tx->motto2);
    esc(f, u->u.name[0] ? u->u.name : u->code);
    if (tx == &text_vi)
        fprintf(f, ", ngày %02d tháng %02d năm %04d", today % 100, today / 100 % 100,
                today / 10000);
    else
        fprintf(f, ", %d %s %04d", today % 100, months_en[(today / 100 % 100 + 11) % 12],
                today / 10000);
    fprintf(f, "</div></td></tr></table>\n<h1>%s</h1>\n<p class=\"subtitle\"><b>", tx->title);
    if (tx == &text_vi)
        fprintf(f, tx->subtitle, m, y);
    else
        fprintf(f, tx->subtitle, months_en[(m + 11) % 12], y);
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int last = days[(m + 11) % 12] + (m == 2 && ((y % 4 == 0 && y % 100) || y % 400 == 0));
    fputs("</b></p>\n<p class=\"period\">", f);
    fprintf(f, tx->period, m, y, last, m, y);
    fputs("</p>\n", f);
}

static void footer(report *rp)
{
    FILE *f = rp->f;
    const report_text *tx = rp->tx;
    fprintf(f, "<table class=\"sign\"><tr><td class=\"recv\"><b><i>%s</i></b><br>%s</td>",
            tx->recipients, tx->recipients_list);
    fprintf(f, "<td><div class=\"role\">%s</div><div><i>%s</i></div></td>", tx->preparer,
            tx->sign_note);
    fprintf(f,
            "<td><div class=\"role\">%s</div><div><i>%s</i></div><div class=\"space\">"
            "</div></td></tr></table>\n<p class=\"note\">",
            tx->head, tx->sign_note_head);
    if (!rp->c->rd.exact) {
        fprintf(f, tx->rounded_note, rp->c->rd.k);
        fputc(' ', f);
    }
    char when[TS_ISO_TIME_MAX];
    ts_iso_time(rp->c->now_ms, when);
    fprintf(f, "%s %s.</p>\n", tx->made_by, when);
}

int api_report(api_ctx *c, const api_params *p, api_response *r, ts_err *e)
{
    report rp = {.c = c};
    const char *lang = api_param(p, "lang"), *period = api_param(p, "period");
    if (!lang || !strcmp(lang, "vi"))
        rp.tx = &text_vi;
    else if (!strcmp(lang, "en"))
        rp.tx = &text_en;
    else
        return api_bad(c, e, "lang", "lang '%.16s': use vi (the default) or en", lang);
    if (!period)
        return api_bad(c, e, "period", "period is required: the report's month as YYYYMM");
    if (api_get_period(c, p, "period", NULL, &period, e))
        return e->code;
    if (strlen(period) != 6)
        return api_bad(c, e, "period",
                       "period '%s' is a year: the report is monthly, give "
                       "YYYYMM",
                       period);
    if (api_get_unit(c, p, &rp.unit, e))
        return e->code;
    snprintf(rp.month, sizeof rp.month, "%s", period);
    snprintf(rp.year, sizeof rp.year, "%.4s", period);
    const tree_t *t = &c->tree;
    if (!(rp.units = malloc((t->n + 1) * sizeof *rp.units)))
        return ts_fail(e, TS_ERUNTIME, "out of memory");
    rp.units[rp.nunits++] = rp.unit;
    for (int ch = t->units[rp.unit].first_child; ch >= 0 && (size_t)rp.nunits <= t->n;
         ch = t->units[ch].next_sibling)
        rp.units[rp.nunits++] = ch;
    int ninds = 0;
    for (int k = 0; k < c->n->catalog->ninds; k++)
        ninds += !is_target(c->n->catalog, &c->n->catalog->inds[k]);
    int width = rp.nunits > REPORT_MAX_UNIT_COLUMNS ? 2 + ninds : 2 + rp.nunits;
    char *buf = NULL;
    size_t len = 0;
    rp.f = open_memstream(&buf, &len);
    if (!rp.f) {
        free(rp.units);
        return ts_fail(e, TS_ERUNTIME, "out of memory");
    }
    fprintf(rp.f, "<!doctype html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">\n<title>",
            rp.tx->lang);
    fprintf(rp.f, "%s ", rp.tx->title);
    esc(rp.f, t->units[rp.unit].code);
    /* linked for the node's pages (a policy may refuse inline styles), and
     * inlined for a saved file */
    fprintf(rp.f, " %s</title>\n<link rel=\"stylesheet\" href=\"%s\">\n<style>\n", rp.month,
            REPORT_CSS);
    const web_asset *css = web_find(REPORT_CSS);
    if (css)
        fwrite(css->data, 1, css->len, rp.f);
    fprintf(rp.f, "</style></head>\n<body class=\"%s\">\n",
            width > REPORT_PORTRAIT_COLUMNS ? "landscape" : "portrait");
    header(&rp);
    data_table(&rp);
    int rc = plan_table(&rp, e);
    if (rc == TS_OK) {
        status_list(&rp);
        footer(&rp);
        fputs("</body></html>\n", rp.f);
    }
    fclose(rp.f);
    free(rp.units);
    if (rc) {
        free(buf);
        return rc;
    }
    free(r->body);
    r->status = 200;
    r->content_type = "text/html; charset=utf-8";
    r->body = buf;
    r->len = len;
    return TS_OK;
}
