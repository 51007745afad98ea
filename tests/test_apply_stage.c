/* test_apply_stage.c: a snapshot in parts (apply.c, apply_stage.c) on a
 * real store. Its parts before the last are acknowledged and change no
 * total; the last applies them all; a new snapshot discards the parts of
 * one left unfinished; a held part with a cell the catalog refuses is
 * refused at once; a part outside the child's subtree refuses the last
 * part, naming it, and nothing is applied. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "apply_stage.h"
#include "delta.h"

#define SELF "34"
#define KID "341"

typedef struct {
    char dir[512];
    node_t n;
    keys_t keys;
    uint64_t seq;
    uint8_t hash[DELTA_HASH_BYTES];
} fixture;

static int enrol(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    fixture *f = ctx;
    store_unit self = {0}, u = {0};
    store_child ch = {0};
    memcpy(ch.pk, f->keys.pk, sizeof ch.pk);
    snprintf(u.parent, sizeof u.parent, SELF);
    snprintf(u.via, sizeof u.via, KID);
    u.leaf = true;
    if (store_unit_put(s, txn, SELF, &self, e) || store_unit_put(s, txn, KID, &u, e))
        return e->code;
    return store_child_put(s, txn, KID, &ch, e);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    tu_node_open(&f->n, f->dir, sizeof f->dir, "stage", SELF);
    crypto_sign_keypair(f->keys.pk, f->keys.sk);
    ts_err e = {0};
    assert_int_equal(store_write(f->n.store, enrol, f, &e), TS_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    node_close(&f->n);
    tu_rmrf(f->dir);
    free(f);
    return 0;
}

/* Sends the child's next delta: one cell (unit, indicator, year) = value;
 * snapshot when end > 0 (end: the seq of its last part, counted from this
 * one as 1). Returns the reply's kind and reason, as "ACK 3" or "NACK 7". */
static const char *send(fixture *f, const char *unit, const char *indicator, const char *year,
                        int64_t value, uint64_t parts)
{
    static char out[320];
    uint64_t seq = f->seq + 1;
    delta_builder *b = delta_builder_new(KID, f->keys.pk, seq, f->hash, f->n.catalog->id,
                                         (uint32_t)f->n.catalog->version, parts > 0);
    if (parts > 1)
        delta_set_snapshot_end(b, seq + parts - 1);
    ts_cell c;
    assert_int_equal(cell_set(&c, unit, indicator, year, "", NULL), TS_OK);
    delta_add_cell(b, &c, (disclose_fig){value, 0});
    uint8_t *msg, hash[DELTA_HASH_BYTES];
    size_t len;
    delta_finish(b, &f->keys, &msg, &len, hash);
    delta_builder_destroy(&b);
    apply_reply r;
    int rc = apply_message(&f->n, KID, msg, len, &r, NULL);
    free(msg);
    if (rc == TS_OK && r.kind == TIERSYNC__ENVELOPE__MSG_ACK) {
        f->seq = seq;
        memcpy(f->hash, hash, sizeof hash);
        snprintf(out, sizeof out, "ACK %llu", (unsigned long long)r.seq);
    } else {
        snprintf(out, sizeof out, "NACK %d %s", (int)r.reason, r.detail);
    }
    return out;
}

static int64_t total(fixture *f, const char *year)
{
    ts_cell c;
    char key[CELL_KEY_MAX];
    assert_int_equal(cell_set(&c, KID, "STAFF_TRAINED", year, "", NULL), TS_OK);
    size_t n = cell_key(&c, key);
    store_txn *txn;
    ts_err e = {0};
    assert_int_equal(store_read_begin(f->n.store, &txn, &e), TS_OK);
    int64_t v = store_total(f->n.store, txn, key, n).v;
    store_read_end(txn);
    return v;
}

static uint64_t staged_end(fixture *f)
{
    store_txn *txn;
    ts_err e = {0};
    assert_int_equal(store_read_begin(f->n.store, &txn, &e), TS_OK);
    uint64_t end;
    assert_int_equal(apply_stage_end(f->n.store, txn, KID, &end, &e), TS_OK);
    store_read_end(txn);
    return end;
}

