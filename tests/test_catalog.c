/* test_catalog.c: the shipped catalog, every class of refused catalog, the
 * lookups, and the period / category option / path helpers.
 *
 * Catalog texts are written with single quotes for readability; mk() turns
 * them into JSON. Each refusal test checks TS_EINPUT and that the message
 * names the file and the offending entry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "testutil.h"

#define TEXT_MAX 65536

static char dir[512];

static const char *PERSON = "{'name':'person','fields':["
                            "{'name':'id','type':'string'},"
                            "{'name':'sex','type':'enum','values':['M','F'],'required':true},"
                            "{'name':'full_name','type':'string','pii':true},"
                            "{'name':'tribe','type':'enum','values':['x','y'],'pii':true},"
                            "{'name':'birth_date','type':'date','pii':true},"
                            "{'name':'registered_on','type':'date','required':true},"
                            "{'name':'left_on','type':'date'}]}";
static const char *EPISODE = "{'name':'episode','fields':["
                             "{'name':'id','type':'string'},"
                             "{'name':'person_id','type':'ref','ref':'person'},"
                             "{'name':'modality','type':'enum','values':['a','b.c','d+']},"
                             "{'name':'start_on','type':'date'},{'name':'end_on','type':'date'}]}";
static const char *CATS =
    "{'name':'sex','field':'person.sex'},{'name':'modality','field':'episode.modality'}";
static const char *IND =
    "{'code':'N','kind':'stock','over':'person','start':'registered_on','by':['sex']}";

/* Builds a catalog from its three arrays (single-quoted) as JSON. */
static const char *mk(const char *records, const char *cats, const char *inds)
{
    static char buf[TEXT_MAX];
    int n = snprintf(buf, sizeof buf,
                     "{'id':'t','version':1,'records':[%s],'categories':[%s],'indicators':[%s]}",
                     records, cats, inds);
    assert_true(n > 0 && (size_t)n < sizeof buf);
    for (char *p = buf; *p; p++)
        if (*p == '\'')
            *p = '"';
    return buf;
}

static const char *std_records(void)
{
    static char buf[2048];
    snprintf(buf, sizeof buf, "%s,%s", PERSON, EPISODE);
    return buf;
}

static int load_text(const char *text, catalog_t **c, ts_err *e, char *path, size_t pathsz)
{
    snprintf(path, pathsz, "%s", tu_write_file(dir, "c.json", text));
    return catalog_load(c, path, e);
}

/* Asserts text is refused with TS_EINPUT, naming the file and both needles. */
static void refuse(const char *text, const char *needle1, const char *needle2)
{
    char path[1024];
    ts_err e = {0};
    catalog_t *c = NULL;
    int rc = load_text(text, &c, &e, path, sizeof path);
    if (rc != TS_EINPUT)
        fail_msg("expected TS_EINPUT, got %d (%s) for %s", rc, e.msg, text);
    assert_null(c);
    assert_int_equal(e.code, TS_EINPUT);
    if (!strstr(e.msg, path))
        fail_msg("message '%s' does not name the file", e.msg);
    if (needle1 && !strstr(e.msg, needle1))
        fail_msg("message '%s' lacks '%s'", e.msg, needle1);
    if (needle2 && !strstr(e.msg, needle2))
        fail_msg("message '%s' lacks '%s'", e.msg, needle2);
}

static void accept(const char *text)
{
    char path[1024];
    ts_err e = {0};
    catalog_t *c = NULL;
    if (load_text(text, &c, &e, path, sizeof path) != TS_OK)
        fail_msg("refused: %s", e.msg);
    catalog_destroy(&c);
    assert_null(c);
}

static catalog_t *load_default(void)
{
    ts_err e = {0};
    catalog_t *c = NULL;
    if (catalog_load(&c, tu_catalog_path(), &e) != TS_OK)
        fail_msg("default catalog refused: %s", e.msg);
    return c;
}

/* ---- the shipped catalog ---------------------------------------------- */

static bool field_pii(const catalog_t *c, const char *type, const char *field)
{
    const catalog_rtype *t = &c->types[catalog_rtype_find(c, type)];
    int f = catalog_field_find(t, field);
    assert_true(f >= 0);
    return t->fields[f].pii;
}

static void assert_cats(const catalog_t *c, const catalog_indicator *ind, const char *const *names)
{
    int n = 0;
    while (names[n])
        n++;
    assert_int_equal(ind->ncats, n);
    for (int i = 0; i < n; i++)
        assert_string_equal(c->cats[ind->cats[i]].name, names[i]);
}

