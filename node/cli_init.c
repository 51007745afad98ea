/* cli_init.c: `tiersync init` and `tiersync key`: create and show an identity;
 * `init --join` also enrols the new node at its parent with an invitation. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "join_client.h"
#include "node.h"
#include "tls.h"

static const char init_help[] =
    "usage: tiersync init --dir DIR --code CODE --name NAME --level LEVEL\n"
    "                     [--listen tcp://IP:PORT] [--http IP:PORT]\n"
    "                     [--parent tcp://HOST:PORT --parent-key PUBKEY]\n"
    "                     [--forward-detail all|self] [--catalog FILE] [--force]\n"
    "                     [--tls [--tls-host NAME_OR_IP ...]]\n"
    "       tiersync init --dir DIR --join INVITATION [--name NAME] [--level LEVEL]\n"
    "                     [--listen ...] [--http ...] [--forward-detail ...] [--catalog ...]\n"
    "                     [--tls [--tls-host NAME_OR_IP ...]]\n\n"
    "Creates a node: the data directory, its Ed25519 key pair (node.key, mode 0600),\n"
    "a commented tiersync.conf and an empty store. Refuses if the directory already\n"
    "holds a key, unless --force (which makes a new identity: re-enrol it everywhere).\n\n"
    "With --join, the one line 'tiersync child invite' printed at the parent gives\n"
    "the code, the parent's endpoint and its key (pinned: only that parent can\n"
    "answer); the new node proves it holds the invitation and the parent enrols its\n"
    "key. Nothing is written here unless the parent enrolled it. The name defaults\n"
    "to the one the invitation was made with. Then start: tiersync run --dir DIR\n\n"
    "--tls also makes a self-signed HTTPS certificate (see 'tiersync tls --help')\n"
    "and prints its fingerprint; a commune's register needs it beyond loopback.\n";

static int register_self(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    const ts_config *c = ctx;
    store_unit u = {0};
    snprintf(u.name, sizeof u.name, "%s", c->name);
    snprintf(u.level, sizeof u.level, "%s", c->level);
    if (store_unit_put(s, txn, c->code, &u, e))
        return e->code;
    /* the own unit rides in the next delta upward */
    return store_put(s, txn, DB_ANNOUNCE, c->code, strlen(c->code), "", 0, e);
}

/* --join: the invitation's code, parent and key into cfg. */
static int apply_invitation(ts_config *cfg, const char *text, invite_t *iv, ts_err *e)
{
    char hex[KEYS_PUB_HEX_LEN + 1];
    if (invite_decode(text, iv, e))
        return e->code;
    ts_hex(iv->parent_pk, sizeof iv->parent_pk, hex);
    if (config_set(cfg, "node", "code", iv->code, e) ||
        config_set(cfg, "parent", "endpoint", iv->endpoint, e) ||
        config_set(cfg, "parent", "key", hex, e))
        return ts_err_wrap(e, "the invitation");
    return TS_OK;
}

/* Asks the parent to enrol keys; on success the name it was invited with
 * becomes the node's unless --name gave one. */
static int join_parent(ts_config *cfg, const invite_t *iv, const keys_t *keys, ts_err *e)
{
    join_answer ans;
    if (join_client_run(iv, keys, JOIN_CLIENT_TIMEOUT_MS, &ans, e))
        return e->code;
    if (!cfg->name[0])
        snprintf(cfg->name, sizeof cfg->name, "%s", ans.name[0] ? ans.name : cfg->code);
    char fp[KEYS_FINGERPRINT_LEN];
    keys_fingerprint(iv->parent_pk, fp);
    printf("joined parent %s at %s: enrolled as child %s\n"
           "parent fingerprint: %s (compare with the one the parent's operator reads out)\n",
           ans.parent_code, iv->endpoint, cfg->code, fp);
    return TS_OK;
}

