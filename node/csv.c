/* csv.c: the in-place RFC 4180 reader and the field writer (see csv.h). */
#include "csv.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

void csv_init(csv_t *c, char *buf, size_t len)
{
    c->p = buf;
    c->end = buf + len;
    c->line = 1;
    if (len >= 3 && (uint8_t)buf[0] == 0xEF && (uint8_t)buf[1] == 0xBB && (uint8_t)buf[2] == 0xBF)
        c->p += 3;
}

static bool csv_is_integer(const char *s)
{
    if (*s == '-')
        s++;
    return *s && strspn(s, "0123456789") == strlen(s);
}

void csv_write_field(FILE *f, const char *s)
{
    bool formula = s[0] && strchr("=+-@\t\r", s[0]) && !csv_is_integer(s);
    if (!formula && !strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputs(formula ? "\"'" : "\"", f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* Reads one quoted field starting after its opening quote at c->p; writes
 * the unescaped bytes from *w on. Leaves c->p after the closing quote. */
static int read_quoted(csv_t *c, char **w, int field, int start_line, ts_err *e)
{
    char *q = *w;
    for (;;) {
        if (c->p >= c->end)
            return ts_fail(e, TS_EINPUT,
                           "line %d: field %d: a quoted field opened here is never "
                           "closed (a quote is missing)",
                           start_line, field);
        char ch = *c->p++;
        if (ch == '"') {
            if (c->p < c->end && *c->p == '"') {
                *q++ = '"';
                c->p++;
                continue;
            }
            *w = q;
            return TS_OK;
        }
        if (ch == '\n')
            c->line++;
        *q++ = ch;
    }
}

static bool at_line_end(const csv_t *c)
{
    return c->p >= c->end || *c->p == '\n' ||
        (*c->p == '\r' && c->p + 1 < c->end && c->p[1] == '\n') ||
        (*c->p == '\r' && c->p + 1 == c->end);
}

static void skip_line_end(csv_t *c)
{
    if (c->p < c->end && *c->p == '\r')
        c->p++;
    if (c->p < c->end && *c->p == '\n') {
        c->p++;
        c->line++;
    }
}

int csv_next(csv_t *c, csv_row *row, ts_err *e)
{
    row->n = 0;
    while (c->p < c->end && (*c->p == '\n' || *c->p == '\r')) { /* empty lines */
        if (*c->p == '\n')
            c->line++;
        c->p++;
    }
    if (c->p >= c->end)
        return TS_OK;
    row->line = c->line;
    for (;;) {
        if (row->n == CSV_MAX_FIELDS)
            return ts_fail(e, TS_EINPUT, "line %d: more than %d fields in one row", row->line,
                           CSV_MAX_FIELDS);
        char *start = c->p, *w = c->p;
        int field = row->n + 1;
        if (c->p < c->end && *c->p == '"') {
            c->p++;
            if (read_quoted(c, &w, field, c->line, e))
                return TS_EINPUT;
            if (!at_line_end(c) && *c->p != ',')
                return ts_fail(e, TS_EINPUT,
                               "line %d: field %d: text after the closing quote "
                               "(a quote inside a quoted field must be doubled: \"\")",
                               c->line, field);
        } else {
            while (c->p < c->end && *c->p != ',' && !at_line_end(c)) {
                if (*c->p == '"')
                    return ts_fail(e, TS_EINPUT,
                                   "line %d: field %d: a quote inside an unquoted "
                                   "field (quote the whole field and double the quote)",
                                   c->line, field);
                c->p++;
            }
            w = c->p;
        }
        if (!ts_text_valid(start, (size_t)(w - start)))
            return ts_fail(e, TS_EINPUT,
                           "line %d: field %d: not valid UTF-8 text (save the file "
                           "as 'CSV UTF-8')",
                           c->line, field);
        bool more = c->p < c->end && *c->p == ',';
        bool last = !more;
        if (last)
            skip_line_end(c); /* before the NUL may overwrite the line end */
        else
            c->p++;
        *w = '\0';
        row->f[row->n++] = start;
        if (last)
            return TS_OK;
    }
}
