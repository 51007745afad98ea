/* fuzz_apply.c: the parent's apply path (apply_message: decode, verify,
 * chain, checks, one LMDB transaction) against a real store, in two modes:
 *
 *   fuzz_apply         the input is one raw message as a child's socket
 *                      delivers it (any bytes);
 *   fuzz_apply_signed  (FUZZ_APPLY_SIGNED) the input is a program that
 *                      builds up to 6 messages — hellos and deltas whose
 *                      seq, prev_hash, snapshot flag, origin, units and
 *                      cells come from the input — signed with the
 *                      enrolled child's key (or another), so the fuzzer
 *                      reaches everything behind the signature check.
 *
 * After each input the store must add up (fuzz_node_check: verify finds
 * nothing), whatever was refused or applied. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "delta.h"
#include "fuzz_node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* With FUZZ_APPLY_STATS set, how the messages fared is printed at exit:
 * a check that the fuzzer gets past the refusals to the apply itself. */
static unsigned long stats_by_reason[16], stats_applied, stats_cells;

static void print_stats(void)
{
    fprintf(stderr,
            "fuzz_apply: %lu deltas applied (%lu cells); refusals by reason:", stats_applied,
            stats_cells);
    for (int i = 0; i < 16; i++)
        if (stats_by_reason[i])
            fprintf(stderr, " %d:%lu", i, stats_by_reason[i]);
    fputc('\n', stderr);
}

static void count(const apply_reply *r)
{
    static int armed;
    if (!armed && getenv("FUZZ_APPLY_STATS"))
        armed = 1, atexit(print_stats);
    if (r->kind == TIERSYNC__ENVELOPE__MSG_NACK)
        stats_by_reason[r->reason & 15]++;
    else if (r->applied_cells || r->kind == TIERSYNC__ENVELOPE__MSG_ACK)
        stats_applied++, stats_cells += (unsigned long)r->applied_cells;
}

static void deliver(fuzz_node *f, const uint8_t *msg, size_t len, apply_reply *r)
{
    ts_err e = {0};
    apply_message(&f->n, FUZZ_CHILD, msg, len, r, &e);
    count(r);
    uint8_t *out;
    size_t outlen;
    apply_reply_pack(&f->n, r, &out, &outlen);
    free(out);
}

#ifndef FUZZ_APPLY_SIGNED

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_node *f = fuzz_node_get();
    fuzz_node_reset(f);
    apply_reply r;
    deliver(f, data, size, &r);
    fuzz_node_check(f, "a raw message");
    return 0;
}

#else

#define MAX_MSGS 6
#define MAX_UNITS 4
#define MAX_CELLS 8
#define STR_MAX 40

static const char *const unit_pool[] = {"C1", "C1a", "C1b", "C1c", "D1", "D2", "X9", ""};
static const char *const period_pool[] = {"202401", "202406", "202312", "2024",
                                          "2023",   "202407", "202413", "24"};

/* A code from the pool, or (rarely) any string. */
static void pick_code(fuzz_bytes *b, char *out)
{
    uint8_t k = fb_u8(b);
    if (k < 240)
        snprintf(out, STR_MAX + 1, "%s", unit_pool[k % (sizeof unit_pool / sizeof *unit_pool)]);
    else
        fb_str(b, out, STR_MAX);
}

/* Canonical options of ind (or, rarely, any string). */
static void pick_options(fuzz_bytes *b, const catalog_t *cat, const catalog_indicator *ind,
                         char *out, size_t outsz)
{
    if (fb_u8(b) >= 245) {
        fb_str(b, out, STR_MAX);
        return;
    }
    /* categories sorted by name, as catalog_options_canon writes them */
    int order[CATALOG_MAX_IND_CATS];
    for (int i = 0; i < ind->ncats; i++) {
        int j = i;
        while (j > 0 && strcmp(cat->cats[ind->cats[i]].name, cat->cats[order[j - 1]].name) < 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = ind->cats[i];
    }
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < ind->ncats && n < outsz; i++) {
        const catalog_category *c = &cat->cats[order[i]];
        const char *opt = c->noptions ? c->options[fb_u8(b) % c->noptions] : "";
        n += (size_t)snprintf(out + n, outsz - n, "%s%s=%s", i ? "," : "", c->name, opt);
    }
}

typedef struct {
    Tiersync__DeltaBody body;
    Tiersync__Unit units[MAX_UNITS], *up[MAX_UNITS];
    Tiersync__Cell cells[MAX_CELLS], *cp[MAX_CELLS];
    char ustr[MAX_UNITS][4][STR_MAX + 1];
    char cstr[MAX_CELLS][4][STR_MAX * 5];
    char origin[STR_MAX + 1], catalog_id[CATALOG_NAME_MAX + STR_MAX];
    uint8_t prev[DELTA_HASH_BYTES];
} body_buf;

static void build_cells(fuzz_bytes *b, const catalog_t *cat, body_buf *bb)
{
    bb->body.n_cells = fb_u8(b) % (MAX_CELLS + 1);
    for (size_t i = 0; i < bb->body.n_cells; i++) {
        Tiersync__Cell *c = &bb->cells[i];
        char(*s)[STR_MAX * 5] = bb->cstr[i];
        tiersync__cell__init(c);
        pick_code(b, s[0]);
        uint8_t k = fb_u8(b);
        const catalog_indicator *ind = &cat->inds[k % cat->ninds];
        if (k < 248)
            snprintf(s[1], sizeof s[1], "%s", ind->code);
        else
            fb_str(b, s[1], STR_MAX);
        k = fb_u8(b);
        if (k < 248)
            snprintf(s[2], sizeof s[2], "%s", period_pool[k % 8]);
        else
            fb_str(b, s[2], STR_MAX);
        pick_options(b, cat, ind, s[3], sizeof s[3]);
        c->unit = s[0], c->indicator = s[1], c->period = s[2], c->options = s[3];
        k = fb_u8(b);
        c->value = k < 224 ? (int8_t)fb_u8(b) : (int64_t)fb_u64(b);
        bb->cp[i] = c;
    }
    bb->body.cells = bb->cp;
}

