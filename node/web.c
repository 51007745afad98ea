/* web.c: looks up the embedded dashboard files by URL path. */
#include "web.h"

#include <string.h>

const web_asset *web_find(const char *path)
{
    if (!strcmp(path, "/"))
        path = "/index.html";
    for (size_t i = 0; i < web_assets_count; i++)
        if (!strcmp(web_assets[i].path, path))
            return &web_assets[i];
    return NULL;
}
