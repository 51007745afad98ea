/* fuzz_csv.c: the CSV reader (csv.h) and the importer (import.h) against a
 * real store.
 *
 * Input: one control byte, then one or two CSV files separated by the
 * first form feed (0x0c). Control bits 0-1: record type of the first file
 * (index into the catalog's types); bit 2: a second file follows, of type
 * bits 3-4 (persons then their episodes, say); bit 5: import the last file
 * once more.
 *
 * What must hold: the reader makes progress on every call, returns at most
 * CSV_MAX_FIELDS fields, each valid UTF-8 without NUL; a refused import
 * changes nothing; an accepted one leaves totals that add up; importing the
 * same file again changes nothing and is accepted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "fuzz_node.h"
#include "import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *why)
{
    fprintf(stderr, "fuzz_csv: %s\n", why);
    abort();
}

/* Reads every row of buf; checks the reader's promises. */
static void read_all(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    memcpy(buf, data, size);
    buf[size] = '\0';
    csv_t c;
    csv_init(&c, buf, size);
    for (size_t calls = 0;; calls++) {
        if (calls > size + 1)
            fail("csv_next does not make progress");
        csv_row row;
        ts_err e = {0};
        if (csv_next(&c, &row, &e) != TS_OK || row.n == 0)
            break;
        if (row.n > CSV_MAX_FIELDS)
            fail("more fields than CSV_MAX_FIELDS");
        for (int i = 0; i < row.n; i++)
            if (row.f[i] < buf || row.f[i] > buf + size ||
                !ts_text_valid(row.f[i], strlen(row.f[i])))
                fail("a field outside the buffer or not valid UTF-8");
    }
    free(buf);
}

static void write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        fail("cannot write the input file");
}

/* Entries in the tables an import may change. */
static uint64_t changed_entries(fuzz_node *f)
{
    static const store_db dbs[] = {DB_RECORDS, DB_RECORD_REFS, DB_LOCAL, DB_TOTALS, DB_PENDING};
    store_txn *txn;
    ts_err e = {0};
    if (store_read_begin(f->n.store, &txn, &e))
        fail(e.msg);
    uint64_t n = 0;
    for (size_t i = 0; i < sizeof dbs / sizeof *dbs; i++)
        n += store_count(f->n.store, txn, dbs[i]);
    store_read_end(txn);
    return n;
}

/* Imports one file; returns whether it was accepted. */
static int import_one(fuzz_node *f, int type, const uint8_t *data, size_t size, const char *path,
                      records_batch *b)
{
    write_file(path, data, size);
    memset(b, 0, sizeof *b);
    ts_err e = {0};
    const char *tname = f->n.catalog->types[type % f->n.catalog->ntypes].name;
    uint64_t before = changed_entries(f);
    int rc = import_csv(&f->n, tname, path, b, &e);
    if (rc != TS_OK && changed_entries(f) != before)
        fail("a refused import changed the store");
    if (rc == TS_OK)
        fuzz_node_check(f, "an accepted import");
    return rc == TS_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t ctl = data[0];
    data++, size--;
    const uint8_t *ff = (ctl & 4) ? memchr(data, '\f', size) : NULL;
    size_t len1 = ff ? (size_t)(ff - data) : size;
    read_all(data, size);

    fuzz_node *f = fuzz_node_get();
    fuzz_node_reset(f);
    char path[TS_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/input.csv", f->dir);
    records_batch b;
    int last_type = ctl & 3;
    const uint8_t *last = data;
    size_t last_len = len1;
    int ok = import_one(f, last_type, data, len1, path, &b);
    if (ff) {
        last_type = (ctl >> 3) & 3;
        last = ff + 1;
        last_len = size - len1 - 1;
        ok = import_one(f, last_type, last, last_len, path, &b);
    }
    if (ok && (ctl & 32)) {
        uint64_t before = changed_entries(f);
        if (!import_one(f, last_type, last, last_len, path, &b))
            fail("importing an accepted file again was refused");
        if (b.inserted || b.updated || b.cells || changed_entries(f) != before)
            fail("importing an accepted file again changed something");
    }
    return 0;
}
