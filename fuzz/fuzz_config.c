/* fuzz_config.c: the config loader (config_load) on any tiersync.conf.
 *
 * What must hold: no crash, leak or undefined behaviour; a file it accepts
 * is written back by config_write into a file config_load accepts again
 * with the same settings (the writer never writes what the reader cannot
 * read back: no injected lines, no lost values). */
#define _XOPEN_SOURCE 700
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *why)
{
    fprintf(stderr, "fuzz_config: %s\n", why);
    abort();
}

static char dir1[TS_PATH_MAX], dir2[TS_PATH_MAX];

static void remove_dirs(void)
{
    char p[TS_PATH_MAX + 32];
    for (int i = 0; i < 2; i++) {
        const char *d = i ? dir2 : dir1;
        snprintf(p, sizeof p, "%s/%s", d, CONFIG_FILE);
        unlink(p);
        rmdir(d);
    }
}

static void make_dirs(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir1, sizeof dir1, "%s/tiersync-fuzz-conf-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    snprintf(dir2, sizeof dir2, "%s/tiersync-fuzz-conf-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir1) || !mkdtemp(dir2))
        fail("mkdtemp");
    atexit(remove_dirs);
}

#define SAME_STR(f) (strcmp(a->f, b->f) == 0)
#define SAME_INT(f) (a->f == b->f)

static bool same(const ts_config *a, const ts_config *b)
{
    if (!(SAME_STR(code) && SAME_STR(name) && SAME_STR(level) && SAME_STR(catalog) &&
          SAME_STR(listen) && SAME_STR(http) && SAME_STR(http_hosts) && SAME_INT(trust_loopback) &&
          SAME_STR(parent) && SAME_STR(parent_key) && SAME_STR(join_listen) &&
          SAME_STR(join_advertise) && SAME_INT(join_slow_down_ms) && SAME_INT(forward_detail) &&
          SAME_INT(flush_ms) && SAME_INT(window) && SAME_INT(max_cells) &&
          SAME_INT(max_msg_bytes) && SAME_INT(heartbeat_ms) && SAME_INT(late_after_s) &&
          SAME_INT(map_initial_mb) && SAME_INT(map_max_mb) && SAME_INT(audit_retain) &&
          SAME_INT(small_cell_k) && SAME_INT(ntokens)))
        return false;
    for (int i = 0; i < a->ntokens; i++)
        if (!SAME_STR(tokens[i]))
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir1[0])
        make_dirs();
    char path[TS_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", dir1, CONFIG_FILE);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        fail("cannot write the input file");
    ts_config c, back;
    ts_err e = {0};
    if (config_load(&c, dir1, &e) != TS_OK) {
        if (getenv("FUZZ_VERBOSE")) /* when replaying an input by hand */
            fprintf(stderr, "fuzz_config: refused: %s\n", e.msg);
        return 0;
    }
    snprintf(c.dir, sizeof c.dir, "%s", dir2);
    if (config_write(&c, &e) != TS_OK)
        fail(e.msg);
    if (config_load(&back, dir2, &e) != TS_OK) {
        fprintf(stderr, "fuzz_config: the file config_write wrote is refused: %s\n", e.msg);
        abort();
    }
    if (!same(&c, &back))
        fail("config_write + config_load do not give back the same settings");
    return 0;
}
