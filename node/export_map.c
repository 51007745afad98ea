/* export_map.c: the mapping file from tiersync codes to DHIS2 UIDs, ADX
 * codes and FHIR Measure URLs (format: docs/API.md, example:
 * catalog/dhis2-mapping.json).
 *
 * The file is validated whole against the catalog when loaded, so a typo
 * in an indicator, category, option or UID is refused with the file, the
 * entry and the reason instead of producing an export DHIS2 rejects later.
 * Keys starting with "_" are comments. Anything left out maps to itself. */
#include "export.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DHIS2_UID_LEN 11
#define DHIS2_DEFAULT_COC "default" /* code of DHIS2's default category option combo */
#define FHIR_BASE_MAX 256           /* fhir.measureBase */

struct export_mapping {
    json_t *root;
    char path[TS_PATH_MAX];
};

typedef struct {
    const catalog_t *cat;
    const char *path;
    ts_err *e;
} map_loader;

static int bad(map_loader *ld, const char *entry, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(map_loader *ld, const char *entry, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ts_fail(ld->e, TS_EINPUT, "%s: %s: %s", ld->path, entry, msg);
}

static bool is_comment(const char *key)
{
    return key[0] == '_';
}

/* DHIS2 UIDs: 11 characters, a letter then letters or digits. */
static bool uid_ok(const char *s)
{
    if (strlen(s) != DHIS2_UID_LEN || !((*s | 32) >= 'a' && (*s | 32) <= 'z'))
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || ((*p | 32) >= 'a' && (*p | 32) <= 'z')))
            return false;
    return true;
}

/* XML names usable as ADX attributes (ASCII NCName subset). */
static bool ncname_ok(const char *s)
{
    if (!((*s | 32) >= 'a' && (*s | 32) <= 'z') && *s != '_')
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || ((*p | 32) >= 'a' && (*p | 32) <= 'z') || *p == '_' ||
              *p == '-' || *p == '.'))
            return false;
    return strcmp(s, "dataElement") && strcmp(s, "value");
}

static int check_code(map_loader *ld, const char *entry, json_t *v, bool uid)
{
    if (!json_is_string(v) || !json_string_length(v) || json_string_length(v) >= EXPORT_ID_MAX)
        return bad(ld, entry, "must be a non-empty string of at most %d characters",
                   EXPORT_ID_MAX - 1);
    if (uid && !uid_ok(json_string_value(v)))
        return bad(ld, entry,
                   "'%s' is not a DHIS2 UID (11 letters and digits, starting "
                   "with a letter)",
                   json_string_value(v));
    return TS_OK;
}

/* FHIR canonical URL parts: printable ASCII without spaces. */
static int check_url_part(map_loader *ld, const char *entry, json_t *v, size_t max)
{
    const char *s = json_string_value(v);
    if (!s || !*s || strlen(s) >= max)
        return bad(ld, entry, "must be a non-empty string of at most %zu characters", max - 1);
    for (; *s; s++)
        if (*s <= ' ' || *s > '~')
            return bad(ld, entry, "must be printable ASCII without spaces (part of a URL)");
    return TS_OK;
}

/* {"dhis2": UID, "adx": CODE, "fhir": ID}, all optional. */
static int check_pair(map_loader *ld, const char *entry, json_t *o)
{
    if (!json_is_object(o))
        return bad(ld, entry, "must be an object {\"dhis2\": UID, \"adx\": CODE}");
    const char *k;
    json_t *v;
    char sub[256];
    json_object_foreach (o, k, v) {
        snprintf(sub, sizeof sub, "%s.%s", entry, k);
        if (is_comment(k))
            continue;
        if (!strcmp(k, "fhir")) {
            if (check_url_part(ld, sub, v, EXPORT_ID_MAX))
                return TS_EINPUT;
            continue;
        }
        if (strcmp(k, "dhis2") && strcmp(k, "adx"))
            return bad(ld, sub, "unknown key (use dhis2, adx and fhir)");
        if (check_code(ld, sub, v, !strcmp(k, "dhis2")))
            return TS_EINPUT;
    }
    return TS_OK;
}

static int check_section(map_loader *ld, const char *name, json_t *sec,
                         int (*each)(map_loader *, const char *, const char *, json_t *))
{
    if (!json_is_object(sec))
        return bad(ld, name, "must be an object");
    const char *k;
    json_t *v;
    char entry[256];
    json_object_foreach (sec, k, v) {
        if (is_comment(k))
            continue;
        snprintf(entry, sizeof entry, "%s.%s", name, k);
        if (each(ld, entry, k, v))
            return TS_EINPUT;
    }
    return TS_OK;
}

static int each_org_unit(map_loader *ld, const char *entry, const char *code, json_t *v)
{
    if (!ts_code_valid(code))
        return bad(ld, entry, "'%s' is not an org-unit code", code);
    return check_pair(ld, entry, v);
}

