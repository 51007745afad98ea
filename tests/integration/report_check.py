#!/usr/bin/env python3
"""report_check.py: checks the monthly report against numbers tiersync
gives otherwise (tests/integration/reports.sh).

  report_check.py pdf LAYOUT.txt RAW.txt CATALOG.json TOTALS.json UNIT PERIOD UNIT...
      the PDF's text (pdftotext -layout and plain): motto, title, period,
      unit names, every figure of the indicator table and of the plan equal
      to `tiersync totals --json` (an exact reader); UNIT... are the columns,
      the report's unit first, given as CODE=NAME (NAME "" when unknown:
      the column then shows CODE and "Chưa báo cáo", its figures "—").
  report_check.py html REPORT.html BASE UNIT PERIOD
      the page an HTTP reader without a token got: every figure equal to
      what the API shows the same reader (/api/totals, /api/children).
Prints what differs and exits 1."""
import collections, html.parser, json, re, sys, urllib.parse, urllib.request

def indicators(catalog):
    return [i for i in catalog["indicators"] if not i.get("target_of")]

def fmt(v, sep):
    s = f"{abs(v):,}".replace(",", sep)
    return "-" + s if v < 0 else s

def ratio_text(ind, num, den, point):
    """A ratio as the report prints it: one decimal, "—" without a denominator."""
    if not den:
        return "—"
    t = (2 * 10 * ind["factor"] * num + den) // (2 * den)  # half up: the parts are counts
    return f"{t // 10}{point}{t % 10}"

def row_period(ind, total, month):
    year = month[:4]
    if ind["period"] == "year":
        return year
    if ind["period"] == "any" and not total(ind["code"], month) and total(ind["code"], year):
        return year
    return month

def check_pdf(layout, raw, catalog, totals, unit, month, columns):
    errors = []
    sums = collections.Counter()
    for r in totals:
        sums[(r["unit"], r["indicator"], r["period"])] += r["value"]
    flat = " ".join(raw.split())
    for want in ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "BÁO CÁO",
                 f"tháng {month[4:]} năm {month[:4]}", f"/BC-{unit}", "THỦ TRƯỞNG ĐƠN VỊ",
                 "Nơi nhận:"]:
        if want not in flat:
            errors.append(f"the PDF's text lacks {want!r}")
    units = [c.split("=", 1) for c in columns]
    for code, name in units:
        if name and name not in flat:
            errors.append(f"the PDF's text lacks unit name {name!r}")
        if not name and f"{code} Chưa báo cáo" not in flat:
            errors.append(f"unit {code} is not marked as not reported")
    # the indicator table: each row's figures end its first line
    sec = layout.split("I. SỐ LIỆU CÁC CHỈ SỐ", 1)[-1].split("II. TIẾN ĐỘ", 1)[0]
    num = re.compile(r"^(\d{1,3}(\.\d{3})*|\d+,\d|—)$")
    got = []
    for line in sec.splitlines():
        toks = line.split()
        k = len(toks)
        while k > 0 and num.match(toks[k - 1]):
            k -= 1
        if len(toks) - k >= len(units):
            got.append(toks[len(toks) - len(units):])
    total = lambda ind, p: sums[(unit, ind, p)]
    want = []
    for ind in indicators(catalog):
        p = row_period(ind, total, month)
        row = []
        for code, name in units:
            if ind["kind"] == "ratio":  # of the unit's own rolled-up parts
                row.append(ratio_text(ind, sums[(code, ind["numerator"], p)], sums[(code, ind["denominator"], p)], ","))
                continue
            v = sums[(code, ind["code"], p)]
            row.append("—" if not name and v == 0 else fmt(v, "."))
        want.append(row)
    if got != want:
        errors.append(f"indicator table: the PDF shows {got}, totals give {want}")
    # the plan: target and actual of each TARGET_X against X, for the year
    plan = layout.split("II. TIẾN ĐỘ", 1)[-1].split("III. TÌNH TRẠNG", 1)[0]
    got_plan = sorted(tuple(m.groups()) for m in
                      re.finditer(r"(\d[\d.]*)\s+(\d+,\d|\d[\d.]*)\s+(\d+,\d|—)\s*$", plan, re.M))
    want_plan = []
    year = month[:4]
    for t in catalog["indicators"]:
        x = t.get("target_of")
        if not x:
            continue
        xi = next(i for i in catalog["indicators"] if i["code"] == x)
        if xi["kind"] == "ratio":  # a percentage: the unit's own target against its ratio
            own = sums[(unit, t["code"], year)] - sum(sums[(c, t["code"], year)] for c, _ in units[1:])
            if own:
                per = year if xi["period"] == "year" else month
                a = ratio_text(xi, sums[(unit, xi["numerator"], per)], sums[(unit, xi["denominator"], per)], ",")
                pct = ratio_text({"factor": 100}, int(a.replace(",", "")), own * 10, ",") if a != "—" else "—"
                want_plan.append((fmt(own, "."), a, pct))
            continue
        tg = collections.Counter(); ac = collections.Counter()
        for r in totals:
            if r["unit"] == unit and r["period"] == year and r["indicator"] in (t["code"], x):
                key = ",".join(f"{k}={v}" for k, v in sorted(r["options"].items()))
                (tg if r["indicator"] == t["code"] else ac)[key] += r["value"]
        if not sum(tg.values()):
            continue
        rows = [(sum(tg.values()), sum(ac.values()))] + [(tg[k], ac[k]) for k in tg]
        for a, b in rows:
            pct = f"{(b * 1000 + a // 2) // a / 10:.1f}".replace(".", ",") if a else "—"
            want_plan.append((fmt(a, "."), fmt(b, "."), pct))
    if got_plan != sorted(want_plan):
        errors.append(f"plan: the PDF shows {got_plan}, totals give {sorted(want_plan)}")
    return errors, len(got) * len(units) + 3 * len(got_plan)

