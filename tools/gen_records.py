#!/usr/bin/env python3
"""gen_records.py: made-up case records of one commune, and the totals they must give.

usage: gen_records.py --out DIR --unit CODE [--persons N] [--episodes N] [--supports N]
                      [--seed S] [--today YYYY-MM-DD] [--prefix P] [--first-year Y]
                      [--expect-at YYYY-MM-DD ...] [--no-expected]

Writes, for the default catalog (catalog/drug-treatment.json):
  DIR/person.csv, DIR/episode.csv, DIR/support.csv   the lists a commune imports
  DIR/expected.json  {"unit": CODE, "cells": {"INDICATOR|PERIOD|cat=opt,...": count}}
                     every total the records give at CODE, computed here from the
                     rules of docs/RECORDS.md, independently of the C engine
  DIR/expected-DATE.json  the same as a node would hold with its clock at DATE
                     (--expect-at: after a month or year turn, DATE >= --today)
  DIR/pii.txt        every personal value written (names, ID numbers, birth dates in
                     the forms YYYY-MM-DD and YYYYMMDD, addresses), one per line, for
                     the privacy tests to search for
  DIR/ids.txt        every record id (not personal, but they never leave the commune)

Names, ID numbers and addresses are invented but Vietnamese-looking (UTF-8, with
commas and quotes that need CSV quoting). The same arguments always give the same
files. Every date is on or before --today (default: $TIERSYNC_TODAY).
"""
import argparse
import calendar
import csv
import datetime as dt
import json
import os
import random
import sys

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
          "Hồ", "Ngô", "Dương", "Lý"]
MIDDLE = {"M": ["Văn", "Hữu", "Đức", "Minh", "Quốc", "Thanh", "Công"],
          "F": ["Thị", "Ngọc", "Thu", "Thanh", "Kim", "Mỹ"]}
GIVEN = {"M": ["An", "Bình", "Cường", "Dũng", "Hùng", "Khánh", "Long", "Nam", "Phong", "Quân", "Sơn",
               "Tuấn", "Việt", "Hải", "Đạt", "Thắng"],
         "F": ["Hương", "Lan", "Linh", "Mai", "Phương", "Thảo", "Trang", "Yến", "Hà", "Ngân", "Oanh"]}
NICK = ["Tí", "Tèo", "Bờm", "Cu"]
STREETS = ["Lê Lợi", "Trần Hưng Đạo", "Nguyễn Trãi", "Hai Bà Trưng", "Lý Thường Kiệt", "Quang Trung"]
VILLAGES = ["Đông", "Đoài", "Thượng", "Hạ", "Yên Hòa", "Phú Mỹ", "Tân Lập"]
MODALITIES = ["compulsory", "methadone", "voluntary_facility", "voluntary_community"]
OUTCOMES = ["completed", "dropped_out", "transferred"]
KINDS = ["vocational_training", "job_placement", "preferential_loan", "health_care", "other"]
POST_REHAB_MONTHS = 12  # post_rehab_months of the default catalog
PERSON_COLS = ["id", "full_name", "national_id", "birth_date", "sex", "address", "registered_on",
               "confirmed_on", "deregistered_on"]
EPISODE_COLS = ["id", "person_id", "modality", "start_on", "end_on", "outcome"]
SUPPORT_COLS = ["id", "person_id", "kind", "given_on"]


def ymd(d):
    return d.year * 10000 + d.month * 100 + d.day if d else 0


def iso(d):
    return d.isoformat() if d else ""


def between(rng, a, b):
    return a + dt.timedelta(days=rng.randrange((b - a).days + 1))


