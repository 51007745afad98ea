#!/usr/bin/env python3
"""disclosure_attack.py: the no-token attacker of issue 16 (run by disclosure_attack.sh).

usage: disclosure_attack.py PROVINCE_URL DISTRICT_URL TOKEN

Sweeps every endpoint that shows record-derived figures without a token (totals with
every single-option filter and by= over the other categories, children, series, plan,
CSV and DHIS2 exports), at the province and the district, twice. A ratio indicator
is no count: each ratio shown (totals cells and total, children) must be the ratio of
its two parts as published beside it, and those parts the counts shown elsewhere, so a
ratio tells nothing its parts do not. A figure is
(unit, indicator, period, filter); the truth of each comes from the token answers.
Then differencing: a figure equals the sum of its options (for any category not in its
filter) and a parent's equals its own part plus its children's; whenever all but one
term of such a sum is known, the last is estimated, until nothing new follows.
Exits 1 when a small count (1..k-1) is shown exactly, more hidden small counts than
chance are recovered, an answer differs between two asks or two nodes, or (rounded
access) a figure is off by k or more, not a multiple of k, or biased.
"""
import csv
import functools
import http.client
import io
import json
import math
import sys
import urllib.parse
from collections import Counter, defaultdict

PROV, DIST, TOKEN = sys.argv[1:4]
MONTHS = ["202512", "202601", "202602", "202603"]
YEARS = ["2025", "2026"]
failures = []


conns = {}
asked = {}  # (base, path and query, token) -> body, for asking again


def get(base, path, params, token=False):
    url = path + "?" + urllib.parse.urlencode(params)
    if base not in conns:
        conns[base] = http.client.HTTPConnection(urllib.parse.urlsplit(base).netloc, timeout=30)
    conn = conns[base]
    conn.request("GET", url, headers={"Authorization": "Bearer " + TOKEN} if token else {})
    r = conn.getresponse()
    body = r.read().decode()
    if r.status != 200:
        raise SystemExit("FAIL: GET %s%s: %d %s" % (base, url, r.status, body[:200]))
    asked[(base, url, token)] = body
    return body if path == "/api/export" else json.loads(body)


catalog = get(PROV, "/api/catalog", {})
info = get(PROV, "/api/info", {})
K = int(info.get("small_cell_k", 5))
cats = {c["name"]: c["options"] for c in catalog["categories"]}
inds = {i["code"]: i for i in catalog["indicators"] if i["kind"] not in ("value", "ratio")}
ratios = {i["code"]: i for i in catalog["indicators"] if i["kind"] == "ratio"}
TREE = {"34": ["343"], "343": ["34301", "34302", "34303"]}
UNITS = ["34", "343", "34301", "34302", "34303"]


def periods(ind):
    return YEARS if inds[ind]["period"] == "year" else MONTHS


def fig(unit, ind, per, filt):
    return (unit, ind, per, tuple(sorted(filt.items())))


# ---- truth: every cell, with a token (asked for each unit, indicator and period seen) ----
@functools.lru_cache(maxsize=None)
def cells(unit, ind, per):
    t = get(PROV, "/api/totals", {"unit": unit, "indicator": ind, "period": per}, True)
    return [(c["options"], c["value"]) for c in t["cells"]]


@functools.lru_cache(maxsize=None)
def truth(f):
    unit, ind, per, filt = f
    if unit.endswith("#own"):
        parent = unit[:-4]
        return truth((parent, ind, per, filt)) - sum(truth((c, ind, per, filt)) for c in TREE[parent])
    return sum(v for o, v in cells(unit, ind, per) if all(o.get(k) == x for k, x in filt))