int cli_init(int argc, char **argv)
{
    static const struct option opts[] = {CLI_COMMON_OPTS,
                                         {"code", required_argument, 0, 'c'},
                                         {"name", required_argument, 0, 'n'},
                                         {"level", required_argument, 0, 'l'},
                                         {"listen", required_argument, 0, 'L'},
                                         {"http", required_argument, 0, 'H'},
                                         {"parent", required_argument, 0, 'p'},
                                         {"parent-key", required_argument, 0, 'k'},
                                         {"catalog", required_argument, 0, 'C'},
                                         {"forward-detail", required_argument, 0, 'f'},
                                         {"force", no_argument, 0, 'F'},
                                         {"join", required_argument, 0, 'j'},
                                         {"tls", no_argument, 0, 'T'},
                                         {"tls-host", required_argument, 0, 'N'},
                                         {0, 0, 0, 0}};
    const char *dir = NULL, *join = NULL;
    bool force = false, named_parent = false, tls = false;
    const char *tls_hosts[TLS_MAX_NAMES];
    int ntls_hosts = 0;
    ts_config cfg;
    ts_err e = {0};
    struct {
        char sec[16], key[24];
        const char *val;
    } sets[12];
    int nsets = 0, o;
    while ((o = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        const char *sec = NULL, *key = NULL;
        switch (o) {
        case 'd': dir = optarg; break;
        case 'h': fputs(init_help, stdout); return 0;
        case 'F': force = true; break;
        case 'j': join = optarg; break;
        case 'T': tls = true; break;
        case 'N':
            if (ntls_hosts == TLS_MAX_NAMES)
                return cli_usage_error("init", "at most %d --tls-host", TLS_MAX_NAMES);
            tls_hosts[ntls_hosts++] = optarg;
            break;
        case 'c': sec = "node", key = "code", named_parent = true; break;
        case 'n': sec = "node", key = "name"; break;
        case 'l': sec = "node", key = "level"; break;
        case 'C': sec = "node", key = "catalog"; break;
        case 'L': sec = "listen", key = "endpoint"; break;
        case 'H': sec = "http", key = "address"; break;
        case 'p': sec = "parent", key = "endpoint", named_parent = true; break;
        case 'k': sec = "parent", key = "key", named_parent = true; break;
        case 'f': sec = "parent", key = "forward_detail"; break;
        default: return cli_usage_error("init", "unknown option");
        }
        if (sec && nsets < (int)(sizeof sets / sizeof sets[0])) {
            snprintf(sets[nsets].sec, sizeof sets[nsets].sec, "%s", sec);
            snprintf(sets[nsets].key, sizeof sets[nsets].key, "%s", key);
            sets[nsets++].val = optarg;
        }
    }
    if (optind < argc)
        return cli_usage_error("init", "unexpected argument '%s'", argv[optind]);
    if (join && named_parent)
        return cli_usage_error("init",
                               "--join gives the code, the parent and its key: leave "
                               "out --code, --parent and --parent-key");
    dir = cli_dir(dir);
    config_defaults(&cfg, dir);
    for (int i = 0; i < nsets; i++)
        if (config_set(&cfg, sets[i].sec, sets[i].key, sets[i].val, &e))
            return cli_report(&e);
    invite_t iv;
    if (join && apply_invitation(&cfg, join, &iv, &e))
        return cli_report(&e);
    if (!cfg.code[0] || (!cfg.name[0] && !join))
        return cli_usage_error("init", "--code and --name are required (or --join)");
    if (cfg.parent[0] && !cfg.parent_key[0])
        return cli_usage_error("init", "--parent needs --parent-key (the parent's 'tiersync key')");
    char catpath[TS_PATH_MAX];
    catalog_t *cat = NULL;
    if (catalog_resolve_path(cfg.catalog[0] ? cfg.catalog : NULL, catpath, sizeof catpath, &e) ||
        catalog_load(&cat, catpath, &e))
        return cli_report(&e);
    catalog_destroy(&cat);

    bool made_dir = mkdir(dir, 0750) == 0;
    if (!made_dir && errno != EEXIST) {
        ts_fail(&e, TS_ERUNTIME, "cannot create %s: %s", dir, strerror(errno));
        return cli_report(&e);
    }
    keys_t keys;
    store_t *store = NULL;
    int rc = keys_check_new(dir, force, &e) || keys_generate(&keys, &e) ||
        (join && join_parent(&cfg, &iv, &keys, &e));
    bool joined = join && !rc;
    if (!rc)
        rc = keys_save(&keys, dir, force, &e) || config_write(&cfg, &e) ||
            store_open(&store, &cfg, &e) || store_write(store, register_self, &cfg, &e);
    store_close(&store);
    if (rc && joined)
        ts_err_wrap(&e,
                    "the parent enrolled this node's key, but the node could not be "
                    "written here: fix this, then ask for a new invitation (the parent's "
                    "operator first runs 'tiersync child remove %s')",
                    cfg.code);
    sodium_memzero(&iv, sizeof iv);
    if (rc) {
        keys_wipe(&keys);
        if (made_dir)
            rmdir(dir); /* a refused join leaves nothing behind (fails if something was written) */
        return cli_report(&e);
    }
    if (tls && cli_tls_make(&cfg, tls_hosts, ntls_hosts, force, &e)) {
        keys_wipe(&keys);
        return cli_report(&e); /* the node is made: 'tiersync tls' can try again */
    }
    char hex[KEYS_PUB_HEX_LEN + 1], fp[KEYS_FINGERPRINT_LEN];
    ts_hex(keys.pk, sizeof keys.pk, hex);
    keys_fingerprint(keys.pk, fp);
    keys_wipe(&keys);
    printf("initialised node %s (%s, %s) in %s\n"
           "public key:  %s\n"
           "fingerprint: %s\n",
           cfg.code, cfg.name, cfg.level, dir, hex, fp);
    if (join)
        printf("The parent enrolled this key; it reads the same fingerprint in its log.\n"
               "Start: tiersync run --dir %s\n",
               dir);
    else
        printf("Give the public key to the parent's operator ('tiersync child add %s KEY');\n"
               "read the fingerprint aloud to check it. Then start: tiersync run --dir %s\n",
               cfg.code, dir);
    return 0;
}

static const char key_help[] =
    "usage: tiersync key --dir DIR [--fingerprint]\n"
    "       tiersync key --fingerprint PUBKEY\n"
    "       tiersync key rotate --dir DIR [--unannounced]\n\n"
    "Prints this node's public key (64 hex digits, one line), or with --fingerprint\n"
    "its short fingerprint for reading aloud. Given a PUBKEY (e.g. the parent key in\n"
    "tiersync.conf), prints that key's fingerprint, to compare over the phone.\n\n"
    "rotate makes a new key pair and announces it, signed by the old key, to the\n"
    "parent (which enrols it in place of the old one) and to every child (which\n"
    "pins it): the chain of deltas continues. The old key stays in node.key.old\n"
    "until every link has the new one, then it is wiped. With the daemon running\n"
    "it takes the rotation up within a second; else 'tiersync run' does.\n"
    "--unannounced is for a key that was stolen (docs/OPERATIONS.md): with the\n"
    "daemon stopped, the new pair replaces the old at once and nothing is\n"
    "announced; the parent's operator enrols it with 'child add --force', each\n"
    "child pins it with 'tiersync parent set-key'.\n";

int cli_key(int argc, char **argv)
{
    static const struct option opts[] = {CLI_COMMON_OPTS,
                                         {"fingerprint", no_argument, 0, 'f'},
                                         {"unannounced", no_argument, 0, 'u'},
                                         {0, 0, 0, 0}};
    const char *dir = NULL;
    bool fingerprint = false, unannounced = false;
    int o;
    while ((o = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        switch (o) {
        case 'd': dir = optarg; break;
        case 'h': fputs(key_help, stdout); return 0;
        case 'f': fingerprint = true; break;
        case 'u': unannounced = true; break;
        default: return cli_usage_error("key", "unknown option");
        }
    }
    keys_t k;
    ts_err e = {0};
    if (optind < argc && !strcmp(argv[optind], "rotate")) {
        if (fingerprint || optind + 1 < argc)
            return cli_usage_error("key", "rotate takes only --dir and --unannounced");
        return cli_key_rotate(cli_dir(dir), unannounced);
    }
    if (unannounced)
        return cli_usage_error("key", "--unannounced is for rotate");
    if (optind < argc && (!fingerprint || optind + 1 < argc))
        return cli_usage_error("key", "unexpected argument '%s'", argv[optind]);
    if (optind < argc) {
        char fp[KEYS_FINGERPRINT_LEN];
        if (keys_parse_public(argv[optind], k.pk, &e))
            return cli_report(&e);
        keys_fingerprint(k.pk, fp);
        puts(fp);
        return 0;
    }
    if (keys_load(&k, cli_dir(dir), &e))
        return cli_report(&e);
    keys_wipe(&k);
    if (fingerprint) {
        char fp[KEYS_FINGERPRINT_LEN];
        keys_fingerprint(k.pk, fp);
        puts(fp);
    } else {
        char hex[KEYS_PUB_HEX_LEN + 1];
        ts_hex(k.pk, sizeof k.pk, hex);
        puts(hex);
    }
    return 0;
}