static void test_default_catalog(void **state)
{
    (void)state;
    catalog_t *c = load_default();
    assert_string_equal(c->id, "drug-treatment");
    assert_int_equal(c->version, 1);
    assert_int_equal(c->ntypes, 3);
    assert_int_equal(c->ncats, 5);
    assert_int_equal(c->ninds, 24);
    assert_int_equal(c->after_months, 12);

    const char *pii[] = {"full_name", "national_id", "birth_date", "address"};
    for (size_t i = 0; i < 4; i++)
        assert_true(field_pii(c, "person", pii[i]));
    assert_false(field_pii(c, "person", "sex"));
    assert_false(field_pii(c, "person", "registered_on"));
    assert_false(field_pii(c, "episode", "modality"));

    int person = catalog_rtype_find(c, "person"), episode = catalog_rtype_find(c, "episode");
    assert_int_equal(c->types[person].owner_ref, -1);
    const catalog_rtype *ep = &c->types[episode];
    assert_int_equal(ep->owner_ref, catalog_field_find(ep, "person_id"));
    assert_int_equal(ep->fields[ep->owner_ref].ref_type, person);
    assert_int_equal(ep->id_field, catalog_field_find(ep, "id"));
    assert_true(ep->fields[ep->id_field].required);
    const catalog_field *modality = &ep->fields[catalog_field_find(ep, "modality")];
    assert_int_equal(modality->type, FIELD_ENUM);
    assert_int_equal(modality->nvalues, 4);
    assert_string_equal(modality->values[3], "voluntary_community");

    const catalog_category *age = &c->cats[catalog_category_find(c, "age_band")];
    const char *bands[] = {"0-17", "18-29", "30-39", "40-49", "50+", "unknown"};
    assert_int_equal(age->kind, CAT_AGE_BAND);
    assert_int_equal(age->rtype, person);
    assert_int_equal(age->field, catalog_field_find(&c->types[person], "birth_date"));
    assert_int_equal(age->noptions, 6);
    assert_int_equal(age->nbands, 5);
    for (int i = 0; i < 6; i++)
        assert_string_equal(age->options[i], bands[i]);
    assert_int_equal(age->bands[1].lo, 18);
    assert_int_equal(age->bands[1].hi, 29);
    assert_int_equal(age->bands[4].lo, 50);
    assert_int_equal(age->bands[4].hi, -1);
    const catalog_category *sex = &c->cats[catalog_category_find(c, "sex")];
    assert_int_equal(sex->kind, CAT_FIELD);
    assert_int_equal(sex->noptions, 2);
    assert_string_equal(sex->label_vi, "Giới tính");
    assert_string_equal(sex->label_en, "Sex");

    struct {
        const char *code;
        catalog_kind kind;
        catalog_period period;
        const char *over;
    } want[] = {
        {"PERSONS_MANAGED", IND_STOCK, PERIOD_MONTH, "person"},
        {"PERSONS_CONFIRMED", IND_STOCK, PERIOD_MONTH, "person"},
        {"IN_TREATMENT", IND_STOCK, PERIOD_MONTH, "episode"},
        {"TREATMENT_STARTED", IND_FLOW, PERIOD_MONTH, "episode"},
        {"TREATMENT_ENDED", IND_FLOW, PERIOD_MONTH, "episode"},
        {"SUPPORT_GIVEN", IND_FLOW, PERIOD_MONTH, "support"},
        {"REACHED", IND_REACH, PERIOD_YEAR, "episode"},
        {"COUNSELLING_POINTS", IND_VALUE, PERIOD_MONTH, NULL},
        {"STAFF_TRAINED", IND_VALUE, PERIOD_YEAR, NULL},
        {"VOLUNTARY_REQUESTS", IND_VALUE, PERIOD_YEAR, NULL},
        {"TARGET_REACHED", IND_VALUE, PERIOD_YEAR, NULL},
        {"POST_REHAB", IND_AFTER, PERIOD_MONTH, "episode"},
        {"RELAPSED", IND_AFTER, PERIOD_MONTH, "episode"},
        {"POST_REHAB_SUPPORTED", IND_AFTER, PERIOD_MONTH, "episode"},
        {"POST_REHAB_SUPPORTED_PCT", IND_RATIO, PERIOD_MONTH, NULL},
        {"COUNSELLORS", IND_VALUE, PERIOD_YEAR, NULL},
        {"COUNSELLORS_CERTIFIED", IND_VALUE, PERIOD_YEAR, NULL},
        {"COUNSELLORS_CERTIFIED_PCT", IND_RATIO, PERIOD_YEAR, NULL},
        {"ADULTS_SURVEYED", IND_VALUE, PERIOD_YEAR, NULL},
        {"ADULTS_AWARE", IND_VALUE, PERIOD_YEAR, NULL},
        {"ADULTS_AWARE_PCT", IND_RATIO, PERIOD_YEAR, NULL},
        {"TARGET_COUNSELLORS_CERTIFIED_PCT", IND_VALUE, PERIOD_YEAR, NULL},
        {"TARGET_POST_REHAB_SUPPORTED_PCT", IND_VALUE, PERIOD_YEAR, NULL},
        {"TARGET_ADULTS_AWARE_PCT", IND_VALUE, PERIOD_YEAR, NULL},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const catalog_indicator *ind = catalog_indicator_find(c, want[i].code);
        assert_non_null(ind);
        assert_int_equal(ind->kind, want[i].kind);
        assert_int_equal(ind->period, want[i].period);
        assert_int_equal(ind->rtype, want[i].over ? catalog_rtype_find(c, want[i].over) : -1);
        assert_true(strlen(ind->label_vi) > 0 && strlen(ind->label_en) > 0);
        assert_string_not_equal(ind->label_vi, ind->label_en);
    }

    const catalog_indicator *pm = catalog_indicator_find(c, "PERSONS_MANAGED");
    assert_string_equal(pm->label_vi, "Số người nghiện có hồ sơ quản lý");
    assert_string_equal(pm->label_en, "Persons with management files");
    assert_int_equal(pm->start_field, catalog_field_find(&c->types[person], "registered_on"));
    assert_int_equal(pm->end_field, catalog_field_find(&c->types[person], "deregistered_on"));
    assert_int_equal(pm->nfilters, 0);
    assert_cats(c, pm, (const char *[]){"sex", "age_band", NULL});

    const catalog_indicator *pc = catalog_indicator_find(c, "PERSONS_CONFIRMED");
    assert_int_equal(pc->nfilters, 1);
    assert_int_equal(pc->filters[0].op, FILTER_SET);
    assert_int_equal(pc->filters[0].field, catalog_field_find(&c->types[person], "confirmed_on"));
    assert_int_equal(pc->start_field, pc->filters[0].field);

    assert_cats(c, catalog_indicator_find(c, "IN_TREATMENT"),
                (const char *[]){"modality", "sex", "age_band", NULL});
    assert_cats(c, catalog_indicator_find(c, "TREATMENT_STARTED"),
                (const char *[]){"modality", "sex", "age_band", NULL});
    const catalog_indicator *te = catalog_indicator_find(c, "TREATMENT_ENDED");
    assert_cats(c, te, (const char *[]){"modality", "outcome", NULL});
    assert_int_equal(te->start_field, catalog_field_find(ep, "end_on"));
    assert_int_equal(te->end_field, -1);
    assert_int_equal(te->filters[0].op, FILTER_SET);
    assert_cats(c, catalog_indicator_find(c, "SUPPORT_GIVEN"),
                (const char *[]){"kind", "sex", NULL});

    const catalog_indicator *reached = catalog_indicator_find(c, "REACHED");
    assert_int_equal(reached->start_field, catalog_field_find(ep, "start_on"));
    assert_int_equal(reached->end_field, catalog_field_find(ep, "end_on"));
    assert_int_equal(reached->distinct_field, catalog_field_find(ep, "person_id"));
    assert_cats(c, reached, (const char *[]){"modality", NULL});
    assert_cats(c, catalog_indicator_find(c, "TARGET_REACHED"), (const char *[]){"modality", NULL});
    assert_cats(c, catalog_indicator_find(c, "STAFF_TRAINED"), (const char *[]){NULL});
    catalog_destroy(&c);
    assert_null(c);
    catalog_destroy(&c); /* NULL-safe */
    catalog_destroy(NULL);
}