static void parts_apply_together_with_the_last(void **state)
{
    fixture *f = *state;
    assert_string_equal(send(f, KID, "STAFF_TRAINED", "2020", 7, 1), "ACK 1");
    assert_string_equal(send(f, KID, "STAFF_TRAINED", "2021", 1, 3), "ACK 2");
    assert_string_equal(send(f, KID, "STAFF_TRAINED", "2022", 2, 0), "ACK 3");
    assert_int_equal(staged_end(f), 4);
    assert_int_equal(total(f, "2020"), 7); /* the old contribution still stands */
    assert_int_equal(total(f, "2021"), 0);
    assert_int_equal(total(f, "2022"), 0);
    assert_string_equal(send(f, KID, "STAFF_TRAINED", "2023", 3, 0), "ACK 4");
    assert_int_equal(total(f, "2020"), 0); /* replaced, all at once */
    assert_int_equal(total(f, "2021"), 1);
    assert_int_equal(total(f, "2022"), 2);
    assert_int_equal(total(f, "2023"), 3);
    assert_int_equal(staged_end(f), 0);
    assert_string_equal(send(f, KID, "STAFF_TRAINED", "2023", 1, 0), "ACK 5"); /* chain goes on */
    assert_int_equal(total(f, "2023"), 4);
}

static void new_snapshot_discards_unfinished_parts(void **state)
{
    fixture *f = *state;
    assert_string_equal(send(f, KID, "STAFF_TRAINED", "2021", 1, 3), "ACK 1");
    assert_string_equal(send(f, KID, "STAFF_TRAINED", "2022", 2, 0), "ACK 2");
    assert_string_equal(send(f, KID, "STAFF_TRAINED", "2024", 9, 1), "ACK 3");
    assert_int_equal(staged_end(f), 0);
    assert_int_equal(total(f, "2021"), 0);
    assert_int_equal(total(f, "2022"), 0);
    assert_int_equal(total(f, "2024"), 9);
}

static void unknown_code_in_a_held_part_is_refused_at_once(void **state)
{
    fixture *f = *state;
    assert_string_equal(send(f, KID, "STAFF_TRAINED", "2021", 1, 3), "ACK 1");
    const char *r = send(f, KID, "NO_SUCH_INDICATOR", "2022", 2, 0);
    assert_int_equal(strncmp(r, "NACK 7 ", 7), 0); /* REASON_UNKNOWN_CODE */
    assert_string_equal(send(f, KID, "STAFF_TRAINED", "2022", 2, 0), "ACK 2");
    assert_string_equal(send(f, KID, "STAFF_TRAINED", "2023", 3, 0), "ACK 3");
    assert_int_equal(total(f, "2021") + total(f, "2022") + total(f, "2023"), 6);
}

static void foreign_part_refuses_the_last_and_applies_nothing(void **state)
{
    fixture *f = *state;
    assert_string_equal(send(f, KID, "STAFF_TRAINED", "2020", 7, 1), "ACK 1");
    assert_string_equal(send(f, KID, "STAFF_TRAINED", "2021", 1, 3), "ACK 2");
    assert_string_equal(send(f, "34999", "STAFF_TRAINED", "2022", 2, 0), "ACK 3"); /* held */
    const char *r = send(f, KID, "STAFF_TRAINED", "2023", 3, 0);
    assert_non_null(strstr(r, "NACK 6 snapshot part 3: ")); /* REASON_FOREIGN_UNIT */
    assert_int_equal(total(f, "2020"), 7);
    assert_int_equal(total(f, "2021"), 0);
    assert_int_equal(total(f, "2023"), 0);
    assert_int_equal(staged_end(f), 4); /* kept: the child can only send a new snapshot */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(parts_apply_together_with_the_last, setup, teardown),
        cmocka_unit_test_setup_teardown(new_snapshot_discards_unfinished_parts, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_code_in_a_held_part_is_refused_at_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(foreign_part_refuses_the_last_and_applies_nothing, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