# ---- the sweep, without a token ----
def sweep(base, units):
    seen = defaultdict(list)  # figure -> [(value as shown, where)]
    access = set()

    def see(f, v, where):
        if f[1] in inds:
            seen[f].append((v, where))

    for u in units:
        for i in inds:
            filters = [{}] + [{c: o} for c in inds[i]["categories"] for o in cats[c]]
            for p in periods(i):
                for filt in filters:
                    q = {"unit": u, "indicator": i, "period": p}
                    if filt:
                        q["options"] = ",".join("%s=%s" % kv for kv in filt.items())
                    by = [c for c in inds[i]["categories"] if c not in filt][:4]
                    if by:
                        q["by"] = ",".join(by)
                    t = get(base, "/api/totals", q)
                    access.add(t["access"])
                    see(fig(u, i, p, filt), t["total"], "totals.total")
                    for c in t["cells"]:
                        see(fig(u, i, p, c["options"]), c["value"], "totals.cells")
                    for c, rows in t.get("breakdown", {}).items():
                        for r in rows:
                            see(fig(u, i, p, dict(filt, **{c: r["option"]})), r["value"], "totals.by")
                    if u in TREE:
                        q.pop("by", None)
                        ch = get(base, "/api/children", q)
                        access.add(ch["access"])
                        see(fig(u, i, p, filt), ch["unit"]["value"], "children.unit")
                        see(fig(u + "#own", i, p, filt), ch["unit"]["own"], "children.own")
                        for c in ch["children"]:
                            see(fig(c["code"], i, p, filt), c["value"], "children.child")
            for filt in filters:
                q = {"unit": u, "indicator": i, "from": periods(i)[0], "to": periods(i)[-1]}
                if filt:
                    q["options"] = ",".join("%s=%s" % kv for kv in filt.items())
                s = get(base, "/api/series", q)
                access.add(s["access"])
                for pt in s["points"]:
                    see(fig(u, i, pt["period"], filt), pt["value"], "series")
        plan = get(base, "/api/plan", {"unit": u, "year": "2026"})
        access.add(plan["access"])
        for pl in plan["plans"]:
            if pl["actual_indicator"] in inds and pl["actual_period"] in YEARS:
                see(fig(u, pl["actual_indicator"], pl["actual_period"], {}), pl["total"]["actual"], "plan")
                for r in pl["rows"]:
                    see(fig(u, pl["actual_indicator"], pl["actual_period"], r["options"]), r["actual"], "plan")
        for p in MONTHS + YEARS:
            for values in ("total", "own"):
                body = get(base, "/api/export", {"format": "csv", "unit": u, "period": p, "values": values})
                for r in csv.DictReader(io.StringIO(body)):
                    if values == "total" or r["unit"] not in TREE:
                        opts = dict(kv.split("=") for kv in r["options"].split(",") if kv)
                        v = r["value"]
                        see(fig(r["unit"], r["indicator"], r["period"], opts),
                            int(v) if v.lstrip("-").isdigit() else v, "export.csv")
            body = get(base, "/api/export", {"format": "dhis2", "unit": u, "period": p, "values": "total"})
            for r in json.loads(body)["dataValues"]:
                opts = dict(kv.split("=") for kv in r["categoryOptionCombo"].split(",") if "=" in kv)
                see(fig(r["orgUnit"], r["dataElement"], r["period"], opts), int(r["value"]), "export.dhis2")
    return seen, access


def flatten(seen):
    return {f: sorted(set(json.dumps(v) for v, _ in vs)) for f, vs in seen.items()}


import time
T0 = time.time()
seen, access = sweep(PROV, UNITS)
print("province swept: %d questions in %.0f s" % (len(asked), time.time() - T0), flush=True)
first = sorted(asked.items())
again = [k for i, (k, body) in enumerate(first) if i % 5 == 0 and
         get(k[0], k[1].split("?")[0], urllib.parse.parse_qsl(k[1].split("?", 1)[1]), k[2]) and
         asked[k] != body]
if again:
    failures.append("%d questions asked twice got different answers, e.g. %s" % (len(again), again[0][1]))
dist_seen, _ = sweep(DIST, ["343", "34301", "34302", "34303"])
flat_d, flat_p = flatten(dist_seen), flatten(seen)
differ = [f for f in flat_d if f in flat_p and flat_d[f] != flat_p[f]]
if differ:
    failures.append("%d figures differ between the district's and the province's answers, e.g. %s: %s vs %s"
                    % (len(differ), differ[0], flat_d[differ[0]], flat_p[differ[0]]))
for f, vs in list(seen.items()) + list(dist_seen.items()):
    if len(set(json.dumps(v) for v, _ in vs)) > 1:
        failures.append("figure %s is shown differently by different endpoints: %s" % (f, vs[:4]))
        break



# ---- ratios: of the published parts, nothing finer ----
def ratio_of(ind, num, den):
    """factor x num / den in one decimal, half away from zero (node/ratio.c), or None."""
    if den == 0:
        return None
    t = abs(2 * 10 * ind["factor"] * num) + abs(den)
    t //= 2 * abs(den)
    return (t if (num < 0) == (den < 0) or num == 0 else -t) / 10.0


