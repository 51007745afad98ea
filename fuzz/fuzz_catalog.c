/* fuzz_catalog.c: the catalog loader (catalog_load) on any file.
 *
 * What must hold: no crash, leak or undefined behaviour on any input; a
 * catalog it accepts is self-consistent (every index in range) and usable:
 * each indicator's canonical options, built from its categories, are
 * accepted as canonical again, and its period form is checked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "cell.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *why, const char *code)
{
    fprintf(stderr, "fuzz_catalog: %s (%s)\n", why, code);
    abort();
}

static void check_indicator(const catalog_t *c, const catalog_indicator *ind)
{
    if (ind->ncats < 0 || ind->ncats > CATALOG_MAX_IND_CATS ||
        (ind->kind != IND_VALUE && (ind->rtype < 0 || ind->rtype >= c->ntypes)))
        fail("an indicator out of range", ind->code);
    char given[CELL_OPTIONS_MAX * 2] = "", canon[CELL_OPTIONS_MAX];
    size_t n = 0;
    for (int i = 0; i < ind->ncats; i++) {
        if (ind->cats[i] < 0 || ind->cats[i] >= c->ncats)
            fail("a category index out of range", ind->code);
        const catalog_category *cat = &c->cats[ind->cats[i]];
        if (cat->noptions < 1 || cat->noptions > CATALOG_MAX_VALUES)
            fail("a category without options", cat->name);
        n += (size_t)snprintf(given + n, sizeof given - n, "%s%s=%s", i ? "," : "", cat->name,
                              cat->options[cat->noptions - 1]);
    }
    ts_err e = {0};
    if (n < CELL_OPTIONS_MAX &&
        catalog_options_canon(c, ind, given, canon, sizeof canon, &e) == TS_OK) {
        char again[CELL_OPTIONS_MAX];
        if (catalog_options_canon(c, ind, canon, again, sizeof again, &e) != TS_OK ||
            strcmp(again, canon) != 0)
            fail("canonical options are not canonical again", ind->code);
    }
    catalog_period_check(ind, "202406", &e);
    catalog_period_check(ind, "2024", &e);
    if (catalog_indicator_find(c, ind->code) != ind)
        fail("an indicator is not found by its code", ind->code);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[TS_PATH_MAX];
    if (!path[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(path, sizeof path, "%s/tiersync-fuzz-catalog-%d.json", tmp && *tmp ? tmp : "/tmp",
                 (int)getpid());
    }
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        fail("cannot write the input file", path);
    catalog_t *c = NULL;
    ts_err e = {0};
    if (catalog_load(&c, path, &e) == TS_OK) {
        for (int i = 0; i < c->ninds; i++)
            check_indicator(c, &c->inds[i]);
        catalog_destroy(&c);
    } else if (getenv("FUZZ_VERBOSE")) { /* when replaying an input by hand */
        fprintf(stderr, "fuzz_catalog: refused: %s\n", e.msg);
    }
    unlink(path);
    return 0;
}
