/* test_config.c: the node's configuration file: defaults, a written file
 * reloading to the same configuration, and every refusal of config_load /
 * config_set, each naming the setting (and line) that was wrong. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "testutil.h"

#define PARENT_KEY "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29"

static char dir[512];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s", tu_tmpdir("config"));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmrf(dir);
    return 0;
}

static void test_defaults(void **state)
{
    (void)state;
    ts_config c;
    memset(&c, 0x5a, sizeof c); /* every field must be set, not left over */
    config_defaults(&c, "/srv/node");
    assert_string_equal(c.dir, "/srv/node");
    assert_string_equal(c.code, "");
    assert_string_equal(c.name, "");
    assert_string_equal(c.level, "commune");
    assert_string_equal(c.catalog, "");
    assert_string_equal(c.listen, "");
    assert_string_equal(c.http, CONFIG_DEFAULT_HTTP);
    assert_string_equal(c.http_hosts, "");
    assert_true(c.trust_loopback);
    assert_string_equal(c.parent, "");
    assert_string_equal(c.parent_key, "");
    assert_int_equal(c.forward_detail, DETAIL_ALL);
    assert_int_equal(c.flush_ms, CONFIG_DEFAULT_FLUSH_MS);
    assert_int_equal(c.flush_ms, 100); /* docs/DESIGN.md, The replication link */
    assert_int_equal(c.window, CONFIG_DEFAULT_WINDOW);
    assert_int_equal(c.window, 8);
    assert_int_equal(c.max_cells, CONFIG_DEFAULT_MAX_CELLS);
    assert_int_equal(c.max_msg_bytes, CONFIG_DEFAULT_MAX_MSG_BYTES);
    assert_int_equal(c.heartbeat_ms, CONFIG_DEFAULT_HEARTBEAT_MS);
    assert_int_equal(c.late_after_s, CONFIG_DEFAULT_LATE_AFTER_S);
    assert_int_equal(c.release_s, 900);      /* docs/SECURITY.md: release windows */
    assert_int_equal(c.checkpoint_days, 30); /* and a bounded audit trail */
    assert_int_equal(c.checkpoint_s, 0);
    assert_int_equal(c.map_initial_mb, CONFIG_DEFAULT_MAP_INITIAL_MB);
    assert_int_equal(c.map_max_mb, CONFIG_DEFAULT_MAP_MAX_MB);
    assert_int_equal(c.small_cell_k, CONFIG_DEFAULT_SMALL_CELL_K);
    assert_int_equal(c.small_cell_k, 5); /* docs/DESIGN.md, Reading */
    assert_int_equal(c.ntokens, 0);
    assert_string_equal(c.tls_cert, "");
    assert_string_equal(c.tls_key, "");
    assert_int_equal(c.session_idle_s, 1800); /* docs/REGISTER.md */
    assert_int_equal(c.access_log_days, 1825);

    config_defaults(&c, NULL);
    assert_string_equal(c.dir, CONFIG_DEFAULT_DIR);
}

/* A file with only node.code loads as the defaults plus that code. */
static void test_minimal_file_is_defaults(void **state)
{
    (void)state;
    tu_write_file(dir, CONFIG_FILE, "# just a code\n[node]\ncode = 12345\n");
    ts_config got, want;
    ts_err e = {0};
    assert_int_equal(config_load(&got, dir, &e), TS_OK);
    config_defaults(&want, dir);
    snprintf(want.code, sizeof want.code, "12345");
    assert_memory_equal(&got, &want, sizeof want);
}

static void set_ok(ts_config *c, const char *section, const char *key, const char *value)
{
    ts_err e = {0};
    if (config_set(c, section, key, value, &e) != TS_OK)
        fail_msg("%s.%s = %s refused: %s", section, key, value, e.msg);
}

