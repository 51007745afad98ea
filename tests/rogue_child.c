/* rogue_child.c: a misbehaving child for the refusal tests. It speaks the
 * real protocol over CURVE with a node's own keys and sends, step by step,
 * what the command line asks for: valid deltas and forged, replayed,
 * out-of-order, foreign, unknown, random and oversized ones, and strings
 * that are not text (BYTE:FIELD, see patched_message). One line per step on
 * stdout: "ACK n", "NACK REASON_X n" or "NO-REPLY". snap:K/N sends part K of
 * an N-part snapshot, one cell (COUNSELLING_POINTS, 2026-K) = 10 each, part
 * 1 flagged snapshot and naming its last part. pause=FILE waits until
 * FILE exists; disconnected says whether the parent dropped the connection
 * ("DISCONNECTED") or not ("STILL-CONNECTED"). future sends people reached
 * next year (a period not begun).
 *
 * usage: rogue_child DIR ENDPOINT PARENT_PUBKEY STEP...
 *        rogue_child DIR ENDPOINT PARENT_PUBKEY handshakes=N
 * The second makes N handshakes one after the other, each on a new
 * connection, and prints "REFUSED k of N". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "delta.h"
#include "node.h"

#define ROGUE_TIMEOUT_MS 3000
#define ROGUE_WAIT_MS 20000 /* pause=FILE and disconnected wait at most this long */

typedef struct {
    node_t n;
    void *sock;
    void *mon; /* the socket's DISCONNECTED events */
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
        const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
            &tiersync__reason__descriptor, env->nack->reason);
        const char *d = env->nack->detail ? env->nack->detail : "";
        printf("NACK %s %llu%s\n", v ? v->name : "?", (unsigned long long)env->nack->expected,
               ts_text_valid(d, strlen(d)) ? "" : " DETAIL-NOT-UTF-8");
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

/* Replaces the '~' of the first occurrence of marked in buf[0..len) by b. */
static void patch_marker(uint8_t *buf, size_t len, const char *marked, char b)
{
    size_t n = strlen(marked);
    for (size_t i = 0; i + n <= len; i++)
        if (!memcmp(buf + i, marked, n)) {
            buf[i + (size_t)(strchr(marked, '~') - marked)] = (uint8_t)b;
            return;
        }
    fprintf(stderr, "rogue_child: marker %s not in the message\n", marked);
    exit(2);
}

/* "BYTE:FIELD": a message whose FIELD (indicator, unit, period, options,
 * origin, catalog, name: a unit announcement's; hello: Hello.code) holds
 * BYTE (nul, badutf8: 0xff, newline; long: no bad byte, but 33 bytes of
 * "ã" that a 32-byte quote cuts mid-character), written into the packed bytes after
 * protobuf-c encoded it, as a child in another language could send it. A
 * newline in origin carries a forged log line. The delta is properly
 * signed and chained. */
