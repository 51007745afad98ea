/* test_log.c: log lines (log.c) are single lines of valid UTF-8 whatever
 * the values in them, and a line repeated under one key is written once
 * per LOG_LIMIT_MS. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static void escape_control_and_invalid_bytes(void **state)
{
    (void)state;
    char out[128];
    log_escape(out, sizeof out, "a\nFAKE\r\t\x7f\x1b[31m");
    assert_string_equal(out, "a\\x0aFAKE\\x0d\\x09\\x7f\\x1b[31m");
    log_escape(out, sizeof out, "X\xc3\xa3 \xff\xc3(\xed\xa0\x80");
    assert_string_equal(out,
                        "X\xc3\xa3 \\xff\\xc3(\\xed\\xa0\\x80"); /* ã kept; bad bytes, surrogate */
    assert_true(ts_text_valid(out, strlen(out)));
}

static void escape_cuts_at_a_character(void **state)
{
    (void)state;
    char out[6];
    assert_int_equal(log_escape(out, sizeof out, "ab\xc3\xa3\xc3\xa3"), 4); /* "abã" */
    assert_string_equal(out, "ab\xc3\xa3");
    assert_int_equal(log_escape(out, sizeof out, "ab\ncd"), 2); /* "\x0a" does not fit */
    assert_string_equal(out, "ab");
}

/* Runs fn with stderr sent to a file; returns the number of lines written. */
static int lines_written(void (*fn)(void))
{
    fflush(stderr);
    int saved = dup(2);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    dup2(fileno(tmp), 2);
    fn();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    int n = 0, ch;
    while ((ch = fgetc(tmp)) != EOF)
        n += ch == '\n';
    fclose(tmp);
    return n;
}

static void forge(void)
{
    log_msg(LOG_WARN, "child %s: refused", "x\nFAKE-LOG-LINE warn child 12346: forged");
}

static void a_newline_in_a_value_stays_in_its_line(void **state)
{
    (void)state;
    assert_int_equal(lines_written(forge), 1);
}

static void flood(void)
{
    log_limit l;
    log_limit_init(&l);
    for (int i = 0; i < 2000; i++)
        log_limited(&l, "zap|127.0.0.1", LOG_WARN, "refused connection %d", i);
    log_limited(&l, "zap|10.0.0.1", LOG_WARN, "refused connection from another address");
    for (int i = 0; i < 2 * LOG_LIMIT_KEYS; i++) { /* more keys than tracked: they share one */
        char key[32];
        snprintf(key, sizeof key, "child%d|8", i);
        log_limited(&l, key, LOG_WARN, "refused %d", i);
    }
    log_limit_free(&l);
}

static void repeated_lines_once_a_minute_per_key(void **state)
{
    (void)state;
    /* one line per address, then one per tracked key and one for the overflow */
    assert_int_equal(lines_written(flood), 2 + (LOG_LIMIT_KEYS - 2) + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(escape_control_and_invalid_bytes),
        cmocka_unit_test(escape_cuts_at_a_character),
        cmocka_unit_test(a_newline_in_a_value_stays_in_its_line),
        cmocka_unit_test(repeated_lines_once_a_minute_per_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
