/* test_rotate.c: the KeyRotation announcement (both signatures, every way
 * a forged or altered one is refused), the parent's side (the enrolment
 * moves in one write, the key history answers for deltas signed before,
 * a replay changes nothing, a refusal changes nothing) and which pair
 * signs which seq at the rotating node. */
#include <stdlib.h>
#include <string.h>

#include "delta.h"
#include "rotate.h"
#include "rotate_link.h"
#include "testutil.h"

#define CHILD "34101"

typedef struct {
    keys_t old_k, new_k, other;
    rotate_claim c;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_int_equal(sodium_init() >= 0, 1);
    crypto_sign_keypair(f->old_k.pk, f->old_k.sk);
    crypto_sign_keypair(f->new_k.pk, f->new_k.sk);
    crypto_sign_keypair(f->other.pk, f->other.sk);
    snprintf(f->c.code, sizeof f->c.code, "%s", CHILD);
    memcpy(f->c.old_pk, f->old_k.pk, 32);
    memcpy(f->c.new_pk, f->new_k.pk, 32);
    f->c.from_seq = 42;
    f->c.created_ms = 1765000000000;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

/* Packs c signed by (old_k, new_k) and decodes it again. */
static Tiersync__Envelope *packed(const rotate_claim *c, const keys_t *old_k, const keys_t *new_k)
{
    uint8_t *buf;
    size_t len;
    rotate_pack(c, old_k, new_k, &buf, &len);
    Tiersync__Envelope *env = tiersync__envelope__unpack(NULL, len, buf);
    free(buf);
    assert_non_null(env);
    assert_int_equal(env->msg_case, TIERSYNC__ENVELOPE__MSG_ROTATION);
    return env;
}

static void expect_refused(const Tiersync__KeyRotation *m, const char *why)
{
    rotate_claim got;
    ts_err e = {0};
    assert_int_equal(rotate_open(m, &got, &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, why));
}

static void test_round_trip(void **state)
{
    fixture *f = *state;
    Tiersync__Envelope *env = packed(&f->c, &f->old_k, &f->new_k);
    rotate_claim got;
    ts_err e = {0};
    assert_int_equal(rotate_open(env->rotation, &got, &e), TS_OK);
    assert_string_equal(got.code, CHILD);
    assert_memory_equal(got.old_pk, f->old_k.pk, 32);
    assert_memory_equal(got.new_pk, f->new_k.pk, 32);
    assert_int_equal(got.from_seq, 42);
    assert_int_equal(got.created_ms, f->c.created_ms);
    tiersync__envelope__free_unpacked(env, NULL);
}

static void test_altered_body_refused(void **state)
{
    fixture *f = *state;
    Tiersync__Envelope *env = packed(&f->c, &f->old_k, &f->new_k);
    for (size_t i = 0; i < env->rotation->body.len; i++) {
        env->rotation->body.data[i] ^= 0x01;
        rotate_claim got;
        ts_err e = {0};
        assert_int_not_equal(rotate_open(env->rotation, &got, &e), TS_OK);
        env->rotation->body.data[i] ^= 0x01;
    }
    tiersync__envelope__free_unpacked(env, NULL);
}

static void test_signatures_refused(void **state)
{
    fixture *f = *state;
    /* a thief of neither key: signs with a third key as the old one */
    Tiersync__Envelope *env = packed(&f->c, &f->other, &f->new_k);
    expect_refused(env->rotation, "not signed by its old key");
    tiersync__envelope__free_unpacked(env, NULL);
    /* a thief of the old key only cannot prove the new key is held */
    env = packed(&f->c, &f->old_k, &f->other);
    expect_refused(env->rotation, "not countersigned by its new key");
    tiersync__envelope__free_unpacked(env, NULL);
    /* the two signatures swapped (and back, before freeing) */
    env = packed(&f->c, &f->old_k, &f->new_k);
    Tiersync__KeyRotation *m = env->rotation;
    ProtobufCBinaryData t = m->old_signature;
    m->old_signature = m->new_signature;
    m->new_signature = t;
    expect_refused(m, "not signed by its old key");
    m->new_signature = m->old_signature;
    m->old_signature = t;
    /* a signature cut short */
    m->old_signature.len = 10;
    expect_refused(m, "not signed by its old key");
    tiersync__envelope__free_unpacked(env, NULL);
}

static void test_same_key_refused(void **state)
{
    fixture *f = *state;
    rotate_claim c = f->c;
    memcpy(c.new_pk, c.old_pk, 32);
    Tiersync__Envelope *env = packed(&c, &f->old_k, &f->old_k);
    expect_refused(env->rotation, "new key is its old key");
    tiersync__envelope__free_unpacked(env, NULL);
}

/* A parent with child CHILD enrolled under f->old_k, at last_seq. */
static int put_child(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    return store_child_put(s, txn, CHILD, ctx, e);
}

static void parent_open(node_t *n, char *dir, size_t dirsz, const fixture *f, uint64_t last_seq)
{
    tu_node_open(n, dir, dirsz, "rotate", "341");
    tu_node_identity(n);
    const tu_unit child = {CHILD, "341", CHILD, true, true, f->old_k.pk};
    tu_units_put(n, &child, 1);
    if (!last_seq)
        return;
    store_txn *txn;
    ts_err e = {0};
    store_child ch;
    assert_int_equal(store_read_begin(n->store, &txn, &e), TS_OK);
    assert_int_equal(store_child_get(n->store, txn, CHILD, &ch), TS_OK);
    store_read_end(txn);
    ch.last_seq = last_seq;
    assert_int_equal(store_write(n->store, put_child, &ch, &e), TS_OK);
}

static void enrolled(node_t *n, uint8_t pk[32])
{
    store_txn *txn;
    ts_err e = {0};
    store_child ch;
    assert_int_equal(store_read_begin(n->store, &txn, &e), TS_OK);
    assert_int_equal(store_child_get(n->store, txn, CHILD, &ch), TS_OK);
    store_read_end(txn);
    memcpy(pk, ch.pk, 32);
}

static void accept_env(node_t *n, const char *child, const Tiersync__Envelope *env, char *why)
{
    uint8_t new_pk[32];
    ts_err e = {0};
    assert_int_equal(rotate_link_accept(n, child, env->rotation, new_pk, why, 200, &e), TS_OK);
}

static void test_parent_moves_enrolment(void **state)
{
    fixture *f = *state;
    node_t n;
    char dir[512], why[200];
    parent_open(&n, dir, sizeof dir, f, 41);
    Tiersync__Envelope *env = packed(&f->c, &f->old_k, &f->new_k);
    accept_env(&n, CHILD, env, why);
    assert_string_equal(why, "");
    uint8_t pk[32];
    enrolled(&n, pk);
    assert_memory_equal(pk, f->new_k.pk, 32);
    /* the key history: seq < 42 was signed by the old key, 42 on by the enrolled one */
    store_txn *txn;
    ts_err e = {0};
    uint64_t until = 0;
    assert_int_equal(store_read_begin(n.store, &txn, &e), TS_OK);
    assert_int_equal(rotate_key_at(n.store, txn, CHILD, 1, pk, &e), TS_OK);
    assert_memory_equal(pk, f->old_k.pk, 32);
    assert_int_equal(rotate_key_at(n.store, txn, CHILD, 41, pk, &e), TS_OK);
    assert_int_equal(rotate_key_at(n.store, txn, CHILD, 42, pk, &e), TS_ENOTFOUND);
    assert_int_equal(rotate_last_retired(n.store, txn, CHILD, pk, &until, &e), TS_OK);
    assert_int_equal(until, 42);
    assert_int_equal(rotate_key_at(n.store, txn, "34102", 1, pk, &e), TS_ENOTFOUND);
    store_read_end(txn);
    /* the same announcement again: accepted, nothing changes */
    uint64_t meta = tu_digest_db(&n, DB_META), kids = tu_digest_db(&n, DB_CHILDREN);
    accept_env(&n, CHILD, env, why);
    assert_string_equal(why, "");
    assert_int_equal(tu_digest_db(&n, DB_META), meta);
    assert_int_equal(tu_digest_db(&n, DB_CHILDREN), kids);
    tiersync__envelope__free_unpacked(env, NULL);
    node_close(&n);
    tu_rmrf(dir);
}

static void test_parent_refusals_change_nothing(void **state)
{
    fixture *f = *state;
    node_t n;
    char dir[512], why[200];
    parent_open(&n, dir, sizeof dir, f, 50); /* applied past the claim's from_seq 42 */
    uint64_t meta = tu_digest_db(&n, DB_META), kids = tu_digest_db(&n, DB_CHILDREN);
    Tiersync__Envelope *env = packed(&f->c, &f->old_k, &f->new_k);
    accept_env(&n, CHILD, env, why);
    assert_non_null(strstr(why, "already applied"));
    accept_env(&n, "34102", env, why); /* another connection's child */
    assert_non_null(strstr(why, "another unit"));
    tiersync__envelope__free_unpacked(env, NULL);
    /* an old key that is not the enrolled one (e.g. a replay after a later rotation) */
    rotate_claim c = f->c;
    c.from_seq = 60;
    memcpy(c.old_pk, f->other.pk, 32);
    env = packed(&c, &f->other, &f->new_k);
    accept_env(&n, CHILD, env, why);
    assert_non_null(strstr(why, "not the key enrolled"));
    tiersync__envelope__free_unpacked(env, NULL);
    env = packed(&f->c, &f->other, &f->new_k); /* forged */
    accept_env(&n, CHILD, env, why);
    assert_non_null(strstr(why, "not signed by its old key"));
    tiersync__envelope__free_unpacked(env, NULL);
    assert_int_equal(tu_digest_db(&n, DB_META), meta);
    assert_int_equal(tu_digest_db(&n, DB_CHILDREN), kids);
    node_close(&n);
    tu_rmrf(dir);
}

static int forget_checks(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    const fixture *f = ctx;
    uint8_t pk[32];
    /* retired again at the same seq: that key signed nothing, the old one stands */
    assert_int_equal(rotate_retire(s, txn, CHILD, f->other.pk, 42, e), TS_OK);
    assert_int_equal(rotate_key_at(s, txn, CHILD, 41, pk, e), TS_OK);
    assert_memory_equal(pk, f->old_k.pk, 32);
    assert_int_equal(rotate_forget(s, txn, CHILD, e), TS_OK);
    assert_int_equal(rotate_key_at(s, txn, CHILD, 1, pk, e), TS_ENOTFOUND);
    return ts_fail(e, TS_EINPUT, "checked");
}

static void test_forget_history(void **state)
{
    fixture *f = *state;
    node_t n;
    char dir[512], why[200];
    parent_open(&n, dir, sizeof dir, f, 0);
    Tiersync__Envelope *env = packed(&f->c, &f->old_k, &f->new_k);
    accept_env(&n, CHILD, env, why);
    tiersync__envelope__free_unpacked(env, NULL);
    ts_err e = {0};
    /* checked inside a write that is then undone (forget_checks fails it) */
    assert_int_equal(store_write(n.store, forget_checks, (void *)f, &e), TS_EINPUT);
    assert_string_equal(e.msg, "checked");
    node_close(&n);
    tu_rmrf(dir);
}

static void test_signer_by_seq(void **state)
{
    fixture *f = *state;
    node_t n = {0};
    n.keys = f->new_k;
    assert_ptr_equal(rotate_signer(&n, 1), &n.keys);
    n.old_keys = f->old_k;
    n.has_old_keys = true;
    n.old_keys_until = 42;
    assert_ptr_equal(rotate_signer(&n, 41), &n.old_keys);
    assert_ptr_equal(rotate_signer(&n, 42), &n.keys);
}

static void test_ack_round_trip(void **state)
{
    fixture *f = *state;
    uint8_t *buf;
    size_t len;
    rotate_pack_ack(f->new_k.pk, "refused: reason", &buf, &len);
    Tiersync__Envelope *env = tiersync__envelope__unpack(NULL, len, buf);
    free(buf);
    assert_non_null(env);
    assert_int_equal(env->msg_case, TIERSYNC__ENVELOPE__MSG_ROTATION_ACK);
    assert_false(env->rotation_ack->accepted);
    assert_string_equal(env->rotation_ack->detail, "refused: reason");
    assert_memory_equal(env->rotation_ack->new_key.data, f->new_k.pk, 32);
    tiersync__envelope__free_unpacked(env, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_altered_body_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signatures_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_key_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parent_moves_enrolment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parent_refusals_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forget_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signer_by_seq, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ack_round_trip, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
