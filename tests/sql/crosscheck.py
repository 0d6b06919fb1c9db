#!/usr/bin/env python3
"""Cross-checks the images-group program against SQLite, an independent engine.

Generates messy records (upper case, non-ASCII, empty strings, extreme and
negative timestamps, update_at < create_at, copies under new ids, other workspaces, SWR instances) and
hundreds of random query strings, valid and invalid. The expected answer of
each query is computed here: its validity and error code by a separate Python
reading of the query rules (crate docs, "Query"), its page by one SQL statement over the records in SQLite.
The program answers all the queries in one `--queries` run; every line must
agree. Standard library only.

usage: crosscheck.py PATH_TO_images-group [--seed N] [--queries N]
"""

import json
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
from urllib.parse import parse_qsl, quote

PARAMS = ["name", "name_fuzzy_match", "namespace", "type", "service_type",
          "workspace_id", "swr_instance_id", "offset", "limit", "sort_key", "sort_dir"]
SORT_ALIASES = {
    "name": "name", "namespace": "namespace",
    "version_count": "version_count", "versionCount": "version_count",
    "create_at": "create_at", "createTime": "create_at", "create_time": "create_at",
    "update_at": "update_at", "updateTime": "update_at", "update_time": "update_at",
}
I32_MAX = 2147483647


class Invalid(Exception):
    def __init__(self, code):
        self.code = code


def validate(query_string):
    """The query rules (crate docs, "Query") in Python: the query as a dict, or Invalid(code)."""
    q = {"name": None, "fuzzy": True, "namespace": None, "type": None,
         "service_type": None, "workspace_id": "0", "swr_instance_id": None, "offset": 0, "limit": 200,
         "sort_key": ["update_at"], "sort_dir": "DESC"}
    seen = set()
    for key, value in parse_qsl(query_string, keep_blank_values=True):
        if key not in PARAMS or key in seen:
            raise Invalid("ModelArts.0104")
        seen.add(key)
        if key == "name":
            if value and not re.fullmatch(r"[a-z0-9._-]{1,512}", value):
                raise Invalid("ModelArts.0104")
            q["name"] = value or None
        elif key == "name_fuzzy_match":
            if value.lower() not in ("true", "false"):
                raise Invalid("ModelArts.0104")
            q["fuzzy"] = value.lower() == "true"
        elif key == "namespace":
            if not re.fullmatch(r"[a-z][A-Za-z0-9._-]{0,63}", value):
                raise Invalid("ModelArts.0104")
            q["namespace"] = value
        elif key == "type":
            if value not in ("BUILD_IN", "DEDICATED"):
                raise Invalid("ModelArts.0104")
            q["type"] = value
        elif key == "service_type":
            if value not in ("COMMON", "INFERENCE", "TRAIN", "DEV", "UNKNOWN"):
                raise Invalid("ModelArts.0104")
            q["service_type"] = value
        elif key == "workspace_id":
            if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
                raise Invalid("ModelArts.0104")
            q["workspace_id"] = value
        elif key == "swr_instance_id":
            if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
                raise Invalid("ModelArts.0104")
            q["swr_instance_id"] = value
        elif key in ("offset", "limit"):
            low = 0 if key == "offset" else 1
            if not re.fullmatch(r"[0-9]+", value) or not low <= int(value) <= I32_MAX:
                raise Invalid("ModelArts.0104")
            q[key] = int(value)
        elif key == "sort_key":
            fields = []
            for field in (value.split(",") if value else []):
                if field == "":
                    raise Invalid("ModelArts.0104")
                if field not in SORT_ALIASES:
                    raise Invalid("ModelArts.6303")
                if SORT_ALIASES[field] in fields:
                    raise Invalid("ModelArts.0104")
                fields.append(SORT_ALIASES[field])
            q["sort_key"] = fields or ["update_at"]
        elif key == "sort_dir":
            if value.upper() not in ("ASC", "DESC"):
                raise Invalid("ModelArts.0104")
            q["sort_dir"] = value.upper()
    return q


