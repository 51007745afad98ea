/* cell.c: cell keys and their validation against the catalog. */
#include "cell.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The hot path of every apply: plain copies, no format parsing. */
static char *put_part(char *out, const char *part, size_t max, char sep)
{
    size_t n = strnlen(part, max - 1);
    memcpy(out, part, n);
    out[n] = sep;
    return out + n + 1;
}

size_t cell_key(const ts_cell *c, char *out)
{
    char *p = put_part(out, c->unit, sizeof c->unit, '|');
    p = put_part(p, c->indicator, sizeof c->indicator, '|');
    p = put_part(p, c->period, sizeof c->period, '|');
    p = put_part(p, c->options, sizeof c->options, '\0');
    return (size_t)(p - 1 - out);
}

static int copy_part(char *dst, size_t dstsz, const char *src, size_t n, const char *what,
                     ts_err *e)
{
    if (n >= dstsz)
        return ts_fail(e, TS_EINPUT, "cell %s is too long (at most %zu bytes)", what, dstsz - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
    return TS_OK;
}

int cell_parse(const char *key, size_t n, ts_cell *c, ts_err *e)
{
    const char *end = key + n, *p = key;
    const char *parts[4];
    size_t lens[4];
    for (int i = 0; i < 4; i++) {
        const char *bar = i < 3 ? memchr(p, '|', (size_t)(end - p)) : end;
        if (!bar)
            return ts_fail(e, TS_EINPUT, "malformed cell key");
        parts[i] = p;
        lens[i] = (size_t)(bar - p);
        p = bar + 1;
    }
    if (memchr(parts[3], '|', lens[3]) || memchr(key, '\0', n))
        return ts_fail(e, TS_EINPUT, "malformed cell key");
    if (copy_part(c->unit, sizeof c->unit, parts[0], lens[0], "unit", e) ||
        copy_part(c->indicator, sizeof c->indicator, parts[1], lens[1], "indicator", e) ||
        copy_part(c->period, sizeof c->period, parts[2], lens[2], "period", e) ||
        copy_part(c->options, sizeof c->options, parts[3], lens[3], "options", e))
        return TS_EINPUT;
    /* every key the store writes comes from a valid cell: no empty parts */
    if (!ts_code_valid(c->unit) || !c->indicator[0] || !c->period[0])
        return ts_fail(e, TS_EINPUT,
                       "malformed cell key: empty or invalid unit, indicator or "
                       "period");
    return TS_OK;
}

int cell_set(ts_cell *c, const char *unit, const char *indicator, const char *period,
             const char *options, ts_err *e)
{
    if (!ts_code_valid(unit))
        return ts_fail(e, TS_EINPUT, "'%s' is not a valid org-unit code", unit);
    if (copy_part(c->unit, sizeof c->unit, unit, strlen(unit), "unit", e) ||
        copy_part(c->indicator, sizeof c->indicator, indicator, strlen(indicator), "indicator",
                  e) ||
        copy_part(c->period, sizeof c->period, period, strlen(period), "period", e) ||
        copy_part(c->options, sizeof c->options, options, strlen(options), "options", e))
        return TS_EINPUT;
    return TS_OK;
}

int cell_check_memo(const catalog_t *cat, hmap_str *memo, const ts_cell *c, ts_err *e)
{
    if (!ts_code_valid(c->unit))
        return ts_fail(e, TS_EINPUT, "'%s' is not a valid org-unit code", c->unit);
    const catalog_indicator *ind = catalog_indicator_find(cat, c->indicator);
    if (!ind)
        return ts_fail(e, TS_EINPUT, "unknown indicator '%s' (not in catalog %s)", c->indicator,
                       cat->id);
    if (!catalog_is_stored(ind)) /* computed when read from its parts, which travel */
        return ts_fail(e, TS_EINPUT,
                       "indicator '%s' is a ratio of catalog %s: never stored or sent, "
                       "only its parts are",
                       c->indicator, cat->id);
    if (catalog_period_check(ind, c->period, e))
        return TS_EINPUT;
    char seen[CATALOG_NAME_MAX + CELL_OPTIONS_MAX];
    size_t il = strlen(c->indicator), ol = strlen(c->options);
    memcpy(seen, c->indicator, il);
    seen[il] = '|';
    memcpy(seen + il + 1, c->options, ol);
    size_t len = il + 1 + ol;
    if (memo && hmap_str_find(memo, seen, len) >= 0)
        return TS_OK;
    char canon[CELL_OPTIONS_MAX];
    if (catalog_options_canon(cat, ind, c->options, canon, sizeof canon, e))
        return TS_EINPUT;
    if (strcmp(canon, c->options) != 0)
        return ts_fail(e, TS_EINPUT, "options '%s' of %s are not in canonical form '%s'",
                       c->options, c->indicator, canon);
    if (memo) {
        if (memo->n >= CELL_MEMO_MAX)
            hmap_str_clear(memo);
        hmap_str_put(memo, seen, len, 0, NULL);
    }
    return TS_OK;
}

int cell_check(const catalog_t *cat, const ts_cell *c, ts_err *e)
{
    return cell_check_memo(cat, NULL, c, e);
}

bool cell_after_today(const catalog_t *cat, const ts_cell *c, int today)
{
    const catalog_indicator *ind = catalog_indicator_find(cat, c->indicator);
    if (!ind || ind->kind == IND_VALUE)
        return false;
    long p = strtol(c->period, NULL, 10); /* YYYYMM or YYYY, checked by cell_check */
    return strlen(c->period) == 4 ? p > today / 10000 : p > today / 100;
}
