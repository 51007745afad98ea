/* fuzz_join.c: the decoders of joining (docs/PROTOCOL.md section 15): an
 * invitation line (typed by a person), a Join (from any client key, at the
 * parent's join socket) and a JoinReply (at the joining child).
 *
 * The first byte picks the decoder, the rest is its input. What must hold:
 * no crash, leak or undefined behaviour; an accepted invitation encodes to
 * a line that decodes to the same invitation; a Join is accepted only with
 * a valid code and key, and proves the fixed invitation only if it really
 * is signed by its key; an accepted reply answers the fixed request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_node.h"
#include "invite.h"
#include "join_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *why)
{
    fprintf(stderr, "fuzz_join: %s\n", why);
    abort();
}

static void fuzz_invitation(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), again[INVITE_TEXT_MAX];
    memcpy(text, data, size);
    text[size] = '\0';
    invite_t iv, back;
    ts_err e = {0};
    if (invite_decode(text, &iv, &e) == TS_OK) {
        invite_encode(&iv, again);
        if (invite_decode(again, &back, &e) != TS_OK || memcmp(&iv, &back, sizeof iv) != 0)
            fail("an accepted invitation does not survive encoding again");
        if (!ts_code_valid(iv.code) || strncmp(iv.endpoint, "tcp://", 6) != 0)
            fail("an accepted invitation holds an invalid code or endpoint");
    } else if (!e.msg[0]) {
        fail("a refused invitation says nothing");
    }
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static keys_t parent, child;
    static uint8_t verifier[crypto_sign_PUBLICKEYBYTES], hash[JOIN_HASH_BYTES];
    if (!parent.pk[0] && !parent.pk[1]) {
        if (sodium_init() < 0)
            fail("sodium_init");
        crypto_sign_seed_keypair(parent.pk, parent.sk, (const uint8_t *)FUZZ_OTHER_SEED);
        crypto_sign_seed_keypair(child.pk, child.sk, (const uint8_t *)FUZZ_CHILD_SEED);
        invite_key((const uint8_t *)FUZZ_JOIN_SECRET, verifier, NULL);
        memset(hash, 0x5a, sizeof hash);
    }
    if (size < 1)
        return 0;
    int mode = data[0] % 3;
    data++, size--;
    if (mode == 0) {
        fuzz_invitation(data, size);
    } else if (mode == 1) {
        join_request rq;
        Tiersync__JoinOutcome o = join_parse_request(data, size, parent.pk, &rq);
        if (o == TIERSYNC__JOIN_OUTCOME__JOIN_ENROLLED && !ts_code_valid(rq.code))
            fail("a Join with an invalid code was accepted");
        if (o == TIERSYNC__JOIN_OUTCOME__JOIN_ENROLLED &&
            join_invite_signed(&rq, parent.pk, verifier) &&
            (strcmp(rq.code, FUZZ_JOIN_CODE) != 0 || memcmp(rq.key, child.pk, sizeof rq.key)))
            fail("a Join the fuzzer made up proves the invitation");
        join_request_free(&rq);
    } else {
        Tiersync__JoinResult *res;
        ts_err e = {0};
        if (join_parse_reply(data, size, parent.pk, hash, child.pk, &res, &e) == TS_OK) {
            if (!res || res->request_hash.len != sizeof hash ||
                memcmp(res->request_hash.data, hash, sizeof hash) != 0)
                fail("a reply to another request was accepted");
            tiersync__join_result__free_unpacked(res, NULL);
        } else if (res) {
            fail("a refused reply left a result");
        }
    }
    return 0;
}
