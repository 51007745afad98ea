/* test_catalog_doc.c: catalog versions: the compatibility rule (every kind
 * of change a version may and may not make, each refusal naming the code),
 * the root's signature and the parent's endorsement, and adoption, which
 * refuses a wrong root key, a bad signature, a missing or bad endorsement
 * and an incompatible version without touching the node's files; then the
 * link's half: a version fetched part by part from a parent whose messages
 * are small, and a tampered part or a wrong endorser refused. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "catalog_dist.h"
#include "catalog_doc.h"
#include "delta.h"
#include "testutil.h"
#include "util.h"

static json_t *shipped(void)
{
    json_error_t je;
    json_t *j = json_load_file(tu_catalog_path(), 0, &je);
    assert_non_null(j);
    return j;
}

static json_t *ind(json_t *cat, const char *code)
{
    size_t i;
    json_t *v;
    json_array_foreach (json_object_get(cat, "indicators"), i, v)
        if (!strcmp(json_string_value(json_object_get(v, "code")), code))
            return v;
    fail_msg("no indicator %s", code);
    return NULL;
}

static json_t *field(json_t *cat, size_t type, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach (
        json_object_get(json_array_get(json_object_get(cat, "records"), type), "fields"), i, v)
        if (!strcmp(json_string_value(json_object_get(v, "name")), name))
            return v;
    fail_msg("no field %s", name);
    return NULL;
}

/* Writes j (and frees it) to a file of the test's directory; returns the path. */
static const char *save(json_t *j, const char *name)
{
    static char path[2][TS_PATH_MAX];
    static int k;
    char *p = path[k++ % 2];
    snprintf(p, TS_PATH_MAX, "%s/%s.json", tu_tmpdir("catalog_doc_json"), name);
    assert_int_equal(json_dump_file(j, p, JSON_INDENT(1)), 0);
    json_decref(j);
    return p;
}

/* version 2 of the shipped catalog: a new value indicator, a new option of
 * support.kind (so of the category kind), a new optional field */
static json_t *v2(void)
{
    json_t *j = shipped();
    json_object_set_new(j, "version", json_integer(2));
    json_array_append_new(json_object_get(j, "indicators"),
                          json_pack("{s:s,s:s,s:s,s:[s]}", "code", "PEER_GROUPS", "kind", "value",
                                    "period", "month", "by", "kind"));
    json_array_append_new(json_object_get(field(j, 2, "kind"), "values"),
                          json_string("peer_support"));
    json_array_append_new(
        json_object_get(json_array_get(json_object_get(j, "records"), 0), "fields"),
        json_pack("{s:s,s:s}", "name", "phone", "type", "string"));
    return j;
}

/* catalog_compat_check of the shipped catalog against j: the code, and the message in msg */
static int compat(json_t *j, char *msg, size_t sz)
{
    catalog_t *a = NULL, *b = NULL;
    ts_err e = {0};
    assert_int_equal(catalog_load(&a, tu_catalog_path(), &e), TS_OK);
    int rc = catalog_load(&b, save(j, "next"), &e);
    if (rc != TS_OK)
        fail_msg("the test's catalog is refused: %s", e.msg);
    rc = catalog_compat_check(a, b, &e);
    snprintf(msg, sz, "%s", e.msg);
    catalog_destroy(&a);
    catalog_destroy(&b);
    return rc;
}

static void expect_refused(json_t *j, const char *needle1, const char *needle2)
{
    char msg[TS_ERR_MSG_MAX];
    assert_int_equal(compat(j, msg, sizeof msg), TS_EINPUT);
    if (!strstr(msg, needle1) || (needle2 && !strstr(msg, needle2)))
        fail_msg("message '%s' does not name '%s' / '%s'", msg, needle1, needle2 ? needle2 : "");
}

static void test_compat_additions(void **state)
{
    (void)state;
    char msg[TS_ERR_MSG_MAX];
    json_t *j = v2();
    json_object_set_new(ind(j, "SUPPORT_GIVEN"), "retired_from", json_string("202607"));
    assert_int_equal(compat(j, msg, sizeof msg), TS_OK);
}

