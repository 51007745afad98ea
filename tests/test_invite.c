/* test_invite.c: the invitation's text form (round trip, every one-letter
 * typo caught), the endpoints it points at, and the join messages' proofs:
 * a request proves the invitation's secret and the child's key, a reply the
 * parent's key and the request it answers; garbage never crashes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "invite.h"
#include "join_wire.h"
#include "testutil.h"

static invite_t sample(void)
{
    invite_t iv = {0};
    keys_t k;
    crypto_sign_keypair(k.pk, k.sk);
    memcpy(iv.parent_pk, k.pk, sizeof iv.parent_pk);
    randombytes_buf(iv.secret, sizeof iv.secret);
    snprintf(iv.code, sizeof iv.code, "12445");
    snprintf(iv.endpoint, sizeof iv.endpoint, "tcp://district.example.vn:7000");
    iv.join_port = 7001;
    return iv;
}

static void test_round_trip(void **state)
{
    (void)state;
    invite_t iv = sample(), back;
    char text[INVITE_TEXT_MAX];
    ts_err e = {0};
    invite_encode(&iv, text);
    assert_int_equal(strncmp(text, INVITE_PREFIX, strlen(INVITE_PREFIX)), 0);
    for (const char *p = text + strlen(INVITE_PREFIX); *p; p++)
        assert_true((*p >= 'a' && *p <= 'z') || (*p >= '2' && *p <= '7'));
    assert_int_equal(invite_decode(text, &back, &e), TS_OK);
    assert_memory_equal(&iv, &back, sizeof iv);
    /* white space around, and upper case, as a mail program may leave it */
    char padded[INVITE_TEXT_MAX + 8];
    snprintf(padded, sizeof padded, "  %s\r\n", text);
    for (char *p = padded + 2 + strlen(INVITE_PREFIX); *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p -= 32;
    assert_int_equal(invite_decode(padded, &back, &e), TS_OK);
    assert_memory_equal(&iv, &back, sizeof iv);
    char ep[CONFIG_ENDPOINT_MAX];
    assert_int_equal(invite_join_endpoint(&iv, ep, &e), TS_OK);
    assert_string_equal(ep, "tcp://district.example.vn:7001");
}

static void test_every_typo_caught(void **state)
{
    (void)state;
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
    invite_t iv = sample(), back;
    char text[INVITE_TEXT_MAX];
    invite_encode(&iv, text);
    size_t start = strlen(INVITE_PREFIX), n = strlen(text);
    int caught = 0, tried = 0;
    for (size_t i = start; i < n; i++) {
        char orig = text[i];
        for (int a = 0; a < 32; a += 7) { /* a few substitutes per position */
            if (alphabet[a] == orig)
                continue;
            text[i] = alphabet[a];
            ts_err e = {0};
            tried++;
            caught += invite_decode(text, &back, &e) == TS_EINPUT;
        }
        text[i] = orig;
    }
    assert_true(tried > 500);
    assert_int_equal(caught, tried);
    /* a dropped letter, a cut line, a foreign character */
    char cut[INVITE_TEXT_MAX];
    ts_err e = {0};
    snprintf(cut, sizeof cut, "%.*s%s", 30, text, text + 31);
    assert_int_equal(invite_decode(cut, &back, &e), TS_EINPUT);
    snprintf(cut, sizeof cut, "%.*s", (int)n - 10, text);
    assert_int_equal(invite_decode(cut, &back, &e), TS_EINPUT);
    snprintf(cut, sizeof cut, "%s", text);
    cut[40] = '1';
    assert_int_equal(invite_decode(cut, &back, &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "copy it again"));
}