static void patched_message(rogue *r, const char *what, uint8_t **out, size_t *len)
{
    const char *field = strchr(what, ':') + 1;
    char b = !strncmp(what, "nul:", 4)  ? '\0'
        : !strncmp(what, "badutf8:", 8) ? '\xff'
        : !strncmp(what, "long:", 5)    ? '_'
                                        : '\n';
    const char *self = r->n.cfg.code;
    char origin[80], unit[48], ind[48], period[16], opts[8], cat[80], name[48], *marked;
    snprintf(origin, sizeof origin, "%s", self);
    snprintf(unit, sizeof unit, "%s", self);
    snprintf(ind, sizeof ind, "COUNSELLING_POINTS");
    snprintf(period, sizeof period, "202611");
    snprintf(opts, sizeof opts, "%s", "");
    snprintf(cat, sizeof cat, "%s", r->n.catalog->id);
    snprintf(name, sizeof name, "Commune");
    marked = !strcmp(field, "origin")                       ? origin
        : !strcmp(field, "unit")                            ? unit
        : !strcmp(field, "indicator")                       ? ind
        : !strcmp(field, "period")                          ? period
        : !strcmp(field, "options")                         ? opts
        : !strcmp(field, "catalog")                         ? cat
        : !strcmp(field, "name") || !strcmp(field, "hello") ? name
                                                            : NULL;
    if (!marked) {
        fprintf(stderr, "rogue_child: unknown field in '%s'\n", what);
        exit(2);
    }
    if (b == '\n' && marked == origin)
        snprintf(origin, sizeof origin, "x~FAKE-LOG-LINE warn child 12346: forged");
    else if (!strncmp(what, "long:", 5)) /* text, but cut at 32 bytes inside a character */
        snprintf(marked, 48, "~%s",
                 "\xc3\xa3\xc3\xa3\xc3\xa3\xc3\xa3\xc3\xa3\xc3\xa3\xc3\xa3"
                 "\xc3\xa3\xc3\xa3\xc3\xa3\xc3\xa3\xc3\xa3\xc3\xa3\xc3\xa3\xc3\xa3\xc3\xa3");
    else
        strcat(marked, "~Xq9");
    if (!strcmp(field, "hello")) {
        snprintf(name, sizeof name, "%s~Xq9", self);
        Tiersync__Hello h = TIERSYNC__HELLO__INIT;
        h.code = name;
        h.key = (ProtobufCBinaryData){32, r->n.keys.pk};
        h.protocol = DELTA_PROTOCOL;
        Tiersync__Envelope env = TIERSYNC__ENVELOPE__INIT;
        env.msg_case = TIERSYNC__ENVELOPE__MSG_HELLO;
        env.hello = &h;
        wire_pack(&env, out, len);
        patch_marker(*out, *len, name, b);
        return;
    }
    Tiersync__Cell c = TIERSYNC__CELL__INIT, *cells[] = {&c};
    c.unit = unit, c.indicator = ind, c.period = period, c.options = opts, c.value = 1;
    Tiersync__Unit u = TIERSYNC__UNIT__INIT, *units[] = {&u};
    u.code = (char *)self, u.name = name, u.level = "commune", u.parent = "";
    Tiersync__DeltaBody body = TIERSYNC__DELTA_BODY__INIT;
    body.origin = origin;
    body.origin_key = (ProtobufCBinaryData){32, r->n.keys.pk};
    body.seq = r->last + 1;
    body.prev_hash = (ProtobufCBinaryData){32, r->hash};
    body.catalog_id = cat;
    body.n_cells = 1, body.cells = cells;
    body.n_units = 1, body.units = units;
    size_t blen = tiersync__delta_body__get_packed_size(&body);
    uint8_t *bytes = malloc(blen), sig[DELTA_SIG_BYTES];
    tiersync__delta_body__pack(&body, bytes);
    patch_marker(bytes, blen, marked, b);
    delta_sign(&r->n.keys, bytes, blen, sig);
    Tiersync__SignedDelta sd = TIERSYNC__SIGNED_DELTA__INIT;
    sd.body = (ProtobufCBinaryData){blen, bytes};
    sd.signature = (ProtobufCBinaryData){sizeof sig, sig};
    Tiersync__Envelope env = TIERSYNC__ENVELOPE__INIT;
    env.msg_case = TIERSYNC__ENVELOPE__MSG_DELTA;
    env.delta = &sd;
    wire_pack(&env, out, len);
    free(bytes);
}

static void wait_file(const char *path)
{
    for (int waited = 0; access(path, F_OK) != 0 && waited < ROGUE_WAIT_MS; waited += 50)
        usleep(50 * 1000);
}

static void wait_disconnect(rogue *r)
{
    zmq_pollitem_t it = {r->mon, 0, ZMQ_POLLIN, 0};
    puts(zmq_poll(&it, 1, ROGUE_WAIT_MS) > 0 ? "DISCONNECTED" : "STILL-CONNECTED");
    fflush(stdout);
}