static void assert_same_config(const ts_config *got, const ts_config *want)
{
    assert_string_equal(got->dir, want->dir);
    assert_string_equal(got->code, want->code);
    assert_string_equal(got->name, want->name);
    assert_string_equal(got->level, want->level);
    assert_string_equal(got->catalog, want->catalog);
    assert_string_equal(got->listen, want->listen);
    assert_string_equal(got->http, want->http);
    assert_string_equal(got->http_hosts, want->http_hosts);
    assert_int_equal(got->trust_loopback, want->trust_loopback);
    assert_string_equal(got->parent, want->parent);
    assert_string_equal(got->parent_key, want->parent_key);
    assert_int_equal(got->forward_detail, want->forward_detail);
    assert_int_equal(got->flush_ms, want->flush_ms);
    assert_int_equal(got->window, want->window);
    assert_int_equal(got->max_cells, want->max_cells);
    assert_int_equal(got->max_msg_bytes, want->max_msg_bytes);
    assert_int_equal(got->heartbeat_ms, want->heartbeat_ms);
    assert_int_equal(got->late_after_s, want->late_after_s);
    assert_int_equal(got->release_s, want->release_s);
    assert_int_equal(got->checkpoint_days, want->checkpoint_days);
    assert_int_equal(got->checkpoint_s, want->checkpoint_s);
    assert_int_equal(got->map_initial_mb, want->map_initial_mb);
    assert_int_equal(got->map_max_mb, want->map_max_mb);
    assert_int_equal(got->small_cell_k, want->small_cell_k);
    assert_int_equal(got->ntokens, want->ntokens);
    for (int i = 0; i < want->ntokens; i++)
        assert_string_equal(got->tokens[i], want->tokens[i]);
    assert_memory_equal(got, want, sizeof *want); /* and nothing else differs */
}

static void test_write_reload_identical(void **state)
{
    (void)state;
    ts_config c, back;
    ts_err e = {0};
    config_defaults(&c, dir);
    set_ok(&c, "node", "code", "343");
    set_ok(&c, "node", "name", "Huyện Đông Anh = thành phố, #1");
    set_ok(&c, "node", "level", "district");
    set_ok(&c, "node", "catalog", "/usr/share/tiersync/tb.json");
    set_ok(&c, "listen", "endpoint", "tcp://0.0.0.0:7400");
    set_ok(&c, "http", "address", "");
    set_ok(&c, "http", "hosts", "stats.example.org, huyen.example.vn");
    set_ok(&c, "http", "trust_loopback", "no");
    set_ok(&c, "parent", "endpoint", "tcp://10.0.0.1:7400");
    set_ok(&c, "parent", "key", PARENT_KEY);
    set_ok(&c, "parent", "forward_detail", "self");
    set_ok(&c, "sync", "flush_ms", "250");
    set_ok(&c, "sync", "window", "3");
    set_ok(&c, "sync", "max_cells", "777");
    set_ok(&c, "sync", "max_message_bytes", "65536");
    set_ok(&c, "sync", "heartbeat_ms", "1500");
    set_ok(&c, "sync", "late_after_s", "3600");
    set_ok(&c, "sync", "release_s", "0");
    set_ok(&c, "audit", "checkpoint_days", "7");
    set_ok(&c, "audit", "checkpoint_s", "5");
    set_ok(&c, "store", "map_initial_mb", "2");
    set_ok(&c, "store", "map_max_mb", "9");
    set_ok(&c, "read", "small_cell_k", "3");
    set_ok(&c, "http", "tls_cert", "tls/cert.pem");
    set_ok(&c, "http", "tls_key", "/etc/tiersync/key.pem");
    set_ok(&c, "register", "session_idle_s", "600");
    set_ok(&c, "register", "access_log_days", "3650");
    set_ok(&c, "read", "token", "0123456789abcdef-reader-one");
    set_ok(&c, "read", "token", "fedcba9876543210-reader-two");
    assert_int_equal(config_write(&c, &e), TS_OK);
    assert_int_equal(config_load(&back, dir, &e), TS_OK);
    assert_same_config(&back, &c);

    /* and the defaults written by init reload as the defaults */
    ts_config d;
    config_defaults(&d, dir);
    set_ok(&d, "node", "code", "12345");
    set_ok(&d, "node", "name", "Xã A");
    assert_int_equal(config_write(&d, &e), TS_OK);
    assert_int_equal(config_load(&back, dir, &e), TS_OK);
    assert_same_config(&back, &d);

    /* the file is commented, and not world-readable (it may hold read tokens) */
    char path[1024], *text = NULL;
    snprintf(path, sizeof path, "%s/%s", dir, CONFIG_FILE);
    assert_int_equal(ts_read_file(path, &text, NULL, &e), TS_OK);
    assert_non_null(strstr(text, "\n# "));
    assert_non_null(strstr(text, "[store]"));
    free(text);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07, 0);
}