static void test_lookups(void **state)
{
    (void)state;
    catalog_t *c = load_default();
    assert_null(catalog_indicator_find(c, "NOPE"));
    assert_null(catalog_indicator_find(c, NULL));
    assert_int_equal(catalog_rtype_find(c, "ghost"), -1);
    assert_int_equal(catalog_rtype_find(c, "support"), 2);
    assert_int_equal(catalog_field_find(&c->types[0], "ghost"), -1);
    assert_int_equal(catalog_field_find(&c->types[0], "id"), 0);
    assert_int_equal(catalog_category_find(c, "ghost"), -1);
    const catalog_category *sex = &c->cats[catalog_category_find(c, "sex")];
    assert_int_equal(catalog_option_find(sex, "F"), 1);
    assert_int_equal(catalog_option_find(sex, "X"), -1);
    assert_string_equal(c->path, tu_catalog_path());
    catalog_destroy(&c);
}

static void test_small_catalogs_load(void **state)
{
    (void)state;
    char recs[4096];
    accept(mk(std_records(), CATS, IND));
    snprintf(recs, sizeof recs, "%s,%s", EPISODE, PERSON); /* a ref may point forward */
    accept(mk(recs, CATS, IND));
    accept(mk(std_records(), "", "{'code':'V','kind':'value'}"));
    /* owners are followed up to the root: a visit of an episode sees person's sex */
    snprintf(recs, sizeof recs,
             "%s,%s,{'name':'visit','fields':[{'name':'id','type':'string'},"
             "{'name':'episode_id','type':'ref','ref':'episode'},{'name':'on','type':'date'}]}",
             PERSON, EPISODE);
    accept(mk(recs, CATS,
              "{'code':'V','kind':'flow','over':'visit','date':'on','by':['sex','modality']}"));
    accept(mk(
        std_records(), CATS,
        "{'code':'V','kind':'flow','over':'episode','date':'start_on','period':'month',"
        "'filter':[{'field':'modality','op':'in','values':['b.c','d+']},{'field':'end_on','op':'empty'}]}"));
}

/* ---- refusals ---------------------------------------------------------- */

static void test_refuse_file(void **state)
{
    (void)state;
    ts_err e = {0};
    catalog_t *c = NULL;
    char path[1024];
    snprintf(path, sizeof path, "%s/absent.json", dir);
    assert_int_equal(catalog_load(&c, path, &e), TS_ERUNTIME);
    assert_null(c);
    assert_non_null(strstr(e.msg, path));
    assert_int_equal(catalog_load(&c, dir, &e), TS_ERUNTIME); /* a directory */
}

static void test_refuse_json_syntax(void **state)
{
    (void)state;
    refuse("{\"id\": \"x\",\n  \"version\": 1,,\n}", "line 2", "invalid JSON");
    refuse("", "line", NULL);
    refuse("{\"id\": \"x\", \"id\": \"y\"}", "duplicate", NULL);
    refuse("[1, 2]", "top level", "object");
}

static void test_refuse_top_level(void **state)
{
    (void)state;
    refuse("{\"id\":\"t\",\"version\":1,\"records\":[],\"categories\":[]}", "top level",
           "missing key 'indicators'");
    char text[TEXT_MAX];
    snprintf(text, sizeof text, "%s", mk(std_records(), CATS, IND));
    text[strlen(text) - 1] = '\0';
    strcat(text, ",\"extras\":1}");
    refuse(text, "unknown key 'extras'", "allowed: id, version");
    snprintf(text, sizeof text, "%s", mk(std_records(), CATS, IND));
    memcpy(strstr(text, "\"version\":1"), "\"version\":0", 11);
    refuse(text, "top level", "version");
    refuse(mk(std_records(), CATS, ""), "top level", "'indicators' must not be empty");
    refuse("{\"id\":\"bad id\",\"version\":1,\"records\":[],\"categories\":[],\"indicators\":[]}",
           "'id'", "not a valid name");
}

static void test_refuse_duplicates(void **state)
{
    (void)state;
    char recs[4096];
    snprintf(recs, sizeof recs, "%s,%s,%s", PERSON, EPISODE, PERSON);
    refuse(mk(recs, CATS, IND), "records[2]", "duplicate record type 'person'");
    refuse(
        mk("{'name':'person','fields':[{'name':'id','type':'string'},{'name':'id','type':'string'}]}",
           "", "{'code':'V','kind':'value'}"),
        "record type person: field id", "duplicate field");
    snprintf(recs, sizeof recs, "%s,{'name':'sex','field':'episode.modality'}", CATS);
    refuse(mk(std_records(), recs, IND), "category sex", "duplicate");
    snprintf(recs, sizeof recs, "%s,%s", IND, IND);
    refuse(mk(std_records(), CATS, recs), "indicator N", "duplicate indicator code");
}

static void test_refuse_id_field(void **state)
{
    (void)state;
    refuse(mk("{'name':'thing','fields':[{'name':'code','type':'string'}]}", "",
              "{'code':'V','kind':'value'}"),
           "record type thing", "field 'id' of type string");
    refuse(mk("{'name':'thing','fields':[{'name':'id','type':'date'}]}", "",
              "{'code':'V','kind':'value'}"),
           "record type thing", "field 'id'");
    refuse(mk("{'name':'thing','fields':[{'name':'id','type':'string','required':false}]}", "",
              "{'code':'V','kind':'value'}"),
           "record type thing: field id", "always required");
    refuse(mk("{'name':'thing','fields':[{'name':'id','type':'string','pii':true}]}", "",
              "{'code':'V','kind':'value'}"),
           "record type thing: field id", "cannot be pii");
    refuse(mk("{'name':'thing'}", "", "{'code':'V','kind':'value'}"), "record type thing",
           "missing key 'fields'");
}

