/* test_keys.c: a node's identity: key files and their permissions, the
 * refusals of keys_create / keys_load, the fingerprint, and the CurveZMQ keys
 * derived from the Ed25519 pair, proven by a real CURVE handshake on
 * 127.0.0.1 that uses nothing but derived keys. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "keys.h"
#include "testutil.h"
#include "util.h"

#define RECV_LIMIT_MS 20000 /* bound on every blocking ZeroMQ call; never asserted on */
#define MONITOR_EVENTS_MAX 64

static char dir[512];

static void path_of(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

static char *slurp(const char *name)
{
    char path[1024], *text = NULL;
    ts_err e = {0};
    path_of(path, sizeof path, name);
    if (ts_read_file(path, &text, NULL, &e) != TS_OK)
        fail_msg("%s", e.msg);
    return text;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s", tu_tmpdir("keys"));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmrf(dir);
    return 0;
}

static mode_t mode_of(const char *name)
{
    char path[1024];
    struct stat st;
    path_of(path, sizeof path, name);
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

static void test_create_files_and_modes(void **state)
{
    (void)state;
    keys_t k;
    ts_err e = {0};
    mode_t old = umask(0); /* the most permissive umask must not widen node.key */
    int rc = keys_create(&k, dir, false, &e);
    umask(old);
    assert_int_equal(rc, TS_OK);
    assert_int_equal(mode_of(KEYS_SECRET_FILE), 0600);

    char hex[2 * crypto_sign_SECRETKEYBYTES + 1];
    char *pub = slurp(KEYS_PUBLIC_FILE);
    ts_hex(k.pk, sizeof k.pk, hex);
    assert_int_equal(strlen(pub), KEYS_PUB_HEX_LEN + 1);
    assert_int_equal(pub[KEYS_PUB_HEX_LEN], '\n');
    assert_memory_equal(pub, hex, KEYS_PUB_HEX_LEN);
    free(pub);

    char *sec = slurp(KEYS_SECRET_FILE);
    ts_hex(k.sk, sizeof k.sk, hex);
    assert_int_equal(strlen(sec), 2 * crypto_sign_SECRETKEYBYTES + 1);
    assert_memory_equal(sec, hex, 2 * crypto_sign_SECRETKEYBYTES);
    free(sec);

    /* the pair really is a pair: a signature by sk verifies with pk */
    uint8_t sig[crypto_sign_BYTES];
    static const uint8_t msg[] = "tiersync";
    crypto_sign_detached(sig, NULL, msg, sizeof msg, k.sk);
    assert_int_equal(crypto_sign_verify_detached(sig, msg, sizeof msg, k.pk), 0);

    keys_t loaded;
    assert_int_equal(keys_load(&loaded, dir, &e), TS_OK);
    assert_memory_equal(loaded.pk, k.pk, sizeof k.pk);
    assert_memory_equal(loaded.sk, k.sk, sizeof k.sk);
    keys_wipe(&loaded);
    uint8_t zero[crypto_sign_SECRETKEYBYTES] = {0};
    assert_memory_equal(loaded.sk, zero, sizeof zero);
    keys_wipe(&k);
}

/* A temp file left by a crash, readable by all, does not lend its mode to
 * the new secret key and does not stay behind. */
static void test_create_over_stale_temp_file(void **state)
{
    (void)state;
    char tmp[1024];
    path_of(tmp, sizeof tmp, KEYS_SECRET_FILE ".tmp");
    tu_write_file(dir, KEYS_SECRET_FILE ".tmp", "stale\n");
    assert_int_equal(chmod(tmp, 0644), 0);
    keys_t k;
    ts_err e = {0};
    assert_int_equal(keys_create(&k, dir, false, &e), TS_OK);
    assert_int_equal(mode_of(KEYS_SECRET_FILE), 0600);
    assert_int_equal(access(tmp, F_OK), -1);
    keys_t loaded;
    assert_int_equal(keys_load(&loaded, dir, &e), TS_OK);
    assert_memory_equal(loaded.sk, k.sk, sizeof k.sk);
    keys_wipe(&k), keys_wipe(&loaded);
}

static void test_create_refuses_existing_unless_force(void **state)
{
    (void)state;
    keys_t first, second;
    ts_err e = {0};
    assert_int_equal(keys_create(&first, dir, false, &e), TS_OK);
    char *sec_before = slurp(KEYS_SECRET_FILE), *pub_before = slurp(KEYS_PUBLIC_FILE);

    assert_int_equal(keys_create(&second, dir, false, &e), TS_EINPUT);
    assert_int_equal(e.code, TS_EINPUT);
    assert_non_null(strstr(e.msg, KEYS_SECRET_FILE));
    assert_non_null(strstr(e.msg, "--force"));
    char *sec_after = slurp(KEYS_SECRET_FILE), *pub_after = slurp(KEYS_PUBLIC_FILE);
    assert_string_equal(sec_after, sec_before);
    assert_string_equal(pub_after, pub_before);
    free(sec_after);
    free(pub_after);

    assert_int_equal(keys_create(&second, dir, true, &e), TS_OK);
    assert_memory_not_equal(second.pk, first.pk, sizeof first.pk);
    assert_int_equal(mode_of(KEYS_SECRET_FILE), 0600);
    keys_t loaded;
    assert_int_equal(keys_load(&loaded, dir, &e), TS_OK);
    assert_memory_equal(loaded.pk, second.pk, sizeof second.pk);
    sec_after = slurp(KEYS_SECRET_FILE);
    assert_string_not_equal(sec_after, sec_before);
    free(sec_after);
    free(sec_before);
    free(pub_before);
    keys_wipe(&first), keys_wipe(&second), keys_wipe(&loaded);
}

static void test_load_refuses_readable_secret(void **state)
{
    (void)state;
    keys_t k;
    ts_err e = {0};
    char sec[1024];
    path_of(sec, sizeof sec, KEYS_SECRET_FILE);
    assert_int_equal(keys_create(&k, dir, false, &e), TS_OK);
    static const mode_t bad[] = {0640, 0604, 0644, 0660, 0610};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(chmod(sec, bad[i]), 0);
        ts_err le = {0};
        keys_t l;
        int rc = keys_load(&l, dir, &le);
        if (rc == TS_OK)
            fail_msg("a secret key with mode %03o was accepted", (unsigned)bad[i]);
        assert_int_equal(le.code, rc);
        assert_non_null(strstr(le.msg, sec));
        assert_non_null(strstr(le.msg, "chmod 600"));
    }
    assert_int_equal(chmod(sec, 0400), 0); /* read-only for the owner is fine */
    assert_int_equal(keys_load(&k, dir, &e), TS_OK);
    keys_wipe(&k);
}

static void test_load_refuses_mismatched_public(void **state)
{
    (void)state;
    keys_t k;
    ts_err e = {0};
    assert_int_equal(keys_create(&k, dir, false, &e), TS_OK);
    uint8_t other_pk[crypto_sign_PUBLICKEYBYTES], other_sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(other_pk, other_sk);
    char hex[KEYS_PUB_HEX_LEN + 2];
    ts_hex(other_pk, sizeof other_pk, hex);
    strcat(hex, "\n");
    tu_write_file(dir, KEYS_PUBLIC_FILE, hex);
    int rc = keys_load(&k, dir, &e);
    assert_int_not_equal(rc, TS_OK);
    assert_non_null(strstr(e.msg, KEYS_PUBLIC_FILE));
    assert_non_null(strstr(e.msg, "does not match"));
    uint8_t zero[crypto_sign_SECRETKEYBYTES] = {0};
    assert_memory_equal(k.sk, zero, sizeof zero); /* a refused load leaves no secret behind */

    tu_write_file(dir, KEYS_PUBLIC_FILE, "not hex at all\n");
    assert_int_not_equal(keys_load(&k, dir, &e), TS_OK);
    assert_non_null(strstr(e.msg, KEYS_PUBLIC_FILE));
}

static void test_load_refuses_missing_and_garbage(void **state)
{
    (void)state;
    keys_t k;
    ts_err e = {0};
    assert_int_equal(keys_load(&k, dir, &e), TS_ERUNTIME);
    assert_non_null(strstr(e.msg, KEYS_SECRET_FILE));
    assert_non_null(strstr(e.msg, "tiersync init"));

    char sec[1024];
    path_of(sec, sizeof sec, KEYS_SECRET_FILE);
    tu_write_file(dir, KEYS_SECRET_FILE, "abcd\n");
    assert_int_equal(chmod(sec, 0600), 0);
    assert_int_equal(keys_load(&k, dir, &e), TS_ERUNTIME);
    assert_non_null(strstr(e.msg, "not a tiersync secret key"));
}

static void test_parse_public(void **state)
{
    (void)state;
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES], got[sizeof pk];
    crypto_sign_keypair(pk, sk);
    char hex[KEYS_PUB_HEX_LEN + 1];
    ts_hex(pk, sizeof pk, hex);
    ts_err e = {0};
    assert_int_equal(keys_parse_public(hex, got, &e), TS_OK);
    assert_memory_equal(got, pk, sizeof pk);

    char upper[sizeof hex];
    for (size_t i = 0; i < sizeof hex; i++)
        upper[i] = (char)(hex[i] >= 'a' && hex[i] <= 'f' ? hex[i] - 32 : hex[i]);
    assert_int_equal(keys_parse_public(upper, got, &e), TS_OK);
    assert_memory_equal(got, pk, sizeof pk);

    char shortk[sizeof hex];
    snprintf(shortk, sizeof shortk, "%.62s", hex);
    char longk[sizeof hex + 2];
    snprintf(longk, sizeof longk, "%s00", hex);
    char badc[sizeof hex];
    memcpy(badc, hex, sizeof hex);
    badc[10] = 'g';
    const char *bad[] = {"", shortk, longk, badc};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(keys_parse_public(bad[i], got, &e), TS_EINPUT);
        assert_non_null(strstr(e.msg, "64 hex digits"));
    }
    /* 64 hex digits, but a small-order point: no transport key derives from it */
    char zeros[KEYS_PUB_HEX_LEN + 1];
    memset(zeros, '0', KEYS_PUB_HEX_LEN);
    zeros[KEYS_PUB_HEX_LEN] = '\0';
    assert_int_equal(keys_parse_public(zeros, got, &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "not a valid Ed25519 public key"));
}

