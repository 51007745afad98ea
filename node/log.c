/* log.c: timestamped single-line log records on stderr. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static log_level max_level(void)
{
    const char *env = getenv("TIERSYNC_LOG");
    if (!env)
        return LOG_INFO;
    if (!strcmp(env, "debug"))
        return LOG_DEBUG;
    if (!strcmp(env, "warn"))
        return LOG_WARN;
    if (!strcmp(env, "error"))
        return LOG_ERROR;
    return LOG_INFO;
}

void log_msg(log_level lvl, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    if (lvl > max_level())
        return;
    char line[2048];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int n = (int)strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += snprintf(line + n, sizeof line - (size_t)n, ".%03ldZ %s ", ts.tv_nsec / 1000000,
                  names[lvl]);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", line);
}
