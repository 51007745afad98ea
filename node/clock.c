/* clock.c: checks of the wall clock against what it cannot be before. */
#include "clock.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "link_state.h"
#include "store.h"
#include "util.h"

#ifndef TIERSYNC_BUILD_DATE
#define TIERSYNC_BUILD_DATE 20261201 /* set by CMake; this only for a build without it */
#endif

int clock_build_date(void)
{
    return TIERSYNC_BUILD_DATE;
}

int64_t clock_store_time(const char *dir)
{
    char path[TS_PATH_MAX];
    struct stat st;
    if (ts_path(path, sizeof path, NULL, "%s/%s/data.mdb", dir, STORE_SUBDIR) != TS_OK ||
        stat(path, &st) != 0)
        return 0;
    return (int64_t)st.st_mtime;
}

#define DAY_MAX 11 /* "YYYY-MM-DD" */

static void day_of(int64_t s, char out[DAY_MAX])
{
    time_t t = (time_t)s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, DAY_MAX, "%Y-%m-%d", &tm);
}

bool clock_suspect(int64_t now_s, int64_t store_s, char *note, size_t n)
{
    char today[DAY_MAX], other[DAY_MAX];
    day_of(now_s, today);
    time_t t = (time_t)now_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    int ymd = (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
    int built = clock_build_date();
    if (ymd < built) {
        snprintf(note, n,
                 "this computer's clock says %s, before this program was built "
                 "(%04d-%02d-%02d): set the date and time, then try again",
                 today, built / 10000, built / 100 % 100, built % 100);
        return true;
    }
    if (store_s && now_s + CLOCK_SLACK_S < store_s) {
        day_of(store_s, other);
        snprintf(note, n,
                 "this computer's clock says %s, before this node's store was last "
                 "written (%s): set the date and time, then try again",
                 today, other);
        return true;
    }
    if (n)
        note[0] = '\0';
    return false;
}

bool clock_suspect_now(char *note, size_t n)
{
    return clock_suspect((int64_t)time(NULL), 0, note, n);
}

static size_t child_key(const char *child, char out[TS_CODE_MAX + sizeof LINK_META_CHILD_CLOCK])
{
    return (size_t)snprintf(out, TS_CODE_MAX + sizeof LINK_META_CHILD_CLOCK, "%s%s",
                            LINK_META_CHILD_CLOCK, child);
}

int clock_child_put(store_t *s, store_txn *txn, const char *child, int32_t offset_s, ts_err *e)
{
    char k[TS_CODE_MAX + sizeof LINK_META_CHILD_CLOCK];
    size_t n = child_key(child, k);
    return store_put(s, txn, DB_META, k, n, &offset_s, sizeof offset_s, e);
}

int32_t clock_child_offset(store_t *s, store_txn *txn, const char *child)
{
    char k[TS_CODE_MAX + sizeof LINK_META_CHILD_CLOCK];
    size_t n = child_key(child, k);
    store_val v;
    int32_t off = 0;
    if (store_get(s, txn, DB_META, k, n, &v, NULL) == TS_OK && v.len == sizeof off)
        memcpy(&off, v.data, sizeof off);
    return off;
}
