/* records_batch.h: one change of records, all or nothing: the rows of an
 * imported file, or the single record of `tiersync record add|update|delete`.
 *
 * records_batch_run checks every row (values, whole records, references,
 * ids), collects every problem (up to RECORDS_PROBLEMS_MAX kept), and only
 * when there is none writes the records and the aggregation delta of every
 * touched cluster in ONE write transaction. A refused batch changes nothing.
 *
 * Rows of the same id appear once per batch. An update merges: a field the
 * row does not give keeps its stored value; a field given empty is cleared. */
#ifndef TIERSYNC_RECORDS_BATCH_H
#define TIERSYNC_RECORDS_BATCH_H

#include <stddef.h>

#include "node.h"
#include "records.h"

#define RECORDS_PROGRESS_EVERY 10000 /* rows between progress calls */

typedef enum {
    RECORDS_UPSERT, /* insert, or update the record with this id (imports) */
    RECORDS_INSERT, /* refused if the id exists */
    RECORDS_UPDATE, /* refused if the id does not exist */
    RECORDS_DELETE  /* only the id is given; refused while it owns records */
} records_op;

typedef struct {
    int line;                          /* line in the file; 0 on the command line */
    const char *v[CATALOG_MAX_FIELDS]; /* NULL: not given; trimmed text otherwise */
} records_row;

/* Called every RECORDS_PROGRESS_EVERY items of each phase (rows, or
 * clusters for "clusters counted ..."), and at its end. */
typedef void (*records_progress_fn)(void *ctx, const char *phase, size_t done, size_t total);

typedef struct {
    /* what to do */
    int type; /* record type index */
    records_op op;
    records_row *rows;
    size_t nrows;
    records_progress_fn progress; /* may be NULL */
    void *progress_ctx;
    /* what was done (or refused) */
    size_t inserted, updated, unchanged, deleted;
    size_t cells; /* distinct cells of this node's totals changed */
    records_problems problems;
} records_batch;

/* Runs the batch on node n. b->problems must start zeroed or hold problems
 * the caller found in rows it left out (they refuse the batch too). TS_EINPUT with a summary message when any row
 * is refused (details in b->problems), TS_ERUNTIME on a store failure;
 * either way nothing changed. */
int records_batch_run(node_t *n, records_batch *b, ts_err *e);

/* Formats a problem as "SOURCE line L: FIELD: reason" (no "line L" for
 * line 0). */
void records_problem_text(const char *source, const records_problem *p, char *out, size_t outsz);

#endif
