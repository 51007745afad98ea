/* test_delta.c: the signed delta (delta.c): what the builder packs is what
 * a parent decodes, the signature covers the domain and the body bytes as
 * sent, the chain hash is of those bytes, a delta left unsigned for the
 * outbox signs later to the very frame signed at once, and hellos pack. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "delta.h"

typedef struct {
    uint8_t *msg;
    size_t len;
    uint8_t hash[DELTA_HASH_BYTES];
    keys_t keys;
} fixture;

static const uint8_t PREV[DELTA_HASH_BYTES] = {1, 2, 3, [31] = 9};

/* Seq 7 of 341's chain: two cells, a unit and a cover; signed with k. */
static void build(fixture *f, const keys_t *k)
{
    delta_builder *b = delta_builder_new("341", f->keys.pk, 7, PREV, "drug-treatment", 3, false);
    ts_cell c1, c2;
    assert_int_equal(cell_set(&c1, "34101", "PATIENTS", "2024", "sex=f", NULL), TS_OK);
    assert_int_equal(cell_set(&c2, "341", "STAFF", "2024-06", "", NULL), TS_OK);
    delta_add_cell(b, &c1, (disclose_fig){5, 0xdeadbeefu});
    delta_add_cell(b, &c2, (disclose_fig){-(INT64_C(1) << 40), 0});
    delta_add_unit(b, "34101", "Commune one", "commune", "341");
    uint8_t cover_hash[DELTA_HASH_BYTES];
    memset(cover_hash, 0xab, sizeof cover_hash);
    delta_add_cover(b, "34101", 4, 9, cover_hash);
    assert_int_equal(delta_ncells(b), 2);
    delta_finish(b, k, &f->msg, &f->len, f->hash);
    delta_builder_destroy(&b);
    assert_null(b);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    crypto_sign_keypair(f->keys.pk, f->keys.sk);
    build(f, &f->keys);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    free(f->msg);
    free(f);
    return 0;
}

static Tiersync__SignedDelta *signed_delta(Tiersync__Envelope *env)
{
    assert_non_null(env);
    assert_int_equal(env->msg_case, TIERSYNC__ENVELOPE__MSG_DELTA);
    return env->delta;
}

static void test_body_round_trip(void **state)
{
    fixture *f = *state;
    Tiersync__Envelope *env = tiersync__envelope__unpack(NULL, f->len, f->msg);
    Tiersync__SignedDelta *sd = signed_delta(env);
    Tiersync__DeltaBody *b = tiersync__delta_body__unpack(NULL, sd->body.len, sd->body.data);
    assert_non_null(b);
    assert_string_equal(b->origin, "341");
    assert_memory_equal(b->origin_key.data, f->keys.pk, 32);
    assert_int_equal(b->seq, 7);
    assert_memory_equal(b->prev_hash.data, PREV, DELTA_HASH_BYTES);
    assert_string_equal(b->catalog_id, "drug-treatment");
    assert_int_equal(b->catalog_version, 3);
    assert_false(b->snapshot);
    assert_true(b->created_ms > 0);
    assert_int_equal(b->n_cells, 2);
    assert_string_equal(b->cells[0]->unit, "34101");
    assert_string_equal(b->cells[0]->options, "sex=f");
    assert_int_equal(b->cells[0]->value, 5);
    assert_int_equal(b->cells[0]->key, 0xdeadbeefu); /* the cell key travels signed */
    assert_int_equal(b->cells[1]->key, 0);
    assert_string_equal(b->cells[1]->period, "2024-06");
    assert_true(b->cells[1]->value == -(INT64_C(1) << 40));
    assert_int_equal(b->n_units, 1);
    assert_string_equal(b->units[0]->name, "Commune one");
    assert_string_equal(b->units[0]->parent, "341");
    assert_int_equal(b->n_covers, 1);
    assert_int_equal(b->covers[0]->first_seq, 4);
    assert_int_equal(b->covers[0]->last_seq, 9);
    assert_int_equal(b->covers[0]->last_hash.len, DELTA_HASH_BYTES);
    assert_int_equal(b->covers[0]->last_hash.data[31], 0xab);
    /* the chain hash is BLAKE2b-256 of the body bytes as sent */
    uint8_t h[DELTA_HASH_BYTES];
    crypto_generichash(h, sizeof h, sd->body.data, sd->body.len, NULL, 0);
    assert_memory_equal(h, f->hash, sizeof h);
    delta_hash(sd->body.data, sd->body.len, h);
    assert_memory_equal(h, f->hash, sizeof h);
    tiersync__delta_body__free_unpacked(b, NULL);
    tiersync__envelope__free_unpacked(env, NULL);
}

