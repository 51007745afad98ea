/* test_arena.c: the decoding arena (arena.c): aligned, disjoint blocks,
 * small and larger than a chunk, usable by protobuf-c, and released whole. */
#include "testutil.h"

#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "tiersync.pb-c.h"

static void blocks_are_aligned_and_disjoint(void **state)
{
    (void)state;
    arena_t a;
    arena_init(&a);
    size_t sizes[] = {1, 0, 7, 300, ARENA_CHUNK_BYTES + 5, 16, ARENA_CHUNK_BYTES - 3, 9};
    unsigned char *p[8];
    for (int i = 0; i < 8; i++) {
        p[i] = arena_alloc(&a, sizes[i]);
        assert_non_null(p[i]);
        assert_int_equal((uintptr_t)p[i] % _Alignof(max_align_t), 0);
        memset(p[i], i + 1, sizes[i]);
    }
    for (int i = 0; i < 8; i++) /* no later block overwrote an earlier one */
        for (size_t k = 0; k < sizes[i]; k++)
            assert_int_equal(p[i][k], i + 1);
    arena_release(&a);
    assert_null(a.head);
    arena_release(&a); /* released twice: nothing left to free */
}

static void decodes_a_message(void **state)
{
    (void)state;
    Tiersync__Cell cell = TIERSYNC__CELL__INIT;
    cell.unit = "34101";
    cell.indicator = "PERSONS_MANAGED";
    cell.period = "202611";
    cell.options = "sex=F";
    cell.value = -3;
    uint8_t buf[256];
    size_t len = tiersync__cell__pack(&cell, buf);
    arena_t a;
    arena_init(&a);
    Tiersync__Cell *back = tiersync__cell__unpack(&a.pb, len, buf);
    assert_non_null(back);
    assert_string_equal(back->indicator, "PERSONS_MANAGED");
    assert_int_equal(back->value, -3);
    tiersync__cell__free_unpacked(back, &a.pb); /* a no-op: the arena frees */
    arena_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(blocks_are_aligned_and_disjoint),
        cmocka_unit_test(decodes_a_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
