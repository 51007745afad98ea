/* join_replay.c: sends the Join a node already sent (same invitation, same
 * node key, so the same signed request) for the replay test in
 * tests/integration/join_invite.sh. Prints "ENROLLED" or the refusal.
 *
 * usage: join_replay DIR INVITATION */
#include <stdio.h>

#include "join_client.h"

int main(int argc, char **argv)
{
    keys_t k;
    invite_t iv;
    join_answer ans;
    ts_err e = {0};
    if (argc != 3) {
        fputs("usage: join_replay DIR INVITATION\n", stderr);
        return 2;
    }
    if (keys_load(&k, argv[1], &e) || invite_decode(argv[2], &iv, &e))
        return fprintf(stderr, "%s\n", e.msg), 2;
    int rc = join_client_run(&iv, &k, 10000, &ans, &e);
    puts(rc == TS_OK ? "ENROLLED" : e.msg);
    keys_wipe(&k);
    return 0;
}