static void test_fingerprint(void **state)
{
    (void)state;
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(pk, sk);
    char fp[KEYS_FINGERPRINT_LEN], again[KEYS_FINGERPRINT_LEN];
    keys_fingerprint(pk, fp);
    assert_int_equal(strlen(fp), KEYS_FINGERPRINT_LEN - 1);
    for (int i = 0; i < KEYS_FINGERPRINT_LEN - 1; i++) {
        if (i % 5 == 4)
            assert_int_equal(fp[i], '-');
        else if (!((fp[i] >= '0' && fp[i] <= '9') || (fp[i] >= 'a' && fp[i] <= 'f')))
            fail_msg("fingerprint '%s' has '%c' at %d", fp, fp[i], i);
    }
    /* first 8 bytes of BLAKE2b-256(pk), computed here independently */
    uint8_t h[32];
    crypto_generichash(h, sizeof h, pk, sizeof pk, NULL, 0);
    char want[KEYS_FINGERPRINT_LEN];
    snprintf(want, sizeof want, "%02x%02x-%02x%02x-%02x%02x-%02x%02x", h[0], h[1], h[2], h[3], h[4],
             h[5], h[6], h[7]);
    assert_string_equal(fp, want);
    keys_fingerprint(pk, again);
    assert_string_equal(fp, again);
    pk[31] ^= 1;
    keys_fingerprint(pk, again);
    assert_string_not_equal(fp, again);
}