static void test_compat_refusals(void **state)
{
    (void)state;
    json_t *j = v2();
    json_object_set_new(j, "version", json_integer(1));
    expect_refused(j, "version 1 is not newer", NULL);
    j = v2();
    json_object_set_new(j, "id", json_string("other"));
    expect_refused(j, "catalog id 'other'", NULL);
    j = v2();
    json_object_set_new(ind(j, "COUNSELLING_POINTS"), "period", json_string("year"));
    expect_refused(j, "COUNSELLING_POINTS", "period type changed from month to year");
    j = v2();
    json_object_set_new(ind(j, "PERSONS_MANAGED"), "by", json_pack("[s]", "sex"));
    expect_refused(j, "PERSONS_MANAGED", "categories changed");
    j = v2();
    json_object_del(ind(j, "TREATMENT_ENDED"), "filter");
    expect_refused(j, "TREATMENT_ENDED", "source changed");
    j = v2();
    json_t *in = ind(j, "IN_TREATMENT"); /* stock -> reach: same keys, another kind */
    json_object_set_new(in, "kind", json_string("reach"));
    expect_refused(j, "IN_TREATMENT", "kind changed from stock to reach");
    j = v2();
    json_array_remove(json_object_get(field(j, 1, "modality"), "values"), 3);
    expect_refused(j, "episode.modality", "values removed");
    j = v2();
    json_t *inds = json_object_get(j, "indicators");
    size_t k = 0;
    while (k < json_array_size(inds) && json_array_get(inds, k) != ind(j, "TARGET_REACHED"))
        k++;
    json_array_remove(inds, k); /* the code whose place the next one takes is named */
    expect_refused(j, "TARGET_REACHED", "removed or moved");
    j = v2(); /* a new indicator first: every old one moves */
    json_array_insert_new(
        json_object_get(j, "indicators"), 0,
        json_pack("{s:s,s:s,s:s}", "code", "FIRST", "kind", "value", "period", "year"));
    expect_refused(j, "PERSONS_MANAGED", "moved");
    j = v2();
    json_object_set_new(field(j, 0, "phone"), "required", json_true());
    expect_refused(j, "person.phone", "cannot be required");
    j = v2();
    json_object_set_new(ind(j, "ADULTS_AWARE_PCT"), "factor", json_integer(1000));
    expect_refused(j, "ADULTS_AWARE_PCT", "numerator, denominator or factor changed");
    j = v2();
    json_object_set_new(ind(j, "RELAPSED"), "measure", json_string("within"));
    expect_refused(j, "RELAPSED", "measure or support changed");
    j = v2();
    json_object_set_new(j, "post_rehab_months", json_integer(6));
    expect_refused(j, "post_rehab_months changed", NULL);
    j = v2();
    json_object_set_new(field(j, 0, "address"), "pii", json_false());
    expect_refused(j, "person.address", "pii");
}

static void test_compat_retirement(void **state)
{
    (void)state;
    catalog_t *a = NULL, *b = NULL;
    ts_err e = {0};
    json_t *j = v2();
    json_object_set_new(ind(j, "SUPPORT_GIVEN"), "retired_from", json_string("202607"));
    assert_int_equal(catalog_load(&a, save(j, "retired"), &e), TS_OK);
    const catalog_indicator *sg = catalog_indicator_find(a, "SUPPORT_GIVEN");
    assert_int_equal(sg->retired_from, 202607);
    assert_false(catalog_retired(sg, "202606"));
    assert_true(catalog_retired(sg, "202607"));
    assert_false(catalog_retired(sg, "2026"));
    assert_true(catalog_retired(sg, "2027"));
    j = v2();
    json_object_set_new(j, "version", json_integer(3));
    assert_int_equal(catalog_load(&b, save(j, "withdrawn"), &e), TS_OK);
    assert_int_equal(catalog_compat_check(a, b, &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "SUPPORT_GIVEN"));
    j = v2();
    json_object_set_new(ind(j, "SUPPORT_GIVEN"), "retired_from", json_string("2026-07"));
    catalog_destroy(&b);
    assert_int_equal(catalog_load(&b, save(j, "badmonth"), &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "retired_from"));
    catalog_destroy(&a);
}

static void test_signatures(void **state)
{
    (void)state;
    keys_t k, other;
    ts_err e;
    assert_int_equal(keys_generate(&k, &e), TS_OK);
    assert_int_equal(keys_generate(&other, &e), TS_OK);
    uint8_t data[] = "{\"id\":\"x\"}", sig[crypto_sign_BYTES], hash[CATDOC_HASH_BYTES];
    catdoc_root_sign(&k, data, sizeof data, sig);
    assert_true(catdoc_root_verify(k.pk, data, sizeof data, sig));
    assert_false(catdoc_root_verify(other.pk, data, sizeof data, sig));
    data[3] ^= 1;
    assert_false(catdoc_root_verify(k.pk, data, sizeof data, sig));
    catdoc_hash(data, sizeof data, hash);
    catdoc_endorse(&k, hash, 2, sig);
    assert_true(catdoc_endorse_verify(k.pk, hash, 2, sig));
    assert_false(catdoc_endorse_verify(k.pk, hash, 3, sig)); /* an old endorsement, replayed */
    assert_false(catdoc_root_verify(k.pk, hash, sizeof hash, sig)); /* the domains differ */
}

