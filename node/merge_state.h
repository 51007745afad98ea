/* merge_state.h: where a store stands in a unit merge (docs/OPERATIONS.md,
 * Merging units), and the split rule by date.
 *
 * A merge of OLD into NEW on date D (the first day of a month) moves every
 * period that does not end before D to NEW: a month YYYYMM when YYYYMM >= D's
 * month, a year YYYY when YYYY >= D's year. Periods ended before D stay
 * OLD's history, frozen.
 *
 * OLD's store goes through phases, kept in its meta table (MERGE_META):
 *   merging  `tiersync merge` began: records and values can no longer be
 *            written; NEW may or may not have taken the records yet;
 *   merged   NEW took them and OLD gave up its periods from D on;
 *   retired  `tiersync retire`: the daemon does not start; the data is
 *            kept read-only.
 * NEW's meta holds MERGE_META_FROM "OLD" -> D for each unit it took in. */
#ifndef TIERSYNC_MERGE_STATE_H
#define TIERSYNC_MERGE_STATE_H

#include <stdbool.h>

#include "store.h"
#include "util.h"

#define MERGE_META "merge_state"
#define MERGE_META_FROM "merged_from|" /* + OLD's code */
#define MERGE_DATE_TEXT 11             /* "YYYY-MM-DD" and its NUL */

typedef enum { MERGE_NONE, MERGE_MERGING, MERGE_MERGED, MERGE_RETIRED } merge_phase;

typedef struct {
    merge_phase phase;
    char into[TS_CODE_MAX]; /* NEW's code */
    int on;                 /* D, YYYYMMDD */
} merge_state;

/* This store's merge state; phase MERGE_NONE (and the rest zero) when it
 * has none. */
void merge_state_get(store_t *s, store_txn *txn, merge_state *m);
int merge_state_put(store_t *s, store_txn *txn, const merge_state *m, ts_err *e);

/* TS_EINPUT with what to do when this store's unit is merging, merged or
 * retired (records and values are entered at the new unit then); TS_OK
 * otherwise. For every write of records or values. */
int merge_refuse_writes(store_t *s, store_txn *txn, ts_err *e);

/* TS_EINPUT naming the merge when this store's unit is retired: the
 * daemon does not run on it. */
int merge_refuse_run(store_t *s, ts_err *e);

/* The date NEW's store took OLD in on (YYYYMMDD); 0 when it did not. */
int merge_taken_on(store_t *s, store_txn *txn, const char *old);
int merge_taken_put(store_t *s, store_txn *txn, const char *old, int on, ts_err *e);

/* Parses a merge date "YYYY-MM-01" into YYYYMMDD. TS_EINPUT naming what is
 * wrong when it is not a date, not the first day of a month, or after
 * today (today as YYYYMMDD). */
int merge_date_parse(const char *text, int today, int *on, ts_err *e);

/* "YYYY-MM-DD" of a YYYYMMDD date into out. */
const char *merge_date_text(int on, char out[MERGE_DATE_TEXT]);

/* The split rule: true when period (YYYYMM or YYYY) does not end before
 * on, i.e. it moves to the new unit. */
bool merge_period_moves(const char *period, int on);

#endif
