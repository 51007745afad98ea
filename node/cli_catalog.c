/* cli_catalog.c: `tiersync catalog publish|show`: the root signs a new
 * catalog version for its tree; any node shows the version in force and who
 * signed and endorsed it (catalog_doc.h, docs/CATALOG.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_doc.h"
#include "cli.h"
#include "util.h"

static const char catalog_help[] =
    "usage: tiersync catalog publish --dir DIR FILE\n"
    "       tiersync catalog show --dir DIR\n\n"
    "publish (at the root of the tree only) checks that FILE is a valid catalog\n"
    "that may follow the one in force (same id, higher version, only additions and\n"
    "retirements: docs/CATALOG.md), signs it with this node's key and puts it in\n"
    "force. The running daemon takes it up within seconds and offers it to its\n"
    "children, which fetch, check and adopt it, and so on down the tree. A refused\n"
    "catalog changes nothing; the message names the code and what changed.\n"
    "show prints the catalog in force: id, version, file, and for a signed version\n"
    "the root key that signed it and the key that endorsed it (the parent's, or the\n"
    "root's own at the root).\n"
    "Exit status: 0 done, 1 failure at run time, 2 refused input.\n";

static int publish(node_t *n, const char *file, ts_err *e)
{
    catalog_doc d = {0};
    catalog_t *next = NULL, *loaded = NULL;
    uint8_t pinned[crypto_sign_PUBLICKEYBYTES];
    char fp[KEYS_FINGERPRINT_LEN];
    if (n->cfg.parent[0])
        return ts_fail(
            e, TS_EINPUT,
            "this node has a parent (%s): only the root of the tree publishes a catalog; its "
            "children receive it over the link",
            n->cfg.parent);
    if (catdoc_root_key(n->cfg.dir, pinned) &&
        sodium_memcmp(pinned, n->keys.pk, sizeof pinned) != 0) {
        keys_fingerprint(pinned, fp);
        return ts_fail(e, TS_EINPUT,
                       "this node pins root key %s, not its own: it is not the catalog's root", fp);
    }
    if (catalog_load(&next, file, e))
        return e->code;
    snprintf(d.id, sizeof d.id, "%s", next->id);
    d.version = next->version;
    catalog_destroy(&next);
    if (ts_read_file(file, (char **)&d.data, &d.len, e))
        return e->code;
    catdoc_hash(d.data, d.len, d.hash);
    memcpy(d.root_pk, n->keys.pk, sizeof d.root_pk);
    memcpy(d.endorser_pk, n->keys.pk, sizeof d.endorser_pk);
    catdoc_root_sign(&n->keys, d.data, d.len, d.root_sig);
    catdoc_endorse(&n->keys, d.hash, d.version, d.endorsement);
    int rc = catdoc_accept(n, &d, &loaded, e);
    free(d.data);
    if (rc)
        return rc;
    keys_fingerprint(n->keys.pk, fp);
    printf("published catalog %s version %d (was version %d), signed by root key %s\n", loaded->id,
           loaded->version, n->catalog->version, fp);
    printf("the running daemon puts it in force and offers it to its children within seconds\n");
    catalog_destroy(&loaded);
    return TS_OK;
}

static int show(node_t *n, ts_err *e)
{
    catalog_doc *d = NULL;
    char fp[KEYS_FINGERPRINT_LEN];
    const catalog_t *c = n->catalog;
    printf("catalog %s version %d\nfile %s\n", c->id, c->version, c->path);
    if (catdoc_load(&d, n->cfg.dir, e))
        return e->code;
    if (!d) {
        printf("signed: no (the installed or configured file; no signed version adopted yet)\n");
        return TS_OK;
    }
    bool root_ok = catdoc_root_verify(d->root_pk, d->data, d->len, d->root_sig);
    bool end_ok = catdoc_endorse_verify(d->endorser_pk, d->hash, d->version, d->endorsement);
    keys_fingerprint(d->root_pk, fp);
    printf("signed by root %s (%s)\n", fp, root_ok ? "signature holds" : "SIGNATURE DOES NOT HOLD");
    keys_fingerprint(d->endorser_pk, fp);
    bool self = sodium_memcmp(d->endorser_pk, d->root_pk, sizeof d->root_pk) == 0 &&
        !n->cfg.parent[0];
    printf("endorsed by %s%s (%s)\n", fp, self ? ", the root itself" : ", the parent",
           end_ok ? "endorsement holds" : "ENDORSEMENT DOES NOT HOLD");
    catdoc_destroy(&d);
    return root_ok && end_ok
        ? TS_OK
        : ts_fail(e, TS_ERUNTIME, "the signed catalog's files do not hold together");
}

int cli_catalog(int argc, char **argv)
{
    static const struct option opts[] = {CLI_COMMON_OPTS, {0, 0, 0, 0}};
    const char *dir = NULL;
    int o;
    while ((o = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        switch (o) {
        case 'd': dir = optarg; break;
        case 'h': fputs(catalog_help, stdout); return 0;
        default: return cli_usage_error("catalog", "unknown option");
        }
    }
    const char *verb = optind < argc ? argv[optind++] : NULL;
    bool pub = verb && !strcmp(verb, "publish");
    if (!verb || (!pub && strcmp(verb, "show") != 0))
        return cli_usage_error("catalog", "expected 'publish FILE' or 'show'");
    if (pub && optind != argc - 1)
        return cli_usage_error("catalog", "publish takes one FILE");
    if (!pub && optind != argc)
        return cli_usage_error("catalog", "unexpected argument '%s'", argv[optind]);
    node_t n;
    ts_err e = {0};
    if (node_open(&n, cli_dir(dir), pub ? NODE_OPEN_KEYS : 0, &e))
        return cli_report(&e);
    int rc = pub ? publish(&n, argv[optind], &e) : show(&n, &e);
    node_close(&n);
    return rc ? cli_report(&e) : 0;
}