static void test_signature_covers_domain_and_body(void **state)
{
    fixture *f = *state;
    Tiersync__Envelope *env = tiersync__envelope__unpack(NULL, f->len, f->msg);
    Tiersync__SignedDelta *sd = signed_delta(env);
    const ProtobufCBinaryData *body = &sd->body, *sig = &sd->signature;
    assert_int_equal(sig->len, DELTA_SIG_BYTES);
    assert_true(delta_verify(f->keys.pk, body->data, body->len, sig->data, sig->len));
    /* the same signature computed by hand over "tiersync-delta-v1\0" || body */
    uint8_t *m = malloc(DELTA_SIG_DOMAIN_LEN + body->len), want[DELTA_SIG_BYTES];
    memcpy(m, "tiersync-delta-v1", DELTA_SIG_DOMAIN_LEN);
    memcpy(m + DELTA_SIG_DOMAIN_LEN, body->data, body->len);
    crypto_sign_detached(want, NULL, m, DELTA_SIG_DOMAIN_LEN + body->len, f->keys.sk);
    assert_memory_equal(want, sig->data, DELTA_SIG_BYTES);
    /* a signature of the body alone (no domain) is not one */
    crypto_sign_detached(want, NULL, body->data, body->len, f->keys.sk);
    assert_false(delta_verify(f->keys.pk, body->data, body->len, want, sizeof want));
    free(m);

    keys_t other;
    crypto_sign_keypair(other.pk, other.sk);
    assert_false(delta_verify(other.pk, body->data, body->len, sig->data, sig->len));
    assert_false(delta_verify(f->keys.pk, body->data, body->len, sig->data, sig->len - 1));
    body->data[body->len / 2] ^= 1;
    assert_false(delta_verify(f->keys.pk, body->data, body->len, sig->data, sig->len));
    body->data[body->len / 2] ^= 1;
    assert_true(delta_verify(f->keys.pk, body->data, body->len, sig->data, sig->len));
    tiersync__envelope__free_unpacked(env, NULL);
}

/* The outbox keeps deltas unsigned and signs them as they leave: the same
 * frame, byte for byte, as one signed at once (Ed25519 is deterministic),
 * with the same chain hash. */
static void test_signed_later_is_signed_at_once(void **state)
{
    fixture *f = *state;
    fixture later = {.keys = f->keys};
    build(&later, NULL);
    Tiersync__Envelope *env = tiersync__envelope__unpack(NULL, later.len, later.msg);
    Tiersync__SignedDelta *sd = signed_delta(env);
    assert_int_equal(sd->signature.len, 0);
    /* the same body signed at once */
    Tiersync__DeltaBody *body = tiersync__delta_body__unpack(NULL, sd->body.len, sd->body.data);
    uint8_t *now, hash[DELTA_HASH_BYTES];
    size_t now_len;
    delta_seal(body, &f->keys, &now, &now_len, hash);
    assert_memory_equal(hash, later.hash, sizeof hash);
    tiersync__delta_body__free_unpacked(body, NULL);
    tiersync__envelope__free_unpacked(env, NULL);

    assert_int_equal(delta_sign_later(&f->keys, &later.msg, &later.len), 0);
    assert_int_equal(later.len, now_len);
    assert_memory_equal(later.msg, now, now_len);
    free(now);
    /* signing an already signed frame changes nothing */
    uint8_t *copy = malloc(later.len);
    size_t copy_len = later.len;
    memcpy(copy, later.msg, later.len);
    assert_int_equal(delta_sign_later(&f->keys, &later.msg, &later.len), 0);
    assert_int_equal(later.len, copy_len);
    assert_memory_equal(later.msg, copy, copy_len);
    free(copy);
    free(later.msg);
}

static void test_sign_later_leaves_others_alone(void **state)
{
    fixture *f = *state;
    uint8_t *hello, junk[] = {0xff, 0xff, 0xff, 0x07};
    size_t len;
    wire_pack_hello("341", f->keys.pk, 12, f->hash, &hello, &len);
    size_t before = len;
    assert_int_equal(delta_sign_later(&f->keys, &hello, &len), 0);
    assert_int_equal(len, before);
    Tiersync__Envelope *env = tiersync__envelope__unpack(NULL, len, hello);
    assert_non_null(env);
    assert_int_equal(env->msg_case, TIERSYNC__ENVELOPE__MSG_HELLO);
    assert_string_equal(env->hello->code, "341");
    assert_int_equal(env->hello->head_seq, 12);
    assert_int_equal(env->hello->protocol, DELTA_PROTOCOL);
    assert_memory_equal(env->hello->key.data, f->keys.pk, 32);
    assert_memory_equal(env->hello->head_hash.data, f->hash, DELTA_HASH_BYTES);
    tiersync__envelope__free_unpacked(env, NULL);
    free(hello);

    uint8_t *bad = malloc(sizeof junk);
    memcpy(bad, junk, sizeof junk);
    len = sizeof junk;
    assert_int_equal(delta_sign_later(&f->keys, &bad, &len), -1);
    free(bad);

    wire_pack_hello("34101", f->keys.pk, 0, NULL, &hello, &len); /* no head yet */
    env = tiersync__envelope__unpack(NULL, len, hello);
    assert_int_equal(env->hello->head_hash.len, 0);
    tiersync__envelope__free_unpacked(env, NULL);
    free(hello);
}

static void test_reason_names(void **state)
{
    (void)state;
    assert_string_equal(delta_reason_name(TIERSYNC__REASON__REASON_GAP, "?"), "REASON_GAP");
    assert_string_equal(delta_reason_name(TIERSYNC__REASON__REASON_STORE_FAILED, "?"),
                        "REASON_STORE_FAILED");
    assert_string_equal(delta_reason_name(999, "unknown"), "unknown");
    assert_string_equal(delta_reason_name(-1, "unknown"), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_body_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signature_covers_domain_and_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signed_later_is_signed_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sign_later_leaves_others_alone, setup, teardown),
        cmocka_unit_test(test_reason_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
