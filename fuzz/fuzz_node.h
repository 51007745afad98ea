/* fuzz_node.h: what the fuzz targets share: a real node (config, catalog,
 * keys, LMDB store) in a temporary directory, a child enrolled with a key
 * derived from a fixed seed (so committed seed inputs carry valid
 * signatures), a cheap reset between inputs, and a reader of fuzz bytes.
 *
 * The node is a district "D1" with a parent configured (never contacted),
 * so applying also exercises pending, covers and announcements. Its child
 * is the commune "C1". LMDB runs with MDB_NOSYNC: a crash of the fuzzer
 * loses nothing that matters, and fsync would slow every input tenfold. */
#ifndef TIERSYNC_FUZZ_NODE_H
#define TIERSYNC_FUZZ_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "node.h"

#define FUZZ_SELF "D1"
#define FUZZ_CHILD "C1"
#define FUZZ_TODAY "2024-06-15"

/* Seeds of the fixed key pairs (never use them for anything real). */
#define FUZZ_CHILD_SEED "tiersync-fuzz-child-key-seed-32b"
#define FUZZ_OTHER_SEED "tiersync-fuzz-other-key-seed-32b"
/* fuzz_join: the parent is "other", the joining child "child", and the
 * invitation's secret the first INVITE_SECRET_BYTES of this */
#define FUZZ_JOIN_SECRET "tiersync-fuzz-invite-secret!"
#define FUZZ_JOIN_CODE "C9"

typedef struct {
    node_t n;
    char dir[TS_PATH_MAX];
    keys_t child; /* the enrolled child's key pair */
    keys_t other; /* a key pair nobody enrolled */
} fuzz_node;

/* Creates the node once per process (removed at exit); aborts on failure:
 * a fuzz target without its node is useless. */
fuzz_node *fuzz_node_get(void);

/* Empties every table and enrols the child again: each input starts from
 * the same store, so a crash replays from its input alone. */
void fuzz_node_reset(fuzz_node *f);

/* Aborts with the findings when audit_check_node finds anything: every input
 * must leave a store whose numbers add up. */
void fuzz_node_check(fuzz_node *f, const char *what);

/* A reader over the fuzz input: takes bytes from the front; past the end
 * it returns zeros, so every input decodes to something. */
typedef struct {
    const uint8_t *p;
    size_t n;
} fuzz_bytes;

uint8_t fb_u8(fuzz_bytes *b);
uint64_t fb_u64(fuzz_bytes *b);
/* A string of at most max bytes (length from one byte) into out (max+1). */
void fb_str(fuzz_bytes *b, char *out, size_t max);

#endif
