/* clock.h: can this computer's clock be right?
 *
 * Commune PCs often have wrong clocks: a dead CMOS battery starts them in
 * 2000, a hand setting is months off. A date refused as "after today" by such
 * a clock should say that the clock is the cause. Two checks need no
 * network: the clock cannot be before the day this program was built, nor
 * before the newest commit to the node's own store. (A clock that runs
 * ahead is caught above: the parent measures each child's offset.) */
#ifndef TIERSYNC_CLOCK_H
#define TIERSYNC_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define CLOCK_NOTE_MAX 256
#define CLOCK_SLACK_S 600 /* a store written this far "ahead" is still fine (DST, NTP steps) */

/* The day this program was built, YYYYMMDD. */
int clock_build_date(void);

/* The newest commit to the store of node directory dir (Unix seconds: the
 * mtime of its data file), 0 when it cannot be read. */
int64_t clock_store_time(const char *dir);

/* True when the wall clock (now_s, Unix seconds) must be wrong: before the
 * build date, or more than CLOCK_SLACK_S before store_s (0: unknown). The
 * note then says so: "this computer's clock says 2000-01-01, before ...". */
bool clock_suspect(int64_t now_s, int64_t store_s, char *note, size_t n);

/* clock_suspect of the current wall clock with no store time: for a date
 * refusal, where the store is not at hand. */
bool clock_suspect_now(char *note, size_t n);

/* A direct child's clock minus this node's (seconds), measured at its last
 * hello, kept in the meta table beside the child's record. */
int clock_child_put(store_t *s, store_txn *txn, const char *child, int32_t offset_s, ts_err *e);
int32_t clock_child_offset(store_t *s, store_txn *txn, const char *child); /* 0: unknown */

#endif
