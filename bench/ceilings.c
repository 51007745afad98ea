/* ceilings.c: the machine's own limits, measured in the same run as the
 * figures they bound (bench/run prints each figure beside one of these).
 *
 * usage: bench_ceilings [SECONDS_PER_MEASURE [sign]]   (default 1)
 *
 * With "sign", only the two Ed25519 lines: bench/run measures them again
 * just before each run they bound, as the machine's speed drifts.
 *
 * Prints "name value" lines:
 *   sign_per_s       Ed25519 signatures per second on one core (libsodium),
 *                    over a message the size of a signed 1-cell delta body
 *   verify_per_s     Ed25519 verifications per second on one core, same size
 *   lmdb_puts_per_s  raw LMDB puts of cell-like keys, all in one transaction
 *                    (commit included), in a fresh environment
 *   lmdb_commits_per_s  durable LMDB commits (default flags: synced), one
 *                    small put each
 *   zmq_curve_msgs_per_s  messages per second DEALER -> ROUTER over tcp
 *                    loopback with CURVE on, each the size of a 1-cell delta
 * Nothing here touches a node: every file lives in a temporary directory
 * that is removed at exit. */
#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define CEIL_MSG_BYTES 160     /* a signed 1-cell delta body is about this long */
#define CEIL_ZMQ_MSG_BYTES 280 /* a packed 1-cell delta envelope */
#define CEIL_PUTS 400000       /* puts in the one-transaction measure */
#define CEIL_MAP_BYTES ((size_t)2 << 30)
#define CEIL_ZMQ_HWM 100000
#define CEIL_ZMQ_MAX_MSGS 5000000

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench_ceilings: %s: %s\n", what, why);
    exit(1);
}

static void measure_sign(double secs)
{
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    uint8_t msg[CEIL_MSG_BYTES], sig[crypto_sign_BYTES];
    crypto_sign_keypair(pk, sk);
    randombytes_buf(msg, sizeof msg);
    long n = 0;
    double t0 = now_s(), t;
    do {
        for (int i = 0; i < 100; i++, n++) {
            msg[0] = (uint8_t)n;
            crypto_sign_detached(sig, NULL, msg, sizeof msg, sk);
        }
    } while ((t = now_s() - t0) < secs);
    printf("sign_per_s %.0f\n", (double)n / t);

    n = 0;
    long bad = 0;
    t0 = now_s();
    do {
        for (int i = 0; i < 100; i++, n++)
            bad += crypto_sign_verify_detached(sig, msg, sizeof msg, pk) != 0;
    } while ((t = now_s() - t0) < secs);
    if (bad)
        die("verify", "a valid signature did not verify");
    printf("verify_per_s %.0f\n", (double)n / t);
}

static MDB_env *lmdb_open(const char *dir, MDB_dbi *dbi)
{
    MDB_env *env;
    MDB_txn *txn;
    int rc = mdb_env_create(&env);
    if (!rc)
        rc = mdb_env_set_mapsize(env, CEIL_MAP_BYTES);
    if (!rc)
        rc = mdb_env_open(env, dir, 0, 0600);
    if (!rc)
        rc = mdb_txn_begin(env, NULL, 0, &txn);
    if (!rc)
        rc = mdb_dbi_open(txn, NULL, 0, dbi);
    if (!rc)
        rc = mdb_txn_commit(txn);
    if (rc)
        die("lmdb", mdb_strerror(rc));
    return env;
}

/* A key shaped like a cell key: "unit|indicator|period|options". */
static size_t cell_like_key(char *out, size_t n, unsigned long i)
{
    return (size_t)snprintf(out, n,
                            "34%05lu|IN_TREATMENT|2025%02lu|age_band=30-39,modality=m%lu,sex=F",
                            i % 100000, 1 + (i / 100000) % 12, i % 7);
}