/* A document of j signed by root and endorsed by endorser. */
static catalog_doc doc_of(json_t *j, const keys_t *root, const keys_t *endorser)
{
    catalog_doc d = {0};
    ts_err e;
    const char *path = save(j, "doc");
    assert_int_equal(ts_read_file(path, (char **)&d.data, &d.len, &e), TS_OK);
    catalog_t *c = NULL;
    assert_int_equal(catalog_load(&c, path, &e), TS_OK);
    snprintf(d.id, sizeof d.id, "%s", c->id);
    d.version = c->version;
    catalog_destroy(&c);
    catdoc_hash(d.data, d.len, d.hash);
    memcpy(d.root_pk, root->pk, sizeof d.root_pk);
    catdoc_root_sign(root, d.data, d.len, d.root_sig);
    memcpy(d.endorser_pk, endorser->pk, sizeof d.endorser_pk);
    catdoc_endorse(endorser, d.hash, d.version, d.endorsement);
    return d;
}

static void expect_not_adopted(node_t *n, catalog_doc *d, const char *needle, const char *kept)
{
    catalog_t *loaded = NULL;
    ts_err e = {0};
    char path[TS_PATH_MAX], *text = NULL;
    assert_int_equal(catdoc_accept(n, d, &loaded, &e), TS_EINPUT);
    assert_null(loaded);
    if (!strstr(e.msg, needle))
        fail_msg("'%s' does not say '%s'", e.msg, needle);
    free(d->data);
    assert_int_equal(catdoc_path(n->cfg.dir, path, sizeof path), kept != NULL);
    if (kept) {
        assert_int_equal(ts_read_file(path, &text, NULL, &e), TS_OK);
        assert_string_equal(text, kept);
        free(text);
    }
}

static void test_adopt(void **state)
{
    (void)state;
    node_t n;
    char dir[TS_PATH_MAX], path[TS_PATH_MAX];
    keys_t root, parent, rogue;
    ts_err e = {0};
    tu_node_open(&n, dir, sizeof dir, "catalog_doc", "34101");
    assert_int_equal(keys_generate(&root, &e), TS_OK);
    assert_int_equal(keys_generate(&parent, &e), TS_OK);
    assert_int_equal(keys_generate(&rogue, &e), TS_OK);

    /* before any adoption: a bad root signature or endorsement leaves no file */
    catalog_doc d = doc_of(v2(), &root, &parent);
    d.root_sig[0] ^= 1;
    expect_not_adopted(&n, &d, "root's signature", NULL);
    d = doc_of(v2(), &root, &parent);
    memset(d.endorsement, 0, sizeof d.endorsement); /* missing */
    expect_not_adopted(&n, &d, "endorsement", NULL);
    assert_false(catdoc_root_key(dir, root.pk));

    d = doc_of(v2(), &root, &parent);
    catalog_t *loaded = NULL;
    assert_int_equal(catdoc_accept(&n, &d, &loaded, &e), TS_OK);
    assert_int_equal(loaded->version, 2);
    assert_int_equal(catdoc_swap(&n, loaded, &e), TS_OK);
    assert_int_equal(n.catalog->version, 2);
    assert_non_null(catalog_indicator_find(n.catalog, "PEER_GROUPS"));
    free(d.data);
    uint8_t pinned[crypto_sign_PUBLICKEYBYTES];
    assert_true(catdoc_root_key(dir, pinned));
    assert_memory_equal(pinned, root.pk, sizeof pinned);
    char *kept = NULL;
    assert_true(catdoc_path(dir, path, sizeof path));
    assert_int_equal(ts_read_file(path, &kept, NULL, &e), TS_OK);

    catalog_doc *held = NULL;
    assert_int_equal(catdoc_load(&held, dir, &e), TS_OK);
    assert_non_null(held);
    assert_int_equal(held->version, 2);
    assert_memory_equal(held->endorser_pk, parent.pk, sizeof held->endorser_pk);
    catdoc_destroy(&held);

    json_t *j = v2();
    json_object_set_new(j, "version", json_integer(3));
    d = doc_of(json_copy(j), &rogue, &parent); /* another root */
    expect_not_adopted(&n, &d, "not by the root key", kept);
    d = doc_of(json_copy(j), &root, &rogue); /* endorsed by a key that is not the parent's */
    memcpy(d.endorser_pk, parent.pk, sizeof d.endorser_pk);
    expect_not_adopted(&n, &d, "endorsement", kept);
    d = doc_of(json_copy(j), &root, &parent);
    d.data[d.len / 2] ^= 0x20; /* the document changed after signing */
    catdoc_hash(d.data, d.len, d.hash);
    catdoc_endorse(&parent, d.hash, d.version, d.endorsement);
    expect_not_adopted(&n, &d, "root's signature", kept);
    d = doc_of(v2(), &root, &parent); /* version 2 again: a replay */
    expect_not_adopted(&n, &d, "not newer", kept);
    json_object_set_new(ind(j, "STAFF_TRAINED"), "period", json_string("month"));
    d = doc_of(j, &root, &parent);
    expect_not_adopted(&n, &d, "STAFF_TRAINED", kept);
    free(kept);
    node_close(&n);
    tu_rmrf(dir);
}