static void test_prefix_and_version(void **state)
{
    (void)state;
    invite_t iv = sample(), back;
    char text[INVITE_TEXT_MAX];
    ts_err e = {0};
    invite_encode(&iv, text);
    text[5] = '2'; /* tsinv2_ */
    assert_int_equal(invite_decode(text, &back, &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "another version"));
    assert_int_equal(invite_decode("hello", &back, &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "not a tiersync invitation"));
    assert_int_equal(invite_decode(INVITE_PREFIX, &back, &e), TS_EINPUT);
    assert_int_equal(invite_decode("", &back, &e), TS_EINPUT);
}

static void test_endpoints(void **state)
{
    (void)state;
    ts_config c;
    char adv[CONFIG_ENDPOINT_MAX], jl[CONFIG_ENDPOINT_MAX];
    uint16_t port;
    ts_err e = {0};
    config_defaults(&c, "/nonexistent");
    assert_int_equal(invite_endpoints(&c, adv, jl, &port, &e), TS_EINPUT); /* no listen */
    snprintf(c.listen, sizeof c.listen, "tcp://10.0.0.5:7000");
    assert_int_equal(invite_endpoints(&c, adv, jl, &port, &e), TS_OK);
    assert_string_equal(adv, "tcp://10.0.0.5:7000");
    assert_string_equal(jl, "tcp://10.0.0.5:7001");
    assert_int_equal(port, 7001);
    snprintf(c.listen, sizeof c.listen, "tcp://0.0.0.0:7000");
    assert_int_equal(invite_endpoints(&c, adv, jl, &port, &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "join.advertise"));
    snprintf(c.join_advertise, sizeof c.join_advertise, "tcp://huyen.example.vn:7000");
    snprintf(c.join_listen, sizeof c.join_listen, "tcp://0.0.0.0:9000");
    assert_int_equal(invite_endpoints(&c, adv, jl, &port, &e), TS_OK);
    assert_string_equal(adv, "tcp://huyen.example.vn:7000");
    assert_string_equal(jl, "tcp://0.0.0.0:9000");
    assert_int_equal(port, 9000);
    snprintf(c.join_listen, sizeof c.join_listen, "ipc:///tmp/x");
    assert_int_equal(invite_endpoints(&c, adv, jl, &port, &e), TS_EINPUT);
    c.join_listen[0] = '\0';
    snprintf(c.listen, sizeof c.listen, "tcp://[::1]:65535");
    assert_int_equal(invite_endpoints(&c, adv, jl, &port, &e), TS_EINPUT);
}

static void test_request_proofs(void **state)
{
    (void)state;
    invite_t iv = sample();
    keys_t child, other;
    crypto_sign_keypair(child.pk, child.sk);
    crypto_sign_keypair(other.pk, other.sk);
    uint8_t verifier[crypto_sign_PUBLICKEYBYTES], again[crypto_sign_PUBLICKEYBYTES];
    invite_key(iv.secret, verifier, NULL);
    invite_key(iv.secret, again, NULL);
    assert_memory_equal(verifier, again, sizeof verifier); /* the parent can keep only this */

    uint8_t *msg, hash[JOIN_HASH_BYTES];
    size_t len;
    join_pack_request(&iv, &child, &msg, &len, hash);
    join_request rq;
    assert_int_equal(join_parse_request(msg, len, iv.parent_pk, &rq),
                     TIERSYNC__JOIN_OUTCOME__JOIN_ENROLLED);
    assert_string_equal(rq.code, "12445");
    assert_memory_equal(rq.key, child.pk, sizeof child.pk);
    assert_memory_equal(rq.hash, hash, sizeof hash);
    assert_true(join_invite_signed(&rq, iv.parent_pk, verifier));
    /* another invitation's key, or a request meant for another parent */
    invite_t forged = iv;
    randombytes_buf(forged.secret, sizeof forged.secret);
    invite_key(forged.secret, again, NULL);
    assert_false(join_invite_signed(&rq, iv.parent_pk, again));
    assert_false(join_invite_signed(&rq, other.pk, verifier));
    join_request_free(&rq);
    assert_int_equal(join_parse_request(msg, len, other.pk, &rq),
                     TIERSYNC__JOIN_OUTCOME__JOIN_BAD_PROOF);
    join_request_free(&rq);
    /* every flipped byte is refused or fails a proof */
    for (size_t i = 0; i < len; i++) {
        msg[i] ^= 0x20;
        Tiersync__JoinOutcome o = join_parse_request(msg, len, iv.parent_pk, &rq);
        assert_true(o != TIERSYNC__JOIN_OUTCOME__JOIN_ENROLLED ||
                    !join_invite_signed(&rq, iv.parent_pk, verifier) ||
                    memcmp(rq.key, child.pk, sizeof rq.key) != 0 || strcmp(rq.code, "12445"));
        join_request_free(&rq);
        msg[i] ^= 0x20;
    }
    free(msg);
    /* garbage and empty input */
    uint8_t junk[512];
    for (int i = 0; i < 2000; i++) {
        size_t n = (size_t)randombytes_uniform(sizeof junk);
        randombytes_buf(junk, n);
        assert_int_not_equal(join_parse_request(junk, n, iv.parent_pk, &rq),
                             TIERSYNC__JOIN_OUTCOME__JOIN_ENROLLED);
        join_request_free(&rq);
    }
    assert_int_equal(join_parse_request(NULL, 0, iv.parent_pk, &rq),
                     TIERSYNC__JOIN_OUTCOME__JOIN_MALFORMED);
    join_request_free(&rq);
}