static void measure_lmdb(const char *tmp, double secs)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/lmdb", tmp);
    if (mkdir(dir, 0700) != 0)
        die(dir, strerror(errno));
    MDB_dbi dbi;
    MDB_env *env = lmdb_open(dir, &dbi);
    /* shuffled order, as cells arrive */
    unsigned long *order = malloc(CEIL_PUTS * sizeof *order);
    for (unsigned long i = 0; i < CEIL_PUTS; i++)
        order[i] = i;
    for (unsigned long i = CEIL_PUTS - 1; i > 0; i--) {
        unsigned long j = randombytes_uniform((uint32_t)(i + 1)), x = order[i];
        order[i] = order[j], order[j] = x;
    }
    MDB_txn *txn;
    double t0 = now_s();
    int rc = mdb_txn_begin(env, NULL, 0, &txn);
    for (unsigned long i = 0; i < CEIL_PUTS && !rc; i++) {
        char k[128];
        int64_t v = (int64_t)i;
        MDB_val key = {cell_like_key(k, sizeof k, order[i]), k}, val = {sizeof v, &v};
        rc = mdb_put(txn, dbi, &key, &val, 0);
    }
    if (!rc)
        rc = mdb_txn_commit(txn);
    if (rc)
        die("lmdb puts", mdb_strerror(rc));
    printf("lmdb_puts_per_s %.0f\n", CEIL_PUTS / (now_s() - t0));
    free(order);

    mdb_env_close(env);
    /* durable commits in a fresh, small environment, as a node's store starts */
    snprintf(dir, sizeof dir, "%s/lmdb2", tmp);
    if (mkdir(dir, 0700) != 0)
        die(dir, strerror(errno));
    env = lmdb_open(dir, &dbi);
    long n = 0;
    double t;
    t0 = now_s();
    do {
        char k[128];
        int64_t v = n;
        MDB_val key = {cell_like_key(k, sizeof k, (unsigned long)n), k}, val = {sizeof v, &v};
        rc = mdb_txn_begin(env, NULL, 0, &txn);
        if (!rc)
            rc = mdb_put(txn, dbi, &key, &val, 0);
        if (!rc)
            rc = mdb_txn_commit(txn);
        if (rc)
            die("lmdb commits", mdb_strerror(rc));
        n++;
    } while ((t = now_s() - t0) < secs);
    printf("lmdb_commits_per_s %.0f\n", (double)n / t);
    mdb_env_close(env);
}

typedef struct {
    void *router;
    long got;      /* full-size messages received */
    double t_last; /* when the end marker (a 1-byte message) arrived */
} zrecv;

