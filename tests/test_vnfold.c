/* test_vnfold.c: the search fold: every Vietnamese vowel with each tone
 * mark, upper and lower case, đ/Đ, decomposed input (combining marks),
 * bytes that are not UTF-8, truncation at a character boundary, and the
 * substring match the register's search uses. */
#include <string.h>

#include "testutil.h"
#include "vnfold.h"

static void fold_is(const char *in, const char *want)
{
    char out[256];
    size_t n = vnfold(in, out, sizeof out);
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
}

static void test_names(void **state)
{
    (void)state;
    fold_is("Nguyễn Văn An", "nguyen van an");
    fold_is("NGUYỄN VĂN AN", "nguyen van an");
    fold_is("Đặng Thị Hường", "dang thi huong");
    fold_is("Trần Quốc Đạt", "tran quoc dat");
    fold_is("Lê Thị Ánh Tuyết", "le thi anh tuyet");
    fold_is("Phạm Ngọc Ơn, Ưng", "pham ngoc on, ung");
    fold_is("035190000900", "035190000900");
    fold_is("", "");
}

/* Every vowel of the Vietnamese alphabet with the five tone marks (and
 * none), in both cases, folds to its base letter. */
static void test_every_vowel(void **state)
{
    (void)state;
    static const char *const rows[][2] = {
        {"aàáảãạ", "aaaaaa"}, {"ăằắẳẵặ", "aaaaaa"}, {"âầấẩẫậ", "aaaaaa"}, {"eèéẻẽẹ", "eeeeee"},
        {"êềếểễệ", "eeeeee"}, {"iìíỉĩị", "iiiiii"}, {"oòóỏõọ", "oooooo"}, {"ôồốổỗộ", "oooooo"},
        {"ơờớởỡợ", "oooooo"}, {"uùúủũụ", "uuuuuu"}, {"ưừứửữự", "uuuuuu"}, {"yỳýỷỹỵ", "yyyyyy"},
        {"AÀÁẢÃẠ", "aaaaaa"}, {"ĂẰẮẲẴẶ", "aaaaaa"}, {"ÂẦẤẨẪẬ", "aaaaaa"}, {"EÈÉẺẼẸ", "eeeeee"},
        {"ÊỀẾỂỄỆ", "eeeeee"}, {"IÌÍỈĨỊ", "iiiiii"}, {"OÒÓỎÕỌ", "oooooo"}, {"ÔỒỐỔỖỘ", "oooooo"},
        {"ƠỜỚỞỠỢ", "oooooo"}, {"UÙÚỦŨỤ", "uuuuuu"}, {"ƯỪỨỬỮỰ", "uuuuuu"}, {"YỲÝỶỸỴ", "yyyyyy"},
        {"đĐ", "dd"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        fold_is(rows[i][0], rows[i][1]);
}

static void test_decomposed(void **state)
{
    (void)state;
    /* "Nguyễn" as N g u y e + circumflex (U+0302) + tilde (U+0303) + n */
    fold_is("Nguye\xcc\x82\xcc\x83n", "nguyen");
    assert_true(vnfold_contains("Nguye\xcc\x82\xcc\x83n Va\xcc\x86n An", "nguyễn văn"));
}

static void test_other_text_kept(void **state)
{
    (void)state;
    fold_is("Ω ß 漢字", "Ω ß 漢字"); /* no base letter: kept */
    fold_is("a\xff"
            "b\xc3",
            "a\xff"
            "b\xc3");                          /* not UTF-8: copied through */
    fold_is("\xed\xa0\x80x", "\xed\xa0\x80x"); /* a surrogate is not a character */
}

static void test_truncation(void **state)
{
    (void)state;
    char out[4];
    /* "aΩ" needs 4 bytes with the NUL: only "a" fits; a character is never cut */
    assert_int_equal(vnfold("aΩb", out, 3), 1);
    assert_string_equal(out, "a");
    assert_int_equal(vnfold("Ánh", out, sizeof out), 3);
    assert_string_equal(out, "anh");
    assert_int_equal(vnfold("x", out, 0), 0);
}

static void test_contains(void **state)
{
    (void)state;
    assert_true(vnfold_contains("Nguyễn Văn An", "nguyen van an"));
    assert_true(vnfold_contains("Nguyễn Văn An", "VAN"));
    assert_true(vnfold_contains("Nguyễn Văn An", "Văn"));
    assert_true(vnfold_contains("Nguyễn Văn An", ""));
    assert_false(vnfold_contains("Nguyễn Văn An", "nguyen van anh"));
    assert_false(vnfold_contains("Nguyễn Văn An", "vanx"));
    assert_true(vnfold_contains("Đỗ Đức", "do duc"));
    assert_false(vnfold_contains("Đỗ Đức", "dod"));
    /* longer than the stack buffers */
    char big[2000];
    memset(big, 'a', sizeof big - 4);
    memcpy(big + sizeof big - 4, "Ễ\0", 4);
    assert_true(vnfold_contains(big, "aae"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),      cmocka_unit_test(test_every_vowel),
        cmocka_unit_test(test_decomposed), cmocka_unit_test(test_other_text_kept),
        cmocka_unit_test(test_truncation), cmocka_unit_test(test_contains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
