/* keys.c: Ed25519 identity files and the CurveZMQ keys derived from them. */
#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "util.h"

/* The pair's files; suffix "" for the node's own, else e.g. ".old". */
static int named_paths(const char *dir, const char *suffix, char *sec, char *pub, ts_err *e)
{
    if (ts_path(sec, TS_PATH_MAX, e, "%s/%s%s", dir, KEYS_SECRET_FILE, suffix) ||
        ts_path(pub, TS_PATH_MAX, e, "%s/%s%s", dir, KEYS_PUBLIC_FILE, suffix))
        return e->code;
    return TS_OK;
}

static int key_paths(const char *dir, char *sec, char *pub, ts_err *e)
{
    return named_paths(dir, "", sec, pub, e);
}

int keys_check_new(const char *dir, bool force, ts_err *e)
{
    char sec[TS_PATH_MAX], pub[TS_PATH_MAX];
    if (key_paths(dir, sec, pub, e))
        return e->code;
    if (!force && access(sec, F_OK) == 0)
        return ts_fail(e, TS_EINPUT,
                       "%s already exists: this node already has an identity "
                       "(use --force to replace it; its children and parent must then be "
                       "re-enrolled with the new key)",
                       sec);
    return TS_OK;
}

int keys_generate(keys_t *k, ts_err *e)
{
    if (sodium_init() < 0)
        return ts_fail(e, TS_ERUNTIME, "libsodium failed to initialise");
    crypto_sign_keypair(k->pk, k->sk);
    return TS_OK;
}

int keys_save(const keys_t *k, const char *dir, bool force, ts_err *e)
{
    if (keys_check_new(dir, force, e))
        return e->code;
    return keys_save_as(k, dir, "", e);
}

int keys_save_as(const keys_t *k, const char *dir, const char *suffix, ts_err *e)
{
    char sec[TS_PATH_MAX], pub[TS_PATH_MAX];
    if (named_paths(dir, suffix, sec, pub, e))
        return e->code;
    char hex[2 * crypto_sign_SECRETKEYBYTES + 2];
    ts_hex(k->sk, sizeof k->sk, hex);
    strcat(hex, "\n");
    int rc = ts_write_file(sec, hex, strlen(hex), 0600, e);
    sodium_memzero(hex, sizeof hex);
    if (rc)
        return rc;
    ts_hex(k->pk, sizeof k->pk, hex);
    strcat(hex, "\n");
    return ts_write_file(pub, hex, strlen(hex), 0644, e);
}

int keys_create(keys_t *k, const char *dir, bool force, ts_err *e)
{
    if (keys_check_new(dir, force, e) || keys_generate(k, e))
        return e->code;
    return keys_save(k, dir, force, e);
}

int keys_load(keys_t *k, const char *dir, ts_err *e)
{
    return keys_load_as(k, dir, "", e);
}

int keys_load_as(keys_t *k, const char *dir, const char *suffix, ts_err *e)
{
    char sec[TS_PATH_MAX], pub[TS_PATH_MAX];
    if (named_paths(dir, suffix, sec, pub, e))
        return e->code;
    if (sodium_init() < 0)
        return ts_fail(e, TS_ERUNTIME, "libsodium failed to initialise");
    struct stat st;
    if (stat(sec, &st) != 0)
        return ts_fail(e, TS_ERUNTIME, "cannot read %s: %s (run 'tiersync init --dir %s')", sec,
                       strerror(errno), dir);
    if (st.st_mode & 077)
        return ts_fail(e, TS_ERUNTIME,
                       "%s is readable by other users (mode %03o); run "
                       "'chmod 600 %s'",
                       sec, (unsigned)(st.st_mode & 0777), sec);
    char *text = NULL;
    int rc = ts_read_file(sec, &text, NULL, e);
    if (rc)
        return rc;
    text[strcspn(text, "\r\n")] = '\0';
    rc = ts_unhex(text, k->sk, sizeof k->sk);
    sodium_memzero(text, strlen(text));
    free(text);
    if (rc) {
        keys_wipe(k);
        return ts_fail(e, TS_ERUNTIME,
                       "%s is not a tiersync secret key (expected %d hex "
                       "digits)",
                       sec, 2 * crypto_sign_SECRETKEYBYTES);
    }
    crypto_sign_ed25519_sk_to_pk(k->pk, k->sk);
    if ((rc = ts_read_file(pub, &text, NULL, e)) != TS_OK) {
        keys_wipe(k);
        return rc;
    }
    text[strcspn(text, "\r\n")] = '\0';
    uint8_t filed[crypto_sign_PUBLICKEYBYTES];
    bool ok = ts_unhex(text, filed, sizeof filed) == 0 && memcmp(filed, k->pk, sizeof filed) == 0;
    free(text);
    if (!ok) {
        keys_wipe(k); /* a refused load leaves no secret behind */
        return ts_fail(e, TS_ERUNTIME, "%s does not match %s; restore the pair from backup", pub,
                       sec);
    }
    return TS_OK;
}