static void test_refuse_field_type(void **state)
{
    (void)state;
    refuse(
        mk("{'name':'thing','fields':[{'name':'id','type':'string'},{'name':'n','type':'number'}]}",
           "", "{'code':'V','kind':'value'}"),
        "record type thing: field n", "string, date, enum, ref");
    refuse(mk("{'name':'thing','fields':[{'name':'id','type':'string'},{'name':'n'}]}", "",
              "{'code':'V','kind':'value'}"),
           "record type thing: field n", "missing key 'type'");
    refuse(
        mk("{'name':'thing','fields':[{'name':'id','type':'string'},{'name':'n','type':'date','pii':1}]}",
           "", "{'code':'V','kind':'value'}"),
        "record type thing: field n", "'pii' must be true or false");
    refuse(
        mk("{'name':'thing','fields':[{'name':'id','type':'string'},{'name':'n','type':'date','size':3}]}",
           "", "{'code':'V','kind':'value'}"),
        "record type thing: field n", "unknown key 'size'");
}

static void test_refuse_enum_values(void **state)
{
    (void)state;
    const char *fmt =
        "{'name':'thing','fields':[{'name':'id','type':'string'},{'name':'e','type':%s}]}";
    const char *bad[][2] = {
        {"'enum'", "missing key 'values'"},
        {"'enum','values':[]", "must not be empty"},
        {"'enum','values':['a','b','a']", "value 'a' appears twice"},
        {"'enum','values':['a b']", "not a valid name"},
        {"'enum','values':'a'", "must be an array"},
        {"'string','values':['a']", "only allowed for type enum"},
        {"'enum','values':['a','b','c','d','e','f','g','h','i','j','k','l','m','n','o','p','q']",
         "at most 16"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char recs[1024];
        snprintf(recs, sizeof recs, fmt, bad[i][0]);
        refuse(mk(recs, "", "{'code':'V','kind':'value'}"), "record type thing: field e",
               bad[i][1]);
    }
}

static void test_refuse_refs(void **state)
{
    (void)state;
    const char *v = "{'code':'V','kind':'value'}";
    char recs[4096];
    snprintf(recs, sizeof recs,
             "%s,{'name':'x','fields':[{'name':'id','type':'string'},"
             "{'name':'g','type':'ref','ref':'ghost'}]}",
             PERSON);
    refuse(mk(recs, "", v), "record type x: field g",
           "unknown record type 'ghost' (record types: person, x)");
    refuse(
        mk("{'name':'x','fields':[{'name':'id','type':'string'},{'name':'me','type':'ref','ref':'x'}]}",
           "", v),
        "record type x: field me", "itself");
    refuse(mk("{'name':'x','fields':[{'name':'id','type':'string'},{'name':'r','type':'ref'}]}", "",
              v),
           "record type x: field r", "missing key 'ref'");
    refuse(
        mk("{'name':'x','fields':[{'name':'id','type':'string'},{'name':'r','type':'string','ref':'x'}]}",
           "", v),
        "record type x: field r", "only allowed for type ref");
    snprintf(recs, sizeof recs,
             "%s,%s,{'name':'x','fields':[{'name':'id','type':'string'},"
             "{'name':'p','type':'ref','ref':'person'},{'name':'e','type':'ref','ref':'episode'}]}",
             PERSON, EPISODE);
    refuse(mk(recs, "", v), "record type x", "two ref fields (p, e)");
    refuse(
        mk("{'name':'a','fields':[{'name':'id','type':'string'},{'name':'b_id','type':'ref','ref':'b'}]},"
           "{'name':'b','fields':[{'name':'id','type':'string'},{'name':'a_id','type':'ref','ref':'a'}]}",
           "", v),
        "record type a", "cycle");
    snprintf(recs, sizeof recs,
             "%s,{'name':'x','fields':[{'name':'id','type':'string'},"
             "{'name':'p','type':'ref','ref':'person','required':false}]}",
             PERSON);
    refuse(mk(recs, "", v), "record type x: field p", "always required");
}

static void test_refuse_names(void **state)
{
    (void)state;
    const char *v = "{'code':'V','kind':'value'}";
    refuse(mk("{'name':'per son','fields':[{'name':'id','type':'string'}]}", "", v), "records[0]",
           "'per son' is not a valid name");
    refuse(mk("{'name':'p+','fields':[{'name':'id','type':'string'}]}", "", v), "records[0]",
           "'p+'");
    refuse(mk("{'name':'p','fields':[{'name':'id','type':'string'},{'name':'a.b','type':'date'}]}",
              "", v),
           "record type p: fields[1]", "'a.b'");
    char name[CATALOG_NAME_MAX + 1], text[1024];
    memset(name, 'n', CATALOG_NAME_MAX);
    name[CATALOG_NAME_MAX] = '\0';
    snprintf(text, sizeof text, "{'code':'%s','kind':'value'}", name);
    refuse(mk(std_records(), CATS, text), "indicators[0]", "not a valid name");
    name[CATALOG_NAME_MAX - 1] = '\0'; /* the longest name that fits */
    snprintf(text, sizeof text, "{'code':'%s','kind':'value'}", name);
    accept(mk(std_records(), CATS, text));
    refuse(mk(std_records(), CATS, "{'code':'a=b','kind':'value'}"), "indicators[0]", "'a=b'");
    refuse(mk(std_records(), CATS, "{'code':7,'kind':'value'}"), "indicators[0]",
           "'code' must be a string");
}

static void test_refuse_limits(void **state)
{
    (void)state;
    static char inds[TEXT_MAX / 2];
    size_t len = 0, at_limit = 0;
    for (int i = 0; i <= CATALOG_MAX_INDICATORS; i++) {
        at_limit = len;
        len += (size_t)snprintf(inds + len, sizeof inds - len, "%s{'code':'V%d','kind':'value'}",
                                i ? "," : "", i);
    }
    refuse(mk(std_records(), CATS, inds), "top level", "at most 64");
    inds[at_limit] = '\0'; /* exactly the limit */
    accept(mk(std_records(), CATS, inds));

    char recs[4096];
    len = (size_t)snprintf(recs, sizeof recs,
                           "{'name':'x','fields':[{'name':'id','type':'string'}");
    for (int i = 1; i <= CATALOG_MAX_FIELDS; i++)
        len += (size_t)snprintf(recs + len, sizeof recs - len, ",{'name':'f%d','type':'date'}", i);
    snprintf(recs + len, sizeof recs - len, "]}");
    refuse(mk(recs, "", "{'code':'V','kind':'value'}"), "record type x", "at most 24");

    refuse(mk(std_records(), CATS,
              "{'code':'V','kind':'value','by':['sex','modality','sex','modality','sex']}"),
           "indicator V", "at most 4");
}

static void test_refuse_category_source(void **state)
{
    (void)state;
    struct {
        const char *cat, *needle;
    } bad[] = {
        {"{'name':'c','field':'person.registered_on'}",
         "is of type date, a category needs an enum field"},
        {"{'name':'c','field':'person.tribe'}", "tribe is pii"},
        {"{'name':'c','field':'person.ghost'}", "unknown field 'ghost' in record type person"},
        {"{'name':'c','field':'ghost.sex'}", "unknown record type 'ghost'"},
        {"{'name':'c','field':'sex'}", "\"record_type.field\""},
        {"{'name':'c'}", "exactly one of 'field'"},
        {"{'name':'c','field':'person.sex','age_of':'person.birth_date'}", "exactly one of"},
        {"{'name':'c','field':'person.sex','bands':[]}", "only allowed with 'age_of'"},
        {"{'name':'c','field':'person.sex','colour':'red'}", "unknown key 'colour'"},
        {"{'name':'c','field':'person.sex','label':'Sex'}", "'label' must be an object"},
        {"{'name':'c','field':'person.sex','label':{'vi':'Giới'}}", "label 'en'"},
        {"{'name':'c','field':'person.sex','label':{'vi':'a','en':'b','fr':'c'}}",
         "unknown key 'fr' in label"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        refuse(mk(std_records(), bad[i].cat, "{'code':'V','kind':'value'}"), "category c",
               bad[i].needle);
}

static void test_refuse_age_bands(void **state)
{
    (void)state;
    struct {
        const char *cat, *needle;
    } bad[] = {
        {"{'name':'age','age_of':'person.sex','bands':[{'label':'all','from':0}]}",
         "expected a date field"},
        {"{'name':'age','age_of':'person.birth_date'}", "missing key 'bands'"},
        {"{'name':'age','age_of':'person.birth_date','bands':[]}", "'bands' must not be empty"},
        {"{'name':'age','age_of':'person.birth_date','bands':[{'label':'a','from':0,'to':20},"
         "{'label':'b','from':20}]}",
         "band b overlaps or precedes band a"},
        {"{'name':'age','age_of':'person.birth_date','bands':[{'label':'a','from':30,'to':40},"
         "{'label':'b','from':0,'to':10}]}",
         "band b overlaps or precedes band a"},
        {"{'name':'age','age_of':'person.birth_date','bands':[{'label':'a','from':30},"
         "{'label':'b','from':40}]}",
         "band b overlaps"},
        {"{'name':'age','age_of':'person.birth_date','bands':[{'label':'a','from':10,'to':5}]}",
         "from <= to"},
        {"{'name':'age','age_of':'person.birth_date','bands':[{'label':'a','from':-1}]}",
         "0 <= from"},
        {"{'name':'age','age_of':'person.birth_date','bands':[{'label':'unknown','from':0}]}",
         "reserved"},
        {"{'name':'age','age_of':'person.birth_date','bands':[{'label':'a','from':0,'to':1},"
         "{'label':'a','from':2}]}",
         "used twice"},
        {"{'name':'age','age_of':'person.birth_date','bands':[{'label':'a','from':'0'}]}",
         "must be integers"},
        {"{'name':'age','age_of':'person.birth_date','bands':[{'label':'a','from':0,'step':1}]}",
         "unknown key 'step' in a band"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        refuse(mk(std_records(), bad[i].cat, "{'code':'V','kind':'value'}"), "category age",
               bad[i].needle);
    accept(
        mk(std_records(),
           "{'name':'age','age_of':'person.birth_date','bands':[{'label':'young','from':0,'to':9},"
           "{'label':'old','from':60}]}",
           "{'code':'V','kind':'value','by':['age']}"));
}

static void test_refuse_indicator_kinds(void **state)
{
    (void)state;
    struct {
        const char *ind, *needle;
    } bad[] = {
        {"{'code':'X','kind':'total'}",
         "'kind' must be one of: stock, flow, reach, value, ratio, after"},
        {"{'code':'X'}", "missing key 'kind'"},
        {"{'code':'X','kind':'stock','over':'person'}", "missing key 'start'"},
        {"{'code':'X','kind':'stock','start':'registered_on'}", "missing key 'over'"},
        {"{'code':'X','kind':'stock','over':'ghost','start':'x'}",
         "'over': unknown record type 'ghost'"},
        {"{'code':'X','kind':'stock','over':'person','start':'sex'}",
         "field sex of record type person is of type "
         "enum, expected date"},
        {"{'code':'X','kind':'stock','over':'person','start':'registered_on','period':'year'}",
         "a stock indicator has period \"month\""},
        {"{'code':'X','kind':'stock','over':'person','start':'registered_on','end':'registered_on'}",
         "'end' must differ"},
        {"{'code':'X','kind':'stock','over':'person','start':'registered_on','date':'left_on'}",
         "unknown key 'date' for a stock indicator"},
        {"{'code':'X','kind':'flow','over':'episode','date':'end_onn'}",
         "unknown field 'end_onn' in record type episode"},
        {"{'code':'X','kind':'flow','over':'episode','start':'start_on'}",
         "unknown key 'start' for a flow"},
        {"{'code':'X','kind':'flow','over':'episode','date':'start_on','period':'any'}",
         "has period \"month\""},
        {"{'code':'X','kind':'reach','over':'episode','start':'start_on'}", "missing key 'end'"},
        {"{'code':'X','kind':'reach','over':'episode','start':'start_on','end':'end_on','period':'month'}",
         "a reach indicator has period \"year\""},
        {"{'code':'X','kind':'reach','over':'episode','start':'start_on','end':'end_on','distinct':'modality'}",
         "is of type enum, expected ref"},
        {"{'code':'X','kind':'value','over':'person'}", "unknown key 'over' for a value indicator"},
        {"{'code':'X','kind':'value','period':'week'}",
         "'period' must be one of: month, year, any"},
        {"{'code':'X','kind':'value','filter':[]}", "unknown key 'filter'"},
        {"{'code':'X','kind':'value','label':{'vi':'','en':'x'}}", "label 'vi'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        refuse(mk(std_records(), CATS, bad[i].ind), "indicator X", bad[i].needle);
    refuse(mk(std_records(), CATS, "7"), "indicators[0]", "expected an object");
}

/* A ratio divides two earlier indicators of one period type; its
 * categories are both parts'. */
static void test_ratio_kind(void **state)
{
    (void)state;
    const char *parts = "{'code':'A','kind':'value','period':'year','by':['sex']},"
                        "{'code':'B','kind':'value','period':'year','by':['sex','modality']},"
                        "{'code':'M','kind':'value','period':'month'}";
    struct {
        const char *ind, *needle;
    } bad[] = {
        {"{'code':'X','kind':'ratio','denominator':'B'}", "missing key 'numerator'"},
        {"{'code':'X','kind':'ratio','numerator':'A'}", "missing key 'denominator'"},
        {"{'code':'X','kind':'ratio','numerator':'Z','denominator':'B'}",
         "'numerator': no indicator Z declared before"},
        {"{'code':'X','kind':'ratio','numerator':'A','denominator':'A'}", "both A"},
        {"{'code':'X','kind':'ratio','numerator':'A','denominator':'M'}",
         "numerator A has period \"year\" but denominator M has \"month\""},
        {"{'code':'X','kind':'ratio','numerator':'A','denominator':'B','factor':0}",
         "'factor' must be an integer"},
        {"{'code':'X','kind':'ratio','numerator':'A','denominator':'B','factor':2.5}",
         "'factor' must be an integer"},
        {"{'code':'X','kind':'ratio','numerator':'A','denominator':'B','by':['modality']}",
         "category modality is not one of numerator A's"},
        {"{'code':'X','kind':'ratio','numerator':'A','denominator':'B','period':'year'}",
         "unknown key 'period' for a ratio indicator"},
        {"{'code':'R','kind':'ratio','numerator':'A','denominator':'B'},"
         "{'code':'X','kind':'ratio','numerator':'R','denominator':'B'}",
         "R is itself a ratio"},
    };
    char inds[1024];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(inds, sizeof inds, "%s,%s", parts, bad[i].ind);
        refuse(mk(std_records(), CATS, inds), "indicator X", bad[i].needle);
    }
    snprintf(inds, sizeof inds,
             "%s,{'code':'X','kind':'ratio','numerator':'A','denominator':'B','factor':100,"
             "'by':['sex']}",
             parts);
    catalog_t *c = NULL;
    ts_err e = {0};
    char path[512];
    assert_int_equal(load_text(mk(std_records(), CATS, inds), &c, &e, path, sizeof path), TS_OK);
    const catalog_indicator *x = catalog_indicator_find(c, "X");
    assert_int_equal(x->kind, IND_RATIO);
    assert_int_equal(x->period, PERIOD_YEAR);
    assert_int_equal(x->factor, 100);
    assert_string_equal(c->inds[x->numerator].code, "A");
    assert_string_equal(c->inds[x->denominator].code, "B");
    assert_false(catalog_is_stored(x));
    assert_false(catalog_is_counted(x));
    assert_true(catalog_is_stored(catalog_indicator_find(c, "A")));
    catalog_destroy(&c);
}

/* An after indicator counts the owners of ended records, by the owners'
 * categories. */
static void test_after_kind(void **state)
{
    (void)state;
    const char *SUPPORT =
        "{'name':'support','fields':[{'name':'id','type':'string'},"
        "{'name':'person_id','type':'ref','ref':'person'},{'name':'given_on','type':'date'},"
        "{'name':'kind','type':'string'}]}";
    char recs[4096];
    snprintf(recs, sizeof recs, "%s,%s", std_records(), SUPPORT);
    struct {
        const char *ind, *needle;
    } bad[] = {
        {"{'code':'X','kind':'after','over':'episode','start':'start_on','end':'end_on'}",
         "missing key 'measure'"},
        {"{'code':'X','kind':'after','measure':'within','over':'episode','start':'start_on'}",
         "missing key 'end'"},
        {"{'code':'X','kind':'after','measure':'never','over':'episode','start':'start_on','end':'end_on'}",
         "'measure' must be one of: within, restarted, supported"},
        {"{'code':'X','kind':'after','measure':'within','over':'person','start':'registered_on','end':'left_on'}",
         "person is a root record type"},
        {"{'code':'X','kind':'after','measure':'supported','over':'episode','start':'start_on','end':'end_on'}",
         "'support' is required with measure \"supported\""},
        {"{'code':'X','kind':'after','measure':'within','over':'episode','start':'start_on','end':'end_on',"
         "'support':'support.given_on'}",
         "allowed with no other"},
        {"{'code':'X','kind':'after','measure':'supported','over':'episode','start':'start_on','end':'end_on',"
         "'support':'support.kind'}",
         "support.kind is not a date field"},
        {"{'code':'X','kind':'after','measure':'supported','over':'episode','start':'start_on','end':'end_on',"
         "'support':'person.registered_on'}",
         "records of type person are not owned by person"},
        {"{'code':'X','kind':'after','measure':'within','over':'episode','start':'start_on','end':'end_on',"
         "'by':['modality']}",
         "not reachable from person"},
        {"{'code':'X','kind':'after','measure':'within','over':'episode','start':'start_on','end':'end_on',"
         "'period':'year'}",
         "has period \"month\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        refuse(mk(recs, CATS, bad[i].ind), "indicator X", bad[i].needle);
    static char text[TEXT_MAX];
    const char *good = mk(
        recs, CATS,
        "{'code':'X','kind':'after','measure':'supported','over':'episode',"
        "'start':'start_on','end':'end_on','support':'support.given_on','by':['sex']}");
    assert_true(snprintf(text, sizeof text, "{\"post_rehab_months\":0,%s", good + 1) <
                (int)sizeof text);
    refuse(text, "top level", "'post_rehab_months' must be an integer from 1 to 120");
    assert_true(snprintf(text, sizeof text, "{\"post_rehab_months\":6,%s", good + 1) <
                (int)sizeof text);
    catalog_t *c = NULL;
    ts_err e = {0};
    char path[512];
    if (load_text(text, &c, &e, path, sizeof path) != TS_OK)
        fail_msg("refused: %s", e.msg);
    const catalog_indicator *x = catalog_indicator_find(c, "X");
    assert_int_equal(c->after_months, 6);
    assert_int_equal(x->kind, IND_AFTER);
    assert_int_equal(x->measure, AFTER_SUPPORTED);
    assert_int_equal(x->support_rtype, catalog_rtype_find(c, "support"));
    assert_true(catalog_is_counted(x));
    catalog_destroy(&c);
}

static void test_refuse_by(void **state)
{
    (void)state;
    struct {
        const char *ind, *needle;
    } bad[] = {
        {"{'code':'X','kind':'stock','over':'person','start':'registered_on','by':['ghost']}",
         "unknown category 'ghost' (categories: sex, modality)"},
        {"{'code':'X','kind':'stock','over':'person','start':'registered_on','by':['sex','sex']}",
         "twice"},
        {"{'code':'X','kind':'stock','over':'person','start':'registered_on','by':['modality']}",
         "category modality comes from record type episode, not reachable from person (reachable: person)"},
        {"{'code':'X','kind':'stock','over':'person','start':'registered_on','by':'sex'}",
         "must be an array"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        refuse(mk(std_records(), CATS, bad[i].ind), "indicator X", bad[i].needle);
    accept(mk(std_records(), CATS,
              "{'code':'X','kind':'stock','over':'episode','start':'start_on','by':['sex']}"));
    accept(mk(std_records(), CATS, "{'code':'X','kind':'value','by':['modality','sex']}"));
}

static void test_refuse_filters(void **state)
{
    (void)state;
    struct {
        const char *filter, *needle;
    } bad[] = {
        {"{'field':'end_onn','op':'set'}", "unknown field 'end_onn' in record type episode"},
        {"{'field':'end_on','op':'gt'}", "'op' must be one of: set, empty, in"},
        {"{'field':'end_on'}", "missing key 'op'"},
        {"{'op':'set'}", "missing key 'field'"},
        {"{'field':'modality','op':'in'}", "missing key 'values'"},
        {"{'field':'modality','op':'in','values':[]}", "must not be empty"},
        {"{'field':'modality','op':'in','values':['a','zz']}",
         "'zz' is not a value of field modality (values: a, "
         "b.c, d+)"},
        {"{'field':'end_on','op':'set','values':['x']}", "only allowed with op \"in\""},
        {"{'field':'end_on','op':'set','not':true}", "unknown key 'not'"},
        {"'end_on'", "expected an object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char ind[512];
        snprintf(ind, sizeof ind,
                 "{'code':'X','kind':'flow','over':'episode','date':'start_on','filter':[%s]}",
                 bad[i].filter);
        refuse(mk(std_records(), CATS, ind), "indicator X: filter[0]", bad[i].needle);
    }
}

/* ---- helpers ------------------------------------------------------------ */

static void test_period_check(void **state)
{
    (void)state;
    catalog_t *c = load_default();
    ts_err e = {0};
    const catalog_indicator *month = catalog_indicator_find(c, "PERSONS_MANAGED");
    const catalog_indicator *year = catalog_indicator_find(c, "REACHED");
    catalog_indicator any = *catalog_indicator_find(c, "STAFF_TRAINED");
    any.period = PERIOD_ANY;

    const char *good_month[] = {"202403", "190001", "299912", "202410"};
    const char *bad_month[] = {"202413", "202400", "2024",   "20243", "2024031", "189912",
                               "300001", "2024-3", "20240a", "",      " 202403"};
    for (size_t i = 0; i < sizeof good_month / sizeof *good_month; i++) {
        assert_int_equal(catalog_period_check(month, good_month[i], &e), TS_OK);
        assert_int_equal(catalog_period_check(&any, good_month[i], &e), TS_OK);
        assert_int_equal(catalog_period_check(year, good_month[i], &e), TS_EINPUT);
    }
    for (size_t i = 0; i < sizeof bad_month / sizeof *bad_month; i++) {
        int rc = catalog_period_check(month, bad_month[i], &e);
        if (rc != TS_EINPUT)
            fail_msg("month period '%s' accepted", bad_month[i]);
        assert_non_null(strstr(e.msg, "PERSONS_MANAGED"));
        assert_non_null(strstr(e.msg, bad_month[i]));
        assert_non_null(strstr(e.msg, "YYYYMM"));
    }
    assert_int_equal(catalog_period_check(year, "2024", &e), TS_OK);
    assert_int_equal(catalog_period_check(&any, "2024", &e), TS_OK);
    assert_int_equal(catalog_period_check(month, "2024", &e), TS_EINPUT);
    const char *bad_year[] = {"1899", "3000", "24", "20x4", "02024", ""};
    for (size_t i = 0; i < sizeof bad_year / sizeof *bad_year; i++) {
        assert_int_equal(catalog_period_check(year, bad_year[i], &e), TS_EINPUT);
        assert_int_equal(catalog_period_check(&any, bad_year[i], &e), TS_EINPUT);
    }
    assert_non_null(strstr(e.msg, "YYYY"));
    assert_int_equal(catalog_period_check(year, NULL, &e), TS_EINPUT);
    catalog_destroy(&c);
}

static void expect_opts_refused(const catalog_t *c, const char *code, const char *in,
                                const char *n1, const char *n2)
{
    char out[256];
    ts_err e = {0};
    int rc = catalog_options_canon(c, catalog_indicator_find(c, code), in, out, sizeof out, &e);
    if (rc != TS_EINPUT)
        fail_msg("options '%s' for %s: expected TS_EINPUT, got %d", in, code, rc);
    if (!strstr(e.msg, code) || !strstr(e.msg, n1) || (n2 && !strstr(e.msg, n2)))
        fail_msg("options '%s': message '%s' lacks '%s' / '%s'", in, e.msg, n1, n2 ? n2 : "");
}

static void test_options_canon(void **state)
{
    (void)state;
    catalog_t *c = load_default();
    const catalog_indicator *in_treatment = catalog_indicator_find(c, "IN_TREATMENT");
    char out[256];
    ts_err e = {0};
    assert_int_equal(catalog_options_canon(c, in_treatment, "sex=F,modality=methadone,age_band=50+",
                                           out, sizeof out, &e),
                     TS_OK);
    assert_string_equal(out, "age_band=50+,modality=methadone,sex=F");
    assert_int_equal(catalog_options_canon(c, in_treatment,
                                           " modality=compulsory , age_band=unknown,sex=M", out,
                                           sizeof out, &e),
                     TS_OK);
    assert_string_equal(out, "age_band=unknown,modality=compulsory,sex=M");
    /* canonical form is a fixed point */
    char again[256];
    assert_int_equal(catalog_options_canon(c, in_treatment, out, again, sizeof again, &e), TS_OK);
    assert_string_equal(again, out);

    const catalog_indicator *points = catalog_indicator_find(c, "COUNSELLING_POINTS");
    strcpy(out, "junk");
    assert_int_equal(catalog_options_canon(c, points, "", out, sizeof out, &e), TS_OK);
    assert_string_equal(out, "");
    assert_int_equal(catalog_options_canon(c, points, NULL, out, sizeof out, &e), TS_OK);
    assert_string_equal(out, "");

    expect_opts_refused(c, "IN_TREATMENT", "sex=F,modality=methadone", "missing category age_band",
                        "0-17, 18-29, 30-39, 40-49, 50+, unknown");
    expect_opts_refused(c, "IN_TREATMENT", "", "missing category", NULL);
    expect_opts_refused(c, "IN_TREATMENT", "sex=F,modality=methadone,age_band=50+,kind=other",
                        "unknown category 'kind'", "categories: modality, sex, age_band");
    expect_opts_refused(c, "IN_TREATMENT", "sex=X,modality=methadone,age_band=50+",
                        "category sex: unknown option 'X'", "options: M, F");
    expect_opts_refused(c, "IN_TREATMENT", "sex=F,sex=M,modality=methadone,age_band=50+",
                        "sex given twice", NULL);
    expect_opts_refused(c, "IN_TREATMENT", "sex=F,modality,age_band=50+",
                        "'modality' is not category=option", NULL);
    expect_opts_refused(c, "IN_TREATMENT", "sex=F,modality=methadone,age_band=50+,",
                        "is not category=option", NULL);
    expect_opts_refused(c, "IN_TREATMENT", "sex=F,,modality=methadone,age_band=50+",
                        "is not category=option", NULL);
    expect_opts_refused(c, "IN_TREATMENT", "sex=f,modality=methadone,age_band=50+",
                        "unknown option 'f'", NULL);
    expect_opts_refused(c, "COUNSELLING_POINTS", "sex=M", "unknown category 'sex'",
                        "no categories");

    /* argv form */
    char *argv[] = {"sex=M", "age_band=18-29", "modality=voluntary_facility"};
    assert_int_equal(catalog_options_canon_argv(c, in_treatment, 3, argv, out, sizeof out, &e),
                     TS_OK);
    assert_string_equal(out, "age_band=18-29,modality=voluntary_facility,sex=M");
    assert_int_equal(catalog_options_canon_argv(c, in_treatment, 2, argv, out, sizeof out, &e),
                     TS_EINPUT);
    assert_non_null(strstr(e.msg, "missing category modality"));
    char *bad_argv[] = {"sex=M,age_band=18-29"};
    assert_int_equal(catalog_options_canon_argv(c, in_treatment, 1, bad_argv, out, sizeof out, &e),
                     TS_EINPUT);
    assert_int_equal(catalog_options_canon_argv(c, points, 0, NULL, out, sizeof out, &e), TS_OK);
    assert_string_equal(out, "");

    /* the caller's buffer is too small: a run-time error, not refused input */
    assert_int_equal(catalog_options_canon_argv(c, in_treatment, 3, argv, out, 10, &e),
                     TS_ERUNTIME);
    catalog_destroy(&c);
}

static void test_resolve_path(void **state)
{
    (void)state;
    char out[1024], saved[1024] = "";
    ts_err e = {0};
    const char *env = getenv("TIERSYNC_CATALOG");
    if (env)
        snprintf(saved, sizeof saved, "%s", env);

    assert_int_equal(catalog_resolve_path("/x/y.json", out, sizeof out, &e), TS_OK);
    assert_string_equal(out, "/x/y.json");
    setenv("TIERSYNC_CATALOG", "/from/env.json", 1);
    assert_int_equal(catalog_resolve_path(NULL, out, sizeof out, &e), TS_OK);
    assert_string_equal(out, "/from/env.json");
    assert_int_equal(catalog_resolve_path("", out, sizeof out, &e), TS_OK);
    assert_string_equal(out, "/from/env.json");
    assert_int_equal(catalog_resolve_path("/x/y.json", out, 4, &e), TS_EINPUT);

    unsetenv("TIERSYNC_CATALOG");
    assert_int_equal(catalog_resolve_path(NULL, out, sizeof out, &e), TS_OK);
    const char *tail = "/" CATALOG_DEFAULT_FILE;
    assert_true(strlen(out) > strlen(tail));
    assert_string_equal(out + strlen(out) - strlen(tail), tail);
    assert_int_equal(access(out, R_OK), 0);
    if (saved[0])
        setenv("TIERSYNC_CATALOG", saved, 1);
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s", tu_tmpdir("catalog"));
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    tu_rmrf(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_catalog),     cmocka_unit_test(test_lookups),
        cmocka_unit_test(test_small_catalogs_load), cmocka_unit_test(test_refuse_file),
        cmocka_unit_test(test_refuse_json_syntax),  cmocka_unit_test(test_refuse_top_level),
        cmocka_unit_test(test_refuse_duplicates),   cmocka_unit_test(test_refuse_id_field),
        cmocka_unit_test(test_refuse_field_type),   cmocka_unit_test(test_refuse_enum_values),
        cmocka_unit_test(test_refuse_refs),         cmocka_unit_test(test_refuse_names),
        cmocka_unit_test(test_refuse_limits),       cmocka_unit_test(test_refuse_category_source),
        cmocka_unit_test(test_refuse_age_bands),    cmocka_unit_test(test_refuse_indicator_kinds),
        cmocka_unit_test(test_ratio_kind),          cmocka_unit_test(test_after_kind),
        cmocka_unit_test(test_refuse_by),           cmocka_unit_test(test_refuse_filters),
        cmocka_unit_test(test_period_check),        cmocka_unit_test(test_options_canon),
        cmocka_unit_test(test_resolve_path),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