/* An indicator an export can carry: known and stored (not a ratio). */
static const catalog_indicator *exported(map_loader *ld, const char *entry, const char *code)
{
    const catalog_indicator *ind = catalog_indicator_find(ld->cat, code);
    if (!ind)
        bad(ld, entry, "no indicator %s in catalog %s", code, ld->cat->id);
    else if (!catalog_is_stored(ind))
        bad(ld, entry, "%s is a ratio, never exported to DHIS2 or ADX: map its parts %s and %s",
            code, ld->cat->inds[ind->numerator].code, ld->cat->inds[ind->denominator].code);
    return ind && catalog_is_stored(ind) ? ind : NULL;
}

static int each_data_element(map_loader *ld, const char *entry, const char *code, json_t *v)
{
    if (!exported(ld, entry, code))
        return TS_EINPUT;
    return check_pair(ld, entry, v);
}

static int each_coc(map_loader *ld, const char *entry, const char *code, json_t *v)
{
    const catalog_indicator *ind = exported(ld, entry, code);
    if (!ind)
        return TS_EINPUT;
    if (!json_is_object(v))
        return bad(ld, entry, "must map options (\"cat=opt,cat=opt\") to a DHIS2 UID");
    const char *opts;
    json_t *uid;
    char sub[512];
    json_object_foreach (v, opts, uid) {
        if (is_comment(opts))
            continue;
        snprintf(sub, sizeof sub, "%s.\"%s\"", entry, opts);
        char canon[CELL_OPTIONS_MAX];
        ts_err oe = {0};
        if (catalog_options_canon(ld->cat, ind, opts, canon, sizeof canon, &oe))
            return bad(ld, sub, "%s", oe.msg);
        if (strcmp(canon, opts))
            return bad(ld, sub, "write the options as \"%s\" (sorted by category)", canon);
        if (check_code(ld, sub, uid, true))
            return TS_EINPUT;
    }
    return TS_OK;
}

static int each_category(map_loader *ld, const char *entry, const char *name, json_t *v)
{
    int ci = catalog_category_find(ld->cat, name);
    if (ci < 0)
        return bad(ld, entry, "no category %s in catalog %s", name, ld->cat->id);
    if (!json_is_object(v))
        return bad(ld, entry, "must be {\"adx\": NAME, \"options\": {OPTION: CODE}}");
    const char *k;
    json_t *x;
    char sub[512];
    json_object_foreach (v, k, x) {
        snprintf(sub, sizeof sub, "%s.%s", entry, k);
        if (is_comment(k))
            continue;
        if (!strcmp(k, "adx")) {
            if (check_code(ld, sub, x, false))
                return TS_EINPUT;
            if (!ncname_ok(json_string_value(x)))
                return bad(ld, sub,
                           "'%s' cannot be an XML attribute name (letters, digits, "
                           "_ - . and not dataElement or value)",
                           json_string_value(x));
        } else if (!strcmp(k, "options")) {
            if (!json_is_object(x))
                return bad(ld, sub, "must map each option to an ADX code");
            const char *opt;
            json_t *code;
            json_object_foreach (x, opt, code) {
                char o2[600];
                snprintf(o2, sizeof o2, "%s.%s", sub, opt);
                if (is_comment(opt))
                    continue;
                if (catalog_option_find(&ld->cat->cats[ci], opt) < 0)
                    return bad(ld, o2, "%s is not an option of category %s", opt, name);
                if (check_code(ld, o2, code, false))
                    return TS_EINPUT;
            }
        } else {
            return bad(ld, sub, "unknown key (use adx and options)");
        }
    }
    return TS_OK;
}

static int check_fhir(map_loader *ld, const char *entry, json_t *o)
{
    if (!json_is_object(o))
        return bad(ld, entry, "must be an object {\"measureBase\": URL}");
    const char *k;
    json_t *v;
    char sub[256];
    json_object_foreach (o, k, v) {
        snprintf(sub, sizeof sub, "%s.%s", entry, k);
        if (is_comment(k))
            continue;
        if (strcmp(k, "measureBase"))
            return bad(ld, sub, "unknown key (use measureBase)");
        if (check_url_part(ld, sub, v, FHIR_BASE_MAX))
            return TS_EINPUT;
    }
    return TS_OK;
}

static int validate(map_loader *ld, json_t *root)
{
    if (!json_is_object(root))
        return bad(ld, "top level", "must be a JSON object");
    const char *k;
    json_t *v;
    json_object_foreach (root, k, v) {
        if (is_comment(k))
            continue;
        int rc;
        if (!strcmp(k, "catalog")) {
            if (!json_is_string(v) || strcmp(json_string_value(v), ld->cat->id))
                return bad(ld, k, "this mapping is for another catalog (this node uses %s)",
                           ld->cat->id);
            rc = TS_OK;
        } else if (!strcmp(k, "dataSet")) {
            rc = check_pair(ld, k, v);
        } else if (!strcmp(k, "defaultCategoryOptionCombo")) {
            rc = check_code(ld, k, v, true);
        } else if (!strcmp(k, "orgUnits")) {
            rc = check_section(ld, k, v, each_org_unit);
        } else if (!strcmp(k, "dataElements")) {
            rc = check_section(ld, k, v, each_data_element);
        } else if (!strcmp(k, "categoryOptionCombos")) {
            rc = check_section(ld, k, v, each_coc);
        } else if (!strcmp(k, "categories")) {
            rc = check_section(ld, k, v, each_category);
        } else if (!strcmp(k, "fhir")) {
            rc = check_fhir(ld, k, v);
        } else {
            return bad(ld, k,
                       "unknown key (known: catalog, dataSet, "
                       "defaultCategoryOptionCombo, orgUnits, dataElements, "
                       "categoryOptionCombos, categories, fhir; _name for comments)");
        }
        if (rc)
            return rc;
    }
    return TS_OK;
}