static void step(rogue *r, const char *what)
{
    if (!strncmp(what, "pause=", 6))
        return wait_file(what + 6);
    if (!strcmp(what, "disconnected"))
        return wait_disconnect(r);
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
    } else if (!strcmp(what, "future")) { /* people reached in a year not begun */
        delta_builder *b = delta_builder_new(self, r->n.keys.pk, r->last + 1, r->hash,
                                             r->n.catalog->id, (uint32_t)r->n.catalog->version,
                                             false);
        ts_cell c;
        char year[8];
        snprintf(year, sizeof year, "%d", ts_today() / 10000 + 1);
        cell_set(&c, self, "REACHED", year, "modality=methadone", NULL);
        delta_add_cell(b, &c, (disclose_fig){1, 7});
        delta_finish(b, &r->n.keys, &msg, &len, hash);
        delta_builder_destroy(&b);
    } else if (!strcmp(what, "unknown")) {
        make_delta(r, r->last + 1, r->hash, self, self, "NO_SUCH_INDICATOR", &msg, &len, hash);
    } else if (!strcmp(what, "random")) {
        len = 512;
        msg = malloc(len);
        randombytes_buf(msg, len);
    } else if (!strcmp(what, "oversized")) {
        len = (size_t)r->n.cfg.max_msg_bytes + 4096;
        msg = calloc(1, len);
    } else if (!strncmp(what, "snap:", 5)) {
        int k = atoi(what + 5), parts = atoi(strchr(what, '/') + 1);
        delta_builder *b = delta_builder_new(self, r->n.keys.pk, r->last + 1, r->hash,
                                             r->n.catalog->id, (uint32_t)r->n.catalog->version,
                                             k == 1);
        if (k == 1)
            delta_set_snapshot_end(b, r->last + (uint64_t)parts);
        ts_cell c;
        char period[16];
        snprintf(period, sizeof period, "2026%02d", k);
        cell_set(&c, self, "COUNSELLING_POINTS", period, "", NULL);
        delta_add_cell(b, &c, (disclose_fig){10, 0});
        delta_finish(b, &r->n.keys, &msg, &len, hash);
        delta_builder_destroy(&b);
    } else if (strchr(what, ':')) {
        patched_message(r, what, &msg, &len);
    } else {
        fprintf(stderr, "rogue_child: unknown step '%s'\n", what);
        exit(2);
    }
    zmq_send(r->sock, msg, len, 0);
    free(msg);
    bool chained = !strcmp(what, "valid") || !strncmp(what, "snap:", 5);
    report(r, recv_env(r), chained ? hash : NULL);
}

/* A CURVE DEALER connected to endpoint, and a socket that receives its
 * monitor's events. */
static void *dealer(void *ctx, const char *endpoint, const char *server, const char *pub,
                    const char *sec, int events, void **mon)
{
    static int monitors;
    char addr[64];
    snprintf(addr, sizeof addr, "inproc://rogue-monitor-%d", monitors++);
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server, 40);
    zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pub, 40);
    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, sec, 40);
    zmq_socket_monitor(s, addr, events);
    *mon = zmq_socket(ctx, ZMQ_PAIR);
    zmq_setsockopt(*mon, ZMQ_LINGER, &zero, sizeof zero);
    zmq_connect(*mon, addr);
    zmq_connect(s, endpoint);
    return s;
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
    if (!strncmp(argv[4], "handshakes=", 11)) {
        int n = atoi(argv[4] + 11), refused = 0;
        for (int i = 0; i < n; i++) {
            void *mon;
            void *s = dealer(ctx, argv[2], server, pub, sec, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, &mon);
            zmq_pollitem_t it = {mon, 0, ZMQ_POLLIN, 0};
            refused += zmq_poll(&it, 1, ROGUE_TIMEOUT_MS) > 0;
            zmq_close(mon);
            zmq_close(s);
        }
        printf("REFUSED %d of %d\n", refused, n);
        zmq_ctx_term(ctx);
        node_close(&r.n);
        return 0;
    }
    r.sock = dealer(ctx, argv[2], server, pub, sec, ZMQ_EVENT_DISCONNECTED, &r.mon);

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
    zmq_close(r.mon);
    zmq_close(r.sock);
    zmq_ctx_term(ctx);
    node_close(&r.n);
    return rc;
}
