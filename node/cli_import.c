/* cli_import.c: `tiersync import`: a commune's list (CSV) into its records,
 * all rows or none, with progress on stderr and every refused row named. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "import.h"

static const char import_help[] =
    "usage: tiersync import --dir DIR TYPE FILE.csv\n\n"
    "Imports FILE.csv as records of TYPE (person, episode, support in the default\n"
    "catalog). The first line names the columns: the catalog's field names, in any\n"
    "order; 'id' and every required field must be there, others may be left out.\n"
    "UTF-8, comma separated, fields with commas, quotes or line breaks in double\n"
    "quotes (a quote inside doubled). Each row inserts a record, or updates the\n"
    "record with its id (a column left out keeps its stored value, an empty cell\n"
    "clears it). Import persons before the episodes and supports that refer to\n"
    "them.\n\n"
    "All or nothing: if any row is refused, every refused row is listed (up to 20)\n"
    "with its line, field and reason, nothing is changed, and the exit status is 2.\n";

typedef struct {
    const char *file;
    bool tty;
    bool shown;
} progress_ctx;

static void on_progress(void *vctx, const char *phase, size_t done, size_t total)
{
    progress_ctx *p = vctx;
    if (total < RECORDS_PROGRESS_EVERY)
        return;
    if (p->tty) {
        fprintf(stderr, "\r\033[Kimport %s: %s %zu of %zu", p->file, phase, done, total);
        p->shown = true;
    } else if (done == total && (strcmp(phase, "checked") == 0 || strcmp(phase, "written") == 0)) {
        fprintf(stderr, "import %s: %s %zu rows\n", p->file, phase, done);
    }
}

int cli_import(int argc, char **argv)
{
    const char *dir;
    int done = cli_parse_dir_only(argc, argv, "import", import_help, &dir);
    if (done >= 0)
        return done;
    if (argc - optind != 2)
        return cli_usage_error("import", "give the record TYPE and the FILE.csv");
    const char *type = argv[optind], *file = argv[optind + 1];
    node_t n;
    ts_err e = {0};
    cli_clock_check(cli_dir(dir));
    if (node_open(&n, cli_dir(dir), 0, &e))
        return cli_report(&e);
    progress_ctx pc = {file, isatty(STDERR_FILENO) == 1, false};
    records_batch b = {.progress = on_progress, .progress_ctx = &pc};
    int rc = import_csv(&n, type, file, &b, &e);
    if (pc.shown)
        fputc('\n', stderr);
    for (int i = 0; i < b.problems.n; i++) {
        char line[TS_ERR_MSG_MAX];
        records_problem_text(file, &b.problems.p[i], line, sizeof line);
        fprintf(stderr, "%s\n", line);
    }
    if (b.problems.total > b.problems.n)
        fprintf(stderr, "%s: ... and %d more problems not shown\n", file,
                b.problems.total - b.problems.n);
    if (rc == TS_OK)
        printf("%s: %zu inserted, %zu updated, %zu unchanged; %zu cells of %s changed\n", file,
               b.inserted, b.updated, b.unchanged, b.cells, n.cfg.code);
    node_close(&n);
    return rc ? cli_report(&e) : 0;
}
