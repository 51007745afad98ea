/* import.h: `tiersync import`: a CSV file of one record type (a header row
 * of the catalog's field names, then one record per row) into one records
 * batch: every row inserted or updated by id, all or nothing. */
#ifndef TIERSYNC_IMPORT_H
#define TIERSYNC_IMPORT_H

#include "node.h"
#include "records_batch.h"

/* Imports the file at path as records of the type named type_name. The
 * caller may set b->progress; b receives the counts and the problems
 * (header problems are on line 1). TS_EINPUT when anything is refused
 * (nothing changed), TS_ERUNTIME when the file or the store fails. */
int import_csv(node_t *n, const char *type_name, const char *path, records_batch *b, ts_err *e);

/* The same for a CSV held in buf[0..len) (followed by a NUL byte), which it
 * parses in place. b->rows (pointing into buf) is left for the caller to
 * read and free(). */
int import_csv_buffer(node_t *n, const char *type_name, char *buf, size_t len, records_batch *b,
                      ts_err *e);

#endif
