/* test_wire_text.c: wire_text_ok finds a string that is not text at any
 * depth of an encoded message, and names its field, while bytes fields and
 * unknown fields may hold anything. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "tiersync.pb-c.h"
#include "wire_text.h"

/* A packed DeltaBody with one cell and one unit; the first "~" of marked
 * (one of its strings) becomes b. */
static uint8_t *body_with(const char *field, char b, size_t *len)
{
    static uint8_t key[32] = {'~', 0, 0xff}; /* bytes: anything goes */
    char unit[16] = "34101", ind[32] = "STAFF_TRAINED", name[16] = "Commune", cat[32] = "dt";
    char *marked = !strcmp(field, "indicator") ? ind
        : !strcmp(field, "name")               ? name
        : !strcmp(field, "catalog_id")         ? cat
                                               : unit;
    strcat(marked, "~Q");
    Tiersync__Cell c = TIERSYNC__CELL__INIT, *cells[] = {&c};
    c.unit = unit, c.indicator = ind, c.period = "2024", c.options = "";
    Tiersync__Unit u = TIERSYNC__UNIT__INIT, *units[] = {&u};
    u.code = "34101", u.name = name, u.level = "commune", u.parent = "";
    Tiersync__DeltaBody body = TIERSYNC__DELTA_BODY__INIT;
    body.origin = "34101";
    body.origin_key = (ProtobufCBinaryData){sizeof key, key};
    body.catalog_id = cat;
    body.n_cells = 1, body.cells = cells, body.n_units = 1, body.units = units;
    *len = tiersync__delta_body__get_packed_size(&body);
    uint8_t *buf = malloc(*len);
    tiersync__delta_body__pack(&body, buf);
    for (size_t i = 0; i + 1 < *len; i++)
        if (buf[i] == '~' && buf[i + 1] == 'Q') {
            buf[i] = (uint8_t)b;
            break;
        }
    return buf;
}

static void nul_or_invalid_utf8_found_and_named(void **state)
{
    (void)state;
    const char *fields[] = {"indicator", "unit", "name", "catalog_id"};
    for (size_t i = 0; i < 4; i++) {
        size_t len;
        const char *where = NULL;
        uint8_t *buf = body_with(fields[i], '\0', &len);
        assert_false(wire_text_ok(&tiersync__delta_body__descriptor, buf, len, &where));
        assert_string_equal(where, fields[i]);
        free(buf);
        buf = body_with(fields[i], '\xff', &len);
        assert_false(wire_text_ok(&tiersync__delta_body__descriptor, buf, len, NULL));
        free(buf);
        buf = body_with(fields[i], '!', &len); /* text */
        assert_true(wire_text_ok(&tiersync__delta_body__descriptor, buf, len, NULL));
        free(buf);
    }
}

static void unknown_fields_and_bytes_may_hold_anything(void **state)
{
    (void)state;
    /* field 99 (LEN) holding a NUL and 0xff, then field 1 (origin) "ok" */
    const uint8_t buf[] = {0x9a, 0x06, 0x02, 0x00, 0xff, 0x0a, 0x02, 'o', 'k'};
    assert_true(wire_text_ok(&tiersync__delta_body__descriptor, buf, sizeof buf, NULL));
    const uint8_t cut[] = {0x0a, 0x05, 'o', 'k'}; /* a length beyond the end */
    assert_false(wire_text_ok(&tiersync__delta_body__descriptor, cut, sizeof cut, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nul_or_invalid_utf8_found_and_named),
        cmocka_unit_test(unknown_fields_and_bytes_may_hold_anything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