def sql_filter(q, contains):
    """The filter (crate docs, "Filter") as SQL: the WHERE conditions, their arguments, and the ORDER BY
    terms of the crate docs' "Order and paging". `contains` is the engine's "lower(name) contains ?"."""
    where = ["workspace_id = ?"]
    args = [q["workspace_id"]]
    for column in ("type", "service_type", "namespace", "swr_instance_id"):
        if q[column] is not None:
            where.append(f"{column} = ?")
            args.append(q[column])
    if q["name"] is not None:
        where.append(contains if q["fuzzy"] else "name = ?")
        args.append(q["name"])
    # SQLite puts NULL (the shared SWR) first in ascending order.
    order = ([f"{f} {q['sort_dir']}" for f in q["sort_key"]]
             + ["name ASC", "namespace ASC", "swr_instance_id ASC"])
    return where, args, order


def expected_page(db, q):
    # SQLite's lower() folds ASCII only, as the spec's fuzzy match does.
    where, args, order = sql_filter(q, "instr(lower(name), ?) > 0")
    grouped = f"""
        SELECT name, namespace, count(*) AS version_count,
               min(create_at) AS create_at, max(update_at) AS update_at, swr_instance_id
        FROM records WHERE {' AND '.join(where)} GROUP BY namespace, name, swr_instance_id"""
    total = db.execute(f"SELECT count(*) FROM ({grouped})", args).fetchone()[0]
    rows = db.execute(f"{grouped} ORDER BY {', '.join(order)} LIMIT ? OFFSET ?",
                      args + [q["limit"], q["offset"]]).fetchall()
    data = [{"create_at": r[3], "name": r[0], "namespace": r[1], "update_at": r[4],
             "version_count": r[2], **({"swr_instance_id": r[5]} if r[5] else {})} for r in rows]
    return {"current": q["offset"] // q["limit"] + 1, "data": data,
            "pages": -(-total // q["limit"]), "size": len(data), "total": total}


def messy_records(rng, n):
    names = ["torch", "PyTorch", "TORCH_2", "pytorch-cuda", "tf", "TensorFlow", "a.b",
             "", "Ä-torch", "TÖRCH", "ぱいとーち", "mindspore", "MindSpore_2.0", "x"]
    namespaces = ["ml", "team", "Team", "a.b", "", "ml2", "op_svc", "vision"]
    stamps = [0, 1, -1, 2**63 - 1, -2**63, 1652878011643, 1671708630448]
    records = []
    for i in range(n):
        r = {"id": f"id-{i}", "name": rng.choice(names + [rng.choice(names) + str(rng.randint(0, 3))]),
             "namespace": rng.choice(namespaces),
             "type": rng.choice(["BUILD_IN", "DEDICATED"]),
             "create_at": rng.choice(stamps + [rng.randint(-10, 10), rng.randint(-2**63, 2**63 - 1)]),
             "update_at": rng.choice(stamps + [rng.randint(-10, 10), rng.randint(-2**63, 2**63 - 1)]),
             "arch": "x86_64", "size": rng.randint(0, 10**10)}
        if rng.random() < 0.8:
            r["workspace_id"] = rng.choice(["0", "0", "0", "ws-1", "WS_2"])
        if rng.random() < 0.7:
            r["service_type"] = rng.choice(["COMMON", "INFERENCE", "TRAIN", "DEV", "UNKNOWN"])
        if rng.random() < 0.3:
            # Empty and null are the shared SWR, as an absent field is.
            r["swr_instance_id"] = rng.choice(["inst-1", "inst-1", "INST_2", "", None])
        records.append(r)
        if rng.random() < 0.1:
            # The same version under another id (a repeated id is an error).
            records.append(dict(r, id=f"copy-{i}"))
    return records


def random_query(rng):
    """A random query string; each parameter takes a bad value one time in 25."""
    def pick(good, bad):
        return rng.choice(bad) if rng.random() < 0.04 else rng.choice(good)

    parts = []
    if rng.random() < 0.5:
        parts.append("name=" + pick(["torch", "t", "py", "a.b", "tf", "mind", "2", "", "to%72ch"],
                                    ["Torch", "x" * 513, "py+torch", "%C3%B6"]))
    if rng.random() < 0.3:
        parts.append("name_fuzzy_match=" + pick(["true", "false", "FALSE", "True"], ["yes", ""]))
    if rng.random() < 0.3:
        parts.append("namespace=" + pick(["ml", "team", "Team", "a.b", "ml2", "vision"], ["1x", ""]))
    if rng.random() < 0.3:
        parts.append("type=" + pick(["BUILD_IN", "DEDICATED"], ["dedicated"]))
    if rng.random() < 0.3:
        parts.append("service_type=" + pick(["COMMON", "INFERENCE", "TRAIN", "DEV", "UNKNOWN"], ["train"]))
    if rng.random() < 0.3:
        parts.append("workspace_id=" + pick(["0", "ws-1", "WS_2"], ["ws.1", ""]))
    if rng.random() < 0.2:
        parts.append("swr_instance_id=" + pick(["inst-1", "INST_2", "inst-9"], ["inst.1", ""]))
    if rng.random() < 0.4:
        parts.append("offset=" + pick(["0", "1", "2", "5", "17", "2147483647"], ["2147483648", "-1", "x"]))
    if rng.random() < 0.4:
        parts.append("limit=" + pick(["1", "2", "3", "10", "2147483647"], ["0", "2147483648", "1.5"]))
    if rng.random() < 0.5:
        fields = rng.sample(list(SORT_ALIASES), rng.randint(0, 3))
        if rng.random() < 0.08:
            fields.insert(rng.randint(0, len(fields)), rng.choice(["size", "Name", ""]))
        parts.append("sort_key=" + quote(",".join(fields), safe=","))
    if rng.random() < 0.4:
        parts.append("sort_dir=" + pick(["ASC", "DESC", "asc", "Desc"], ["up"]))
    if rng.random() < 0.03:
        parts.append(rng.choice(["nmae=torch", "name=a", "page=2"]))
    rng.shuffle(parts)
    return "&".join(parts)


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    binary, seed, n_queries = args[0], 7, 400
    if "--seed" in args:
        seed = int(args[args.index("--seed") + 1])
    if "--queries" in args:
        n_queries = int(args[args.index("--queries") + 1])
    rng = random.Random(seed)
    failures, checked, errors = 0, 0, 0
    for dataset in range(3):
        records = messy_records(rng, [40, 300, 1500][dataset])
        db = sqlite3.connect(":memory:")
        db.execute("CREATE TABLE records (name TEXT, namespace TEXT, type TEXT, "
                   "service_type TEXT, workspace_id TEXT, create_at INTEGER, update_at INTEGER, "
                   "swr_instance_id TEXT)")
        db.executemany("INSERT INTO records VALUES (?,?,?,?,?,?,?,?)", [
            (r["name"], r["namespace"], r["type"], r.get("service_type", "UNKNOWN"),
             r.get("workspace_id", "0"), r["create_at"], r["update_at"],
             r.get("swr_instance_id") or None) for r in records])
        queries = [random_query(rng) for _ in range(n_queries // 3)] + ["", "sort_key=name&sort_dir=asc&limit=1000"]
        with tempfile.TemporaryDirectory() as tmp:
            records_path, queries_path = f"{tmp}/records.ndjson", f"{tmp}/queries.txt"
            with open(records_path, "w", encoding="utf-8") as f:
                f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
            with open(queries_path, "w", encoding="utf-8") as f:
                f.writelines(q + "\n" for q in queries)
            out = subprocess.run([binary, "--records", records_path, "--queries", queries_path],
                                 capture_output=True, text=True, check=True).stdout.splitlines()
        assert len(out) == len(queries), (len(out), len(queries))
        for query, line in zip(queries, out):
            got = json.loads(line)
            try:
                want = expected_page(db, validate(query))
            except Invalid as e:
                want = {"error_code": e.code}
                got = {"error_code": got.get("error_code")}
                errors += 1
            checked += 1
            if got != want:
                failures += 1
                print(f"MISMATCH for {query!r}:\n  program: {json.dumps(got)[:600]}\n  sqlite:  {json.dumps(want)[:600]}")
    print(f"sql crosscheck: {checked} queries over 3 data sets ({errors} invalid)")
    print(f"{checked - failures} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
