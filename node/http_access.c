/* http_access.c: loopback test, read tokens, the Host check, the raw
 * request target check and the wrong-token throttle (see http_access.h). */
#include "http_access.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

/* The family of sa, read as bytes: sa usually points at a sockaddr_in or
 * sockaddr_in6, which a struct sockaddr lvalue may not alias. */
static sa_family_t family(const struct sockaddr *sa)
{
    sa_family_t f;
    memcpy(&f, (const char *)sa + offsetof(struct sockaddr, sa_family), sizeof f);
    return f;
}

/* An address as 16 bytes (IPv4 as ::ffff:a.b.c.d) and its port; false for
 * other families. */
static bool addr16(const struct sockaddr *sa, uint8_t out[16], unsigned *port)
{
    if (sa && family(sa) == AF_INET) {
        struct sockaddr_in in;
        memcpy(&in, sa, sizeof in);
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &in.sin_addr, 4);
        *port = ntohs(in.sin_port);
        return true;
    }
    if (sa && family(sa) == AF_INET6) {
        struct sockaddr_in6 in6;
        memcpy(&in6, sa, sizeof in6);
        memcpy(out, &in6.sin6_addr, 16);
        *port = ntohs(in6.sin6_port);
        return true;
    }
    return false;
}

/* ::1, or ::ffff:127.0.0.0/104 */
static bool loopback16(const uint8_t a[16])
{
    static const uint8_t one[16] = {[15] = 1}, mapped[12] = {[10] = 0xff, [11] = 0xff};
    return memcmp(a, one, 16) == 0 || (memcmp(a, mapped, 12) == 0 && a[12] == 127);
}

bool http_access_loopback(const struct sockaddr *sa)
{
    uint8_t a[16];
    unsigned port;
    return addr16(sa, a, &port) && loopback16(a);
}

static bool token_known(const ts_config *cfg, const char *token, size_t len)
{
    unsigned char want[crypto_generichash_BYTES], got[crypto_generichash_BYTES];
    crypto_generichash(got, sizeof got, (const unsigned char *)token, len, NULL, 0);
    bool found = false;
    for (int i = 0; i < cfg->ntokens; i++) { /* every token is compared: no early exit */
        crypto_generichash(want, sizeof want, (const unsigned char *)cfg->tokens[i],
                           strlen(cfg->tokens[i]), NULL, 0);
        found |= sodium_memcmp(want, got, sizeof want) == 0;
    }
    return found;
}

http_access http_access_decide(const ts_config *cfg, const struct sockaddr *sa,
                               const char *authorization)
{
    if (!authorization)
        return cfg->trust_loopback && http_access_loopback(sa) ? HTTP_READ_PROTECTED
                                                               : HTTP_DENY_NO_TOKEN;
    static const char scheme[] = "Bearer ";
    if (strncasecmp(authorization, scheme, sizeof scheme - 1) != 0)
        return HTTP_DENY_BAD_TOKEN;
    const char *tok = authorization + sizeof scheme - 1;
    while (*tok == ' ')
        tok++;
    size_t len = strlen(tok);
    while (len && tok[len - 1] == ' ')
        len--;
    if (!len || len >= CONFIG_TOKEN_MAX)
        return HTTP_DENY_BAD_TOKEN;
    return token_known(cfg, tok, len) ? HTTP_READ_EXACT : HTTP_DENY_BAD_TOKEN;
}

/* ---- Host ---- */

#define HTTP_HOST_MAX 256

/* True when name (len bytes) is one of the comma- or space-separated names. */
static bool in_list(const char *list, const char *name, size_t len)
{
    while (*list) {
        size_t skip = strspn(list, ", "), n;
        list += skip;
        n = strcspn(list, ", ");
        if (n && n == len && strncasecmp(list, name, len) == 0)
            return true;
        list += n;
    }
    return false;
}

bool http_access_host_ok(const ts_config *cfg, const char *host, const struct sockaddr *local)
{
    if (!host)
        return true;
    uint8_t self[16];
    unsigned self_port;
    size_t hlen = strlen(host);
    if (!addr16(local, self, &self_port) || hlen == 0 || hlen >= HTTP_HOST_MAX)
        return false;
    char name[HTTP_HOST_MAX];
    const char *port = NULL;
    bool bracketed = host[0] == '[';
    if (bracketed) {
        const char *end = strchr(host, ']');
        if (!end || (end[1] && end[1] != ':'))
            return false;
        snprintf(name, sizeof name, "%.*s", (int)(end - host - 1), host + 1);
        port = end[1] ? end + 2 : NULL;
    } else {
        const char *colon = strchr(host, ':');
        if (colon && strchr(colon + 1, ':'))
            return false; /* an IPv6 address must be bracketed */
        snprintf(name, sizeof name, "%.*s", (int)(colon ? colon - host : (long)hlen), host);
        port = colon ? colon + 1 : NULL;
    }
    if (!bracketed && in_list(cfg->http_hosts, name, strlen(name)))
        return true;
    unsigned want = 80;
    if (port) {
        char *end;
        if (!*port || strspn(port, "0123456789") != strlen(port) || strlen(port) > 5)
            return false;
        want = (unsigned)strtoul(port, &end, 10);
    }
    if (want != self_port)
        return false;
    bool loop = http_access_loopback(local);
    if (!bracketed && loop && strcasecmp(name, "localhost") == 0)
        return true;
    uint8_t got[16] = {[10] = 0xff, [11] = 0xff};
    if (bracketed ? inet_pton(AF_INET6, name, got) != 1 : inet_pton(AF_INET, name, got + 12) != 1)
        return false;
    if (loop && loopback16(got))
        return true;
    return memcmp(got, self, sizeof got) == 0;
}

/* ---- the raw request target ---- */

http_uri_verdict http_access_uri(const char *raw, int max_params)
{
    int params = 0;
    bool in_query = false, in_param = false;
    for (const char *p = raw; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '%' && ts_hexval(p[1]) >= 0 && ts_hexval(p[2]) >= 0)
            c = (unsigned char)(ts_hexval(p[1]) * 16 + ts_hexval(p[2]));
        if (c < 0x20 || c == 0x7f)
            return HTTP_URI_CONTROL;
        if (*p == '?' && !in_query) {
            in_query = true;
        } else if (in_query && *p == '&') {
            in_param = false;
        } else if (in_query && !in_param) {
            in_param = true;
            params++;
        }
    }
    return params > max_params ? HTTP_URI_TOO_MANY : HTTP_URI_OK;
}

/* ---- wrong tokens ---- */

static const backoff_rule token_rule = {HTTP_THROTTLE_FREE, HTTP_THROTTLE_MAX_S, 10 * 60 * 1000};

int http_throttle_wait(const http_throttle *t, const struct sockaddr *sa, int64_t now_ms)
{
    uint8_t a[16];
    unsigned port;
    if (!addr16(sa, a, &port))
        return 0;
    return backoff_wait_s(t->slot, HTTP_THROTTLE_SLOTS, &token_rule, a, sizeof a, now_ms);
}

void http_throttle_record(http_throttle *t, const struct sockaddr *sa, bool ok, int64_t now_ms)
{
    uint8_t a[16];
    unsigned port;
    if (!addr16(sa, a, &port))
        return;
    if (ok)
        backoff_succeeded(t->slot, HTTP_THROTTLE_SLOTS, a, sizeof a);
    else
        backoff_failed(t->slot, HTTP_THROTTLE_SLOTS, &token_rule, a, sizeof a, now_ms);
}
