/* catalog_options.c: checks what callers say about an indicator against the
 * catalog — period strings, category options — and finds the catalog file.
 *
 * Category options have one canonical spelling, "cat=opt,cat=opt" sorted by
 * category name with every category of the indicator exactly once, so the
 * same cell is always the same string in the store, on the wire and in the
 * API. */
#include "catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog_json.h"

#ifndef TIERSYNC_CATALOG_DIR
#define TIERSYNC_CATALOG_DIR "/usr/local/share/tiersync"
#endif
#ifndef TIERSYNC_SOURCE_CATALOG_DIR
#define TIERSYNC_SOURCE_CATALOG_DIR "catalog"
#endif

#define PERIOD_YEAR_MIN 1900
#define PERIOD_YEAR_MAX 2999
#define OPTION_ECHO_MAX 64 /* how much of a refused input a message repeats */

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* The first four characters of p as a year within range. */
static bool year_ok(const char *p)
{
    if (!all_digits(p, 4))
        return false;
    int y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
    return y >= PERIOD_YEAR_MIN && y <= PERIOD_YEAR_MAX;
}

static bool is_month(const char *p, size_t n)
{
    if (n != 6 || !all_digits(p, 6) || !year_ok(p))
        return false;
    int m = (p[4] - '0') * 10 + (p[5] - '0');
    return m >= 1 && m <= 12;
}

int catalog_period_check(const catalog_indicator *ind, const char *period, ts_err *e)
{
    size_t n = period ? strlen(period) : 0;
    bool month = is_month(period, n), year = n == 4 && year_ok(period);
    bool ok = ind->period == PERIOD_MONTH ? month
        : ind->period == PERIOD_YEAR      ? year
                                          : month || year;
    if (ok)
        return TS_OK;
    const char *want = ind->period == PERIOD_MONTH ? "a month YYYYMM (e.g. 202403)"
        : ind->period == PERIOD_YEAR               ? "a year YYYY (e.g. 2024)"
                                                   : "a month YYYYMM or a year YYYY";
    return ts_fail(e, TS_EINPUT, "indicator %s: period '%.*s' is not %s, years %d-%d", ind->code,
                   OPTION_ECHO_MAX, period ? period : "", want, PERIOD_YEAR_MIN, PERIOD_YEAR_MAX);
}

bool catalog_retired(const catalog_indicator *ind, const char *period)
{
    if (!ind->retired_from || !period)
        return false;
    int p = atoi(period);
    return strlen(period) == 4 ? p * 100 + 1 >= ind->retired_from : p >= ind->retired_from;
}

/* ---- category options ------------------------------------------------- */

static const char *ind_cat_list(char *buf, size_t sz, const catalog_t *c,
                                const catalog_indicator *ind)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int k = 0; k < ind->ncats; k++) {
        int w = snprintf(buf + len, sz - len, "%s%s", k ? ", " : "", c->cats[ind->cats[k]].name);
        if (w < 0 || (size_t)w >= sz - len)
            break;
        len += (size_t)w;
    }
    return buf;
}

static const char *option_list(char *buf, size_t sz, const catalog_category *cat)
{
    return cj_join(buf, sz, cat->options[0], sizeof cat->options[0], cat->noptions);
}

/* Takes one "cat=opt" (len bytes, spaces around it ignored) into chosen[]. */
static int take_option(const catalog_t *c, const catalog_indicator *ind, const char *tok,
                       size_t len, int chosen[CATALOG_MAX_IND_CATS], ts_err *e)
{
    char list[CJ_LIST_MAX];
    while (len > 0 && *tok == ' ')
        tok++, len--;
    while (len > 0 && tok[len - 1] == ' ')
        len--;
    const char *eq = memchr(tok, '=', len);
    if (!eq)
        return ts_fail(e, TS_EINPUT, "indicator %s: '%.*s' is not category=option (categories: %s)",
                       ind->code, (int)(len < OPTION_ECHO_MAX ? len : OPTION_ECHO_MAX), tok,
                       ind->ncats ? ind_cat_list(list, sizeof list, c, ind) : "none");
    size_t clen = (size_t)(eq - tok), olen = len - clen - 1;
    int slot = -1;
    for (int k = 0; k < ind->ncats && slot < 0; k++) {
        const char *name = c->cats[ind->cats[k]].name;
        if (strlen(name) == clen && memcmp(name, tok, clen) == 0)
            slot = k;
    }
    if (slot < 0)
        return ts_fail(e, TS_EINPUT, "indicator %s: unknown category '%.*s' (%s%s)", ind->code,
                       (int)(clen < OPTION_ECHO_MAX ? clen : OPTION_ECHO_MAX), tok,
                       ind->ncats ? "categories: " : "it has no categories",
                       ind_cat_list(list, sizeof list, c, ind));
    const catalog_category *cat = &c->cats[ind->cats[slot]];
    if (chosen[slot] >= 0)
        return ts_fail(e, TS_EINPUT, "indicator %s: category %s given twice", ind->code, cat->name);
    for (int i = 0; i < cat->noptions; i++)
        if (strlen(cat->options[i]) == olen && memcmp(cat->options[i], eq + 1, olen) == 0) {
            chosen[slot] = i;
            return TS_OK;
        }
    return ts_fail(e, TS_EINPUT, "indicator %s: category %s: unknown option '%.*s' (options: %s)",
                   ind->code, cat->name, (int)(olen < OPTION_ECHO_MAX ? olen : OPTION_ECHO_MAX),
                   eq + 1, option_list(list, sizeof list, cat));
}

