/* agg_reference.h: the model of test_agg.c: the records it believes the
 * store holds, its clock, and the plain brute-force reference that
 * recomputes every total of the default catalog from that model — over
 * every month and year, with each indicator of docs/CATALOG.md written
 * out by hand, sharing no code with agg.c — the post-rehab ones (POST_REHAB,
 * RELAPSED, POST_REHAB_SUPPORTED) asked month end by month end of every
 * person's episodes and supports; and every cell key, as the sum of
 * disclose_record_hash(the counted person's record key, indicator) over the
 * cell's counted records (each person's key asked of the store through
 * ref_person_key, which test_agg.c defines). Included by test_agg.c only. */
#ifndef TIERSYNC_AGG_REFERENCE_H
#define TIERSYNC_AGG_REFERENCE_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disclose.h"
#include "testutil.h"

#define STEPS 400
#define MAXP 300
#define MAXE 400
#define MAXS 300
#define UNIT "10001"
#define FIRST_YEAR 2019
#define MAX_CELLS 200000
#define POST_MONTHS 12 /* post_rehab_months of the default catalog */
#define PER_PERSON 64  /* episodes or supports of one person the reference looks at */

typedef struct {
    int live;
    char id[12], name[64], birth[11], sex[2], reg[11], conf[11], dereg[11];
} person;
typedef struct {
    int live, p;
    char id[12], mod[24], start[11], end[11], outcome[16];
} episode;
typedef struct {
    int live, p;
    char id[12], kind[24], given[11];
} support;

static person P[MAXP];
static episode E[MAXE];
static support S[MAXS];
static int np, ne, ns;
static int today; /* YYYYMMDD, mirrored in TIERSYNC_TODAY */
static uint64_t rng = 0x2545F4914F6CDD1DULL;

static const char *MODS[] = {"compulsory", "methadone", "voluntary_facility",
                             "voluntary_community"};
static const char *OUTS[] = {"completed", "dropped_out", "transferred"};
static const char *KINDS[] = {"vocational_training", "job_placement", "preferential_loan",
                              "health_care", "other"};
static const char *NAMES[] = {"Nguyễn Văn An", "Trần Thị Bình", "Lê, Hoàng \"Tèo\"",
                              "Phạm Đức Cường", "Đặng Thị Hương"};

static uint32_t rnd(uint32_t n)
{
    rng ^= rng >> 12, rng ^= rng << 25, rng ^= rng >> 27;
    return (uint32_t)((rng * 0x2545F4914F6CDD1DULL) >> 33) % n;
}

/* ---- dates (days since 1970 <-> YYYYMMDD), plain civil arithmetic ---- */

static long days_of(int ymd)
{
    int y = ymd / 10000, m = ymd / 100 % 100, d = ymd % 100;
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1,
         doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int ymd_of(long z)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097, doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365,
         doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1, m = mp + (mp < 10 ? 3 : -9);
    return (int)((yoe + era * 400 + (m <= 2)) * 10000 + m * 100 + d);
}

static void fmt_date(int ymd, char out[11])
{
    snprintf(out, 11, "%04u-%02u-%02u", (unsigned)ymd / 10000 % 10000, (unsigned)ymd / 100 % 100,
             (unsigned)ymd % 100);
}

static int parse_date(const char *s)
{
    return s[0] ? atoi(s) * 10000 + atoi(s + 5) * 100 + atoi(s + 8) : 0;
}

/* A random date in [lo, hi]; one in three falls on a month's first or last
 * day, where the interval rules are easiest to get wrong. */
static void rand_between(int lo, int hi, char out[11])
{
    long a = days_of(lo), b = days_of(hi);
    int d = ymd_of(a + (b > a ? (long)rnd((uint32_t)(b - a + 1)) : 0));
    int first = d / 100 * 100 + 1;
    int last = ymd_of(days_of(ymd_of(days_of(first) + 40) / 100 * 100 + 1) - 1);
    uint32_t r = rnd(6);
    int edge = r == 0 ? first : r == 1 ? last : 0;
    if (edge && edge >= lo && edge <= hi)
        d = edge;
    fmt_date(d, out);
}

static void rand_date(int lo, char out[11])
{
    rand_between(lo, today, out);
}

static void set_today(int ymd)
{
    char s[11];
    today = ymd;
    fmt_date(ymd, s);
    setenv("TIERSYNC_TODAY", s, 1);
}

/* ---- the reference: brute force over months and years ----------------- */

typedef struct {
    char *key;     /* "unit|indicator|period|options" */
    uint32_t hash; /* the counted person's share of its cell key */
} ref_cell;

static ref_cell *cells;
static int ncells;
static int post_cells[3]; /* POST_REHAB, RELAPSED, POST_REHAB_SUPPORTED cells ever counted */