def check_ratios(base, units):
    compared = parts_seen = 0
    for i, ind in ratios.items():
        for u in units:
            for p in {"year": YEARS, "month": MONTHS}.get(ind["period"], MONTHS + YEARS):
                t = get(base, "/api/totals", {"unit": u, "indicator": i, "period": p})
                ch = get(base, "/api/children", {"unit": u, "indicator": i, "period": p})
                shown = [(c["options"], c) for c in t["cells"]] + [({}, t), ({}, ch["unit"])]
                shown += [({}, c) for c in ch["children"]]
                for opts, c in shown:
                    v = c["total"] if "total" in c else c["value"]
                    num, den = c["numerator"]["value"], c["denominator"]["value"]
                    if v != ratio_of(ind, num, den):
                        failures.append("%s %s %s %s: ratio %r is not %d x %r / %r of its published parts"
                                        % (base, u, i, p, v, ind["factor"], num, den))
                        return
                    compared += 1
                    unit = c.get("code", c["unit"] if isinstance(c.get("unit"), str) else u)
                    for part, pv in ((ind["numerator"], num), (ind["denominator"], den)):
                        f = fig(unit, part, p, opts)
                        if f in seen and pv not in [x for x, _ in seen[f]]:
                            failures.append("%s: part %s of %s is %r, shown elsewhere as %s"
                                            % (base, f, i, pv, seen[f][:2]))
                            return
                        parts_seen += f in seen
    print("ratios: %d shown, all of their published parts; %d parts matched the counts shown"
          % (compared, parts_seen))
    if not compared or not parts_seen:
        failures.append("no ratio (or no ratio part) to compare: the tree has no ratio figures?")


check_ratios(PROV, UNITS)
rounded = access == {"rounded"}
print("access seen: %s; k = %d; %d figures observed" % (sorted(access), K, len(seen)))

# ---- what is shown ----
known = {f: [v for v, _ in vs if isinstance(v, int)][0] for f, vs in seen.items()
         if any(isinstance(v, int) for v, _ in vs)}
small = {f for f in seen if 1 <= truth(f) < K}
direct = {f for f in small if known.get(f) == truth(f)}
by_where = defaultdict(int)
for f in direct:
    by_where[seen[f][0][1]] += 1
print("small figures (1..%d): %d; shown exactly: %d %s" % (K - 1, len(small), len(direct), dict(by_where)))
if direct:
    failures.append("%d small counts shown exactly, e.g. %s = %d" % (len(direct), min(direct), truth(min(direct))))


# ---- differencing ----
def relations():
    combos = {(f[1], f[2], f[3]) for f in seen}
    for (i, p, filt) in combos:
        d = dict(filt)
        for parent, kids in TREE.items():
            yield fig(parent, i, p, d), [fig(parent + "#own", i, p, d)] + [fig(c, i, p, d) for c in kids]
    for (u, i, p, filt) in {f for f in seen}:
        d = dict(filt)
        for c in inds[i]["categories"]:
            if c not in d:
                yield (u, i, p, filt), [fig(u, i, p, dict(d, **{c: o})) for o in cats[c]]


rels = list(relations())
est = dict(known)
changed = True
while changed:
    changed = False
    for whole, parts in rels:
        terms = [whole] + parts
        unknown = [t for t in terms if t not in est]
        if len(unknown) != 1:
            continue
        u = unknown[0]
        rest = sum(est[p] for p in parts if p != u)
        est[u] = est[whole] - rest if u != whole else rest
        changed = True

hidden = small - direct
tried = {f for f in hidden if f in est}
recovered = {f for f in tried if est[f] == truth(f)}
# chance: an attacker who only knows a figure is small and guesses its most
# common value
freq = Counter(truth(f) for f in hidden)
chance = max(freq.values()) / len(hidden) if hidden else 0.0
n = max(len(tried), 1)
bound = chance + 3 * math.sqrt(chance * (1 - chance) / n)
print("hidden small figures: %d; estimated by differencing: %d; recovered exactly: %d (%.1f %% of those "
      "estimated; chance %.1f %%, bound %.1f %%)" % (len(hidden), len(tried), len(recovered),
                                                     100.0 * len(recovered) / n, 100 * chance, 100 * bound))
if tried and len(recovered) / n > bound:
    failures.append("%d of %d hidden small counts recovered by differencing, e.g. %s = %d"
                    % (len(recovered), len(tried), min(recovered), truth(min(recovered))))

# ---- rounding ----
if rounded:
    errs = [known[f] - truth(f) for f in known]
    off = [f for f in known if abs(known[f] - truth(f)) >= K or known[f] % K]
    if off:
        failures.append("%d figures not a multiple of %d within %d of the truth, e.g. %s: %d for %d"
                        % (len(off), K, K - 1, off[0], known[off[0]], truth(off[0])))
    moved = [e for f, e in zip(known, errs) if truth(f) % K]
    mean = sum(moved) / max(len(moved), 1)
    print("rounded figures: %d, %d not multiples of %d; mean(rounded - exact) over those: %+.3f"
          % (len(errs), len(moved), K, mean))
    if len(moved) < 100 or abs(mean) > 0.5:
        failures.append("mean error %.3f over %d figures: biased or too few to tell" % (mean, len(moved)))
else:
    failures.append("answers without a token say access %s, not rounded" % sorted(access))

for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