void catalog_category_order(const catalog_t *c, const catalog_indicator *ind,
                            int order[CATALOG_MAX_IND_CATS])
{
    for (int k = 0; k < ind->ncats; k++) {
        int j = k; /* insertion sort: at most four */
        while (j > 0 &&
               strcmp(c->cats[ind->cats[order[j - 1]]].name, c->cats[ind->cats[k]].name) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = k;
    }
}

/* Checks every category was given and writes them sorted by name. */
static int write_options(const catalog_t *c, const catalog_indicator *ind,
                         const int chosen[CATALOG_MAX_IND_CATS], char *out, size_t outsz, ts_err *e)
{
    char list[CJ_LIST_MAX];
    int order[CATALOG_MAX_IND_CATS];
    for (int k = 0; k < ind->ncats; k++) {
        const catalog_category *cat = &c->cats[ind->cats[k]];
        if (chosen[k] < 0)
            return ts_fail(e, TS_EINPUT, "indicator %s: missing category %s (options: %s)",
                           ind->code, cat->name, option_list(list, sizeof list, cat));
    }
    catalog_category_order(c, ind, order);
    size_t len = 0;
    if (outsz == 0)
        return ts_fail(e, TS_ERUNTIME, "indicator %s: no room for the options", ind->code);
    out[0] = '\0';
    for (int j = 0; j < ind->ncats; j++) {
        const catalog_category *cat = &c->cats[ind->cats[order[j]]];
        int w = snprintf(out + len, outsz - len, "%s%s=%s", j ? "," : "", cat->name,
                         cat->options[chosen[order[j]]]);
        if (w < 0 || (size_t)w >= outsz - len)
            return ts_fail(e, TS_ERUNTIME, "indicator %s: options do not fit in %zu bytes",
                           ind->code, outsz);
        len += (size_t)w;
    }
    return TS_OK;
}

static void unchosen(int chosen[CATALOG_MAX_IND_CATS])
{
    for (int k = 0; k < CATALOG_MAX_IND_CATS; k++)
        chosen[k] = -1;
}

int catalog_options_canon(const catalog_t *c, const catalog_indicator *ind, const char *in,
                          char *out, size_t outsz, ts_err *e)
{
    int chosen[CATALOG_MAX_IND_CATS];
    unchosen(chosen);
    const char *p = in ? in : "";
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        int rc = take_option(c, ind, p, len, chosen, e);
        if (rc)
            return rc;
        p += len;
        if (comma && !*++p) /* a trailing comma leaves an empty item */
            return take_option(c, ind, p, 0, chosen, e);
    }
    return write_options(c, ind, chosen, out, outsz, e);
}

int catalog_options_canon_argv(const catalog_t *c, const catalog_indicator *ind, int n,
                               char *const *argv, char *out, size_t outsz, ts_err *e)
{
    int chosen[CATALOG_MAX_IND_CATS];
    unchosen(chosen);
    for (int i = 0; i < n; i++) {
        const char *a = argv[i] ? argv[i] : "";
        int rc = take_option(c, ind, a, strlen(a), chosen, e);
        if (rc)
            return rc;
    }
    return write_options(c, ind, chosen, out, outsz, e);
}

/* ---- finding the file ------------------------------------------------- */

static int put_path(const char *p, char *out, size_t outsz, ts_err *e)
{
    size_t n = strlen(p);
    if (n >= outsz)
        return ts_fail(e, TS_EINPUT, "catalog path too long (%zu bytes, at most %zu): %.*s...", n,
                       outsz ? outsz - 1 : 0, OPTION_ECHO_MAX, p);
    memcpy(out, p, n + 1);
    return TS_OK;
}

int catalog_resolve_path(const char *explicit_path, char *out, size_t outsz, ts_err *e)
{
    static const char installed[] = TIERSYNC_CATALOG_DIR "/" CATALOG_DEFAULT_FILE;
    static const char source[] = TIERSYNC_SOURCE_CATALOG_DIR "/" CATALOG_DEFAULT_FILE;
    const char *env = getenv("TIERSYNC_CATALOG");
    if (explicit_path && *explicit_path)
        return put_path(explicit_path, out, outsz, e);
    if (env && *env)
        return put_path(env, out, outsz, e);
    if (access(installed, R_OK) == 0)
        return put_path(installed, out, outsz, e);
    if (access(source, R_OK) == 0)
        return put_path(source, out, outsz, e);
    return ts_fail(e, TS_ERUNTIME, "no catalog found at %s or %s; name one or set TIERSYNC_CATALOG",
                   installed, source);
}
