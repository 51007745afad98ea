/* node.c: opening and closing the node context. */
#include "node.h"

#include <string.h>

#include "audit_log.h"
#include "catalog_doc.h"
#include "rotate.h"

int node_open(node_t *n, const char *dir, int flags, ts_err *e)
{
    memset(n, 0, sizeof *n);
    char path[TS_PATH_MAX];
    catalog_t *cat = NULL;
    if (config_load(&n->cfg, dir, e))
        return e->code;
    /* an adopted signed version replaces the one the config names */
    if (!catdoc_path(n->cfg.dir, path, sizeof path) &&
        catalog_resolve_path(n->cfg.catalog[0] ? n->cfg.catalog : NULL, path, sizeof path, e))
        return e->code;
    if (catalog_load(&cat, path, e))
        return e->code;
    n->catalog = cat;
    if ((flags & NODE_OPEN_KEYS)) {
        /* a key rotation cut off between its two renames (rotate.h) */
        if (keys_repair(dir, ROTATE_NEW_SUFFIX, e) || keys_load(&n->keys, dir, e)) {
            node_close(n);
            return e->code;
        }
        n->has_keys = true;
    }
    if (store_open(&n->store, &n->cfg, e) || audit_log_open(n->store, e)) {
        node_close(n);
        return e->code;
    }
    return TS_OK;
}

void node_close(node_t *n)
{
    worker_destroy(&n->helper);
    store_close(&n->store);
    catalog_t *cat = n->catalog;
    catalog_destroy(&cat);
    n->catalog = NULL;
    catdoc_kept_free(n);
    catdoc_destroy(&n->catdoc);
    hmap_str_free(&n->valid_options);
    if (n->has_keys)
        keys_wipe(&n->keys);
    if (n->has_old_keys)
        keys_wipe(&n->old_keys);
    n->has_old_keys = false;
    n->has_keys = false;
}
