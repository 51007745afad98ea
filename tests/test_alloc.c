/* test_alloc.c: a failed realloc never leaves a node writing through NULL.
 *
 * The binary is linked with -Wl,--wrap=realloc, so realloc can be made to
 * fail here. Growth paths must stop the process with abort() (SIGABRT),
 * never crash on a NULL pointer (SIGSEGV). A source check then holds every
 * realloc in node/ to one of two forms: ts_xrealloc, or a fresh pointer that
 * is tested on the next line (`if (!q)` or `if (q)`); `p = realloc(p, n)` loses p when it fails. */
#include <regex.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hmap.h"
#include "util.h"

void *__real_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n);

static int realloc_fails;

void *__wrap_realloc(void *p, size_t n)
{
    return realloc_fails ? NULL : __real_realloc(p, n);
}

/* Runs fn in a child with realloc failing; returns the signal it died of. */
static int death_signal(void (*fn)(void))
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGABRT, SIG_DFL);
        realloc_fails = 1;
        fn();
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

static void grow_xrealloc(void)
{
    char *p = ts_xrealloc(NULL, 16);
    p[0] = 'x';
}

static void grow_hmap(void)
{
    hmap_str m = {0};
    char key[16];
    for (int i = 0; i < 100000; i++) {
        int n = snprintf(key, sizeof key, "k%d", i);
        hmap_str_put(&m, key, (size_t)n, i, NULL);
    }
}

static void test_failed_growth_aborts(void **state)
{
    (void)state;
    assert_int_equal(death_signal(grow_xrealloc), SIGABRT);
    assert_int_equal(death_signal(grow_hmap), SIGABRT);
}

/* The source form of every realloc in node/ (see the top of the file). */
static void test_every_realloc_checked(void **state)
{
    (void)state;
    const char *src = getenv("TIERSYNC_SOURCE");
    if (!src)
        skip();
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "ls '%s'/node/*.c", src);
    FILE *ls = popen(cmd, "r");
    assert_non_null(ls);
    regex_t self, call;
    assert_int_equal(regcomp(&self, "([A-Za-z_][]A-Za-z_0-9>.[-]*) = realloc\\(\\1,", REG_EXTENDED),
                     0);
    assert_int_equal(
        regcomp(&call, "([A-Za-z_][A-Za-z_0-9]*)(\\)\\[[A-Z_]*\\])? = realloc\\(", REG_EXTENDED),
        0);
    char path[4096], line[1024], next[1024];
    int files = 0, bad = 0;
    while (fgets(path, sizeof path, ls)) {
        path[strcspn(path, "\n")] = '\0';
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        files++;
        int ln = 0;
        bool have = fgets(line, sizeof line, f) != NULL;
        while (have) {
            ln++;
            bool more = fgets(next, sizeof next, f) != NULL;
            regmatch_t m[3];
            if (!strstr(line, "realloc(") || strstr(line, "ts_xrealloc(") ||
                strstr(path, "/util.c")) {
                /* not a realloc, or ts_xrealloc and util.c's own checked ones */
            } else if (!regexec(&self, line, 0, NULL, 0)) {
                print_error("%s:%d: p = realloc(p, n) loses p on failure: %s", path, ln, line);
                bad++;
            } else if (!regexec(&call, line, 3, m, 0)) {
                char want[160];
                snprintf(want, sizeof want, "%.*s)", (int)(m[1].rm_eo - m[1].rm_so),
                         line + m[1].rm_so);
                const char *test = more ? strstr(next, "if (") : NULL;
                if (!test ||
                    (strncmp(test + 4, want, strlen(want)) &&
                     (test[4] != '!' || strncmp(test + 5, want, strlen(want))))) {
                    print_error("%s:%d: realloc result not tested on the next line: %s", path, ln,
                                line);
                    bad++;
                }
            } else {
                print_error("%s:%d: realloc in an unexpected form: %s", path, ln, line);
                bad++;
            }
            memcpy(line, next, sizeof line);
            have = more;
        }
        fclose(f);
    }
    pclose(ls);
    regfree(&self);
    regfree(&call);
    assert_true(files > 50);
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failed_growth_aborts),
        cmocka_unit_test(test_every_realloc_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
