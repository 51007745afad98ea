/* csv.h: an RFC 4180 CSV reader for the lists communes keep in spreadsheets,
 * and the one field writer every CSV export uses.
 *
 * Comma separated; a field may be quoted ("..."), and then may hold commas,
 * line breaks and doubled quotes (""). Line ends are LF or CRLF; a UTF-8
 * byte-order mark at the start (Excel writes one) is skipped; empty lines
 * are skipped. Every field must be valid UTF-8 without NUL bytes.
 *
 * The reader works in place on one buffer holding the whole file: fields are
 * unescaped where they lie and NUL-terminated, so a row is an array of
 * pointers into the buffer and nothing is copied. A structural error (an
 * unclosed quote, a quote inside an unquoted field, bad UTF-8) stops the
 * reading with a message naming the line; the rest of the file cannot be
 * trusted after it. */
#ifndef TIERSYNC_CSV_H
#define TIERSYNC_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "err.h"

#define CSV_MAX_FIELDS 64 /* fields in one row */

typedef struct {
    char *p, *end; /* the unread part of the buffer */
    int line;      /* line number (1-based) of the next unread byte */
} csv_t;

typedef struct {
    int n;    /* number of fields; 0 at the end of the input */
    int line; /* line on which the row starts */
    char *f[CSV_MAX_FIELDS];
} csv_row;

/* Starts reading buf[0..len) (which must be followed by a NUL byte, as
 * ts_read_file leaves it). The buffer is modified while rows are read. */
void csv_init(csv_t *c, char *buf, size_t len);

/* Reads the next row into *row (row->n == 0 at the end). TS_EINPUT with
 * "line N: ..." on a structural error. */
int csv_next(csv_t *c, csv_row *row, ts_err *e);

/* Writes s as one CSV field: quoted (quotes doubled) when it holds a comma,
 * quote or line break. A field that a spreadsheet would run as a formula —
 * one starting with =, +, -, @, tab or CR — is neutralised as OWASP
 * recommends for CSV injection: prefixed with a single quote and quoted
 * ("'=HYPERLINK(...)"). A whole integer such as -3 is a number, not a
 * formula, and is written as it is. */
void csv_write_field(FILE *f, const char *s);

#endif