/* The record key of person i's cluster in the store (0: none). */
static uint64_t ref_person_key(int i);

/* Each person's share of each indicator's cell keys, for one reference(). */
static const char *const REF_INDS[] = {
    "PERSONS_MANAGED", "PERSONS_CONFIRMED",   "IN_TREATMENT", "TREATMENT_STARTED",
    "TREATMENT_ENDED", "SUPPORT_GIVEN",       "REACHED",      "POST_REHAB",
    "RELAPSED",        "POST_REHAB_SUPPORTED"};
#define REF_NINDS (int)(sizeof REF_INDS / sizeof *REF_INDS)
static uint32_t ref_share[MAXP][REF_NINDS];

static void ref_shares(void)
{
    for (int i = 0; i < np; i++) {
        uint64_t key = P[i].live ? ref_person_key(i) : 0;
        for (int k = 0; k < REF_NINDS; k++)
            ref_share[i][k] = disclose_record_hash(key, REF_INDS[k]);
    }
}

static uint32_t ref_share_of(int who, const char *ind)
{
    for (int k = 0; k < REF_NINDS; k++)
        if (!strcmp(REF_INDS[k], ind))
            return ref_share[who][k];
    fail_msg("the reference has no indicator %s", ind);
    return 0;
}

static const char *age_band(const char *birth, int at)
{
    int b = parse_date(birth);
    if (!b || b > at)
        return "unknown";
    int age = at / 10000 - b / 10000 - (at % 10000 < b % 10000);
    return age < 18 ? "0-17" : age < 30 ? "18-29" : age < 40 ? "30-39" : age < 50 ? "40-49" : "50+";
}

