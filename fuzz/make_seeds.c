/* make_seeds.c: writes the seed inputs of fuzz_apply, fuzz_apply_signed
 * and fuzz_join that depend on the fixed fuzz keys (fuzz_node.h): real
 * envelopes signed by the enrolled child, so the raw target starts past the
 * signature check, and a real invitation, Join and JoinReply.
 *
 * usage: fuzz_make_seeds CORPUS_DIR   (writes CORPUS_DIR/fuzz_apply/...,
 *                                      CORPUS_DIR/fuzz_apply_signed/...,
 *                                      CORPUS_DIR/fuzz_join/...) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "delta.h"
#include "fuzz_node.h"
#include "join_wire.h"

static void put(const char *dir, const char *target, const char *name, const uint8_t *data,
                size_t len)
{
    char path[TS_PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, target);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", dir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static void cell(delta_builder *b, const char *unit, const char *ind, const char *period,
                 const char *options, int64_t v)
{
    ts_cell c;
    if (cell_set(&c, unit, ind, period, options, NULL) == TS_OK)
        delta_add_cell(b, &c, (disclose_fig){v, 0});
}

static void delta(const char *dir, const char *name, const fuzz_node *f, const keys_t *signer,
                  uint64_t seq, bool snapshot, const char *foreign)
{
    static const uint8_t zeros[DELTA_HASH_BYTES];
    delta_builder *b = delta_builder_new(FUZZ_CHILD, f->child.pk, seq, zeros, f->n.catalog->id,
                                         (uint32_t)f->n.catalog->version, snapshot);
    delta_add_unit(b, FUZZ_CHILD, "Commune 1", "commune", FUZZ_SELF);
    delta_add_unit(b, "C1a", "Village a", "village", FUZZ_CHILD);
    cell(b, FUZZ_CHILD, "COUNSELLING_POINTS", "202406", "", 3);
    cell(b, "C1a", "PERSONS_MANAGED", "202406", "age_band=30-39,sex=M", 2);
    cell(b, FUZZ_CHILD, "TARGET_REACHED", "2024", "modality=methadone", 150);
    if (foreign)
        cell(b, foreign, "STAFF_TRAINED", "2024", "", 1);
    uint8_t *out, hash[DELTA_HASH_BYTES];
    size_t len;
    delta_finish(b, signer, &out, &len, hash);
    put(dir, "fuzz_apply", name, out, len);
    free(out);
    delta_builder_destroy(&b);
}

static void hello(const char *dir, const fuzz_node *f)
{
    uint8_t *out;
    size_t len;
    wire_pack_hello(FUZZ_CHILD, f->child.pk, 0, NULL, &out, &len);
    put(dir, "fuzz_apply", "hello", out, len);
    free(out);
    Tiersync__Envelope env = TIERSYNC__ENVELOPE__INIT;
    Tiersync__Ack ack = TIERSYNC__ACK__INIT;
    ack.seq = 3;
    env.msg_case = TIERSYNC__ENVELOPE__MSG_ACK;
    env.ack = &ack;
    wire_pack(&env, &out, &len);
    put(dir, "fuzz_apply", "ack-unexpected", out, len);
    free(out);
}

/* Programs for the structured target: any bytes decode, so a few
 * deterministic pseudo-random ones of different lengths give it a start. */
static void programs(const char *dir)
{
    uint32_t x = 2463534242u;
    for (int i = 0; i < 6; i++) {
        uint8_t buf[512];
        size_t len = 32u << (i % 5);
        for (size_t k = 0; k < len; k++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            buf[k] = (uint8_t)x;
        }
        buf[0] = (uint8_t)i; /* 1..6 messages */
        char name[32];
        snprintf(name, sizeof name, "program-%d", i);
        put(dir, "fuzz_apply_signed", name, buf, len);
    }
}

/* One seed of fuzz_join: its mode byte, then the input. */
static void join_seed(const char *dir, const char *name, uint8_t mode, const uint8_t *data,
                      size_t len)
{
    uint8_t *b = malloc(len + 1);
    b[0] = mode;
    memcpy(b + 1, data, len);
    put(dir, "fuzz_join", name, b, len + 1);
    free(b);
}

static void join_seeds(const char *dir, const fuzz_node *f)
{
    invite_t iv = {0};
    memcpy(iv.parent_pk, f->other.pk, sizeof iv.parent_pk);
    memcpy(iv.secret, FUZZ_JOIN_SECRET, sizeof iv.secret);
    snprintf(iv.code, sizeof iv.code, "%s", FUZZ_JOIN_CODE);
    snprintf(iv.endpoint, sizeof iv.endpoint, "tcp://127.0.0.1:7600");
    iv.join_port = 7601;
    char text[INVITE_TEXT_MAX];
    invite_encode(&iv, text);
    join_seed(dir, "invitation", 0, (const uint8_t *)text, strlen(text));
    uint8_t *msg, hash[JOIN_HASH_BYTES];
    size_t len;
    join_pack_request(&iv, &f->child, &msg, &len, hash);
    join_seed(dir, "join", 1, msg, len);
    free(msg);
    memset(hash, 0x5a, sizeof hash); /* the request fuzz_join's replies must answer */
    Tiersync__JoinResult res = TIERSYNC__JOIN_RESULT__INIT;
    res.parent_code = FUZZ_SELF;
    res.code = FUZZ_JOIN_CODE;
    res.name = "X\xc3\xa3 Fuzz";
    res.key = (ProtobufCBinaryData){sizeof f->child.pk, (uint8_t *)f->child.pk};
    res.request_hash = (ProtobufCBinaryData){sizeof hash, hash};
    join_pack_reply(&f->other, &res, &msg, &len);
    join_seed(dir, "reply", 2, msg, len);
    free(msg);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_make_seeds CORPUS_DIR\n");
        return 2;
    }
    fuzz_node *f = fuzz_node_get();
    hello(argv[1], f);
    delta(argv[1], "delta-seq1", f, &f->child, 1, false, NULL);
    delta(argv[1], "snapshot-seq5", f, &f->child, 5, true, NULL);
    delta(argv[1], "delta-other-signer", f, &f->other, 1, false, NULL);
    delta(argv[1], "delta-foreign-unit", f, &f->child, 1, false, "D2");
    programs(argv[1]);
    join_seeds(argv[1], f);
    return 0;
}
