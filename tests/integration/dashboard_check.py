#!/usr/bin/env python3
"""dashboard_check.py: compares every number the dashboard shows with the API.

usage: dashboard_check.py BASE_URL DOM_FILE SPEC ...

DOM_FILE is the page as headless Chromium rendered it (--dump-dom). Every
element that shows a number carries data-check, data-unit, data-indicator,
data-period, data-options and data-value (node/web/app.js). For each one this
script asks the API for the same selection (as the same reader: no token,
loopback) and fails unless the API's value, the data-value and the text shown
all agree (a ratio, a JSON real, is shown with one decimal). SPEC is one of:
  KIND=MIN     at least MIN checked numbers of a kind (total, own, plan-actual,
               plan-target; ratio counts the ratios among them), so an empty
               page cannot pass
  row:CODE     the table of child units has a row for unit CODE
  late:CODE    ... and that row is highlighted as late
  rounded:K    the page says its counts are rounded to multiples of K (in English
               or Vietnamese), and every number of a record-derived figure it
               shows is one
"""
import json
import sys
import urllib.parse
import urllib.request
from html.parser import HTMLParser


class Numbers(HTMLParser):
    """Collects elements with data-check and the text inside each."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found, self.stack, self.ready, self.rows, self.text = [], [], None, {}, ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.ready = a.get("data-ready")
        if tag == "tr" and "unit-row" in (a.get("class") or "").split():
            self.rows[a.get("data-unit")] = a["class"].split()
        if "data-check" in a:
            self.found.append({"attrs": a, "text": ""})
            self.stack.append((tag, len(self.found) - 1))
        elif self.stack:
            self.stack.append((tag, None))

    def handle_endtag(self, tag):
        if self.stack:
            self.stack.pop()

    def handle_data(self, data):
        self.text += data
        for _, idx in self.stack:
            if idx is not None:
                self.found[idx]["text"] += data


def get(base, path, **params):
    q = urllib.parse.urlencode({k: v for k, v in params.items() if v})
    with urllib.request.urlopen(f"{base}{path}?{q}", timeout=10) as r:
        return json.load(r)


def api_value(base, a):
    kind, unit, ind = a["data-check"], a["data-unit"], a["data-indicator"]
    period, opts = a["data-period"], a.get("data-options", "")
    if kind == "total":
        return get(base, "/api/totals", unit=unit, indicator=ind, period=period,
                   options=opts)["total"]
    if kind == "own":
        return get(base, "/api/children", unit=unit, indicator=ind, period=period)["unit"]["own"]
    if kind in ("plan-actual", "plan-target"):
        plan = get(base, "/api/plan", unit=unit, year=period)
        p = next(p for p in plan["plans"] if p["target_indicator"] == ind)
        if a.get("data-row") == "total":
            row = p["total"]
        else:
            want = dict(kv.split("=", 1) for kv in opts.split(",") if kv)
            row = next(r for r in p["rows"] if r["options"] == want)
        return row["actual" if kind == "plan-actual" else "target"]
    raise AssertionError(f"unknown data-check {kind}")


def shown(text, ratio):
    """The number in the text as the API writes it (separators removed; a
    ratio is shown with exactly one decimal, "40,0 %" or "40.0 %")."""
    t = text.strip()
    if t.startswith("<"):
        return t
    digits = "".join(ch for ch in t if ch.isdigit() or ch == "-")
    if not digits:
        return None
    return int(digits) / 10 if ratio else int(digits)


def data_value(dv):
    """data-value as the API wrote it: a count, a ratio, "<k" or none."""
    for kind in (int, float):
        try:
            return kind(dv)
        except ValueError:
            pass
    return dv or None


def main():
    base, dom_file, mins = sys.argv[1], sys.argv[2], sys.argv[3:]
    p = Numbers()
    with open(dom_file, encoding="utf-8") as f:
        p.feed(f.read())
    if p.ready != "1":
        sys.exit(f"FAIL: the dashboard did not finish loading (body data-ready={p.ready!r})")
    counts, bad = {}, []
    records = {i["code"] for i in get(base, "/api/catalog")["indicators"] if i["kind"] != "value"}
    for item in p.found:
        a = item["attrs"]
        want = api_value(base, a)
        dv = data_value(a.get("data-value", ""))
        got_text = shown(item["text"], isinstance(want, float))
        if want != dv or (want is not None and got_text != want):
            bad.append(f"{a['data-check']} {a['data-unit']} {a['data-indicator']} "
                       f"{a['data-period']} [{a.get('data-options', '')}]: API {want!r}, "
                       f"data-value {dv!r}, shown {item['text'].strip()!r}")
        counts[a["data-check"]] = counts.get(a["data-check"], 0) + 1
        if isinstance(want, float):
            counts["ratio"] = counts.get("ratio", 0) + 1
    for spec in mins:
        if ":" in spec:
            what, code = spec.split(":", 1)
            if what in ("row", "late") and code not in p.rows:
                bad.append(f"no row for unit {code} in the table of child units")
            elif what == "late" and "late" not in p.rows[code]:
                bad.append(f"unit {code} is not highlighted as late")
            elif what == "rounded":
                if not (f"rounded to multiples of {code}" in p.text or
                        f"làm tròn đến bội số của {code}" in p.text):
                    bad.append(f"the page does not say its counts are rounded to multiples of {code}")
                for i in p.found:
                    v = i["attrs"].get("data-value", "")
                    if i["attrs"]["data-indicator"] in records and v.lstrip("-").isdigit() and int(v) % int(code):
                        bad.append(f"{i['attrs']['data-unit']} {i['attrs']['data-indicator']}: {v} is not rounded")
            continue
        kind, n = spec.split("=")
        if counts.get(kind, 0) < int(n):
            bad.append(f"only {counts.get(kind, 0)} '{kind}' numbers on the page, expected "
                       f"at least {n}")
    if bad:
        sys.exit("FAIL: dashboard and API disagree:\n  " + "\n  ".join(bad))
    print(f"dashboard numbers equal the API's: {sum(counts.values())} checked {counts}")


if __name__ == "__main__":
    main()
