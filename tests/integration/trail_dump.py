#!/usr/bin/env python3
"""trail_dump.py DB_DIR CHILD: prints, one JSON object a line, each signed
delta of CHILD in the audit trail of the node whose LMDB environment is
DB_DIR (read with mdb_dump, so a running daemon is no obstacle), in seq
order: seq, created_ms, snapshot, and its cells as {indicator, period,
options, unit, value}. A small protobuf reader for the fields of
proto/tiersync.proto that tests look at; nothing else is decoded."""
import json
import subprocess
import sys


def dump(db, table):
    out = subprocess.run(["mdb_dump", "-s", table, db], check=True, capture_output=True,
                         text=True).stdout.split("\n")
    body = [l.strip() for l in out[out.index("HEADER=END") + 1:] if l.startswith(" ")]
    return [(bytes.fromhex(body[i]), bytes.fromhex(body[i + 1])) for i in range(0, len(body) - 1, 2)]


def varint(b, i):
    n = shift = 0
    while True:
        c = b[i]
        i += 1
        n |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return n, i


def fields(b):
    i = 0
    while i < len(b):
        key, i = varint(b, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 2:
            n, i = varint(b, i)
            v, i = b[i:i + n], i + n
        elif wt == 1:
            v, i = b[i:i + 8], i + 8
        elif wt == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % wt)
        yield num, v


def cell(b):
    c = {"unit": "", "indicator": "", "period": "", "options": "", "value": 0}
    for num, v in fields(b):
        if num in (1, 2, 3, 4):
            c[("unit", "indicator", "period", "options")[num - 1]] = v.decode()
        elif num == 5:
            c["value"] = (v >> 1) ^ -(v & 1)  # sint64
    return c


def delta(signed):
    body = next(v for num, v in fields(signed) if num == 1)
    d = {"seq": 0, "created_ms": 0, "snapshot": False, "cells": []}
    for num, v in fields(body):
        if num == 3:
            d["seq"] = v
        elif num == 5:
            d["created_ms"] = v
        elif num == 8:
            d["cells"].append(cell(v))
        elif num == 11:
            d["snapshot"] = bool(v)
    return d


def main():
    db, child = sys.argv[1], sys.argv[2].encode()
    log = dict(dump(db, "audit_log"))
    prefix = child + b"|"
    for k, place in sorted(dump(db, "audit_index")):
        if k.startswith(prefix) and len(k) == len(prefix) + 8:
            # the first arrival number, and a be32 count when kept in pieces
            first, n = int.from_bytes(place[:8], "big"), int.from_bytes(place[8:], "big") or 1
            signed = b"".join(log[(first + i).to_bytes(8, "big")] for i in range(n))
            print(json.dumps(delta(signed)))


main()
