/* cli_tls.c: `tiersync tls`: a self-signed certificate for a node's HTTPS
 * (tls.h), entered in tiersync.conf; also run by `tiersync init --tls`. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "tls.h"

static const char tls_help[] =
    "usage: tiersync tls --dir DIR [--host NAME_OR_IP ...] [--force]\n"
    "       tiersync tls --dir DIR --fingerprint\n\n"
    "Makes a key and a self-signed certificate (DIR/tls/key.pem, mode 0600, and\n"
    "DIR/tls/cert.pem) for the names and addresses the office's PCs use to reach\n"
    "this node (--host, repeatable; localhost and 127.0.0.1 are always in), sets\n"
    "[http] tls_cert and tls_key in tiersync.conf, and prints the certificate's\n"
    "SHA-256 fingerprint: compare it with the one the browser shows the first time\n"
    "(lock icon, certificate details) before accepting. Restart the node after.\n"
    "--fingerprint prints the fingerprint of the configured certificate.\n";

int cli_tls_make(ts_config *cfg, const char *const *hosts, int nhosts, bool force, ts_err *e)
{
    char fp[TLS_FINGERPRINT_MAX];
    if (tls_make_self_signed(cfg->dir, cfg->name[0] ? cfg->name : cfg->code, hosts, nhosts, force,
                             fp, e))
        return e->code;
    snprintf(cfg->tls_cert, sizeof cfg->tls_cert, "%s", TLS_CERT_FILE);
    snprintf(cfg->tls_key, sizeof cfg->tls_key, "%s", TLS_KEY_FILE);
    if (config_write(cfg, e))
        return e->code;
    printf("HTTPS certificate: %s/%s (key %s/%s, mode 0600)\n"
           "SHA-256 fingerprint: %s\n"
           "Compare it with what the browser shows before accepting the certificate.\n",
           cfg->dir, TLS_CERT_FILE, cfg->dir, TLS_KEY_FILE, fp);
    return TS_OK;
}

static int show(const ts_config *cfg, ts_err *e)
{
    char *cert, *key, fp[TLS_FINGERPRINT_MAX];
    if (tls_load(cfg, &cert, &key, e))
        return e->code;
    int rc = tls_fingerprint(cert, fp, e);
    tls_free_pem(&cert);
    tls_free_pem(&key);
    if (rc == TS_OK)
        puts(fp);
    return rc;
}

int cli_tls(int argc, char **argv)
{
    static const struct option opts[] = {CLI_COMMON_OPTS,
                                         {"host", required_argument, 0, 'H'},
                                         {"force", no_argument, 0, 'F'},
                                         {"fingerprint", no_argument, 0, 'f'},
                                         {0, 0, 0, 0}};
    const char *dir = NULL, *hosts[TLS_MAX_NAMES];
    int nhosts = 0, o;
    bool force = false, fingerprint = false;
    while ((o = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        switch (o) {
        case 'd': dir = optarg; break;
        case 'h': fputs(tls_help, stdout); return 0;
        case 'F': force = true; break;
        case 'f': fingerprint = true; break;
        case 'H':
            if (nhosts == TLS_MAX_NAMES)
                return cli_usage_error("tls", "at most %d --host", TLS_MAX_NAMES);
            hosts[nhosts++] = optarg;
            break;
        default: return cli_usage_error("tls", "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error("tls", "unexpected argument '%s'", argv[optind]);
    ts_config cfg;
    ts_err e = {0};
    if (config_load(&cfg, cli_dir(dir), &e))
        return cli_report(&e);
    int rc = fingerprint ? show(&cfg, &e) : cli_tls_make(&cfg, hosts, nhosts, force, &e);
    return rc ? cli_report(&e) : 0;
}
