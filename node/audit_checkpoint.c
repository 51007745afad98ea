/* audit_checkpoint.c: noting each child's checkpoints and comparing a
 * checkpoint with the contribution held (see audit_checkpoint.h). */
#include "audit_checkpoint.h"

#include <stdio.h>
#include <string.h>

static size_t meta_key(const char *child, char out[sizeof AUDIT_META_CHECKPOINTS + TS_CODE_MAX])
{
    return (size_t)snprintf(out, sizeof AUDIT_META_CHECKPOINTS + TS_CODE_MAX, "%s%s",
                            AUDIT_META_CHECKPOINTS, child);
}

void audit_checkpoints_get(store_t *s, MDB_txn *txn, const char *child, audit_checkpoints *c)
{
    char key[sizeof AUDIT_META_CHECKPOINTS + TS_CODE_MAX];
    MDB_val v;
    memset(c, 0, sizeof *c);
    if (store_get(s, txn, DB_META, key, meta_key(child, key), &v, NULL) == TS_OK &&
        v.mv_size == sizeof *c)
        memcpy(c, v.mv_data, sizeof *c);
}

int audit_checkpoint_note(store_t *s, MDB_txn *txn, const char *child, uint64_t seq, ts_err *e)
{
    audit_checkpoints c;
    audit_checkpoints_get(s, txn, child, &c);
    if (c.newest == seq)
        return TS_OK;
    c.older = c.newest;
    c.newest = seq;
    char key[sizeof AUDIT_META_CHECKPOINTS + TS_CODE_MAX];
    return store_put(s, txn, DB_META, key, meta_key(child, key), &c, sizeof c, e);
}

int audit_checkpoint_forget(store_t *s, MDB_txn *txn, const char *child, ts_err *e)
{
    char key[sizeof AUDIT_META_CHECKPOINTS + TS_CODE_MAX];
    return store_del(s, txn, DB_META, key, meta_key(child, key), e);
}

size_t audit_checkpoint_compare(store_t *s, MDB_txn *txn, const char *child,
                                const Tiersync__DeltaBody *b, char *why, size_t whysz)
{
    size_t differ = 0, clen = strlen(child);
    why[0] = '\0';
    for (size_t i = 0; i < b->n_cells; i++) {
        const Tiersync__Cell *pc = b->cells[i];
        ts_cell c;
        char key[TS_CODE_MAX + 1 + CELL_KEY_MAX];
        if (cell_set(&c, pc->unit, pc->indicator, pc->period, pc->options, NULL))
            continue; /* refused when applied */
        memcpy(key, child, clen);
        key[clen] = '|';
        size_t klen = clen + 1 + cell_key(&c, key + clen + 1);
        int64_t held = store_get_i64(s, txn, DB_CONTRIB, key, klen);
        if (held == pc->value)
            continue;
        if (!differ++)
            snprintf(why, whysz, "%.*s: held %lld, the checkpoint says %lld",
                     (int)(klen - clen - 1), key + clen + 1, (long long)held,
                     (long long)pc->value);
    }
    return differ;
}