def make(args, rng):
    today = dt.date.fromisoformat(args.today)
    first = dt.date(args.first_year, 1, 1)
    persons, episodes, supports, nids = [], [], [], set()
    for i in range(1, args.persons + 1):
        sex = "M" if rng.random() < 0.8 else "F"
        name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE[sex])} {rng.choice(GIVEN[sex])}"
        if rng.random() < 0.03:
            name = name.replace(" ", f' "{rng.choice(NICK)}" ', 1)
        nid = ""
        if rng.random() < 0.9:
            while not nid or nid in nids:
                nid = f"0{rng.randrange(1, 97):02d}{rng.randrange(0, 4)}{rng.randrange(10**7, 10**8)}"
            nids.add(nid)
        reg = between(rng, first, today)
        conf = between(rng, reg, min(today, reg + dt.timedelta(days=60))) if rng.random() < 0.75 else None
        dereg = None
        if rng.random() < 0.15:
            dereg = between(rng, max(reg, conf or reg), today)
        address = ""
        if rng.random() < 0.9:
            address = (f"Số {rng.randrange(1, 300)}, ngõ {rng.randrange(1, 60)}, đường "
                       f"{rng.choice(STREETS)}, thôn {rng.choice(VILLAGES)} {rng.randrange(1, 12)}")
        persons.append({
            "id": f"{args.prefix}P{i:06d}", "full_name": name, "national_id": nid,
            "birth_date": between(rng, dt.date(1955, 1, 1), dt.date(2009, 12, 31)) if rng.random() < 0.95 else None,
            "sex": sex, "address": address, "registered_on": reg, "confirmed_on": conf,
            "deregistered_on": dereg})
    for i in range(1, args.episodes + 1):
        p = rng.randrange(len(persons))
        start = between(rng, persons[p]["registered_on"], today)
        end = outcome = None
        if rng.random() < 0.6:
            end = start + dt.timedelta(days=rng.randrange(0, 400))
            if end > today:
                end = None
            else:
                outcome = rng.choice(OUTCOMES)
        episodes.append({"id": f"{args.prefix}E{i:06d}", "person": p, "modality": rng.choice(MODALITIES),
                         "start_on": start, "end_on": end, "outcome": outcome})
    for i in range(1, args.supports + 1):
        p = rng.randrange(len(persons))
        supports.append({"id": f"{args.prefix}S{i:06d}", "person": p, "kind": rng.choice(KINDS),
                         "given_on": between(rng, persons[p]["registered_on"], today)})
    return persons, episodes, supports