static void build_units(fuzz_bytes *b, body_buf *bb)
{
    static const char *const levels[] = {"commune", "district", "village", ""};
    bb->body.n_units = fb_u8(b) % (MAX_UNITS + 1);
    for (size_t i = 0; i < bb->body.n_units; i++) {
        Tiersync__Unit *u = &bb->units[i];
        tiersync__unit__init(u);
        pick_code(b, bb->ustr[i][0]);
        fb_str(b, bb->ustr[i][1], STR_MAX);
        snprintf(bb->ustr[i][2], STR_MAX + 1, "%s", levels[fb_u8(b) % 4]);
        pick_code(b, bb->ustr[i][3]);
        u->code = bb->ustr[i][0], u->name = bb->ustr[i][1];
        u->level = bb->ustr[i][2], u->parent = bb->ustr[i][3];
        bb->up[i] = u;
    }
    bb->body.units = bb->up;
}

typedef struct {
    uint64_t seq;                   /* last seq the parent accepted */
    uint8_t hash[DELTA_HASH_BYTES]; /* its body hash */
} chain_state;

/* Builds one signed delta from the input into a packed envelope. */
static void build_delta(fuzz_bytes *b, fuzz_node *f, const chain_state *cs, uint8_t **msg,
                        size_t *len, uint8_t hash[DELTA_HASH_BYTES], uint64_t *seq)
{
    const catalog_t *cat = f->n.catalog;
    body_buf bb;
    memset(&bb, 0, sizeof bb);
    tiersync__delta_body__init(&bb.body);
    uint8_t flags = fb_u8(b);
    switch (flags & 3) {
    case 2: bb.body.seq = cs->seq + (uint64_t)(int64_t)(int8_t)fb_u8(b); break;
    case 3: bb.body.seq = fb_u64(b); break;
    default: bb.body.seq = cs->seq + 1;
    }
    bb.body.snapshot = (flags & 4) != 0;
    memcpy(bb.prev, cs->hash, sizeof bb.prev);
    if (flags & 8)
        bb.prev[fb_u8(b) % DELTA_HASH_BYTES] ^= 1;
    bb.body.prev_hash = (ProtobufCBinaryData){DELTA_HASH_BYTES, bb.prev};
    snprintf(bb.origin, sizeof bb.origin, FUZZ_CHILD);
    if (flags & 16)
        pick_code(b, bb.origin);
    bb.body.origin = bb.origin;
    const keys_t *claimed = (flags & 32) ? &f->other : &f->child;
    const keys_t *signer = (flags & 64) ? &f->other : &f->child;
    bb.body.origin_key = (ProtobufCBinaryData){sizeof claimed->pk, (uint8_t *)claimed->pk};
    snprintf(bb.catalog_id, sizeof bb.catalog_id, "%s", cat->id);
    if (flags & 128)
        fb_str(b, bb.catalog_id, STR_MAX);
    bb.body.catalog_id = bb.catalog_id;
    bb.body.catalog_version = (uint32_t)cat->version;
    build_units(b, &bb);
    build_cells(b, cat, &bb);
    delta_seal(&bb.body, signer, msg, len, hash);
    *seq = bb.body.seq;
}

static void build_hello(fuzz_bytes *b, fuzz_node *f, uint8_t **msg, size_t *len)
{
    char code[STR_MAX + 1];
    pick_code(b, code);
    uint8_t k = fb_u8(b);
    Tiersync__Hello h = TIERSYNC__HELLO__INIT;
    h.code = code;
    h.key = (ProtobufCBinaryData){32, (uint8_t *)((k & 1) ? f->other.pk : f->child.pk)};
    h.protocol = (k & 2) ? fb_u8(b) : DELTA_PROTOCOL;
    Tiersync__Envelope env = TIERSYNC__ENVELOPE__INIT;
    env.msg_case = TIERSYNC__ENVELOPE__MSG_HELLO;
    env.hello = &h;
    wire_pack(&env, msg, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_node *f = fuzz_node_get();
    fuzz_node_reset(f);
    fuzz_bytes b = {data, size};
    chain_state cs = {0, {0}};
    int nmsgs = 1 + fb_u8(&b) % MAX_MSGS;
    for (int i = 0; i < nmsgs; i++) {
        uint8_t *msg;
        size_t len;
        uint8_t hash[DELTA_HASH_BYTES];
        uint64_t seq = 0;
        if (fb_u8(&b) % 8 == 0)
            build_hello(&b, f, &msg, &len);
        else
            build_delta(&b, f, &cs, &msg, &len, hash, &seq);
        apply_reply r;
        deliver(f, msg, len, &r);
        free(msg);
        if (seq && r.kind == TIERSYNC__ENVELOPE__MSG_ACK && r.seq == seq) {
            cs.seq = seq;
            memcpy(cs.hash, hash, sizeof cs.hash);
        }
    }
    fuzz_node_check(f, "a program of signed messages");
    return 0;
}

#endif