class Cells(html.parser.HTMLParser):
    """The rows of <table id="data">: each a list of cell texts."""
    def __init__(self):
        super().__init__()
        self.rows, self.table, self.cell = [], False, None
    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.table = dict(attrs).get("id") == "data"
        elif self.table and tag == "tr":
            self.rows.append([])
        elif self.table and tag in ("td", "th"):
            self.cell = ""
    def handle_endtag(self, tag):
        if self.table and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join(self.cell.split()))
            self.cell = None
        elif tag == "table":
            self.table = False
    def handle_data(self, d):
        if self.cell is not None:
            self.cell += d

def api(base, path, **q):
    with urllib.request.urlopen(f"{base}{path}?{urllib.parse.urlencode(q)}") as r:
        return json.load(r)

def shown(v):
    if v is None:  # a ratio without a value
        return "—"
    if isinstance(v, float):  # a ratio: one decimal
        return f"{v:.1f}"
    return v if isinstance(v, str) else fmt(v, ",")

def check_html(page, base, unit, month):
    p = Cells()
    p.feed(page)
    head, rows = p.rows[0], p.rows[1:]
    catalog = api(base, "/api/catalog")
    errors, n = [], 0
    inds = indicators(catalog)
    if len(rows) != len(inds):
        return [f"{len(rows)} indicator rows, the catalog has {len(inds)}"], 0
    for ind, row in zip(inds, rows):
        per = row[1].rsplit("(", 1)[1].rstrip(")")
        per = per[3:] + per[:2] if "/" in per else per
        kids = api(base, "/api/children", unit=unit, indicator=ind["code"], period=per)
        want = [shown(kids["unit"]["value"])]
        for k in kids["children"]:
            never = k["freshness"]["state"] == "never"
            want.append("—" if never and k["value"] == 0 else shown(k["value"]))
        if row[2:] != want:
            errors.append(f"{ind['code']} {per}: the page shows {row[2:]}, the API {want}")
        n += len(want)
    return errors, n

def main():
    mode = sys.argv[1]
    if mode == "pdf":
        layout, raw = open(sys.argv[2]).read(), open(sys.argv[3]).read()
        catalog, totals = json.load(open(sys.argv[4])), json.load(open(sys.argv[5]))
        errors, n = check_pdf(layout, raw, catalog, totals, sys.argv[6], sys.argv[7], sys.argv[8:])
    else:
        errors, n = check_html(open(sys.argv[2]).read(), sys.argv[3], sys.argv[4], sys.argv[5])
    for e in errors:
        print("report_check:", e, file=sys.stderr)
    if errors:
        sys.exit(1)
    print(f"{n} figures agree")

main()