int export_mapping_load(export_mapping **out, const catalog_t *cat, const char *path, ts_err *e)
{
    *out = NULL;
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        if (access(path, R_OK) != 0)
            return ts_fail(e, TS_ERUNTIME, "cannot read the mapping file %s", path);
        return ts_fail(e, TS_EINPUT, "%s line %d: not valid JSON: %s", path, je.line, je.text);
    }
    map_loader ld = {cat, path, e};
    if (validate(&ld, root)) {
        json_decref(root);
        return TS_EINPUT;
    }
    export_mapping *m = calloc(1, sizeof *m);
    if (!m) {
        json_decref(root);
        return ts_fail(e, TS_ERUNTIME, "out of memory");
    }
    m->root = root;
    snprintf(m->path, sizeof m->path, "%s", path);
    *out = m;
    return TS_OK;
}

int export_mapping_default(export_mapping **out, const node_t *n, ts_err *e)
{
    char path[TS_PATH_MAX];
    *out = NULL;
    if (ts_path(path, sizeof path, e, "%s/%s", n->cfg.dir, EXPORT_MAPPING_FILE))
        return e->code;
    if (access(path, F_OK) != 0)
        return TS_OK;
    return export_mapping_load(out, n->catalog, path, e);
}

void export_mapping_destroy(export_mapping **m)
{
    if (!m || !*m)
        return;
    json_decref((*m)->root);
    free(*m);
    *m = NULL;
}

/* ---- lookups ---- */

static const char *get_str(json_t *o)
{
    return json_is_string(o) ? json_string_value(o) : NULL;
}

static const char *pair(const export_mapping *m, const char *section, const char *key,
                        export_format which)
{
    if (!m)
        return NULL;
    json_t *sec = json_object_get(m->root, section);
    json_t *o = key ? json_object_get(sec, key) : sec;
    return get_str(json_object_get(o, which == EXPORT_ADX ? "adx" : "dhis2"));
}

const char *export_map_org_unit(const export_mapping *m, export_format which, const char *code)
{
    const char *v = pair(m, "orgUnits", code, which);
    return v ? v : code;
}

const char *export_map_data_element(const export_mapping *m, export_format which,
                                    const char *indicator)
{
    const char *v = pair(m, "dataElements", indicator, which);
    return v ? v : indicator;
}

const char *export_map_data_set(const export_mapping *m, export_format which, const catalog_t *cat)
{
    const char *v = pair(m, "dataSet", NULL, which);
    return v ? v : which == EXPORT_ADX ? cat->id : NULL;
}

const char *export_map_coc(const export_mapping *m, const char *indicator, const char *options)
{
    const char *v = NULL;
    if (m && options[0])
        v = get_str(json_object_get(
            json_object_get(json_object_get(m->root, "categoryOptionCombos"), indicator), options));
    else if (m)
        v = get_str(json_object_get(m->root, "defaultCategoryOptionCombo"));
    return v ? v : options[0] ? options : DHIS2_DEFAULT_COC;
}

const char *export_map_adx_category(const export_mapping *m, const char *category)
{
    const char *v = m
        ? get_str(json_object_get(json_object_get(json_object_get(m->root, "categories"), category),
                                  "adx"))
        : NULL;
    return v ? v : category;
}

const char *export_map_adx_option(const export_mapping *m, const char *category, const char *option)
{
    const char *v = NULL;
    if (m)
        v = get_str(json_object_get(
            json_object_get(json_object_get(json_object_get(m->root, "categories"), category),
                            "options"),
            option));
    return v ? v : option;
}

void export_map_measure(const export_mapping *m, const catalog_t *cat, const char *indicator,
                        char *out, size_t outsz)
{
    const char *base = m ? get_str(json_object_get(json_object_get(m->root, "fhir"), "measureBase"))
                         : NULL;
    const char *id = m
        ? get_str(json_object_get(
              json_object_get(json_object_get(m->root, "dataElements"), indicator), "fhir"))
        : NULL;
    if (!id)
        id = export_map_data_element(m, EXPORT_ADX, indicator);
    if (base)
        snprintf(out, outsz, "%s%s", base, id);
    else
        snprintf(out, outsz, "urn:tiersync:%s:measure:%s", cat->id, id);
}