/* The Curve25519 public key derived from the Ed25519 public key equals the
 * one computed from the derived secret key, and the Z85 forms agree. */
static void test_curve_derivation(void **state)
{
    (void)state;
    for (int round = 0; round < 16; round++) {
        keys_t k;
        crypto_sign_keypair(k.pk, k.sk);
        ts_err e = {0};
        char pub_z85[KEYS_Z85_LEN], sec_z85[KEYS_Z85_LEN];
        assert_int_equal(keys_curve_public_z85(k.pk, pub_z85, &e), TS_OK);
        assert_int_equal(keys_curve_secret_z85(&k, sec_z85, &e), TS_OK);
        assert_int_equal(strlen(pub_z85), KEYS_Z85_LEN - 1);
        assert_int_equal(strlen(sec_z85), KEYS_Z85_LEN - 1);

        uint8_t csk[crypto_scalarmult_curve25519_BYTES], cpk[crypto_scalarmult_curve25519_BYTES];
        uint8_t decoded[crypto_scalarmult_curve25519_BYTES], raw[sizeof cpk];
        assert_int_equal(crypto_sign_ed25519_sk_to_curve25519(csk, k.sk), 0);
        assert_non_null(zmq_z85_decode(decoded, sec_z85));
        assert_memory_equal(decoded, csk, sizeof csk);
        assert_int_equal(crypto_scalarmult_base(cpk, csk), 0);
        char want[KEYS_Z85_LEN];
        assert_non_null(zmq_z85_encode(want, cpk, sizeof cpk));
        assert_string_equal(pub_z85, want);

        assert_int_equal(keys_curve_public_raw(k.pk, raw, &e), TS_OK);
        assert_memory_equal(raw, cpk, sizeof cpk);
        /* libzmq's own derivation from the secret agrees too */
        char zmq_pub[KEYS_Z85_LEN];
        assert_int_equal(zmq_curve_public(zmq_pub, sec_z85), 0);
        assert_string_equal(zmq_pub, pub_z85);
        keys_wipe(&k);
    }
}

