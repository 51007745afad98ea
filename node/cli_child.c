/* cli_child.c: `tiersync child add|remove|list`: enrolment of child nodes
 * (the work is in enrol.c and link_state.c; invitations, `child invite`, are
 * in cli_invite.c).
 *
 * Enrolment is explicit: the operator types the child's code and public key,
 * or invites the child, which then enrols itself. The running daemon reads
 * the children table on every handshake and every delta, so a change takes
 * effect without a restart. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "enrol.h"
#include "link_state.h"
#include "node.h"
#include "rotate.h"

static const char child_help[] =
    "usage: tiersync child add    --dir DIR [--force] CODE PUBKEY\n"
    "       tiersync child remove --dir DIR [--purge] CODE\n"
    "       tiersync child list   --dir DIR\n"
    "       tiersync child invite --dir DIR CODE [--name NAME] [--expires 7d]\n"
    "       tiersync child invite --dir DIR --csv UNITS.csv [--out INVITATIONS.csv] [--expires 7d]\n"
    "       tiersync child invites --dir DIR\n"
    "       tiersync child revoke-invite --dir DIR CODE\n\n"
    "add enrols a child node: only enrolled keys can connect, and a child's deltas\n"
    "are accepted only for its own subtree. PUBKEY is the 64 hex digits printed by\n"
    "'tiersync key' on the child; compare fingerprints with its operator.\n"
    "add --force replaces the key of an enrolled child (its key was stolen or\n"
    "lost): read the new one out of band. Its deltas already applied keep\n"
    "verifying with the old key; nothing new is accepted under it. A planned\n"
    "change needs none of this: 'tiersync key rotate' on the child.\n"
    "remove revokes the key at once; the numbers it already sent stay counted.\n"
    "remove --purge also takes its numbers out (here and, through the next delta,\n"
    "at every ancestor) and forgets its units: the first step of moving a unit to\n"
    "another parent, e.g. a commune that now reports straight to the province.\n\n"
    "invite prints a one-time invitation (one line) for the unit CODE and this\n"
    "node's fingerprint: at the child, 'tiersync init --dir DIR --join LINE' makes\n"
    "the node and enrols it here (the daemon must run: its join socket, join.listen,\n"
    "is open while invitations are outstanding). It works once, until it expires\n"
    "(--expires: d, h, m or s; default 7d); inviting a code again replaces its\n"
    "invitation. With --csv, one invitation per line code,name of UNITS.csv, as CSV\n"
    "(code,name,invitation,expires,parent_fingerprint) to --out (mode 0600) or\n"
    "stdout. invites lists the open ones; only a hash-like key of each is kept.\n";

typedef struct {
    const char *code;
    uint8_t pk[32];
    bool existed, force;
} enrol_ctx;

static int do_add(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    enrol_ctx *c = vctx;
    store_child ch;
    if (c->force && store_child_get(s, txn, c->code, &ch) == TS_OK &&
        memcmp(ch.pk, c->pk, sizeof ch.pk) != 0) /* the old key: only what it signed already */
        return rotate_replace(s, txn, c->code, &ch, c->pk, ch.last_seq + 1, e);
    return enrol_child(s, txn, c->code, c->pk, &c->existed, e);
}

typedef struct {
    const char *code;
    bool purge;
} remove_ctx;

static int do_remove(store_t *s, store_txn *txn, void *vctx, ts_err *e)
{
    remove_ctx *c = vctx;
    return link_state_remove_child(s, txn, c->code, c->purge, e);
}

static void fmt_time(int64_t ms, char *out, size_t n)
{
    char iso[TS_ISO_TIME_MAX];
    ts_iso_time(ms, iso);
    snprintf(out, n, "%s", ms ? iso : "never");
}

static void list_one(const link_child *c, void *ctx)
{
    (void)ctx;
    char fp[KEYS_FINGERPRINT_LEN], seen[32];
    keys_fingerprint(c->rec.pk, fp);
    fmt_time(c->rec.last_seen_ms, seen, sizeof seen);
    printf("%-12s %-20s %10llu %10llu  %s\n", c->code, fp, (unsigned long long)c->rec.last_seq,
           (unsigned long long)c->rec.refused, seen);
}

