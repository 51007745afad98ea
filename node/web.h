/* web.h: the dashboard's files (node/web/), embedded into the binary at
 * build time by node/web/embed.cmake, so a node serves its dashboard with
 * nothing to install and no internet access (no CDN, no external font). */
#ifndef TIERSYNC_WEB_H
#define TIERSYNC_WEB_H

#include <stddef.h>

typedef struct {
    const char *path;         /* "/index.html" */
    const char *content_type; /* with charset */
    const unsigned char *data;
    size_t len;
} web_asset;

/* The generated table (web_assets.c in the build directory). */
extern const web_asset web_assets[];
extern const size_t web_assets_count;

/* The asset served at an URL path ("/" is /index.html); NULL if none. */
const web_asset *web_find(const char *path);

#endif