static void *curve_socket(void *ctx, int type)
{
    void *s = zmq_socket(ctx, type);
    assert_non_null(s);
    int limit = RECV_LIMIT_MS, zero = 0;
    assert_int_equal(zmq_setsockopt(s, ZMQ_RCVTIMEO, &limit, sizeof limit), 0);
    assert_int_equal(zmq_setsockopt(s, ZMQ_SNDTIMEO, &limit, sizeof limit), 0);
    assert_int_equal(zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero), 0);
    return s;
}

/* A REP server bound on 127.0.0.1 with the derived keys of `server`. */
static void *curve_server(void *ctx, const keys_t *server, char *endpoint, size_t n)
{
    void *rep = curve_socket(ctx, ZMQ_REP);
    ts_err e = {0};
    char sec[KEYS_Z85_LEN];
    int one = 1;
    assert_int_equal(keys_curve_secret_z85(server, sec, &e), TS_OK);
    assert_int_equal(zmq_setsockopt(rep, ZMQ_CURVE_SERVER, &one, sizeof one), 0);
    assert_int_equal(zmq_setsockopt(rep, ZMQ_CURVE_SECRETKEY, sec, KEYS_Z85_LEN - 1), 0);
    assert_int_equal(zmq_bind(rep, "tcp://127.0.0.1:*"), 0);
    assert_int_equal(zmq_getsockopt(rep, ZMQ_LAST_ENDPOINT, endpoint, &n), 0);
    return rep;
}

/* A REQ client with the derived keys of `client`, trusting server_pk. */
static void *curve_client(void *ctx, const keys_t *client, const uint8_t *server_pk,
                          const char *endpoint)
{
    void *req = curve_socket(ctx, ZMQ_REQ);
    ts_err e = {0};
    char pub[KEYS_Z85_LEN], sec[KEYS_Z85_LEN], srv[KEYS_Z85_LEN];
    assert_int_equal(keys_curve_public_z85(client->pk, pub, &e), TS_OK);
    assert_int_equal(keys_curve_secret_z85(client, sec, &e), TS_OK);
    assert_int_equal(keys_curve_public_z85(server_pk, srv, &e), TS_OK);
    assert_int_equal(zmq_setsockopt(req, ZMQ_CURVE_SERVERKEY, srv, KEYS_Z85_LEN - 1), 0);
    assert_int_equal(zmq_setsockopt(req, ZMQ_CURVE_PUBLICKEY, pub, KEYS_Z85_LEN - 1), 0);
    assert_int_equal(zmq_setsockopt(req, ZMQ_CURVE_SECRETKEY, sec, KEYS_Z85_LEN - 1), 0);
    assert_int_equal(zmq_connect(req, endpoint), 0);
    return req;
}