int cli_child(int argc, char **argv)
{
    static const struct option opts[] = {CLI_COMMON_OPTS,
                                         {"purge", no_argument, 0, 'p'},
                                         {"force", no_argument, 0, 'f'},
                                         {"name", required_argument, 0, 'n'},
                                         {"expires", required_argument, 0, 'x'},
                                         {"csv", required_argument, 0, 'c'},
                                         {"out", required_argument, 0, 'o'},
                                         {0, 0, 0, 0}};
    const char *dir = NULL;
    bool purge = false, force = false;
    cli_invite_opts io = {0};
    int o;
    while ((o = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        switch (o) {
        case 'd': dir = optarg; break;
        case 'p': purge = true; break;
        case 'f': force = true; break;
        case 'n': io.name = optarg; break;
        case 'x': io.expires = optarg; break;
        case 'c': io.csv = optarg; break;
        case 'o': io.out = optarg; break;
        case 'h': fputs(child_help, stdout); return 0;
        default: return cli_usage_error("child", "unknown option");
        }
    }
    int nargs = argc - optind;
    char **args = argv + optind;
    if (nargs < 1)
        return cli_usage_error("child", "say add, remove, list, invite, invites or revoke-invite");
    const char *verb = args[0];
    if (!strcmp(verb, "invite") || !strcmp(verb, "invites") || !strcmp(verb, "revoke-invite")) {
        if (purge)
            return cli_usage_error("child", "--purge is for remove");
        return cli_child_invite(dir, verb, nargs - 1, args + 1, &io);
    }
    if (io.name || io.expires || io.csv || io.out)
        return cli_usage_error("child", "--name, --expires, --csv and --out are for invite");
    if (force && strcmp(verb, "add") != 0)
        return cli_usage_error("child", "--force is for add");
    if (!strcmp(verb, "add") && nargs != 3)
        return cli_usage_error("child", "add takes CODE and PUBKEY");
    if (!strcmp(verb, "remove") && nargs != 2)
        return cli_usage_error("child", "remove takes CODE");
    if (!strcmp(verb, "list") && nargs != 1)
        return cli_usage_error("child", "list takes no arguments");
    if (strcmp(verb, "add") && strcmp(verb, "remove") && strcmp(verb, "list"))
        return cli_usage_error("child",
                               "unknown action '%s': use add, remove, list, invite, invites "
                               "or revoke-invite",
                               verb);
    if (nargs > 1 && !ts_code_valid(args[1]))
        return cli_usage_error("child", "'%s' is not a valid org-unit code", args[1]);

    node_t n;
    ts_err e = {0};
    if (node_open(&n, cli_dir(dir), 0, &e))
        return cli_report(&e);
    int rc = TS_OK;
    if (!strcmp(verb, "add")) {
        enrol_ctx c = {.code = args[1], .force = force};
        if (!strcmp(args[1], n.cfg.code))
            rc = ts_fail(&e, TS_EINPUT, "%s is this node's own code, not a child", args[1]);
        else if ((rc = keys_parse_public(args[2], c.pk, &e)) == TS_OK &&
                 (rc = store_write(n.store, do_add, &c, &e)) == TS_OK) {
            char fp[KEYS_FINGERPRINT_LEN];
            keys_fingerprint(c.pk, fp);
            printf("%s child %s, fingerprint %s\n", c.existed ? "already enrolled:" : "enrolled",
                   args[1], fp);
        }
    } else if (!strcmp(verb, "remove")) {
        remove_ctx c = {.code = args[1], .purge = purge};
        if ((rc = store_write(n.store, do_remove, &c, &e)) == TS_OK)
            printf("removed child %s: it can no longer connect%s\n", args[1],
                   purge ? "; its numbers and units are gone from this node and its ancestors"
                         : "");
    } else {
        store_txn *txn;
        if ((rc = store_read_begin(n.store, &txn, &e)) == TS_OK) {
            printf("%-12s %-20s %10s %10s  %s\n", "CODE", "FINGERPRINT", "LAST_SEQ", "REFUSED",
                   "LAST_SEEN");
            rc = link_state_children(n.store, txn, ts_now_ms(), n.cfg.late_after_s, list_one, NULL,
                                     &e);
            store_read_end(txn);
        }
    }
    node_close(&n);
    return rc ? cli_report(&e) : 0;
}
