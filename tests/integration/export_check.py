#!/usr/bin/env python3
"""export_check.py: reads an Excel or FHIR export with readers that are not
tiersync's and compares every value with `tiersync totals --json`
(tests/integration/reports.sh).

  export_check.py xlsx FILE.xlsx CATALOG.json TOTALS.json
      openpyxl: one sheet per indicator, rows unit/name/level/period, one
      column per category combination under Vietnamese headers, frozen
      header rows, numbers as numbers; every cell one total, every total one
      cell; a ratio's sheet (a sheet name is at most 31 characters) holds
      factor x numerator / denominator of each unit's parts, one decimal,
      empty where the denominator is 0.
  export_check.py fhir BUNDLE.json TOTALS.json
      a Bundle of MeasureReports (values=total): every stratum (or the
      group's count when there are none) one total, every total one value.
Prints what differs and exits 1."""
import json, sys

def totals_map(path, units=None):
    out = {}
    for r in json.load(open(path)):
        key = (r["unit"], r["indicator"], r["period"],
               ",".join(f"{k}={v}" for k, v in sorted(r["options"].items())))
        out[key] = r["value"]
    return out

def compare(got, want, what):
    errors = []
    for k in sorted(set(got) | set(want)):
        if got.get(k) != want.get(k):
            errors.append(f"{what} {k}: export {got.get(k)!r}, totals {want.get(k)!r}")
    return errors

def with_ratios(catalog, totals):
    """totals plus, for each ratio, its value in tenths from the parts."""
    want = dict(totals)
    for ind in catalog["indicators"]:
        if ind["kind"] != "ratio":
            continue
        parts = {}
        for (unit, code, period, opts), v in totals.items():
            if code in (ind["numerator"], ind["denominator"]):
                mine = ",".join(kv for kv in opts.split(",") if kv and kv.split("=")[0] in ind["categories"])
                nd = parts.setdefault((unit, ind["code"], period, mine), [0, 0])
                nd[code == ind["denominator"]] += v
        for key, (num, den) in parts.items():
            if den:
                want[key] = ("tenths", (2 * 10 * ind["factor"] * num + den) // (2 * den))
    return want

def check_xlsx(path, catalog, totals):
    import openpyxl
    wb = openpyxl.load_workbook(path)
    cats = {c["label"]["vi"]: c["name"] for c in catalog["categories"]}
    inds = [i["code"][:31] for i in catalog["indicators"]]
    code_of = {i["code"][:31]: i for i in catalog["indicators"]}
    errors, got = [], {}
    if wb.sheetnames != inds:
        errors.append(f"sheets {wb.sheetnames}, indicators {inds}")
    for ws in wb.worksheets:
        if ws.freeze_panes != "E3":
            errors.append(f"sheet {ws.title}: frozen at {ws.freeze_panes}, not below the headers (E3)")
        rows = list(ws.iter_rows(values_only=True))
        head = rows[1]
        if list(head[:4]) != ["Mã đơn vị", "Tên đơn vị", "Cấp", "Kỳ báo cáo"]:
            errors.append(f"sheet {ws.title}: headers {head[:4]}")
        opts = []
        for h in head[4:]:
            if h == "Giá trị":
                opts.append("")
                continue
            pairs = sorted((cats[p.split(": ", 1)[0]], p.split(": ", 1)[1]) for p in h.split("; "))
            opts.append(",".join(f"{k}={v}" for k, v in pairs))
        for row in rows[2:]:
            unit, _, _, period = row[:4]
            for o, v in zip(opts, row[4:]):
                if v is None:
                    continue
                if not isinstance(v, (int, float)) or isinstance(v, bool):
                    errors.append(f"{ws.title} {unit} {period} {o}: {v!r} is not a number")
                    continue
                ind = code_of.get(ws.title, {"code": ws.title, "kind": ""})
                got[(unit, ind["code"], period, o)] = ("tenths", round(v * 10)) if ind["kind"] == "ratio" else int(v)
    return errors + compare(got, with_ratios(catalog, totals), "xlsx"), len(got)

def ref_code(ref, kind):
    assert ref["reference"].startswith(kind + "/"), ref
    return ref["reference"].split("/", 1)[1]

def check_fhir(path, totals):
    b = json.load(open(path))
    errors, got = [], {}
    if b.get("resourceType") != "Bundle" or b.get("type") != "collection":
        return ["not a Bundle of type collection"], 0
    seen = set()
    for e in b.get("entry", []):
        mr = e["resource"]
        unit = ref_code(mr["subject"], "Location")
        if ref_code(mr["reporter"], "Organization") != unit:
            errors.append(f"reporter and subject differ: {mr['reporter']} {mr['subject']}")
        if (mr["status"], mr["type"]) != ("complete", "summary"):
            errors.append(f"status/type {mr['status']}/{mr['type']}")
        start, end = mr["period"]["start"], mr["period"]["end"]
        period = start[:4] if start[5:] == "01-01" and end[5:] == "12-31" else start[:4] + start[5:7]
        g, = mr["group"]
        ind = g["code"]["coding"][0]["code"]
        if not mr["measure"].endswith(":" + ind) and not mr["measure"].endswith("/" + ind):
            errors.append(f"measure {mr['measure']} is not indicator {ind}'s")
        key = (unit, ind, period)
        if key in seen:
            errors.append(f"two MeasureReports for {key}")
        seen.add(key)
        strata = [s for st in g.get("stratifier", []) for s in st["stratum"]]
        count = g["population"][0]["count"]
        if count != g["measureScore"]["value"]:
            errors.append(f"{key}: population {count} and measureScore differ")
        if not strata:
            got[key + ("",)] = count
        for s in strata:
            o = ",".join(f"{c['code']['text']}={c['value']['text']}"
                         for c in sorted(s["component"], key=lambda c: c["code"]["text"]))
            got[key + (o,)] = s["measureScore"]["value"]
            if s["population"][0]["count"] != s["measureScore"]["value"]:
                errors.append(f"{key} {o}: stratum population and measureScore differ")
        if strata and sum(s["measureScore"]["value"] for s in strata) != count:
            errors.append(f"{key}: strata do not add up to the group's count")
    return errors + compare(got, totals, "fhir"), len(got)

def main():
    if sys.argv[1] == "xlsx":
        errors, n = check_xlsx(sys.argv[2], json.load(open(sys.argv[3])), totals_map(sys.argv[4]))
    else:
        errors, n = check_fhir(sys.argv[2], totals_map(sys.argv[3]))
    for e in errors[:30]:
        print("export_check:", e, file=sys.stderr)
    if errors:
        sys.exit(1)
    print(f"{n} values agree")

main()