static void test_curve_handshake(void **state)
{
    (void)state;
    assert_true(zmq_has("curve"));
    keys_t server, client;
    crypto_sign_keypair(server.pk, server.sk);
    crypto_sign_keypair(client.pk, client.sk);
    void *ctx = zmq_ctx_new();
    char endpoint[256];
    void *rep = curve_server(ctx, &server, endpoint, sizeof endpoint);
    void *req = curve_client(ctx, &client, server.pk, endpoint);

    static const char hello[] = "delta 1", reply[] = "ack 1";
    char buf[64];
    assert_int_equal(zmq_send(req, hello, sizeof hello, 0), (int)sizeof hello);
    zmq_msg_t m;
    zmq_msg_init(&m);
    int got = zmq_msg_recv(&m, rep, 0);
    if (got < 0)
        fail_msg("server received nothing: %s", zmq_strerror(zmq_errno()));
    assert_int_equal(got, (int)sizeof hello);
    assert_memory_equal(zmq_msg_data(&m), hello, sizeof hello);
    /* the transport says CURVE and knows the client by its derived key */
    const char *mech = zmq_msg_gets(&m, "X-Mechanism"); /* not every libzmq sets it */
    if (mech)
        assert_string_equal(mech, "CURVE");
    zmq_msg_close(&m);
    assert_int_equal(zmq_send(rep, reply, sizeof reply, 0), (int)sizeof reply);
    got = zmq_recv(req, buf, sizeof buf, 0);
    if (got < 0)
        fail_msg("client received nothing: %s", zmq_strerror(zmq_errno()));
    assert_int_equal(got, (int)sizeof reply);
    assert_memory_equal(buf, reply, sizeof reply);

    zmq_close(req);
    zmq_close(rep);
    zmq_ctx_term(ctx);
    keys_wipe(&server), keys_wipe(&client);
}

/* Reads monitor events until a handshake fails or succeeds; bounded. */
static uint16_t first_handshake_event(void *mon)
{
    for (int i = 0; i < MONITOR_EVENTS_MAX; i++) {
        zmq_msg_t frame;
        zmq_msg_init(&frame);
        if (zmq_msg_recv(&frame, mon, 0) < 0)
            fail_msg("no handshake event from the server: %s", zmq_strerror(zmq_errno()));
        uint16_t ev;
        memcpy(&ev, zmq_msg_data(&frame), sizeof ev);
        zmq_msg_close(&frame);
        zmq_msg_init(&frame); /* second frame: the endpoint */
        zmq_msg_recv(&frame, mon, 0);
        zmq_msg_close(&frame);
        if (ev == ZMQ_EVENT_HANDSHAKE_SUCCEEDED || ev == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
            ev == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH || ev == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
            return ev;
    }
    fail_msg("no handshake event among %d monitor events", MONITOR_EVENTS_MAX);
    return 0;
}

/* The negative control: a client that trusts the wrong server identity
 * cannot complete the handshake, so the test above did run CURVE. */
static void test_curve_wrong_server_key_fails(void **state)
{
    (void)state;
    keys_t server, client, impostor;
    crypto_sign_keypair(server.pk, server.sk);
    crypto_sign_keypair(client.pk, client.sk);
    crypto_sign_keypair(impostor.pk, impostor.sk);
    void *ctx = zmq_ctx_new();
    char endpoint[256];
    void *rep = curve_server(ctx, &server, endpoint, sizeof endpoint);
    assert_int_equal(zmq_socket_monitor(rep, "inproc://keys-monitor", ZMQ_EVENT_ALL), 0);
    void *mon = curve_socket(ctx, ZMQ_PAIR);
    assert_int_equal(zmq_connect(mon, "inproc://keys-monitor"), 0);
    void *req = curve_client(ctx, &client, impostor.pk, endpoint);
    static const char hello[] = "delta 1";
    zmq_send(req, hello, sizeof hello, ZMQ_DONTWAIT); /* queued; must never arrive */

    uint16_t ev = first_handshake_event(mon);
    assert_int_not_equal(ev, ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    char buf[64];
    assert_int_equal(zmq_recv(rep, buf, sizeof buf, ZMQ_DONTWAIT), -1);
    assert_int_equal(zmq_errno(), EAGAIN);

    zmq_close(req);
    zmq_socket_monitor(rep, NULL, 0);
    zmq_close(mon);
    zmq_close(rep);
    zmq_ctx_term(ctx);
    keys_wipe(&server), keys_wipe(&client), keys_wipe(&impostor);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_files_and_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_over_stale_temp_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_refuses_existing_unless_force, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_refuses_readable_secret, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_refuses_mismatched_public, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_refuses_missing_and_garbage, setup, teardown),
        cmocka_unit_test(test_parse_public),
        cmocka_unit_test(test_fingerprint),
        cmocka_unit_test(test_curve_derivation),
        cmocka_unit_test(test_curve_handshake),
        cmocka_unit_test(test_curve_wrong_server_key_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
