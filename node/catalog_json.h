/* catalog_json.h: strict JSON readers for the catalog loader (internal).
 *
 * Each cj_get_* reads one key of a JSON object, checks its type and form,
 * and refuses anything else with TS_EINPUT and "<path>: <entry>: <reason>",
 * so that catalog.c states only the catalog's own rules. Not for use outside
 * catalog*.c: the public interface is catalog.h. */
#ifndef TIERSYNC_CATALOG_JSON_H
#define TIERSYNC_CATALOG_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "catalog.h"

#define CJ_ENTRY_MAX 160 /* "record type <name>: field <name>" */
#define CJ_LIST_MAX 640  /* "a, b, c": allowed names quoted in a message */

enum { CJ_NAME_PLAIN, CJ_NAME_OPTION }; /* option values may also hold '+' and '.' */

/* What a refusal needs: the catalog being filled, its path, the error. */
typedef struct {
    catalog_t *c;
    const char *path;
    ts_err *e;
} cj_loader;

/* Fails with TS_EINPUT "<path>: <entry>: <reason>"; returns TS_EINPUT. */
int cj_bad(cj_loader *ld, const char *entry, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes the n names found stride bytes apart from first as "a, b, c" into
 * buf (truncated to fit); returns buf. */
const char *cj_join(char *buf, size_t sz, const void *first, size_t stride, int n);
/* Same for a NULL-terminated word list. */
const char *cj_join_words(char *buf, size_t sz, const char *const *words);

/* Index of s in the NULL-terminated words, -1 if absent. */
int cj_word_index(const char *const *words, const char *s);

/* True if s (len bytes, no NUL inside) is 1..CATALOG_NAME_MAX-1 characters
 * of [A-Za-z0-9_-], plus '+' and '.' for CJ_NAME_OPTION. */
bool cj_name_ok(const char *s, size_t len, int kind);

/* Refuses any key of obj not in allowed; where is appended after the key
 * in the message (e.g. " in label"). */
int cj_check_keys(cj_loader *ld, const char *entry, json_t *obj, const char *const *allowed,
                  const char *where);

/* Copies the JSON string v, a valid name of the given kind, into out
 * (CATALOG_NAME_MAX bytes); what names v in messages. */
int cj_take_name(cj_loader *ld, const char *entry, const char *what, json_t *v, int kind,
                 char *out);

/* obj[key] as a plain name into out; absent leaves out "" unless required. */
int cj_get_name(cj_loader *ld, const char *entry, json_t *obj, const char *key, bool required,
                char *out);

/* obj[key] as the index of one of words; absent and optional leaves *out. */
int cj_get_word(cj_loader *ld, const char *entry, json_t *obj, const char *key,
                const char *const *words, bool required, int *out);

/* obj[key] as a boolean; *given tells whether the key was there. */
int cj_get_bool(cj_loader *ld, const char *entry, json_t *obj, const char *key, bool *out,
                bool *given);

/* obj[key] as an integer in [lo, hi]; absent leaves *out. */
int cj_get_int(cj_loader *ld, const char *entry, json_t *obj, const char *key, int lo, int hi,
               int *out);

/* obj[key] as an array of at most max entries; *out is NULL if absent. */
int cj_get_array(cj_loader *ld, const char *entry, json_t *obj, const char *key, bool required,
                 size_t max, json_t **out);

/* obj[key] (required) as a non-empty array of unique option values. */
int cj_get_values(cj_loader *ld, const char *entry, json_t *obj, const char *key,
                  char values[][CATALOG_NAME_MAX], int *n);

/* obj["label"] as {"vi": ..., "en": ...} into vi and en
 * (CATALOG_LABEL_MAX bytes each); both default to name when absent. */
int cj_get_label(cj_loader *ld, const char *entry, json_t *obj, const char *name, char *vi,
                 char *en);

/* ---- shared by catalog.c and catalog_kinds.c ---- */

/* Resolves "type.field" at obj[key] to a record type and field index. */
int catalog_get_qfield(cj_loader *ld, const char *entry, json_t *obj, const char *key, int *rt,
                       int *fi);

/* The keys only a ratio has: numerator, denominator (declared earlier, same
 * period type, not ratios) and factor; sets the ratio's period. */
int catalog_load_ratio(cj_loader *ld, const char *entry, catalog_indicator *ind, json_t *o);
/* After 'by' is read: every category of a ratio is one of both its parts'. */
int catalog_check_ratio_by(cj_loader *ld, const char *entry, const catalog_indicator *ind);
/* The keys only an `after` indicator has (measure, support) and its rule
 * that the record type counted has an owner; over/start/end/filter are
 * already read. */
int catalog_load_after(cj_loader *ld, const char *entry, catalog_indicator *ind, json_t *o);

#endif