/* Loads text as the config file; asserts TS_EINPUT whose message names the
 * file and every needle. */
static void refuse_file(const char *text, const char *n1, const char *n2)
{
    const char *path = tu_write_file(dir, CONFIG_FILE, text);
    char saved[1024];
    snprintf(saved, sizeof saved, "%s", path);
    ts_config c;
    ts_err e = {0};
    int rc = config_load(&c, dir, &e);
    if (rc != TS_EINPUT)
        fail_msg("expected TS_EINPUT, got %d (%s) for:\n%s", rc, e.msg, text);
    assert_int_equal(e.code, TS_EINPUT);
    if (!strstr(e.msg, saved))
        fail_msg("message '%s' does not name the file", e.msg);
    if (n1 && !strstr(e.msg, n1))
        fail_msg("message '%s' lacks '%s'", e.msg, n1);
    if (n2 && !strstr(e.msg, n2))
        fail_msg("message '%s' lacks '%s'", e.msg, n2);
}

static void test_refuse_unknown_setting(void **state)
{
    (void)state;
    refuse_file("[node]\ncode = 1\n\n[sync]\nflush_ms = 10\nflush_every = 10\n",
                "'sync.flush_every'", "line 6");
    /* a known key in the wrong section is unknown there */
    refuse_file("[node]\ncode = 1\nwindow = 4\n", "'node.window'", "line 3");
    refuse_file("[node]\ncode = 1\n[nodes]\nname = x\n", "'nodes.name'", "line 4");
    refuse_file("code = 1\n", "'.code'", "line 1");
    /* the first bad line is the one reported, whatever its kind */
    refuse_file("[node]\ncode = 1\nthis is not a setting\nbogus = 2\n", "line 3", "key = value");
    refuse_file("[node]\ncode = 1\nbogus = 2\nthis is not a setting\n", "'node.bogus'", "line 3");
}

static void test_refuse_malformed_line(void **state)
{
    (void)state;
    refuse_file("[node]\ncode = 1\n[sync\n", "line 3", NULL);
    refuse_file("[node]\ncode = 1\n\n\njust words\n", "line 5", NULL);
}

