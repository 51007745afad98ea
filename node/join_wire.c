/* join_wire.c: Join and JoinReply (see join_wire.h). */
#include "join_wire.h"

#include <stdlib.h>
#include <string.h>

/* domain (with its NUL) || pk (when given) || body, malloc'd. */
static uint8_t *signed_bytes(const char *domain, const uint8_t *pk, const uint8_t *body, size_t len,
                             size_t *n)
{
    size_t dl = strlen(domain) + 1, kl = pk ? crypto_sign_PUBLICKEYBYTES : 0;
    uint8_t *m = malloc(dl + kl + len + 1);
    memcpy(m, domain, dl);
    if (kl)
        memcpy(m + dl, pk, kl);
    if (len)
        memcpy(m + dl + kl, body, len);
    *n = dl + kl + len;
    return m;
}

static bool verify(const char *domain, const uint8_t *pk, const ProtobufCBinaryData *body,
                   const ProtobufCBinaryData *sig, const uint8_t *signer)
{
    if (sig->len != crypto_sign_BYTES)
        return false;
    size_t n;
    uint8_t *m = signed_bytes(domain, pk, body->data, body->len, &n);
    bool ok = crypto_sign_verify_detached(sig->data, m, n, signer) == 0;
    free(m);
    return ok;
}

void join_pack_request(const invite_t *iv, const keys_t *child, uint8_t **out, size_t *len,
                       uint8_t hash[JOIN_HASH_BYTES])
{
    Tiersync__JoinRequest rq = TIERSYNC__JOIN_REQUEST__INIT;
    rq.code = (char *)iv->code;
    rq.key = (ProtobufCBinaryData){sizeof child->pk, (uint8_t *)child->pk};
    size_t blen = tiersync__join_request__get_packed_size(&rq);
    uint8_t *body = malloc(blen + 1);
    tiersync__join_request__pack(&rq, body);
    crypto_generichash(hash, JOIN_HASH_BYTES, body, blen, NULL, 0);

    uint8_t isk[crypto_sign_SECRETKEYBYTES], ipk[crypto_sign_PUBLICKEYBYTES];
    uint8_t isig[crypto_sign_BYTES], csig[crypto_sign_BYTES];
    size_t n;
    uint8_t *m = signed_bytes(JOIN_SIG_DOMAIN, iv->parent_pk, body, blen, &n);
    invite_key(iv->secret, ipk, isk);
    crypto_sign_detached(isig, NULL, m, n, isk);
    crypto_sign_detached(csig, NULL, m, n, child->sk);
    sodium_memzero(isk, sizeof isk);
    free(m);

    Tiersync__Join j = TIERSYNC__JOIN__INIT;
    j.body = (ProtobufCBinaryData){blen, body};
    j.invite_signature = (ProtobufCBinaryData){sizeof isig, isig};
    j.child_signature = (ProtobufCBinaryData){sizeof csig, csig};
    *len = tiersync__join__get_packed_size(&j);
    *out = malloc(*len + 1);
    tiersync__join__pack(&j, *out);
    free(body);
}

Tiersync__JoinOutcome join_parse_request(const uint8_t *data, size_t len,
                                         const uint8_t parent_pk[crypto_sign_PUBLICKEYBYTES],
                                         join_request *r)
{
    memset(r, 0, sizeof *r);
    r->msg = tiersync__join__unpack(NULL, len, data);
    if (!r->msg)
        return TIERSYNC__JOIN_OUTCOME__JOIN_MALFORMED;
    crypto_generichash(r->hash, sizeof r->hash, r->msg->body.data, r->msg->body.len, NULL, 0);
    Tiersync__JoinRequest *rq = tiersync__join_request__unpack(NULL, r->msg->body.len,
                                                               r->msg->body.data);
    uint8_t curve[crypto_scalarmult_curve25519_BYTES];
    bool ok = rq && rq->key.len == sizeof r->key && strlen(rq->code) < sizeof r->code &&
        crypto_sign_ed25519_pk_to_curve25519(curve, rq->key.data) == 0;
    if (ok && ts_code_valid(rq->code)) { /* only a valid code is kept: it is logged */
        memcpy(r->key, rq->key.data, sizeof r->key);
        memcpy(r->code, rq->code, strlen(rq->code) + 1);
    } else {
        ok = false;
    }
    if (rq)
        tiersync__join_request__free_unpacked(rq, NULL);
    if (!ok || r->msg->invite_signature.len != crypto_sign_BYTES)
        return TIERSYNC__JOIN_OUTCOME__JOIN_MALFORMED;
    if (!verify(JOIN_SIG_DOMAIN, parent_pk, &r->msg->body, &r->msg->child_signature, r->key))
        return TIERSYNC__JOIN_OUTCOME__JOIN_BAD_PROOF;
    return TIERSYNC__JOIN_OUTCOME__JOIN_ENROLLED;
}

