/* test_disclose.c: the publishing rule of disclosure control: random
 * rounding to base k driven by the cell key (node/disclose.h). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#include "disclose.h"
#include "testutil.h"

static void test_zero_and_multiples_stay(void **state)
{
    (void)state;
    for (uint32_t key = 0; key < 50; key++) {
        assert_int_equal(disclose_round((disclose_fig){0, key}, 5), 0);
        assert_int_equal(disclose_round((disclose_fig){35, key}, 5), 35);
    }
}

/* Every small count 1..k-1 is shown as 0 or k, never as itself. */
static void test_small_counts_never_exact(void **state)
{
    (void)state;
    for (int k = 2; k <= 10; k++)
        for (int64_t v = 1; v < k; v++)
            for (uint32_t key = 0; key < 1000; key++) {
                int64_t r = disclose_round((disclose_fig){v, key * 2654435761u}, k);
                assert_true(r == 0 || r == k);
            }
}

/* Within k-1, a multiple of k, the same for the same figure, and unbiased:
 * over uniform keys the mean of rounded minus exact is near 0. */
static void test_unbiased_and_bounded(void **state)
{
    (void)state;
    const int k = 5;
    for (int64_t v = -12; v <= 40; v++) {
        double err = 0;
        const int n = 20000;
        for (int i = 0; i < n; i++) {
            disclose_fig f = {v, randombytes_random()};
            int64_t r = disclose_round(f, k);
            assert_int_equal(r, disclose_round(f, k));
            assert_int_equal(r % k, 0);
            assert_true(llabs(r - v) <= k - 1);
            err += (double)(r - v);
        }
        assert_true(err / n > -0.1 && err / n < 0.1);
    }
}

static void test_round_up_iff_key_below_remainder(void **state)
{
    (void)state;
    /* v = 7, k = 5: r = 2; keys 0 and 1 (mod 5) round up to 10, 2..4 down to 5 */
    assert_int_equal(disclose_round((disclose_fig){7, 0}, 5), 10);
    assert_int_equal(disclose_round((disclose_fig){7, 6}, 5), 10);
    assert_int_equal(disclose_round((disclose_fig){7, 2}, 5), 5);
    assert_int_equal(disclose_round((disclose_fig){7, 9}, 5), 5);
}

static void test_keys_add_modulo_2_32(void **state)
{
    (void)state;
    disclose_fig a = {3, 0xfffffff0u};
    assert_int_equal(disclose_add(&a, (disclose_fig){2, 0x20u}), 0);
    assert_int_equal(a.v, 5);
    assert_int_equal(a.key, 0x10u);
    disclose_fig big = {INT64_MAX, 1};
    assert_int_equal(disclose_add(&big, (disclose_fig){1, 1}), -1);
    assert_int_equal(big.v, INT64_MAX);
    assert_int_equal(big.key, 1);
}

/* The record hash depends on both the record key and the indicator, and
 * adding then removing a record's share leaves the key as it was. */
static void test_record_hash(void **state)
{
    (void)state;
    uint32_t a = disclose_record_hash(42, "PERSONS_MANAGED");
    assert_int_equal(a, disclose_record_hash(42, "PERSONS_MANAGED"));
    assert_int_not_equal(a, disclose_record_hash(43, "PERSONS_MANAGED"));
    assert_int_not_equal(a, disclose_record_hash(42, "IN_TREATMENT"));
    uint32_t key = 12345;
    key += a;
    key -= a;
    assert_int_equal(key, 12345);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zero_and_multiples_stay),
        cmocka_unit_test(test_small_counts_never_exact),
        cmocka_unit_test(test_unbiased_and_bounded),
        cmocka_unit_test(test_round_up_iff_key_below_remainder),
        cmocka_unit_test(test_keys_add_modulo_2_32),
        cmocka_unit_test(test_record_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
