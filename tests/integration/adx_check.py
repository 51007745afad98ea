#!/usr/bin/env python3
"""adx_check.py: structural check of an IHE ADX message, written from the
specification (IHE QRPH Supplement "Aggregate Data Exchange", 2015, and its
loosely constrained W3C schema), then a sum of its values.

usage: adx_check.py FILE.xml   -> prints "dataElement|period|cat=opt,...|value"
                                  lines summed over org units, sorted

What ADX requires and this checks:
  * root element adx in namespace urn:ihe:qrph:adx:2015, attribute exported
    (xs:dateTime), one or more group children and nothing else;
  * group: attributes orgUnit (token), period (ISO 8601 start date and
    duration: YYYY-MM-DD/P1M for a month, YYYY-01-01/P1Y for a year) and
    dataSet; one or more dataValue children and nothing else;
  * dataValue: attributes dataElement (token) and value (xs:decimal); any
    other attribute is a disaggregation (an XML name); at most an annotation
    child; the same (dataElement, disaggregation) at most once per group.
"""
import collections
import re
import sys
import xml.etree.ElementTree as ET

NS = "urn:ihe:qrph:adx:2015"
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")
PERIOD = re.compile(r"^(\d{4})-(\d{2})-(\d{2})/P1([MY])$")
DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
TOKEN = re.compile(r"^\S(.*\S)?$")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def fail(msg):
    sys.exit(f"ADX FAIL: {msg}")


def check_period(p):
    m = PERIOD.match(p)
    if not m:
        fail(f"period {p!r} is not YYYY-MM-DD/P1M or YYYY-MM-DD/P1Y")
    _, month, day, unit = m.groups()
    if day != "01" or not 1 <= int(month) <= 12 or (unit == "Y" and month != "01"):
        fail(f"period {p!r} does not start a month (P1M) or a year (P1Y)")
    return p[:4] + (month if unit == "M" else "")


def main():
    root = ET.parse(sys.argv[1]).getroot()
    if root.tag != f"{{{NS}}}adx":
        fail(f"root is {root.tag}, not {{{NS}}}adx")
    if not DATETIME.match(root.get("exported", "")):
        fail("adx lacks a valid exported xs:dateTime")
    groups = list(root)
    if not groups:
        fail("adx has no group")
    sums = collections.Counter()
    for g in groups:
        if g.tag != f"{{{NS}}}group":
            fail(f"unexpected element {g.tag} in adx")
        for a in ("orgUnit", "period", "dataSet"):
            if not TOKEN.match(g.get(a, "")):
                fail(f"group lacks {a}")
        period = check_period(g.get("period"))
        values = list(g)
        if not values:
            fail(f"group {g.attrib} has no dataValue")
        seen = set()
        for v in values:
            if v.tag != f"{{{NS}}}dataValue":
                fail(f"unexpected element {v.tag} in group")
            if [c.tag for c in v if c.tag != f"{{{NS}}}annotation"]:
                fail("dataValue may hold only an annotation")
            de, val = v.get("dataElement", ""), v.get("value", "")
            if not TOKEN.match(de) or not DECIMAL.match(val):
                fail(f"dataValue {v.attrib} lacks dataElement or a decimal value")
            dis = sorted((k, x) for k, x in v.attrib.items() if k not in ("dataElement", "value"))
            for k, _ in dis:
                if not NAME.match(k):
                    fail(f"disaggregation {k!r} is not an XML name")
            key = (de, tuple(dis))
            if key in seen:
                fail(f"{key} twice in group {g.attrib}")
            seen.add(key)
            sums[(de, period, ",".join(f"{k}={x}" for k, x in dis))] += int(val)
    for (de, period, dis), n in sorted(sums.items()):
        print(f"{de}|{period}|{dis}|{n}")


if __name__ == "__main__":
    main()
