/* cli_rotate.c: `tiersync key rotate` (a planned key rotation, rotate.h) and
 * `tiersync parent set-key` (pinning a parent key read out of band, when
 * the parent's old key was compromised and cannot announce the new one). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "daemon.h"
#include "outbox.h"
#include "rotate_node.h"
#include "rotate_link.h"

#define CLI_ROTATE_WAIT_TRIES 100 /* the daemon takes a request up within a second */
#define CLI_ROTATE_WAIT_US 100000

/* The daemon serving dir records the rotation on its next tick. */
static bool wait_for_daemon(node_t *n)
{
    rotate_state st;
    for (int i = 0; i < CLI_ROTATE_WAIT_TRIES; i++) {
        if (rotate_pending(n, &st) || !keys_exist(n->cfg.dir, ROTATE_NEW_SUFFIX))
            return true;
        usleep(CLI_ROTATE_WAIT_US);
    }
    return false;
}

/* The old key may be in a thief's hands: it announces nothing. The new
 * pair replaces it at once and the chain restarts with a snapshot signed
 * by it (deltas not yet acknowledged were made under the old key, which
 * the parent no longer accepts once 'child add --force' enrolled the new
 * one). Run again if interrupted: it makes a fresh pair and snapshot. */
static int rotate_unannounced(node_t *n, ts_err *e)
{
    keys_t next;
    uint64_t first;
    rotate_state st;
    if (rotate_pending(n, &st))
        return ts_fail(e, TS_EINPUT,
                       "a planned key rotation is under way at %s; let it "
                       "finish first",
                       n->cfg.dir);
    if (keys_generate(&next, e))
        return e->code;
    n->keys = next;
    n->has_keys = true; /* node_close wipes it */
    if (outbox_snapshot(n, 0, &first, e) ||
        keys_save_as(&n->keys, n->cfg.dir, ROTATE_NEW_SUFFIX, e) ||
        keys_rename(n->cfg.dir, ROTATE_NEW_SUFFIX, "", e))
        return e->code;
    return TS_OK;
}

static int key_rotate_unannounced(const char *dir)
{
    node_t n;
    ts_err e = {0};
    int lockfd = -1;
    if (node_open(&n, dir, 0, &e)) /* the old key is not needed: it may be lost */
        return cli_report(&e);
    int rc = daemon_lock(dir, &lockfd, &e);
    if (rc == TS_OK)
        rc = rotate_unannounced(&n, &e);
    else
        ts_fail(&e, TS_EINPUT,
                "stop 'tiersync run' on %s first: --unannounced replaces the "
                "key under it",
                dir);
    if (lockfd >= 0)
        close(lockfd);
    if (rc == TS_OK) {
        char fp[KEYS_FINGERPRINT_LEN], hex[KEYS_PUB_HEX_LEN + 1];
        keys_fingerprint(n.keys.pk, fp);
        ts_hex(n.keys.pk, sizeof n.keys.pk, hex);
        printf("new key %s\nfingerprint %s\nnot announced: enrol it at the parent with "
               "'tiersync child add --force CODE KEY' and pin it at every child with "
               "'tiersync parent set-key', then start 'tiersync run'\n",
               hex, fp);
    }
    node_close(&n);
    return rc ? cli_report(&e) : 0;
}

int cli_key_rotate(const char *dir, bool unannounced)
{
    if (unannounced)
        return key_rotate_unannounced(dir);
    node_t n;
    ts_err e = {0};
    int lockfd = -1;
    if (node_open(&n, dir, NODE_OPEN_KEYS, &e))
        return cli_report(&e);
    int rc = rotate_request(&n, &e);
    bool daemon = rc == TS_OK && daemon_lock(dir, &lockfd, &e) != TS_OK;
    bool changed;
    if (rc == TS_OK && !daemon)
        rc = rotate_advance(&n, &changed, &e); /* no daemon: this process serves dir */
    if (lockfd >= 0)
        close(lockfd);
    if (rc == TS_OK) {
        keys_t next;
        char fp[KEYS_FINGERPRINT_LEN], hex[KEYS_PUB_HEX_LEN + 1];
        bool taken = !daemon || wait_for_daemon(&n);
        if (keys_load_as(&next, dir, taken ? "" : ROTATE_NEW_SUFFIX, &e) == TS_OK) {
            keys_wipe(&next);
            keys_fingerprint(next.pk, fp);
            ts_hex(next.pk, sizeof next.pk, hex);
            printf("new key %s\nfingerprint %s\n", hex, fp);
            printf(daemon ? (taken ? "the running daemon announces it to the parent and every "
                                     "child; 'tiersync status' shows when all have it\n"
                                   : "the running daemon has not taken it up yet; it announces "
                                     "it on its next tick\n")
                          : "it is announced to the parent and every child when "
                            "'tiersync run' starts\n");
        }
    }
    node_close(&n);
    return rc ? cli_report(&e) : 0;
}

static const char parent_help[] =
    "usage: tiersync parent set-key --dir DIR PUBKEY\n\n"
    "Pins PUBKEY (64 hex digits, as 'tiersync key' prints it on the parent) as the\n"
    "parent's key in tiersync.conf: for a parent whose old key was compromised and\n"
    "so cannot announce its new one. Compare the fingerprint with the parent's\n"
    "operator over another channel, then restart 'tiersync run'. A planned rotation\n"
    "at the parent ('tiersync key rotate') reaches its children by itself.\n";

static int forget_prev(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    (void)vctx;
    return store_del(s, txn, DB_META, ROTATE_META_PARENT_PREV, strlen(ROTATE_META_PARENT_PREV), e);
}

static int set_key(const char *dir, const char *hex)
{
    node_t n;
    ts_err e = {0};
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    if (keys_parse_public(hex, pk, &e))
        return cli_report(&e);
    if (node_open(&n, dir, 0, &e))
        return cli_report(&e);
    int rc = TS_OK;
    if (!n.cfg.parent[0])
        rc = ts_fail(&e, TS_EINPUT,
                     "%s has no parent (parent.endpoint is empty): nothing to "
                     "pin",
                     dir);
    ts_config next = n.cfg;
    ts_hex(pk, sizeof pk, next.parent_key);
    /* the key a rotation left to try is the compromised one: forget it */
    if (rc == TS_OK && (rc = store_write(n.store, forget_prev, NULL, &e)) == TS_OK &&
        (rc = config_write(&next, &e)) == TS_OK) {
        char fp[KEYS_FINGERPRINT_LEN];
        keys_fingerprint(pk, fp);
        printf("parent key %s pinned (fingerprint %s); restart 'tiersync run' to use it\n", hex,
               fp);
    }
    node_close(&n);
    return rc ? cli_report(&e) : 0;
}

int cli_parent(int argc, char **argv)
{
    const char *dir;
    int rc = cli_parse_dir_only(argc, argv, "parent", parent_help, &dir);
    if (rc >= 0)
        return rc;
    if (argc - optind != 2 || strcmp(argv[optind], "set-key") != 0)
        return cli_usage_error("parent", "say set-key PUBKEY");
    return set_key(cli_dir(dir), argv[optind + 1]);
}