static void test_refuse_bad_numbers(void **state)
{
    (void)state;
    static const struct {
        const char *section, *key, *value;
    } bad[] = {
        {"sync", "flush_ms", "abc"},
        {"sync", "flush_ms", "0"},
        {"sync", "flush_ms", "-5"},
        {"sync", "flush_ms", "10ms"},
        {"sync", "flush_ms", ""},
        {"sync", "flush_ms", "99999999999999999999"},
        {"sync", "window", "0"},
        {"sync", "window", "1025"},
        {"sync", "max_cells", "1.5"},
        {"sync", "max_message_bytes", "1023"},
        {"sync", "heartbeat_ms", "99"},
        {"sync", "late_after_s", "0x10"},
        {"store", "map_initial_mb", "0"},
        {"store", "map_max_mb", "-1"},
        {"read", "small_cell_k", "1001"},
        {"read", "small_cell_k", "1"},
        {"read", "small_cell_k", "0"},
        {"read", "small_cell_k", "101"},
        {"sync", "release_s", "-1"},
        {"sync", "release_s", "86401"},
        {"audit", "checkpoint_days", "0"},
        {"audit", "checkpoint_s", "-1"},
        {"register", "session_idle_s", "59"},
        {"register", "access_log_days", "0"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[256], name[64], line[32];
        snprintf(text, sizeof text, "[node]\ncode = 1\n[%s]\n%s = %s\n", bad[i].section, bad[i].key,
                 bad[i].value);
        snprintf(name, sizeof name, "%s.%s", bad[i].section, bad[i].key);
        snprintf(line, sizeof line, "line 4");
        refuse_file(text, name, line);
        refuse_file(text, "not a whole number", NULL);
    }
    refuse_file("[node]\ncode = 1\n[read]\nsmall_cell_k = 1\n", "from 2 to 100", NULL);
    refuse_file("[node]\ncode = 1\n[store]\nmap_initial_mb = 8\nmap_max_mb = 4\n",
                "store.map_initial_mb", "store.map_max_mb");
    static const char *bad_hours[] = {"-1", "8761", "1h", "", "nan", "inf"};
    for (size_t i = 0; i < sizeof bad_hours / sizeof *bad_hours; i++) {
        char text[128];
        snprintf(text, sizeof text, "[node]\ncode = 1\n[audit]\nscrub_every_h = %s\n",
                 bad_hours[i]);
        refuse_file(text, "audit.scrub_every_h", "not a number of hours");
    }
}

static void test_refuse_forward_detail(void **state)
{
    (void)state;
    refuse_file("[node]\ncode = 1\n[parent]\nforward_detail = some\n", "parent.forward_detail",
                "all or self");
    refuse_file("[node]\ncode = 1\n[parent]\nforward_detail = ALL\n", "'ALL'", "line 4");
}

static void test_refuse_parent(void **state)
{
    (void)state;
    refuse_file("[node]\ncode = 1\n[parent]\nendpoint = tcp://10.0.0.1:7400\n", "parent.endpoint",
                "parent.key");
    refuse_file("[node]\ncode = 1\n[parent]\nendpoint = tcp://10.0.0.1:7400\nkey = abc\n",
                "parent.key", "line 5");
    refuse_file("[node]\ncode = 1\n[parent]\nkey = " PARENT_KEY "00\n", "64 hex digits", NULL);
    /* a key without an endpoint is allowed (the endpoint may come later) */
    tu_write_file(dir, CONFIG_FILE, "[node]\ncode = 1\n[parent]\nkey = " PARENT_KEY "\n");
    ts_config c;
    ts_err e = {0};
    assert_int_equal(config_load(&c, dir, &e), TS_OK);
    assert_string_equal(c.parent_key, PARENT_KEY);
}

static void test_refuse_bad_code(void **state)
{
    (void)state;
    refuse_file("[node]\ncode = 12 345\n", "node.code", "'12 345'");
    refuse_file("[node]\ncode = xã\n", "node.code", "line 2");
    refuse_file("[node]\ncode = 0123456789012345678901234567890123\n", "node.code", NULL);
    refuse_file("[node]\ncode =\n", "node.code", NULL);
    refuse_file("[node]\nname = no code here\n", "node.code is missing", NULL);
    refuse_file("[node]\ncode = 1\nlevel = a level\n", "node.level", "line 3");
}

static void test_refuse_strings(void **state)
{
    (void)state;
    /* a line longer than the reader's buffer is refused, not split in two */
    char text[1024] = "[node]\ncode = 1\nname = ";
    size_t n = strlen(text);
    memset(text + n, 'x', CONFIG_NAME_MAX);
    snprintf(text + n + CONFIG_NAME_MAX, sizeof text - n - CONFIG_NAME_MAX,
             "=\n[sync]\nwindow = 2\n");
    refuse_file(text, "line 3", "longer than");

    refuse_file("[node]\ncode = 1\n[read]\ntoken = short\n", "read.token", "16");
    refuse_file("[node]\ncode = 1\n[read]\ntoken = 0123456789abcdef0\ntoken = 0123456789abcdef1\n"
                "token = 0123456789abcdef2\ntoken = 0123456789abcdef3\ntoken = 0123456789abcdef4\n"
                "token = 0123456789abcdef5\ntoken = 0123456789abcdef6\ntoken = 0123456789abcdef7\n"
                "token = 0123456789abcdef8\n",
                "read.token", "line 12");

    /* a refused token leaves the list as it was */
    ts_config c;
    ts_err e = {0};
    config_defaults(&c, dir);
    assert_int_equal(config_set(&c, "read", "token", "short", &e), TS_EINPUT);
    char huge[CONFIG_TOKEN_MAX + 8];
    memset(huge, 't', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    assert_int_equal(config_set(&c, "read", "token", huge, &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "read.token"));
    assert_int_equal(c.ntokens, 0);
}

/* The longest name config_set accepts is written and read back whole; one
 * byte more is refused when set, not when the node next starts. */
static void test_longest_name_round_trips(void **state)
{
    (void)state;
    ts_config c, back;
    ts_err e = {0};
    char name[CONFIG_NAME_MAX + 1];
    config_defaults(&c, dir);
    set_ok(&c, "node", "code", "1");
    size_t len = 0;
    for (;;) { /* UTF-8 Vietnamese, 3 bytes a letter, as long as accepted */
        memcpy(name + len, "\xe1\xbb\xa7", 3); /* U+1EE7 */
        name[len + 3] = '\0';
        if (config_set(&c, "node", "name", name, &e) != TS_OK)
            break;
        len += 3;
        assert_true(len < CONFIG_NAME_MAX);
    }
    assert_non_null(strstr(e.msg, "node.name"));
    assert_non_null(strstr(e.msg, "too long"));
    assert_true(len > 150); /* room for a long commune name */
    name[len] = '\0';
    assert_string_equal(c.name, name);
    assert_int_equal(config_write(&c, &e), TS_OK);
    assert_int_equal(config_load(&back, dir, &e), TS_OK);
    assert_string_equal(back.name, name);
    assert_memory_equal(&back, &c, sizeof c);

    /* a last line without a newline is read */
    tu_write_file(dir, CONFIG_FILE, "[node]\ncode = 77");
    assert_int_equal(config_load(&back, dir, &e), TS_OK);
    assert_string_equal(back.code, "77");
}

/* Values that could not be read back as written are refused when set. */
static void test_refuse_unwritable_values(void **state)
{
    (void)state;
    static const char *bad[] = {
        "Xã A\n[parent]\nendpoint = tcp://evil:1", /* would inject settings */
        "Xã A\rB", "tab\there", "Xã A ; the rest", /* " ;" starts a comment when read back */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ts_config c;
        ts_err e = {0};
        config_defaults(&c, dir);
        assert_int_equal(config_set(&c, "node", "name", bad[i], &e), TS_EINPUT);
        assert_non_null(strstr(e.msg, "node.name"));
        assert_string_equal(c.name, "");
    }
    ts_config c;
    ts_err e = {0};
    config_defaults(&c, dir);
    assert_int_equal(config_set(&c, "parent", "endpoint", "tcp://a:1\n[node]", &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "parent.endpoint"));
}

static void test_missing_file(void **state)
{
    (void)state;
    ts_config c;
    ts_err e = {0};
    assert_int_equal(config_load(&c, dir, &e), TS_ERUNTIME);
    assert_non_null(strstr(e.msg, CONFIG_FILE));
    assert_non_null(strstr(e.msg, "tiersync init"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test_setup_teardown(test_minimal_file_is_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_reload_identical, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_unknown_setting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_malformed_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_bad_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_forward_detail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_parent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_bad_code, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_longest_name_round_trips, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_unwritable_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