static void test_reply_proofs(void **state)
{
    (void)state;
    keys_t parent, child, other;
    crypto_sign_keypair(parent.pk, parent.sk);
    crypto_sign_keypair(child.pk, child.sk);
    crypto_sign_keypair(other.pk, other.sk);
    uint8_t hash[JOIN_HASH_BYTES], wrong[JOIN_HASH_BYTES];
    randombytes_buf(hash, sizeof hash);
    memcpy(wrong, hash, sizeof wrong);
    wrong[0] ^= 1;
    Tiersync__JoinResult res = TIERSYNC__JOIN_RESULT__INIT;
    res.outcome = TIERSYNC__JOIN_OUTCOME__JOIN_ENROLLED;
    res.parent_code = "341";
    res.code = "12445";
    res.name = "Xã Quỳnh Hoa";
    res.key = (ProtobufCBinaryData){sizeof child.pk, child.pk};
    res.request_hash = (ProtobufCBinaryData){sizeof hash, hash};
    uint8_t *msg;
    size_t len;
    join_pack_reply(&parent, &res, &msg, &len);
    Tiersync__JoinResult *got;
    ts_err e = {0};
    assert_int_equal(join_parse_reply(msg, len, parent.pk, hash, child.pk, &got, &e), TS_OK);
    assert_string_equal(got->name, "Xã Quỳnh Hoa");
    assert_string_equal(got->parent_code, "341");
    tiersync__join_result__free_unpacked(got, NULL);
    assert_int_equal(join_parse_reply(msg, len, other.pk, hash, child.pk, &got, &e), TS_EINPUT);
    assert_null(got);
    assert_int_equal(join_parse_reply(msg, len, parent.pk, wrong, child.pk, &got, &e), TS_EINPUT);
    assert_int_equal(join_parse_reply(msg, len, parent.pk, hash, other.pk, &got, &e), TS_EINPUT);
    msg[len / 2] ^= 1;
    assert_int_equal(join_parse_reply(msg, len, parent.pk, hash, child.pk, &got, &e), TS_EINPUT);
    free(msg);
    assert_string_equal(join_outcome_name(TIERSYNC__JOIN_OUTCOME__JOIN_USED), "JOIN_USED");
    assert_string_equal(join_outcome_name(999), "JOIN_?");
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),         cmocka_unit_test(test_every_typo_caught),
        cmocka_unit_test(test_prefix_and_version), cmocka_unit_test(test_endpoints),
        cmocka_unit_test(test_request_proofs),     cmocka_unit_test(test_reply_proofs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
