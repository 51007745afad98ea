/* test_hmap.c: the two in-memory hash tables (hmap.c): sums per uint64 key
 * that survive growth and cancel to nothing, and a string set that keeps
 * insertion order and copies its keys. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "hmap.h"

#define MANY 20000 /* enough keys to make both tables grow many times */

static void test_i64_sums_across_growth(void **state)
{
    (void)state;
    hmap_i64 m;
    hmap_i64_init(&m);
    for (uint64_t k = 1; k <= MANY; k++)
        hmap_i64_add(&m, k * 7919, (int64_t)k);
    for (uint64_t k = 1; k <= MANY; k++)
        hmap_i64_add(&m, k * 7919, 1);
    for (uint64_t k = 1; k <= MANY; k++)
        assert_int_equal(hmap_i64_get(&m, k * 7919), (int64_t)k + 1);
    assert_int_equal(hmap_i64_get(&m, 3), 0); /* never added */
    hmap_i64_free(&m);
}

static void test_i64_nonzero_sorted_without_cancelled(void **state)
{
    (void)state;
    hmap_i64 m;
    hmap_i64_init(&m);
    const uint64_t keys[] = {900, 5, UINT64_MAX, 77, 1ULL << 40};
    for (size_t i = 0; i < 5; i++)
        hmap_i64_add(&m, keys[i], 2);
    hmap_i64_add(&m, 77, -2); /* +2 -2: nothing left to write */
    hmap_i64_add(&m, 5, -7);
    size_t n;
    uint64_t *nz = hmap_i64_nonzero(&m, &n);
    assert_int_equal(n, 4);
    const uint64_t want[] = {5, 900, 1ULL << 40, UINT64_MAX};
    for (size_t i = 0; i < n; i++)
        assert_true(nz[i] == want[i]);
    assert_int_equal(hmap_i64_get(&m, 5), -5);
    free(nz);

    hmap_i64_clear(&m);
    nz = hmap_i64_nonzero(&m, &n);
    assert_int_equal(n, 0);
    assert_int_equal(hmap_i64_get(&m, 900), 0);
    free(nz);
    hmap_i64_add(&m, 900, 1); /* usable after clear */
    assert_int_equal(hmap_i64_get(&m, 900), 1);
    hmap_i64_free(&m);
}

static void test_str_order_duplicates_and_copies(void **state)
{
    (void)state;
    hmap_str m;
    hmap_str_init(&m);
    char key[32];
    int added = -1;
    for (int i = 0; i < MANY; i++) {
        int len = snprintf(key, sizeof key, "id-%d", i);
        assert_int_equal(hmap_str_put(&m, key, (size_t)len, i * 3, &added), (size_t)i);
        assert_int_equal(added, 1);
    }
    strcpy(key, "id-0"); /* the table holds its own copy */
    memset(key, 'x', 4);
    assert_int_equal(hmap_str_find(&m, "id-0", 4), 0);
    /* a duplicate keeps its first index and payload */
    assert_int_equal(hmap_str_put(&m, "id-123", 6, -1, &added), 123);
    assert_int_equal(added, 0);
    assert_int_equal(m.ents[123].val, 369);
    assert_int_equal(m.n, MANY);
    for (int i = 0; i < MANY; i += 997) {
        size_t len;
        int want = snprintf(key, sizeof key, "id-%d", i);
        const char *k = hmap_str_key(&m, (size_t)i, &len);
        assert_int_equal(len, (size_t)want);
        assert_string_equal(k, key);
        assert_int_equal(hmap_str_find(&m, key, len), i);
    }
    assert_int_equal(hmap_str_find(&m, "id-", 3), -1);
    assert_int_equal(hmap_str_find(&m, "id-1", 3), -1); /* a prefix is another key */
    hmap_str_free(&m);
}

static void test_str_binary_keys_and_clear(void **state)
{
    (void)state;
    hmap_str m;
    hmap_str_init(&m);
    assert_int_equal(hmap_str_put(&m, "a\0b", 3, 1, NULL), 0);
    assert_int_equal(hmap_str_put(&m, "a\0c", 3, 2, NULL), 1);
    assert_int_equal(hmap_str_put(&m, "a", 1, 3, NULL), 2);
    assert_int_equal(hmap_str_find(&m, "a\0c", 3), 1);
    assert_int_equal(hmap_str_find(&m, "", 0), -1);
    hmap_str_clear(&m);
    assert_int_equal(m.n, 0);
    assert_int_equal(hmap_str_find(&m, "a", 1), -1);
    assert_int_equal(hmap_str_put(&m, "a", 1, 4, NULL), 0);
    hmap_str_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_i64_sums_across_growth),
        cmocka_unit_test(test_i64_nonzero_sorted_without_cancelled),
        cmocka_unit_test(test_str_order_duplicates_and_copies),
        cmocka_unit_test(test_str_binary_keys_and_clear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
