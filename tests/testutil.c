/* testutil.c: temp directories and fixtures for the unit tests. */
#define _XOPEN_SOURCE 700
#include "testutil.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *tu_tmpdir(const char *tag)
{
    static char buf[512];
    const char *base = getenv("TMPDIR");
    snprintf(buf, sizeof buf, "%s/tiersync-%s-XXXXXX", base ? base : "/tmp", tag);
    if (!mkdtemp(buf)) {
        perror("mkdtemp");
        abort();
    }
    return buf;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

void tu_rmrf(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *tu_catalog_path(void)
{
    const char *p = getenv("TIERSYNC_CATALOG");
    return p ? p : "catalog/drug-treatment.json";
}

const char *tu_write_file(const char *dir, const char *name, const char *text)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        abort();
    }
    fputs(text, f);
    fclose(f);
    return path;
}

void tu_node_open(node_t *n, char *dir, size_t dirsz, const char *tag, const char *code)
{
    snprintf(dir, dirsz, "%s", tu_tmpdir(tag));
    ts_config cfg;
    ts_err e = {0};
    config_defaults(&cfg, dir);
    assert_int_equal(config_set(&cfg, "node", "code", code, &e), TS_OK);
    assert_int_equal(config_set(&cfg, "node", "catalog", tu_catalog_path(), &e), TS_OK);
    assert_int_equal(config_write(&cfg, &e), TS_OK);
    assert_int_equal(node_open(n, dir, 0, &e), TS_OK);
}
