/* rogue_child.c: a misbehaving child for the refusal tests. It speaks the
 * real protocol over CURVE with a node's own keys and sends, step by step,
 * what the command line asks for: valid deltas and forged, replayed,
 * out-of-order, foreign, unknown, random and oversized ones. One line per
 * step on stdout: "ACK n", "NACK REASON_X n" or "NO-REPLY".
 *
 * usage: rogue_child DIR ENDPOINT PARENT_PUBKEY STEP... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "delta.h"
#include "node.h"

#define ROGUE_TIMEOUT_MS 3000

typedef struct {
    node_t n;
    void *sock;
    uint64_t last;
    uint8_t hash[32];
    uint8_t *valid; /* the last valid delta sent, for replay */
    size_t valid_len;
} rogue;

static Tiersync__Envelope *recv_env(rogue *r)
{
    zmq_pollitem_t it = {r->sock, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, ROGUE_TIMEOUT_MS) <= 0)
        return NULL;
    zmq_msg_t m;
    zmq_msg_init(&m);
    zmq_msg_recv(&m, r->sock, 0);
    Tiersync__Envelope *env = tiersync__envelope__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
    zmq_msg_close(&m);
    return env;
}

static void report(rogue *r, Tiersync__Envelope *env, const uint8_t *hash_if_acked)
{
    if (!env) {
        puts("NO-REPLY");
    } else if (env->msg_case == TIERSYNC__ENVELOPE__MSG_ACK) {
        printf("ACK %llu\n", (unsigned long long)env->ack->seq);
        if (hash_if_acked && env->ack->seq == r->last + 1) {
            r->last++;
            memcpy(r->hash, hash_if_acked, 32);
        }
    } else if (env->msg_case == TIERSYNC__ENVELOPE__MSG_NACK) {
        const ProtobufCEnumValue *v =
            protobuf_c_enum_descriptor_get_value(&tiersync__reason__descriptor, env->nack->reason);
        printf("NACK %s %llu\n", v ? v->name : "?", (unsigned long long)env->nack->expected);
    } else {
        printf("OTHER %d\n", (int)env->msg_case);
    }
    fflush(stdout);
    if (env)
        tiersync__envelope__free_unpacked(env, NULL);
}

/* Builds a delta from this node with one cell; seq/prev/unit/indicator vary by step. */
static void make_delta(rogue *r, uint64_t seq, const uint8_t prev[32], const char *origin,
                       const char *unit, const char *indicator, uint8_t **out, size_t *len,
                       uint8_t hash[32])
{
    delta_builder *b = delta_builder_new(origin, r->n.keys.pk, seq, prev, r->n.catalog->id,
                                         (uint32_t)r->n.catalog->version, false);
    ts_cell c;
    cell_set(&c, unit, indicator, "202611", "", NULL);
    delta_add_cell(b, &c, (disclose_fig){1, 0});
    delta_finish(b, &r->n.keys, out, len, hash);
    delta_builder_destroy(&b);
}

static void step(rogue *r, const char *what)
{
    uint8_t *msg = NULL, hash[32], bad[32];
    size_t len = 0;
    const char *self = r->n.cfg.code;
    memset(bad, 0xab, sizeof bad);
    if (!strcmp(what, "valid") || !strcmp(what, "forged")) {
        make_delta(r, r->last + 1, r->hash, self, self, "COUNSELLING_POINTS", &msg, &len, hash);
        if (!strcmp(what, "forged"))
            msg[len - 1] ^= 0x01; /* last byte lies inside the signature */
        else {
            free(r->valid);
            r->valid = malloc(len);
            memcpy(r->valid, msg, len);
            r->valid_len = len;
        }
    } else if (!strcmp(what, "replay") && r->valid) {
        msg = malloc(r->valid_len);
        memcpy(msg, r->valid, r->valid_len);
        len = r->valid_len;
    } else if (!strcmp(what, "gap")) {
        make_delta(r, r->last + 5, r->hash, self, self, "COUNSELLING_POINTS", &msg, &len, hash);
    } else if (!strcmp(what, "broken")) {
        make_delta(r, r->last + 1, bad, self, self, "COUNSELLING_POINTS", &msg, &len, hash);
    } else if (!strncmp(what, "foreign=", 8)) {
        make_delta(r, r->last + 1, r->hash, self, what + 8, "COUNSELLING_POINTS", &msg, &len, hash);
    } else if (!strncmp(what, "origin=", 7)) {
        make_delta(r, r->last + 1, r->hash, what + 7, self, "COUNSELLING_POINTS", &msg, &len, hash);
    } else if (!strcmp(what, "unknown")) {
        make_delta(r, r->last + 1, r->hash, self, self, "NO_SUCH_INDICATOR", &msg, &len, hash);
    } else if (!strcmp(what, "random")) {
        len = 512;
        msg = malloc(len);
        randombytes_buf(msg, len);
    } else if (!strcmp(what, "oversized")) {
        len = (size_t)r->n.cfg.max_msg_bytes + 4096;
        msg = calloc(1, len);
    } else {
        fprintf(stderr, "rogue_child: unknown step '%s'\n", what);
        exit(2);
    }
    zmq_send(r->sock, msg, len, 0);
    free(msg);
    report(r, recv_env(r), !strcmp(what, "valid") ? hash : NULL);
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: rogue_child DIR ENDPOINT PARENT_PUBKEY STEP...\n");
        return 2;
    }
    rogue r = {0};
    ts_err e = {0};
    if (node_open(&r.n, argv[1], NODE_OPEN_KEYS, &e)) {
        fprintf(stderr, "rogue_child: %s\n", e.msg);
        return 1;
    }
    uint8_t ppk[32];
    char server[KEYS_Z85_LEN], pub[KEYS_Z85_LEN], sec[KEYS_Z85_LEN];
    if (keys_parse_public(argv[3], ppk, &e) || keys_curve_public_z85(ppk, server, &e) ||
        keys_curve_public_z85(r.n.keys.pk, pub, &e) || keys_curve_secret_z85(&r.n.keys, sec, &e)) {
        fprintf(stderr, "rogue_child: %s\n", e.msg);
        return 1;
    }
    void *ctx = zmq_ctx_new();
    r.sock = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(r.sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(r.sock, ZMQ_CURVE_SERVERKEY, server, 40);
    zmq_setsockopt(r.sock, ZMQ_CURVE_PUBLICKEY, pub, 40);
    zmq_setsockopt(r.sock, ZMQ_CURVE_SECRETKEY, sec, 40);
    zmq_connect(r.sock, argv[2]);

    uint8_t *buf;
    size_t len;
    wire_pack_hello(r.n.cfg.code, r.n.keys.pk, 0, NULL, &buf, &len);
    zmq_send(r.sock, buf, len, 0);
    free(buf);
    Tiersync__Envelope *w = recv_env(&r);
    int rc = 0;
    if (!w || w->msg_case != TIERSYNC__ENVELOPE__MSG_WELCOME) {
        puts("NO-WELCOME");
        rc = 3;
    } else {
        printf("WELCOME %llu\n", (unsigned long long)w->welcome->last_seq);
        r.last = w->welcome->last_seq;
        if (w->welcome->last_hash.len == 32)
            memcpy(r.hash, w->welcome->last_hash.data, 32);
        fflush(stdout);
        for (int i = 4; i < argc; i++)
            step(&r, argv[i]);
    }
    if (w)
        tiersync__envelope__free_unpacked(w, NULL);
    free(r.valid);
    zmq_close(r.sock);
    zmq_ctx_term(ctx);
    node_close(&r.n);
    return rc;
}
