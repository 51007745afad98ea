/* cli_record.c: `tiersync record add|update|delete`: one record by hand,
 * checked and counted exactly like an imported row. */
#include <stdio.h>
#include <string.h>

#include "catalog_json.h"
#include "cli.h"
#include "records_batch.h"

static const char record_help[] =
    "usage: tiersync record add|update|delete --dir DIR TYPE FIELD=VALUE ...\n\n"
    "  add     a new record: id=ID and every required field\n"
    "  update  the record id=ID: the fields given change, the others are kept;\n"
    "          FIELD= (empty) clears a field\n"
    "  delete  the record id=ID; refused while records refer to it (delete a\n"
    "          person's episodes and supports first)\n\n"
    "e.g. tiersync record add person id=P1 full_name='Nguyễn Văn An' sex=M \\\n"
    "         registered_on=2024-03-01\n"
    "A refused change names the field and the reason, changes nothing and exits 2.\n";

static const struct {
    const char *name;
    records_op op;
    const char *done;
} actions[] = {
    {"add", RECORDS_INSERT, "added"},
    {"update", RECORDS_UPDATE, "updated"},
    {"delete", RECORDS_DELETE, "deleted"},
};

/* Fills row from FIELD=VALUE arguments. */
static int parse_fields(const catalog_t *c, int t, int nargs, char **args, records_row *row,
                        ts_err *e)
{
    const catalog_rtype *rt = &c->types[t];
    char list[CJ_LIST_MAX];
    memset(row, 0, sizeof *row);
    for (int i = 0; i < nargs; i++) {
        char *eq = strchr(args[i], '=');
        if (!eq)
            return ts_fail(e, TS_EINPUT, "'%.32s...' is not FIELD=VALUE", args[i]);
        *eq = '\0';
        int f = catalog_field_find(rt, args[i]);
        if (f < 0)
            return ts_fail(
                e, TS_EINPUT, "unknown field '%.48s' of %s (fields: %s)", args[i], rt->name,
                cj_join(list, sizeof list, rt->fields[0].name, sizeof rt->fields[0], rt->nfields));
        if (row->v[f])
            return ts_fail(e, TS_EINPUT, "field %s given twice", args[i]);
        row->v[f] = eq + 1;
    }
    return TS_OK;
}

int cli_record(int argc, char **argv)
{
    const char *dir;
    int done = cli_parse_dir_only(argc, argv, "record", record_help, &dir);
    if (done >= 0)
        return done;
    int nargs = argc - optind, a = -1;
    char **args = argv + optind;
    for (int i = 0; nargs > 0 && i < (int)(sizeof actions / sizeof actions[0]); i++)
        if (strcmp(args[0], actions[i].name) == 0)
            a = i;
    if (a < 0)
        return cli_usage_error("record", "the action is add, update or delete");
    if (nargs < 3)
        return cli_usage_error("record", "%s takes TYPE id=ID [FIELD=VALUE ...]", actions[a].name);
    node_t n;
    ts_err e = {0};
    cli_clock_check(cli_dir(dir));
    if (node_open(&n, cli_dir(dir), 0, &e))
        return cli_report(&e);
    char list[CJ_LIST_MAX];
    records_row row;
    records_batch b = {.op = actions[a].op, .rows = &row, .nrows = 1};
    b.type = catalog_rtype_find(n.catalog, args[1]);
    int rc;
    if (b.type < 0)
        rc = ts_fail(&e, TS_EINPUT, "unknown record type '%.48s' (record types: %s)", args[1],
                     cj_join(list, sizeof list, n.catalog->types[0].name,
                             sizeof n.catalog->types[0], n.catalog->ntypes));
    else if ((rc = parse_fields(n.catalog, b.type, nargs - 2, args + 2, &row, &e)) == TS_OK)
        rc = records_batch_run(&n, &b, &e);
    for (int i = 0; i < b.problems.n; i++) {
        char line[TS_ERR_MSG_MAX];
        records_problem_text("record", &b.problems.p[i], line, sizeof line);
        fprintf(stderr, "%s\n", line);
    }
    if (rc == TS_OK && b.unchanged)
        printf("%s %s unchanged\n", args[1], row.v[n.catalog->types[b.type].id_field]);
    else if (rc == TS_OK)
        printf("%s %s %s; %zu cells of %s changed\n", actions[a].done, args[1],
               row.v[n.catalog->types[b.type].id_field], b.cells, n.cfg.code);
    node_close(&n);
    return rc ? cli_report(&e) : 0;
}