static int put_ninds(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    return store_meta_put_u64(s, txn, AGG_META_NINDS, *(uint64_t *)ctx, e);
}

static int count_new(store_t *s, store_txn *txn, void *ctx, ts_err *e)
{
    (void)s;
    return catdoc_count_new(ctx, txn, e);
}

/* A command still holding an older version once the store counts a newer
 * one's indicators is refused; the same version goes on. */
static void test_count_new(void **state)
{
    (void)state;
    node_t n;
    char dir[TS_PATH_MAX];
    ts_err e = {0};
    tu_node_open(&n, dir, sizeof dir, "catalog_count", "34101");
    assert_int_equal(store_write(n.store, count_new, &n, &e), TS_OK);
    assert_int_equal(tu_meta_u64(&n, AGG_META_NINDS), (uint64_t)n.catalog->ninds);
    uint64_t more = (uint64_t)n.catalog->ninds + 2;
    assert_int_equal(store_write(n.store, put_ninds, &more, &e), TS_OK);
    assert_int_equal(store_write(n.store, count_new, &n, &e), TS_EINPUT);
    assert_non_null(strstr(e.msg, "run it again"));
    node_close(&n);
    tu_rmrf(dir);
}

/* ---- distribution (catalog_dist.h) ---- */

/* A parent holding version 2 (it is the root), with small messages. */
static void parent_open(node_t *p, char *dir, size_t dirsz)
{
    static const char *const small[] = {"sync", "max_message_bytes", "1536", NULL};
    catalog_t *loaded = NULL;
    ts_err e = {0};
    tu_node_open_with(p, dir, dirsz, "catalog_parent", "34", small);
    tu_node_identity(p);
    catalog_doc d = doc_of(v2(), &p->keys, &p->keys);
    assert_int_equal(catdoc_accept(p, &d, &loaded, &e), TS_OK);
    free(d.data);
    catalog_destroy(&loaded);
    assert_int_equal(catdist_refresh(p, &e), TS_OK);
    assert_non_null(p->catdoc);
    assert_int_equal(p->catalog->version, 2);
}

/* Runs the fetch between child c and parent p until it ends; tamper, when
 * set, flips a byte of the part it numbers. Returns the parts received. */
static int fetch_all(node_t *p, node_t *c, const uint8_t *parent_pk, int tamper)
{
    catdist_fetch *f = catdist_fetch_new();
    Tiersync__CatalogOffer o;
    uint8_t *msg;
    size_t len;
    int parts = 0;
    assert_true(catdist_offer_fill(p, &o));
    catdist_on_offer(f, c, &o, &msg, &len);
    assert_non_null(msg);
    for (int guard = 0; msg && guard < 1000; guard++) {
        uint8_t *ans;
        size_t alen;
        const char *why;
        assert_int_equal(
            msg[0], (TIERSYNC__ENVELOPE__MSG_CATALOG_FETCH << 3) | 2); /* catdist_serve's look */
        catdist_answer(p, &p->keys, msg, len, &ans, &alen, &why);
        free(msg);
        assert_null(why);
        assert_true(alen <= (size_t)p->cfg.max_msg_bytes);
        Tiersync__Envelope *env = tiersync__envelope__unpack(NULL, alen, ans);
        free(ans);
        assert_non_null(env);
        assert_int_equal(env->msg_case, TIERSYNC__ENVELOPE__MSG_CATALOG_CHUNK);
        if (++parts == tamper)
            env->catalog_chunk->data.data[0] ^= 1;
        catdist_on_chunk(f, c, parent_pk, env->catalog_chunk, &msg, &len);
        tiersync__envelope__free_unpacked(env, NULL);
    }
    /* a version refused is not fetched again */
    catdist_on_offer(f, c, &o, &msg, &len);
    assert_true(c->catalog->version == 2 || msg == NULL);
    free(msg);
    catdist_fetch_destroy(&f);
    return parts;
}