bool join_invite_signed(const join_request *r, const uint8_t parent_pk[crypto_sign_PUBLICKEYBYTES],
                        const uint8_t verifier[crypto_sign_PUBLICKEYBYTES])
{
    return r->msg &&
        verify(JOIN_SIG_DOMAIN, parent_pk, &r->msg->body, &r->msg->invite_signature, verifier);
}

void join_request_free(join_request *r)
{
    if (r->msg)
        tiersync__join__free_unpacked(r->msg, NULL);
    r->msg = NULL;
}

void join_pack_reply(const keys_t *parent, const Tiersync__JoinResult *res, uint8_t **out,
                     size_t *len)
{
    size_t blen = tiersync__join_result__get_packed_size(res), n;
    uint8_t *body = malloc(blen + 1), sig[crypto_sign_BYTES];
    tiersync__join_result__pack(res, body);
    uint8_t *m = signed_bytes(JOIN_REPLY_DOMAIN, NULL, body, blen, &n);
    crypto_sign_detached(sig, NULL, m, n, parent->sk);
    free(m);
    Tiersync__JoinReply rp = TIERSYNC__JOIN_REPLY__INIT;
    rp.body = (ProtobufCBinaryData){blen, body};
    rp.signature = (ProtobufCBinaryData){sizeof sig, sig};
    *len = tiersync__join_reply__get_packed_size(&rp);
    *out = malloc(*len + 1);
    tiersync__join_reply__pack(&rp, *out);
    free(body);
}

int join_parse_reply(const uint8_t *data, size_t len,
                     const uint8_t parent_pk[crypto_sign_PUBLICKEYBYTES],
                     const uint8_t hash[JOIN_HASH_BYTES],
                     const uint8_t child_pk[crypto_sign_PUBLICKEYBYTES], Tiersync__JoinResult **res,
                     ts_err *e)
{
    *res = NULL;
    Tiersync__JoinReply *rp = tiersync__join_reply__unpack(NULL, len, data);
    if (!rp || !verify(JOIN_REPLY_DOMAIN, NULL, &rp->body, &rp->signature, parent_pk)) {
        if (rp)
            tiersync__join_reply__free_unpacked(rp, NULL);
        return ts_fail(e, TS_EINPUT,
                       "the join reply is not signed by the parent the invitation "
                       "names: not joined");
    }
    *res = tiersync__join_result__unpack(NULL, rp->body.len, rp->body.data);
    tiersync__join_reply__free_unpacked(rp, NULL);
    if (!*res || (*res)->request_hash.len != JOIN_HASH_BYTES ||
        sodium_memcmp((*res)->request_hash.data, hash, JOIN_HASH_BYTES) != 0 ||
        (*res)->key.len != crypto_sign_PUBLICKEYBYTES ||
        sodium_memcmp((*res)->key.data, child_pk, crypto_sign_PUBLICKEYBYTES) != 0) {
        if (*res)
            tiersync__join_result__free_unpacked(*res, NULL);
        *res = NULL;
        return ts_fail(e, TS_EINPUT, "the join reply answers another request: not joined");
    }
    return TS_OK;
}

const char *join_outcome_name(int outcome)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
        &tiersync__join_outcome__descriptor, outcome);
    return v ? v->name : "JOIN_?";
}
