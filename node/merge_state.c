/* merge_state.c: a store's merge phase and the split rule (merge_state.h). */
#include "merge_state.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "records.h"

/* The meta value: phase, date, NEW's code. */
typedef struct {
    int32_t phase, on;
    char into[TS_CODE_MAX];
} merge_meta;

void merge_state_get(store_t *s, store_txn *txn, merge_state *m)
{
    store_val v;
    merge_meta mm;
    memset(m, 0, sizeof *m);
    if (store_get(s, txn, DB_META, MERGE_META, strlen(MERGE_META), &v, NULL) != TS_OK ||
        v.len != sizeof mm)
        return;
    memcpy(&mm, v.data, sizeof mm);
    if (mm.phase <= MERGE_NONE || mm.phase > MERGE_RETIRED ||
        !memchr(mm.into, '\0', sizeof mm.into))
        return;
    m->phase = (merge_phase)mm.phase;
    m->on = mm.on;
    snprintf(m->into, sizeof m->into, "%s", mm.into);
}

int merge_state_put(store_t *s, store_txn *txn, const merge_state *m, ts_err *e)
{
    merge_meta mm = {.phase = (int32_t)m->phase, .on = m->on};
    snprintf(mm.into, sizeof mm.into, "%s", m->into);
    return store_put(s, txn, DB_META, MERGE_META, strlen(MERGE_META), &mm, sizeof mm, e);
}

int merge_refuse_writes(store_t *s, store_txn *txn, ts_err *e)
{
    merge_state m;
    char d[MERGE_DATE_TEXT];
    merge_state_get(s, txn, &m);
    if (m.phase == MERGE_NONE)
        return TS_OK;
    return ts_fail(e, TS_EINPUT,
                   "unit %s %s into %s from %s: its records are kept at %s now; enter changes "
                   "there (this store is kept read-only)",
                   store_self_code(s), m.phase == MERGE_MERGING ? "is being merged" : "was merged",
                   m.into, merge_date_text(m.on, d), m.into);
}

int merge_refuse_run(store_t *s, ts_err *e)
{
    store_txn *txn;
    merge_state m;
    char d[MERGE_DATE_TEXT];
    if (store_read_begin(s, &txn, e))
        return e->code;
    merge_state_get(s, txn, &m);
    store_read_end(txn);
    if (m.phase != MERGE_RETIRED)
        return TS_OK;
    return ts_fail(e, TS_EINPUT,
                   "unit %s was merged into %s from %s and is retired: the daemon does not run "
                   "on it; its data is kept read-only (totals, status and export still read it)",
                   store_self_code(s), m.into, merge_date_text(m.on, d));
}

static size_t taken_key(const char *old, char *k, size_t cap)
{
    int n = snprintf(k, cap, "%s%s", MERGE_META_FROM, old);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

int merge_taken_on(store_t *s, store_txn *txn, const char *old)
{
    char k[sizeof MERGE_META_FROM + TS_CODE_MAX];
    size_t n = taken_key(old, k, sizeof k);
    store_val v;
    int32_t on = 0;
    if (n && store_get(s, txn, DB_META, k, n, &v, NULL) == TS_OK && v.len == sizeof on)
        memcpy(&on, v.data, sizeof on);
    return on;
}

int merge_taken_put(store_t *s, store_txn *txn, const char *old, int on, ts_err *e)
{
    char k[sizeof MERGE_META_FROM + TS_CODE_MAX];
    size_t n = taken_key(old, k, sizeof k);
    int32_t v = on;
    if (!n)
        return ts_fail(e, TS_EINPUT, "unit code '%s' is too long", old);
    return store_put(s, txn, DB_META, k, n, &v, sizeof v, e);
}

int merge_date_parse(const char *text, int today, int *on, ts_err *e)
{
    int d = records_parse_date(text);
    char t[MERGE_DATE_TEXT];
    if (!d)
        return ts_fail(e, TS_EINPUT, "--on '%s' is not a date YYYY-MM-DD", text);
    if (d % 100 != 1)
        return ts_fail(e, TS_EINPUT,
                       "--on %s is not the first day of a month: a merge takes effect from a "
                       "month's start (periods are months and years); give %.8s01",
                       text, text);
    if (d > today)
        return ts_fail(e, TS_EINPUT,
                       "--on %s is after today (%s): run the merge on or after the date it "
                       "takes effect",
                       text, merge_date_text(today, t));
    *on = d;
    return TS_OK;
}

const char *merge_date_text(int on, char out[MERGE_DATE_TEXT])
{
    unsigned d = (unsigned)on % 100000000u;
    snprintf(out, MERGE_DATE_TEXT, "%04u-%02u-%02u", d / 10000, d / 100 % 100, d % 100);
    return out;
}

bool merge_period_moves(const char *period, int on)
{
    size_t n = strlen(period);
    int p = 0;
    for (size_t i = 0; i < n; i++) {
        if (period[i] < '0' || period[i] > '9')
            return false;
        p = p * 10 + (period[i] - '0');
    }
    return n == 6 ? p >= on / 100 : p >= on / 10000;
}