static void test_fetch(void **state)
{
    (void)state;
    node_t p, c;
    char pdir[TS_PATH_MAX], cdir[TS_PATH_MAX];
    keys_t rogue;
    ts_err e;
    parent_open(&p, pdir, sizeof pdir);
    assert_int_equal(keys_generate(&rogue, &e), TS_OK);

    tu_node_open(&c, cdir, sizeof cdir, "catalog_child", "341");
    assert_int_equal(fetch_all(&p, &c, p.keys.pk, 2) > 1, true);
    assert_int_equal(c.catalog->version, 1); /* a tampered part: refused */
    char path[TS_PATH_MAX];
    assert_false(catdoc_path(cdir, path, sizeof path)); /* nothing written */
    assert_true(fetch_all(&p, &c, rogue.pk, 0) > 1);
    assert_int_equal(c.catalog->version, 1); /* endorsed by a key that is not the parent's */
    int parts = fetch_all(&p, &c, p.keys.pk, 0);
    assert_true(parts >= (int)(p.catdoc->len / 1536));
    assert_int_equal(c.catalog->version, 2);
    assert_non_null(catalog_indicator_find(c.catalog, "PEER_GROUPS"));
    assert_non_null(c.catdoc);
    assert_memory_equal(c.catdoc->endorser_pk, p.keys.pk, sizeof p.keys.pk);

    /* a fetch of another version is answered with what the parent holds */
    Tiersync__CatalogFetch q = TIERSYNC__CATALOG_FETCH__INIT;
    Tiersync__Envelope env = TIERSYNC__ENVELOPE__INIT;
    q.id = "drug-treatment";
    q.version = 7;
    env.msg_case = TIERSYNC__ENVELOPE__MSG_CATALOG_FETCH;
    env.catalog_fetch = &q;
    uint8_t *msg, *ans;
    size_t len, alen;
    const char *why;
    wire_pack(&env, &msg, &len);
    catdist_answer(&p, &p.keys, msg, len, &ans, &alen, &why);
    Tiersync__Envelope *r = tiersync__envelope__unpack(NULL, alen, ans);
    assert_non_null(r);
    assert_int_equal(r->msg_case, TIERSYNC__ENVELOPE__MSG_CATALOG_OFFER);
    assert_int_equal(r->catalog_offer->version, 2);
    tiersync__envelope__free_unpacked(r, NULL);
    free(ans);
    /* an id that is not all of its field ("drug-treatment" NUL "x") */
    static const uint8_t nul_id[] = {0x4a, 0x14, 0x0a, 0x10, 'd', 'r', 'u', 'g',  '-', 't',  'r',
                                     'e',  'a',  't',  'm',  'e', 'n', 't', 0x00, 'x', 0x10, 0x02};
    r = tiersync__envelope__unpack(NULL, sizeof nul_id, nul_id);
    assert_non_null(r); /* it decodes: only the text rule refuses it */
    assert_int_equal(r->msg_case, TIERSYNC__ENVELOPE__MSG_CATALOG_FETCH);
    tiersync__envelope__free_unpacked(r, NULL);
    catdist_answer(&p, &p.keys, nul_id, sizeof nul_id, &ans, &alen, &why);
    assert_null(ans);
    assert_non_null(why);
    assert_non_null(strstr(why, "not text"));
    msg[len - 1] ^= 0xff; /* undecodable */
    catdist_answer(&p, &p.keys, msg, len - 1, &ans, &alen, &why);
    assert_null(ans);
    assert_non_null(why);
    free(msg);
    node_close(&c);
    node_close(&p);
    tu_rmrf(cdir);
    tu_rmrf(pdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compat_additions),
        cmocka_unit_test(test_compat_refusals),
        cmocka_unit_test(test_compat_retirement),
        cmocka_unit_test(test_signatures),
        cmocka_unit_test(test_adopt),
        cmocka_unit_test(test_fetch),
        cmocka_unit_test(test_count_new),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