static void ref_add(int who, const char *ind, const char *period, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void ref_add(int who, const char *ind, const char *period, const char *fmt, ...)
{
    char opts[256], key[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(opts, sizeof opts, fmt, ap);
    va_end(ap);
    snprintf(key, sizeof key, "%s|%s|%s|%s", UNIT, ind, period, opts);
    assert_true(ncells < MAX_CELLS);
    cells[ncells].hash = ref_share_of(who, ind);
    cells[ncells++].key = strdup(key);
}

static int month_end(int y, int m)
{
    return ymd_of(days_of(m == 12 ? (y + 1) * 10000 + 101 : y * 10000 + (m + 1) * 100 + 1) - 1);
}

/* ---- post-rehab: per person, per month ---- */

/* ymd + n months, on the month's last day when the day does not exist. */
static int plus_months(int ymd, int n)
{
    int y = ymd / 10000, m = ymd / 100 % 100 + n, d = ymd % 100;
    while (m > 12)
        m -= 12, y++;
    int last = month_end(y, m) % 100;
    return y * 10000 + m * 100 + (d < last ? d : last);
}

typedef struct {
    int ne, ns, e[PER_PERSON], s[PER_PERSON];
} person_recs;

static void person_records(int i, person_recs *pr)
{
    pr->ne = pr->ns = 0;
    for (int j = 0; j < ne; j++)
        if (E[j].live && E[j].p == i && pr->ne < PER_PERSON)
            pr->e[pr->ne++] = j;
    for (int j = 0; j < ns; j++)
        if (S[j].live && S[j].p == i && pr->ns < PER_PERSON)
            pr->s[pr->ns++] = j;
}

/* Some episode of the person other than x and y starts in [from, to]. */
static int starts_between(const person_recs *pr, int x, int y, int from, int to)
{
    for (int k = 0; k < pr->ne; k++) {
        int st = parse_date(E[pr->e[k]].start);
        if (pr->e[k] != x && pr->e[k] != y && st >= from && st <= to)
            return 1;
    }
    return 0;
}

/* The person at the end of month ym (last day end): *within post-rehab
 * management after a completed episode and no new one started since,
 * *supported within it with a support given since that episode ended,
 * *relapsed starting in ym the first new episode within 12 months of one. */
static void post_rehab_at(const person_recs *pr, int ym, int end, int *within, int *supported,
                          int *relapsed)
{
    *within = *supported = *relapsed = 0;
    for (int a = 0; a < pr->ne; a++) {
        const episode *x = &E[pr->e[a]];
        int en = parse_date(x->end);
        if (!en || strcmp(x->outcome, "completed"))
            continue;
        if (en <= end && end < plus_months(en, POST_MONTHS) &&
            !starts_between(pr, pr->e[a], -1, en, end)) {
            *within = 1;
            for (int k = 0; k < pr->ns; k++) {
                int g = parse_date(S[pr->s[k]].given);
                *supported |= g >= en && g <= end;
            }
        }
        for (int b = 0; b < pr->ne; b++) {
            int st = parse_date(E[pr->e[b]].start);
            if (b != a && st / 100 == ym && st >= en && st < plus_months(en, POST_MONTHS) &&
                !starts_between(pr, pr->e[a], pr->e[b], en, st - 1))
                *relapsed = 1;
        }
    }
}

static void reference(void)
{
    ncells = 0;
    ref_shares();
    char per[16];
    for (int y = FIRST_YEAR; y <= today / 10000; y++) {
        for (int m = 1; m <= 12 && y * 100 + m <= today / 100; m++) {
            int end = month_end(y, m);
            snprintf(per, sizeof per, "%04d%02d", y, m);
            for (int i = 0; i < np; i++) {
                person *p = &P[i];
                int reg = parse_date(p->reg), conf = parse_date(p->conf),
                    der = parse_date(p->dereg);
                if (!p->live)
                    continue;
                if (reg <= end && (!der || der > end))
                    ref_add(i, "PERSONS_MANAGED", per, "age_band=%s,sex=%s",
                            age_band(p->birth, end), p->sex);
                if (conf && conf <= end && (!der || der > end))
                    ref_add(i, "PERSONS_CONFIRMED", per, "age_band=%s,sex=%s",
                            age_band(p->birth, end), p->sex);
            }
            for (int i = 0; i < ne; i++) {
                episode *e = &E[i];
                person *p = &P[e->p];
                int st = parse_date(e->start), en = parse_date(e->end);
                if (!e->live)
                    continue;
                if (st <= end && (!en || en > end))
                    ref_add(e->p, "IN_TREATMENT", per, "age_band=%s,modality=%s,sex=%s",
                            age_band(p->birth, end), e->mod, p->sex);
                if (st / 100 == y * 100 + m)
                    ref_add(e->p, "TREATMENT_STARTED", per, "age_band=%s,modality=%s,sex=%s",
                            age_band(p->birth, end), e->mod, p->sex);
                if (en && en / 100 == y * 100 + m)
                    ref_add(e->p, "TREATMENT_ENDED", per, "modality=%s,outcome=%s", e->mod,
                            e->outcome);
            }
            for (int i = 0; i < ns; i++)
                if (S[i].live && parse_date(S[i].given) / 100 == y * 100 + m)
                    ref_add(S[i].p, "SUPPORT_GIVEN", per, "kind=%s,sex=%s", S[i].kind,
                            P[S[i].p].sex);
            for (int i = 0; i < np; i++) {
                person_recs pr;
                int in, sup, rel;
                if (!P[i].live)
                    continue;
                person_records(i, &pr);
                post_rehab_at(&pr, y * 100 + m, end, &in, &sup, &rel);
                const char *codes[] = {"POST_REHAB", "RELAPSED", "POST_REHAB_SUPPORTED"};
                int hit[] = {in, rel, sup};
                for (int k = 0; k < 3; k++)
                    if (hit[k]) {
                        ref_add(i, codes[k], per, "age_band=%s,sex=%s", age_band(P[i].birth, end),
                                P[i].sex);
                        post_cells[k]++;
                    }
            }
        }
        snprintf(per, sizeof per, "%04d", y);
        static char hit[MAXP][4];
        memset(hit, 0, sizeof hit);
        for (int j = 0; j < ne; j++) {
            int st = parse_date(E[j].start), en = parse_date(E[j].end);
            for (int k = 0; k < 4; k++)
                if (E[j].live && !strcmp(E[j].mod, MODS[k]) && st <= y * 10000 + 1231 &&
                    (!en || en >= y * 10000 + 101))
                    hit[E[j].p][k] = 1;
        }
        for (int i = 0; i < np; i++)
            for (int k = 0; k < 4; k++)
                if (hit[i][k])
                    ref_add(i, "REACHED", per, "modality=%s", MODS[k]);
    }
}

static int cmp_cell(const void *a, const void *b)
{
    return strcmp(((const ref_cell *)a)->key, ((const ref_cell *)b)->key);
}

/* "key=count/cell key" lines of the reference, sorted. */
static char *reference_text(void)
{
    reference();
    qsort(cells, (size_t)ncells, sizeof *cells, cmp_cell);
    size_t cap = 1 << 20, len = 0;
    char *out = malloc(cap);
    out[0] = '\0';
    for (int i = 0; i < ncells;) {
        int j = i;
        uint32_t key = 0;
        while (j < ncells && !strcmp(cells[i].key, cells[j].key))
            key += cells[j++].hash;
        if (len + 512 > cap)
            out = realloc(out, cap *= 2);
        len += (size_t)sprintf(out + len, "%s=%d/%u\n", cells[i].key, j - i, key);
        i = j;
    }
    for (int i = 0; i < ncells; i++)
        free(cells[i].key);
    return out;
}

#endif