static void *zmq_receiver(void *arg)
{
    zrecv *r = arg;
    zmq_msg_t id, m;
    zmq_msg_init(&id);
    zmq_msg_init(&m);
    int timeout = 5000;
    zmq_setsockopt(r->router, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    for (;;) {
        if (zmq_msg_recv(&id, r->router, 0) < 0 || zmq_msg_recv(&m, r->router, 0) < 0)
            break;
        if (zmq_msg_size(&m) == 1)
            break;
        r->got++;
    }
    r->t_last = now_s();
    zmq_msg_close(&id);
    zmq_msg_close(&m);
    return NULL;
}

static void set_int(void *s, int opt, int v)
{
    if (zmq_setsockopt(s, opt, &v, sizeof v) != 0)
        die("zmq option", zmq_strerror(zmq_errno()));
}

/* Sender and receiver each get their own context (own I/O thread), as a
 * child and its parent do. */
static void measure_zmq(double secs)
{
    char spub[41], ssec[41], cpub[41], csec[41];
    if (zmq_curve_keypair(spub, ssec) || zmq_curve_keypair(cpub, csec))
        die("zmq", "no CURVE support in this libzmq");
    void *sctx = zmq_ctx_new(), *cctx = zmq_ctx_new();
    void *router = zmq_socket(sctx, ZMQ_ROUTER), *dealer = zmq_socket(cctx, ZMQ_DEALER);
    set_int(router, ZMQ_CURVE_SERVER, 1);
    zmq_setsockopt(router, ZMQ_CURVE_SECRETKEY, ssec, 40);
    set_int(router, ZMQ_RCVHWM, CEIL_ZMQ_HWM);
    set_int(router, ZMQ_LINGER, 0);
    if (zmq_bind(router, "tcp://127.0.0.1:*") != 0)
        die("zmq bind", zmq_strerror(zmq_errno()));
    char ep[128];
    size_t eplen = sizeof ep;
    zmq_getsockopt(router, ZMQ_LAST_ENDPOINT, ep, &eplen);
    zmq_setsockopt(dealer, ZMQ_CURVE_SERVERKEY, spub, 40);
    zmq_setsockopt(dealer, ZMQ_CURVE_PUBLICKEY, cpub, 40);
    zmq_setsockopt(dealer, ZMQ_CURVE_SECRETKEY, csec, 40);
    set_int(dealer, ZMQ_SNDHWM, CEIL_ZMQ_HWM);
    set_int(dealer, ZMQ_LINGER, 0);
    if (zmq_connect(dealer, ep) != 0)
        die("zmq connect", zmq_strerror(zmq_errno()));
    uint8_t msg[CEIL_ZMQ_MSG_BYTES];
    randombytes_buf(msg, sizeof msg);
    /* one message through first: the handshake is not part of the rate */
    zmq_send(dealer, msg, sizeof msg, 0);
    zmq_send(dealer, msg, 1, 0);
    zrecv warm = {router, 0, 0};
    zmq_receiver(&warm);
    if (warm.got != 1)
        die("zmq", "the CURVE handshake over loopback did not complete");

    /* send for secs, then the end marker */
    zrecv r = {router, 0, 0};
    pthread_t th;
    pthread_create(&th, NULL, zmq_receiver, &r);
    double t0 = now_s();
    long sent = 0;
    while (sent < CEIL_ZMQ_MAX_MSGS && now_s() - t0 < secs) {
        for (int i = 0; i < 100; i++, sent++)
            if (zmq_send(dealer, msg, sizeof msg, 0) < 0)
                die("zmq send", zmq_strerror(zmq_errno()));
    }
    zmq_send(dealer, msg, 1, 0);
    pthread_join(th, NULL);
    if (r.got != sent)
        die("zmq", "messages were lost on loopback");
    printf("zmq_curve_msgs_per_s %.0f\n", (double)r.got / (r.t_last - t0));
    zmq_close(dealer);
    zmq_close(router);
    zmq_ctx_term(cctx);
    zmq_ctx_term(sctx);
}

static void rm_tree(const char *tmp)
{
    static const char *const sub[] = {"lmdb", "lmdb2"};
    char path[600];
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s/data.mdb", tmp, sub[i]);
        unlink(path);
        snprintf(path, sizeof path, "%s/%s/lock.mdb", tmp, sub[i]);
        unlink(path);
        snprintf(path, sizeof path, "%s/%s", tmp, sub[i]);
        rmdir(path);
    }
    rmdir(tmp);
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 1.0;
    bool sign_only = argc > 2 && strcmp(argv[2], "sign") == 0;
    if (secs <= 0 || secs > 60 || (argc > 2 && !sign_only) || argc > 3)
        die("usage", "bench_ceilings [SECONDS_PER_MEASURE [sign]] (0 < s <= 60)");
    if (sodium_init() < 0)
        die("libsodium", "cannot initialise");
    if (sign_only) {
        measure_sign(secs);
        return 0;
    }
    char tmp[] = "/tmp/tiersync-ceilings.XXXXXX";
    if (!mkdtemp(tmp))
        die("mkdtemp", strerror(errno));
    setvbuf(stdout, NULL, _IOLBF, 0);
    measure_sign(secs);
    measure_lmdb(tmp, secs);
    rm_tree(tmp);
    measure_zmq(secs);
    return 0;
}
