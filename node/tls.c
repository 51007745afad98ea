/* tls.c: certificate files for HTTPS (tls.h), with GnuTLS. */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "util.h"

#define TLS_SERIAL_BYTES 16
#define TLS_DAY_S (24 * 3600)

static int resolve(const ts_config *cfg, const char *file, char *out, size_t outsz, ts_err *e)
{
    return file[0] == '/' ? ts_path(out, outsz, e, "%s", file)
                          : ts_path(out, outsz, e, "%s/%s", cfg->dir, file);
}

void tls_free_pem(char **pem)
{
    if (!pem || !*pem)
        return;
    memset(*pem, 0, strlen(*pem));
    free(*pem);
    *pem = NULL;
}

int tls_load(const ts_config *cfg, char **cert, char **key, ts_err *e)
{
    char cpath[TS_PATH_MAX], kpath[TS_PATH_MAX];
    size_t len;
    struct stat st;
    *cert = *key = NULL;
    if (!cfg->tls_cert[0] || !cfg->tls_key[0])
        return ts_fail(e, TS_EINPUT,
                       "http.tls_cert and http.tls_key go together: set both "
                       "(HTTPS) or neither (plain HTTP)");
    if (resolve(cfg, cfg->tls_cert, cpath, sizeof cpath, e) ||
        resolve(cfg, cfg->tls_key, kpath, sizeof kpath, e))
        return e->code;
    if (stat(kpath, &st) == 0 && (st.st_mode & 077))
        return ts_fail(e, TS_EINPUT, "%s is readable by others: 'chmod 600 %s'", kpath, kpath);
    if (ts_read_file(cpath, cert, &len, e) || ts_read_file(kpath, key, &len, e)) {
        tls_free_pem(cert);
        return ts_err_wrap(e, "http.tls_cert/tls_key");
    }
    return TS_OK;
}

bool tls_address_loopback(const char *a)
{
    return !strncmp(a, "127.", 4) || !strncmp(a, "[::1]:", 6) || !strncmp(a, "localhost:", 10);
}

static int gt_fail(ts_err *e, int rc, const char *what)
{
    return ts_fail(e, TS_ERUNTIME, "tls: %s: %s", what, gnutls_strerror(rc));
}

static void fingerprint_text(const unsigned char *d, size_t n, char out[TLS_FINGERPRINT_MAX])
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 3 < TLS_FINGERPRINT_MAX; i++)
        o += (size_t)snprintf(out + o, TLS_FINGERPRINT_MAX - o, "%s%02X", i ? ":" : "", d[i]);
}

static int crt_fingerprint(gnutls_x509_crt_t crt, char out[TLS_FINGERPRINT_MAX], ts_err *e)
{
    unsigned char d[32];
    size_t n = sizeof d;
    int rc = gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, d, &n);
    if (rc < 0)
        return gt_fail(e, rc, "fingerprint");
    fingerprint_text(d, n, out);
    return TS_OK;
}

int tls_fingerprint(const char *pem, char out[TLS_FINGERPRINT_MAX], ts_err *e)
{
    gnutls_x509_crt_t crt;
    gnutls_datum_t d = {(unsigned char *)pem, (unsigned)strlen(pem)};
    int rc = gnutls_x509_crt_init(&crt);
    if (rc < 0)
        return gt_fail(e, rc, "init");
    rc = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM);
    int r = rc < 0 ? gt_fail(e, rc, "not a PEM certificate") : crt_fingerprint(crt, out, e);
    gnutls_x509_crt_deinit(crt);
    return r;
}

/* Adds a host name or an IP address as a subject alternative name. */
static int add_name(gnutls_x509_crt_t crt, const char *name)
{
    unsigned char ip[16];
    if (inet_pton(AF_INET, name, ip) == 1)
        return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, 4,
                                                    GNUTLS_FSAN_APPEND);
    if (inet_pton(AF_INET6, name, ip) == 1)
        return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, 16,
                                                    GNUTLS_FSAN_APPEND);
    return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, name,
                                                (unsigned)strlen(name), GNUTLS_FSAN_APPEND);
}

static int build(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char *cn,
                 const char *const *names, int nnames)
{
    unsigned char serial[TLS_SERIAL_BYTES];
    time_t now = time(NULL);
    int rc;
    gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof serial);
    serial[0] &= 0x7f; /* a positive number */
    if ((rc = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
        (rc = gnutls_x509_crt_set_serial(crt, serial, sizeof serial)) < 0 ||
        (rc = gnutls_x509_crt_set_activation_time(crt, now - TLS_DAY_S)) < 0 ||
        (rc = gnutls_x509_crt_set_expiration_time(crt, now + (time_t)TLS_VALID_DAYS * TLS_DAY_S)) <
            0 ||
        (rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
                                            (unsigned)strlen(cn))) < 0 ||
        (rc = gnutls_x509_crt_set_key(crt, key)) < 0 ||
        (rc = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
        (rc = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
        (rc = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0 ||
        (rc = add_name(crt, "localhost")) < 0 || (rc = add_name(crt, "127.0.0.1")) < 0)
        return rc;
    for (int i = 0; i < nnames && i < TLS_MAX_NAMES; i++)
        if ((rc = add_name(crt, names[i])) < 0)
            return rc;
    return gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0);
}

static int write_pem(const char *path, const gnutls_datum_t *d, int mode, ts_err *e)
{
    return ts_write_file(path, d->data, d->size, mode, e);
}

int tls_make_self_signed(const char *dir, const char *cn, const char *const *names, int nnames,
                         bool force, char fingerprint[TLS_FINGERPRINT_MAX], ts_err *e)
{
    char tdir[TS_PATH_MAX], cpath[TS_PATH_MAX], kpath[TS_PATH_MAX];
    if (ts_path(tdir, sizeof tdir, e, "%s/%s", dir, TLS_DIR) ||
        ts_path(cpath, sizeof cpath, e, "%s/%s", dir, TLS_CERT_FILE) ||
        ts_path(kpath, sizeof kpath, e, "%s/%s", dir, TLS_KEY_FILE))
        return e->code;
    struct stat st;
    if (!force && (stat(cpath, &st) == 0 || stat(kpath, &st) == 0))
        return ts_fail(e, TS_EINPUT,
                       "%s already holds a certificate; --force makes a new one "
                       "(browsers will warn again: compare the new fingerprint)",
                       tdir);
    if (mkdir(tdir, 0700) != 0 && errno != EEXIST)
        return ts_fail(e, TS_ERUNTIME, "cannot create %s: %s", tdir, strerror(errno));
    gnutls_x509_privkey_t key = NULL;
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t kpem = {0}, cpem = {0};
    int rc;
    if ((rc = gnutls_x509_privkey_init(&key)) < 0 ||
        (rc = gnutls_x509_privkey_generate(
             key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) < 0 ||
        (rc = gnutls_x509_crt_init(&crt)) < 0 || (rc = build(crt, key, cn, names, nnames)) < 0 ||
        (rc = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &kpem)) < 0 ||
        (rc = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cpem)) < 0)
        rc = gt_fail(e, rc, "cannot make the certificate");
    else if ((rc = write_pem(kpath, &kpem, 0600, e)) == TS_OK &&
             (rc = write_pem(cpath, &cpem, 0644, e)) == TS_OK)
        rc = crt_fingerprint(crt, fingerprint, e);
    if (kpem.data) {
        memset(kpem.data, 0, kpem.size);
        gnutls_free(kpem.data);
    }
    gnutls_free(cpem.data);
    if (crt)
        gnutls_x509_crt_deinit(crt);
    if (key)
        gnutls_x509_privkey_deinit(key);
    return rc;
}
