/* apply_units.c: a delta's unit announcements checked and registered: each
 * unit inside the sending child's subtree, its chain of parents reaching the
 * child, names without control bytes, a move only by snapshot. */
#include "apply_int.h"

#include <stdio.h>
#include <string.h>

#include "merge_state.h"
#include "query.h"
#include "receive.h"
#include "records.h"

bool apply_in_subtree(store_t *s, store_txn *txn, const char *child, const char *code)
{
    if (!strcmp(code, child))
        return true;
    store_unit u;
    return store_unit_get(s, txn, code, &u) == TS_OK && !strcmp(u.via, child);
}

/* Names reach terminals and spreadsheets: no control bytes. */
static bool has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

static int any_total(const ts_cell *c, disclose_fig v, void *ctx)
{
    (void)c, (void)v, (void)ctx;
    return 1;
}

/* Whether some total is held for unit code (its own or rolled up), into *held. */
static int has_totals(store_t *s, store_txn *txn, const char *code, bool *held, ts_err *e)
{
    query_filter f = {.unit = code};
    int stop = query_totals(s, txn, &f, any_total, NULL);
    *held = stop != 0;
    return stop == QUERY_FAILED ? query_failed(e) : TS_OK;
}

/* Roll-ups follow parents: a loop would count a change more than once. */
static bool reaches_child(store_t *s, store_txn *txn, const char *child, const char *code)
{
    char cur[TS_CODE_MAX];
    snprintf(cur, sizeof cur, "%s", code);
    for (int depth = 0; depth < STORE_MAX_DEPTH; depth++) {
        store_unit u;
        if (!strcmp(cur, child))
            return true;
        if (store_unit_get(s, txn, cur, &u) != TS_OK)
            return false;
        snprintf(cur, sizeof cur, "%s", u.parent);
    }
    return false;
}

/* A merge mark is both fields or neither: a code and the first of a month. */
static bool merge_fields_ok(const Tiersync__Unit *pu)
{
    char d[MERGE_DATE_TEXT];
    if (!pu->merged_into[0])
        return pu->merged_on == 0;
    return ts_code_valid(pu->merged_into) && pu->merged_on <= 99991231 &&
        records_parse_date(merge_date_text((int)pu->merged_on, d)) && pu->merged_on % 100 == 1;
}

int apply_units_register(apply_ctx *a, store_t *s, store_txn *txn, uint64_t expected, ts_err *e)
{
    const Tiersync__DeltaBody *b = a->body;
    const char *self = store_self_code(s);
    /* first pass: claim every announced code for this child, so parents
     * announced later in the same delta are found by the second pass */
    for (size_t i = 0; i < b->n_units; i++) {
        const Tiersync__Unit *pu = b->units[i];
        if (!ts_code_valid(pu->code) || strlen(pu->name) >= CONFIG_NAME_MAX ||
            strlen(pu->level) >= TS_CODE_MAX || strlen(pu->parent) >= TS_CODE_MAX ||
            has_control(pu->name) || has_control(pu->level) || !merge_fields_ok(pu))
            return receive_refuse(a->reply, TIERSYNC__REASON__REASON_MALFORMED, expected, e,
                                  "announced unit %zu is malformed", i);
        store_unit u = {0};
        bool known = store_unit_get(s, txn, pu->code, &u) == TS_OK;
        const char *parent = strcmp(pu->code, a->child) ? pu->parent : self;
        if (!strcmp(pu->code, self) || (known && strcmp(u.via, a->child) != 0))
            return receive_refuse(a->reply, TIERSYNC__REASON__REASON_FOREIGN_UNIT, expected, e,
                                  "unit %s does not belong to child %s's subtree", pu->code,
                                  a->child);
        /* BROKEN_CHAIN makes the child send a snapshot, which may move it */
        bool moves = known && strcmp(u.parent, parent) != 0, held = false;
        if (moves && has_totals(s, txn, pu->code, &held, e))
            return e->code;
        if (held)
            return receive_refuse(
                a->reply, TIERSYNC__REASON__REASON_BROKEN_CHAIN, expected, e,
                "unit %s moves from parent %s to %s while it holds numbers; only a "
                "snapshot may move it",
                pu->code, u.parent, parent);
        bool leaf = !known || u.leaf; /* a new unit has no sub-units yet */
        memset(&u, 0, sizeof u);
        u.leaf = leaf;
        snprintf(u.name, sizeof u.name, "%s", pu->name);
        snprintf(u.level, sizeof u.level, "%s", pu->level);
        snprintf(u.parent, sizeof u.parent, "%s", parent);
        snprintf(u.via, sizeof u.via, "%s", a->child);
        /* only the unit's own subtree announces it (checked above) */
        snprintf(u.merged_into, sizeof u.merged_into, "%s", pu->merged_into);
        u.merged_on = (int32_t)pu->merged_on;
        if (store_unit_put(s, txn, pu->code, &u, e))
            return e->code;
        if (store_has_parent(s) && a->n->cfg.forward_detail == DETAIL_ALL &&
            store_put(s, txn, DB_ANNOUNCE, pu->code, strlen(pu->code), "", 0, e))
            return e->code;
    }
    for (size_t i = 0; i < b->n_units; i++) {
        const Tiersync__Unit *pu = b->units[i];
        if (strcmp(pu->code, a->child) != 0 && !apply_in_subtree(s, txn, a->child, pu->parent))
            return receive_refuse(a->reply, TIERSYNC__REASON__REASON_FOREIGN_UNIT, expected, e,
                                  "unit %s names parent %s outside child %s's subtree", pu->code,
                                  pu->parent, a->child);
        if (!reaches_child(s, txn, a->child, pu->code))
            return receive_refuse(a->reply, TIERSYNC__REASON__REASON_FOREIGN_UNIT, expected, e,
                                  "unit %s: its chain of parents loops or never reaches child %s",
                                  pu->code, a->child);
        if (strcmp(pu->code, a->child) != 0 && store_unit_branch(s, txn, pu->parent, e))
            return e->code;
    }
    return TS_OK;
}
