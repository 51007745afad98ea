/* catalog_json.c: strict JSON readers for the catalog loader. Each reads one
 * key, checks its type and form, and refuses anything else naming the file,
 * the entry and what is allowed (see catalog_json.h). */
#include "catalog_json.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const LABEL_KEYS[] = {"vi", "en", NULL};

int cj_bad(cj_loader *ld, const char *entry, const char *fmt, ...)
{
    char reason[TS_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    return ts_fail(ld->e, TS_EINPUT, "%s: %s: %s", ld->path, entry, reason);
}

const char *cj_join(char *buf, size_t sz, const void *first, size_t stride, int n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < n; i++) {
        const char *s = (const char *)first + (size_t)i * stride;
        int w = snprintf(buf + len, sz - len, "%s%s", i ? ", " : "", s);
        if (w < 0 || (size_t)w >= sz - len)
            break;
        len += (size_t)w;
    }
    return buf;
}

const char *cj_join_words(char *buf, size_t sz, const char *const *words)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; words[i]; i++) {
        int w = snprintf(buf + len, sz - len, "%s%s", i ? ", " : "", words[i]);
        if (w < 0 || (size_t)w >= sz - len)
            break;
        len += (size_t)w;
    }
    return buf;
}

int cj_word_index(const char *const *words, const char *s)
{
    for (int i = 0; words[i]; i++)
        if (strcmp(words[i], s) == 0)
            return i;
    return -1;
}

bool cj_name_ok(const char *s, size_t len, int kind)
{
    if (len == 0 || len >= CATALOG_NAME_MAX || strlen(s) != len)
        return false;
    for (; *s; s++) {
        char ch = *s;
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
            (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
            (kind == CJ_NAME_OPTION && (ch == '+' || ch == '.'));
        if (!ok)
            return false;
    }
    return true;
}

int cj_check_keys(cj_loader *ld, const char *entry, json_t *obj, const char *const *allowed,
                  const char *where)
{
    const char *key;
    json_t *v;
    json_object_foreach (obj, key, v) {
        (void)v;
        if (cj_word_index(allowed, key) < 0) {
            char list[CJ_LIST_MAX];
            return cj_bad(ld, entry, "unknown key '%s'%s (allowed: %s)", key, where,
                          cj_join_words(list, sizeof list, allowed));
        }
    }
    return TS_OK;
}

int cj_take_name(cj_loader *ld, const char *entry, const char *what, json_t *v, int kind, char *out)
{
    if (!json_is_string(v))
        return cj_bad(ld, entry, "%s must be a string", what);
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (!cj_name_ok(s, len, kind))
        return cj_bad(ld, entry, "%s: '%s' is not a valid name (1 to %d of A-Z a-z 0-9 _ -%s)",
                      what, s, CATALOG_NAME_MAX - 1, kind == CJ_NAME_OPTION ? " + ." : "");
    memcpy(out, s, len + 1);
    return TS_OK;
}

int cj_get_name(cj_loader *ld, const char *entry, json_t *obj, const char *key, bool required,
                char *out)
{
    json_t *v = json_object_get(obj, key);
    out[0] = '\0';
    if (!v)
        return required ? cj_bad(ld, entry, "missing key '%s'", key) : TS_OK;
    char what[64];
    snprintf(what, sizeof what, "'%s'", key);
    return cj_take_name(ld, entry, what, v, CJ_NAME_PLAIN, out);
}

int cj_get_word(cj_loader *ld, const char *entry, json_t *obj, const char *key,
                const char *const *words, bool required, int *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return required ? cj_bad(ld, entry, "missing key '%s'", key) : TS_OK;
    int i = json_is_string(v) ? cj_word_index(words, json_string_value(v)) : -1;
    if (i < 0) {
        char list[CJ_LIST_MAX];
        return cj_bad(ld, entry, "'%s' must be one of: %s", key,
                      cj_join_words(list, sizeof list, words));
    }
    *out = i;
    return TS_OK;
}

int cj_get_bool(cj_loader *ld, const char *entry, json_t *obj, const char *key, bool *out,
                bool *given)
{
    json_t *v = json_object_get(obj, key);
    *given = v != NULL;
    if (!v)
        return TS_OK;
    if (!json_is_boolean(v))
        return cj_bad(ld, entry, "'%s' must be true or false", key);
    *out = json_is_true(v);
    return TS_OK;
}

int cj_get_int(cj_loader *ld, const char *entry, json_t *obj, const char *key, int lo, int hi,
               int *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return TS_OK;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return cj_bad(ld, entry, "'%s' must be an integer from %d to %d", key, lo, hi);
    *out = (int)json_integer_value(v);
    return TS_OK;
}

int cj_get_array(cj_loader *ld, const char *entry, json_t *obj, const char *key, bool required,
                 size_t max, json_t **out)
{
    json_t *v = json_object_get(obj, key);
    *out = v;
    if (!v)
        return required ? cj_bad(ld, entry, "missing key '%s'", key) : TS_OK;
    if (!json_is_array(v))
        return cj_bad(ld, entry, "'%s' must be an array", key);
    if (json_array_size(v) > max)
        return cj_bad(ld, entry, "'%s' has %zu entries, at most %zu allowed", key,
                      json_array_size(v), max);
    return TS_OK;
}

int cj_get_values(cj_loader *ld, const char *entry, json_t *obj, const char *key,
                  char values[][CATALOG_NAME_MAX], int *n)
{
    json_t *arr, *v;
    size_t i;
    int rc = cj_get_array(ld, entry, obj, key, true, CATALOG_MAX_VALUES, &arr);
    if (rc)
        return rc;
    if (json_array_size(arr) == 0)
        return cj_bad(ld, entry, "'%s' must not be empty", key);
    *n = 0;
    json_array_foreach (arr, i, v) {
        char what[64];
        snprintf(what, sizeof what, "value in '%s'", key);
        if ((rc = cj_take_name(ld, entry, what, v, CJ_NAME_OPTION, values[i])))
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp(values[j], values[i]) == 0)
                return cj_bad(ld, entry, "value '%s' appears twice in '%s'", values[i], key);
        *n = (int)i + 1;
    }
    return TS_OK;
}

int cj_get_label(cj_loader *ld, const char *entry, json_t *obj, const char *name, char *vi,
                 char *en)
{
    json_t *l = json_object_get(obj, "label");
    snprintf(vi, CATALOG_LABEL_MAX, "%s", name);
    snprintf(en, CATALOG_LABEL_MAX, "%s", name);
    if (!l)
        return TS_OK;
    if (!json_is_object(l))
        return cj_bad(ld, entry, "'label' must be an object {\"vi\": \"...\", \"en\": \"...\"}");
    int rc = cj_check_keys(ld, entry, l, LABEL_KEYS, " in label");
    for (int i = 0; !rc && LABEL_KEYS[i]; i++) {
        json_t *v = json_object_get(l, LABEL_KEYS[i]);
        if (!json_is_string(v) || json_string_length(v) == 0 ||
            json_string_length(v) >= CATALOG_LABEL_MAX)
            return cj_bad(ld, entry, "label '%s' must be a string of 1 to %d bytes", LABEL_KEYS[i],
                          CATALOG_LABEL_MAX - 1);
        memcpy(i == 0 ? vi : en, json_string_value(v), json_string_length(v) + 1);
    }
    return rc;
}
