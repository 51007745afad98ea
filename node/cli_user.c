/* cli_user.c: `tiersync user add|list|passwd|remove`: the accounts of a
 * commune's case register (users.h). A password is read from standard
 * input (one line), or asked twice on a terminal without echo; it never
 * appears on the command line, where `ps` would show it. */
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "node.h"
#include "users.h"

#define CLI_USER_LIST_MAX 1024

static const char user_help[] =
    "usage: tiersync user add    --dir DIR NAME --role admin|officer|viewer\n"
    "       tiersync user passwd --dir DIR NAME\n"
    "       tiersync user remove --dir DIR NAME\n"
    "       tiersync user list   --dir DIR\n\n"
    "Accounts of the case register (a commune's node, https://HOST:PORT/register).\n"
    "  viewer   sees the dashboard only\n"
    "  officer  reads and changes records\n"
    "  admin    an officer who also manages accounts and reads the access log\n"
    "The password (at least 8 characters) is read from standard input, or asked\n"
    "twice when standard input is a terminal. Stored as an Argon2id hash.\n";

/* Reads one line without its line end; false at end of input. */
static bool read_line(FILE *in, char *buf, size_t sz)
{
    if (!fgets(buf, (int)sz, in))
        return false;
    buf[strcspn(buf, "\r\n")] = '\0';
    return true;
}

static bool ask(const char *prompt, char *buf, size_t sz)
{
    struct termios old, quiet;
    fputs(prompt, stderr);
    tcgetattr(STDIN_FILENO, &old);
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    bool ok = read_line(stdin, buf, sz);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fputc('\n', stderr);
    return ok;
}

static int read_password(char *pw, size_t sz, ts_err *e)
{
    if (!isatty(STDIN_FILENO)) {
        if (!read_line(stdin, pw, sz))
            return ts_fail(e, TS_EINPUT, "no password on standard input (one line)");
        return TS_OK;
    }
    char again[USERS_PASSWORD_MAX + 2];
    if (!ask("password: ", pw, sz) || !ask("again: ", again, sizeof again))
        return ts_fail(e, TS_EINPUT, "no password given");
    int same = strcmp(pw, again) == 0;
    sodium_memzero(again, sizeof again);
    return same ? TS_OK : ts_fail(e, TS_EINPUT, "the two passwords differ; nothing was changed");
}

static int list(node_t *n, ts_err *e)
{
    static users_info u[CLI_USER_LIST_MAX];
    int count = users_list(n->store, u, CLI_USER_LIST_MAX, e);
    if (count < 0)
        return e->code;
    for (int i = 0; i < count && i < CLI_USER_LIST_MAX; i++) {
        char made[TS_ISO_TIME_MAX], pw[TS_ISO_TIME_MAX];
        ts_iso_time(u[i].created_ms, made);
        ts_iso_time(u[i].changed_ms, pw);
        printf("%-32s %-8s created %s, password set %s\n", u[i].name, users_role_name(u[i].role),
               made, pw);
    }
    if (count == 0)
        printf("no accounts: 'tiersync user add --dir DIR NAME --role admin' makes the first\n");
    return TS_OK;
}

static int act(node_t *n, const char *action, const char *name, const char *role, ts_err *e)
{
    char pw[USERS_PASSWORD_MAX + 2];
    users_role r = USERS_VIEWER;
    int rc;
    if (!strcmp(action, "remove")) {
        if ((rc = users_remove(n->store, name, e)) == TS_OK)
            printf("removed %s (their browser sessions end within a request)\n", name);
        return rc;
    }
    if (!strcmp(action, "add") && users_role_parse(role, &r, e))
        return e->code;
    if (read_password(pw, sizeof pw, e))
        return e->code;
    rc = !strcmp(action, "add") ? users_add(n->store, name, r, pw, e)
                                : users_passwd(n->store, name, pw, e);
    sodium_memzero(pw, sizeof pw);
    if (rc == TS_OK)
        printf("%s %s%s%s\n", !strcmp(action, "add") ? "added" : "new password for", name,
               !strcmp(action, "add") ? " as " : "", !strcmp(action, "add") ? role : "");
    return rc;
}

int cli_user(int argc, char **argv)
{
    static const struct option opts[] = {
        CLI_COMMON_OPTS, {"role", required_argument, 0, 'r'}, {0, 0, 0, 0}};
    const char *dir = NULL, *role = NULL;
    int o;
    while ((o = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        switch (o) {
        case 'd': dir = optarg; break;
        case 'h': fputs(user_help, stdout); return 0;
        case 'r': role = optarg; break;
        default: return cli_usage_error("user", "unknown option");
        }
    }
    int nargs = argc - optind;
    const char *action = nargs > 0 ? argv[optind] : "";
    bool is_list = !strcmp(action, "list");
    if (!is_list && strcmp(action, "add") && strcmp(action, "passwd") && strcmp(action, "remove"))
        return cli_usage_error("user", "the action is add, list, passwd or remove");
    if (nargs != (is_list ? 1 : 2))
        return cli_usage_error("user", is_list ? "list takes no NAME" : "%s takes one NAME",
                               action);
    if (!strcmp(action, "add") && !role)
        return cli_usage_error("user", "add needs --role admin|officer|viewer");
    if (role && strcmp(action, "add"))
        return cli_usage_error("user", "--role goes with add only");
    node_t n;
    ts_err e = {0};
    if (node_open(&n, cli_dir(dir), 0, &e))
        return cli_report(&e);
    int rc = is_list ? list(&n, &e) : act(&n, action, argv[optind + 1], role, &e);
    node_close(&n);
    return rc ? cli_report(&e) : 0;
}
