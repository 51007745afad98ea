/* http_access.c: loopback test and read-token check (see http_access.h). */
#include "http_access.h"

#include <netinet/in.h>
#include <sodium.h>
#include <string.h>
#include <strings.h>

bool http_access_loopback(const struct sockaddr *sa)
{
    if (!sa)
        return false;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
            return true;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return false;
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
        return http_access_loopback(sa) ? HTTP_READ_PROTECTED : HTTP_DENY_NO_TOKEN;
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