def write_csv(path, cols, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(cols)
        for r in rows:
            w.writerow(r)


# ---- the expected totals: docs/RECORDS.md, written out plainly ----

def age_band(birth, at):
    if not birth or birth > at:
        return "unknown"
    age = at // 10000 - birth // 10000 - (1 if at % 10000 < birth % 10000 else 0)
    for lo, hi, label in ((0, 17, "0-17"), (18, 29, "18-29"), (30, 39, "30-39"), (40, 49, "40-49")):
        if lo <= age <= hi:
            return label
    return "50+" if age >= 50 else "unknown"


def months_from(start, today):
    """(YYYYMM, last day YYYYMMDD) from start's month to today's month."""
    y, m = start // 10000, start // 100 % 100
    while y * 100 + m <= today // 100:
        yield y * 100 + m, y * 10000 + m * 100 + calendar.monthrange(y, m)[1]
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


def expected(persons, episodes, supports, today):
    cells = {}

    def add(ind, period, **opts):
        key = f"{ind}|{period}|" + ",".join(f"{k}={v}" for k, v in sorted(opts.items()))
        cells[key] = cells.get(key, 0) + 1

    def stock(ind, start, end, birth, **opts):
        for m, last in months_from(start, today):
            if end and end <= last:
                break
            add(ind, m, age_band=age_band(birth, last), **opts)

    def month_last(d):
        return d // 100 * 100 + calendar.monthrange(d // 10000, d // 100 % 100)[1]

    for p in persons:
        birth = ymd(p["birth_date"])
        stock("PERSONS_MANAGED", ymd(p["registered_on"]), ymd(p["deregistered_on"]), birth, sex=p["sex"])
        if p["confirmed_on"]:
            stock("PERSONS_CONFIRMED", ymd(p["confirmed_on"]), ymd(p["deregistered_on"]), birth, sex=p["sex"])
    reached = set()
    for e in episodes:
        p = persons[e["person"]]
        birth, start, end = ymd(p["birth_date"]), ymd(e["start_on"]), ymd(e["end_on"])
        stock("IN_TREATMENT", start, end, birth, modality=e["modality"], sex=p["sex"])
        add("TREATMENT_STARTED", start // 100, age_band=age_band(birth, month_last(start)),
            modality=e["modality"], sex=p["sex"])
        if end:
            add("TREATMENT_ENDED", end // 100, modality=e["modality"], outcome=e["outcome"])
        for y in range(start // 10000, today // 10000 + 1):
            if end and end < y * 10000 + 101:
                break
            reached.add((e["person"], e["modality"], y))
    for _, modality, y in reached:
        add("REACHED", y, modality=modality)
    for s in supports:
        add("SUPPORT_GIVEN", ymd(s["given_on"]) // 100, kind=s["kind"], sex=persons[s["person"]]["sex"])
    post_rehab(persons, episodes, supports, today, add, month_last)
    return cells


def plus_months(d, n):
    """d + n months, on the month's last day when the day does not exist."""
    y, m = d // 10000, d // 100 % 100 - 1 + n
    y, m = y + m // 12, m % 12 + 1
    return y * 10000 + m * 100 + min(d % 100, calendar.monthrange(y, m)[1])


def post_rehab(persons, episodes, supports, today, add, month_last):
    """POST_REHAB, RELAPSED, POST_REHAB_SUPPORTED (docs/RECORDS.md): a
    completed episode opens [end, end + 12 months), closed early by the
    person's next episode; each person counts once per month."""
    eps, given = {}, {}
    for e in episodes:
        eps.setdefault(e["person"], []).append(e)
    for s in supports:
        given.setdefault(s["person"], []).append(ymd(s["given_on"]))
    for pi, mine in eps.items():
        p = persons[pi]
        within, supported, relapsed = set(), set(), set()
        for x in mine:
            end = ymd(x["end_on"])
            if not end or x["outcome"] != "completed":
                continue
            limit = plus_months(end, POST_REHAB_MONTHS)
            later = [ymd(y["start_on"]) for y in mine if y is not x and ymd(y["start_on"]) >= end]
            stop = min(later + [limit])
            if later and min(later) < limit:
                relapsed.add(min(later) // 100)
            first_support = min([g for g in given.get(pi, []) if end <= g < stop], default=None)
            for m, last in months_from(end, today):
                if last >= stop:
                    break
                within.add((m, last))
                if first_support and first_support <= last:
                    supported.add((m, last))
        for ind, months in (("POST_REHAB", within), ("POST_REHAB_SUPPORTED", supported)):
            for m, last in months:
                add(ind, m, age_band=age_band(ymd(p["birth_date"]), last), sex=p["sex"])
        for m in relapsed:
            add("RELAPSED", m, age_band=age_band(ymd(p["birth_date"]), month_last(m * 100 + 1)), sex=p["sex"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--unit", required=True)
    ap.add_argument("--persons", type=int, default=3000)
    ap.add_argument("--episodes", type=int)
    ap.add_argument("--supports", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--today", default=os.environ.get("TIERSYNC_TODAY"))
    ap.add_argument("--prefix", default="")
    ap.add_argument("--first-year", type=int)
    ap.add_argument("--expect-at", nargs="*", default=[])
    ap.add_argument("--no-expected", action="store_true")
    args = ap.parse_args()
    if not args.today:
        sys.exit("gen_records.py: give --today or set TIERSYNC_TODAY")
    args.episodes = args.persons * 3 // 2 if args.episodes is None else args.episodes
    args.supports = args.persons // 2 if args.supports is None else args.supports
    args.first_year = args.first_year or dt.date.fromisoformat(args.today).year - 6
    rng = random.Random(args.seed)
    persons, episodes, supports = make(args, rng)
    os.makedirs(args.out, exist_ok=True)
    write_csv(os.path.join(args.out, "person.csv"), PERSON_COLS,
              ([p["id"], p["full_name"], p["national_id"], iso(p["birth_date"]), p["sex"], p["address"],
                iso(p["registered_on"]), iso(p["confirmed_on"]), iso(p["deregistered_on"])] for p in persons))
    write_csv(os.path.join(args.out, "episode.csv"), EPISODE_COLS,
              ([e["id"], persons[e["person"]]["id"], e["modality"], iso(e["start_on"]), iso(e["end_on"]),
                e["outcome"] or ""] for e in episodes))
    write_csv(os.path.join(args.out, "support.csv"), SUPPORT_COLS,
              ([s["id"], persons[s["person"]]["id"], s["kind"], iso(s["given_on"])] for s in supports))
    pii = set()
    for p in persons:
        pii.update(v for v in (p["full_name"], p["national_id"], p["address"]) if v)
        if p["birth_date"]:
            pii.update((iso(p["birth_date"]), str(ymd(p["birth_date"]))))
    with open(os.path.join(args.out, "pii.txt"), "w", encoding="utf-8") as f:
        f.write("".join(v + "\n" for v in sorted(pii)))
    with open(os.path.join(args.out, "ids.txt"), "w", encoding="utf-8") as f:
        f.write("".join(r["id"] + "\n" for r in persons + episodes + supports))
    for at in ([] if args.no_expected else [None]) + args.expect_at:
        cells = expected(persons, episodes, supports, ymd(dt.date.fromisoformat(at or args.today)))
        with open(os.path.join(args.out, f"expected-{at}.json" if at else "expected.json"), "w") as f:
            json.dump({"unit": args.unit, "cells": cells}, f, sort_keys=True)


if __name__ == "__main__":
    main()