int keys_rename(const char *dir, const char *from, const char *to, ts_err *e)
{
    char fs[TS_PATH_MAX], fp[TS_PATH_MAX], ts[TS_PATH_MAX], tp[TS_PATH_MAX];
    if (named_paths(dir, from, fs, fp, e) || named_paths(dir, to, ts, tp, e))
        return e->code;
    /* the secret first: a crash in between leaves a public file that
     * keys_repair puts next to its secret */
    if (rename(fs, ts) != 0 && errno != ENOENT)
        return ts_fail(e, TS_ERUNTIME, "cannot rename %s to %s: %s", fs, ts, strerror(errno));
    if (rename(fp, tp) != 0 && errno != ENOENT)
        return ts_fail(e, TS_ERUNTIME, "cannot rename %s to %s: %s", fp, tp, strerror(errno));
    return TS_OK;
}

int keys_repair(const char *dir, const char *from, ts_err *e)
{
    char fs[TS_PATH_MAX], fp[TS_PATH_MAX], sec[TS_PATH_MAX], pub[TS_PATH_MAX];
    if (named_paths(dir, from, fs, fp, e) || key_paths(dir, sec, pub, e))
        return e->code;
    if (access(fs, F_OK) == 0 || access(fp, F_OK) != 0)
        return TS_OK;
    if (rename(fp, pub) != 0)
        return ts_fail(e, TS_ERUNTIME, "cannot rename %s to %s: %s", fp, pub, strerror(errno));
    return TS_OK;
}

int keys_remove(const char *dir, const char *suffix, ts_err *e)
{
    char sec[TS_PATH_MAX], pub[TS_PATH_MAX];
    if (named_paths(dir, suffix, sec, pub, e))
        return e->code;
    /* overwrite before unlinking: the old secret leaves no plain copy behind
     * in the file's blocks on simple file systems */
    int fd = open(sec, O_WRONLY);
    if (fd >= 0) {
        static const char zeros[2 * crypto_sign_SECRETKEYBYTES + 1];
        if (write(fd, zeros, sizeof zeros) < 0 || fsync(fd) != 0) { /* unlinked anyway */
        }
        close(fd);
    }
    if ((unlink(sec) != 0 && errno != ENOENT) || (unlink(pub) != 0 && errno != ENOENT))
        return ts_fail(e, TS_ERUNTIME, "cannot remove %s: %s", sec, strerror(errno));
    return TS_OK;
}

bool keys_exist(const char *dir, const char *suffix)
{
    char sec[TS_PATH_MAX], pub[TS_PATH_MAX];
    return named_paths(dir, suffix, sec, pub, NULL) == TS_OK && access(sec, F_OK) == 0;
}

void keys_wipe(keys_t *k)
{
    sodium_memzero(k->sk, sizeof k->sk);
}

int keys_parse_public(const char *hex, uint8_t pk[crypto_sign_PUBLICKEYBYTES], ts_err *e)
{
    uint8_t curve[crypto_scalarmult_curve25519_BYTES];
    if (ts_unhex(hex, pk, crypto_sign_PUBLICKEYBYTES) != 0)
        return ts_fail(e, TS_EINPUT,
                       "'%s' is not a public key: expected %d hex digits as "
                       "printed by 'tiersync key'",
                       hex, KEYS_PUB_HEX_LEN);
    if (crypto_sign_ed25519_pk_to_curve25519(curve, pk) != 0)
        return ts_fail(e, TS_EINPUT,
                       "'%s' is not a valid Ed25519 public key; copy it again "
                       "from 'tiersync key'",
                       hex);
    return TS_OK;
}

void keys_fingerprint(const uint8_t pk[crypto_sign_PUBLICKEYBYTES], char out[KEYS_FINGERPRINT_LEN])
{
    uint8_t h[crypto_generichash_BYTES];
    crypto_generichash(h, sizeof h, pk, crypto_sign_PUBLICKEYBYTES, NULL, 0);
    char hex[17];
    ts_hex(h, 8, hex);
    snprintf(out, KEYS_FINGERPRINT_LEN, "%.4s-%.4s-%.4s-%.4s", hex, hex + 4, hex + 8, hex + 12);
}

int keys_curve_public_raw(const uint8_t ed_pk[crypto_sign_PUBLICKEYBYTES],
                          uint8_t out[crypto_scalarmult_curve25519_BYTES], ts_err *e)
{
    if (crypto_sign_ed25519_pk_to_curve25519(out, ed_pk) != 0)
        return ts_fail(e, TS_EINPUT, "public key cannot be converted to a transport key");
    return TS_OK;
}

int keys_curve_public_z85(const uint8_t ed_pk[crypto_sign_PUBLICKEYBYTES], char out[KEYS_Z85_LEN],
                          ts_err *e)
{
    uint8_t c[crypto_scalarmult_curve25519_BYTES];
    if (keys_curve_public_raw(ed_pk, c, e))
        return e->code;
    zmq_z85_encode(out, c, sizeof c);
    return TS_OK;
}

int keys_curve_secret_z85(const keys_t *k, char out[KEYS_Z85_LEN], ts_err *e)
{
    uint8_t c[crypto_scalarmult_curve25519_BYTES];
    if (crypto_sign_ed25519_sk_to_curve25519(c, k->sk) != 0)
        return ts_fail(e, TS_ERUNTIME, "secret key cannot be converted to a transport key");
    zmq_z85_encode(out, c, sizeof c);
    sodium_memzero(c, sizeof c);
    return TS_OK;
}
