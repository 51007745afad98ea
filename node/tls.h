/* tls.h: HTTPS for a node's HTTP server: loading [http] tls_cert and
 * tls_key, and making a self-signed certificate (GnuTLS) for a commune's
 * register, whose SHA-256 fingerprint the officer compares with the one
 * the browser shows before trusting it. */
#ifndef TIERSYNC_TLS_H
#define TIERSYNC_TLS_H

#include <stdbool.h>

#include "config.h"

#define TLS_DIR "tls"
#define TLS_CERT_FILE "tls/cert.pem"
#define TLS_KEY_FILE "tls/key.pem"
#define TLS_FINGERPRINT_MAX 96 /* "AB:CD:..." of 32 bytes, with the NUL */
#define TLS_VALID_DAYS 3650
#define TLS_MAX_NAMES 8 /* host names and addresses in one certificate */

/* Reads the PEM certificate and key named by cfg (paths relative to the
 * data directory unless absolute). TS_EINPUT when only one is set, or when
 * the key file is readable by others than its owner; TS_ERUNTIME when a
 * file cannot be read. Free both with tls_free_pem. */
int tls_load(const ts_config *cfg, char **cert, char **key, ts_err *e);
void tls_free_pem(char **pem);

/* True when an IP:PORT address is a loopback one (127.0.0.0/8, [::1]). */
bool tls_address_loopback(const char *address);

/* Makes a new key (ECDSA P-256) and a self-signed certificate for names
 * (host names or IP addresses; "localhost" and 127.0.0.1 always added),
 * valid TLS_VALID_DAYS, written to DIR/tls/cert.pem and DIR/tls/key.pem
 * (0600). Refuses to replace existing files unless force. */
int tls_make_self_signed(const char *dir, const char *common_name, const char *const *names,
                         int nnames, bool force, char fingerprint[TLS_FINGERPRINT_MAX], ts_err *e);

/* The SHA-256 fingerprint of the first certificate of a PEM text, as the
 * browser shows it (AB:CD:...). */
int tls_fingerprint(const char *pem, char fingerprint[TLS_FINGERPRINT_MAX], ts_err *e);

#endif
