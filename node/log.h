/* log.h: one line per event to stderr (journald adds the rest).
 * Levels: error, warn, info, debug; TIERSYNC_LOG=debug shows debug lines.
 * Never pass a secret or a PII value to anything above log_debug. */
#ifndef TIERSYNC_LOG_H
#define TIERSYNC_LOG_H

typedef enum { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG } log_level;

void log_msg(log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
