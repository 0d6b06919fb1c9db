#!/usr/bin/env python3
"""End to end: a records file to a page, as whole processes, side by side.

One command (from the repository root):

    python3 benches/compare/end_to_end.py [--records 1000000] [--groups 100000] [--runs 7] [--limit 3] [--wide]
        [--queries] [--before PATH]

It uses compare.py's virtual environment (benches/compare/.venv, made from
requirements.txt), builds `images-group` in release mode, writes the seeded
synthetic data set as NDJSON and as a JSON array (cached under
benches/compare/data/), and then runs, for each format, in turn and
`--runs` times each (alternating, so that a change in the machine's load
falls on every command alike):

* `images-group --records FILE QUERY`: the records streamed to the page;
* DuckDB: a Python process that runs `read_json(FILE)` and the same query
  as one SQL statement (the page's groups and the total);
* the floor: `cat FILE > /dev/null`, reading the file and nothing else.

With `--queries`, each engine answers the default shape's queries (the
ones `bench_queries queries` lists, written to data/queries.txt as
compare.py writes them) over records it loads once:
`images-group --records FILE --queries QUERIES` parses the records (on
every core) and asks each query, and DuckDB loads the file into a table
with `CREATE TABLE ... AS SELECT ... FROM read_json(FILE)` and runs each
query's SQL (compare.py's translation) against it. Every page is checked
equal.

With `--before PATH`, another `images-group` binary (an earlier revision's)
runs the same command in the same alternation, and its time and memory
are given as multiples of this one's.

With `--wide`, each record also carries the other `ImageResponse` fields
(`arch`, `description`, `swr_path`, `status`, `size`, `dev_services`, ...:
about 560 bytes a record instead of about 225), as a service's saved pages
do.

It prints a Markdown table: the median wall time (and CPU time, user and
system, which a busy machine disturbs less) and the largest peak RSS of
each, DuckDB's time and memory as multiples of images-group's, and
images-group's time as a multiple of the floor; and checks that the two
engines returned the same groups.
"""

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DATA = HERE / "data"


# The same virtual environment and flag reading as the side-by-side
# comparison.
sys.path.insert(0, str(HERE))
from compare import arg, ensure_venv  # noqa: E402



# DuckDB's side: the records file, its format, and the query's parameters.
# Only the default-workspace query with a limit is spelled in SQL here (the
# crate's page for any other query would need the SQL cross-check's
# translation, tests/sql): the job measured is reading, not querying.
DUCKDB = r"""
import json, sys, duckdb
path, fmt, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
con = duckdb.connect()
con.execute('set enable_progress_bar = false')
rows = con.execute(f'''
    select name, namespace, nullif(swr_instance_id, '') as instance,
           count(*) as version_count, min(create_at) as create_at,
           max(update_at) as update_at, count(*) over () as total
    from read_json(?, format = '{fmt}', columns = {{
        id: 'VARCHAR', name: 'VARCHAR', namespace: 'VARCHAR', type: 'VARCHAR',
        workspace_id: 'VARCHAR', service_type: 'VARCHAR',
        swr_instance_id: 'VARCHAR', create_at: 'BIGINT', update_at: 'BIGINT'}})
    where coalesce(workspace_id, '0') = '0'
    group by name, namespace, instance
    order by update_at desc, name, namespace, instance nulls first
    limit {limit}''', [path]).fetchall()
print(json.dumps({"total": rows[0][6] if rows else 0,
                  "data": [[r[0], r[1], r[3], r[4], r[5]] for r in rows]}))
"""

# DuckDB's side with `--queries`: the records loaded once into a table (as
# compare.py loads them, with the format given), then each query of the
# queries file as compare.py's SQL, one page per line.
DUCKDB_QUERIES = r"""
import json, sys
path, fmt, queries, here, sql_dir = sys.argv[1:6]
sys.path[:0] = [here, sql_dir]
import duckdb
from crosscheck import validate, sql_filter
from compare import page_of, records_table_sql
con = duckdb.connect()
con.execute('set enable_progress_bar = false')
con.execute(records_table_sql(fmt), [path])
for line in open(queries).read().splitlines():
    q = validate(line)
    where, args, order = sql_filter(q, "contains(lower(name), ?)")
    rows = con.execute(f'''
        WITH g AS (
            SELECT name, namespace, swr_instance_id, count(*) AS version_count,
                   min(create_at) AS create_at, max(update_at) AS update_at
            FROM records WHERE {' AND '.join(where)}
            GROUP BY namespace, name, swr_instance_id)
        SELECT name, namespace, version_count, create_at, update_at, swr_instance_id,
               count(*) OVER () AS total
        FROM g ORDER BY {', '.join(order)} LIMIT ? OFFSET ?''',
        args + [q["limit"], q["offset"]]).fetchall()
    if rows:
        total = rows[0][6]
    else:
        total = con.execute(f"SELECT count(*) FROM (SELECT 1 FROM records WHERE "
                            f"{' AND '.join(where)} GROUP BY namespace, name, swr_instance_id)",
                            args).fetchone()[0]
    print(json.dumps(page_of(rows, total, q)))
"""


def run(command):
    """Runs `command`; returns (wall seconds, peak RSS in MB, stdout, CPU
    seconds in user and system mode)."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE)
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        sys.exit(f"{command} exited with {child.returncode}")
    return wall, usage.ru_maxrss / 1024, out, usage.ru_utime + usage.ru_stime


def widen(line):
    """The record of `line` with the other `ImageResponse` fields."""
    r = json.loads(line)
    r.update({
        "arch": "x86_64",
        "description": f"{r['name']} image for {r['namespace']}, built by the platform team",
        "swr_path": f"swr.cn-north-4.myhuaweicloud.com/{r['namespace']}/{r['name']}:{r.get('tag', 'latest')}",
        "status": "ACTIVE",
        "size": 1000000 + len(line) * 4099,
        "visibility": "PRIVATE",
        "origin": "CUSTOMIZE",
        "dev_services": ["NOTEBOOK", "SSH"],
        "resource_categories": ["GPU", "CPU"],
    })
    return json.dumps(r, separators=(",", ":"))


def data_files(records, groups, wide):
    DATA.mkdir(exist_ok=True)
    base = DATA / f"records-{records}-{groups}.ndjson"
    if not base.exists():
        subprocess.run(["cargo", "run", "--release", "-q", "--example", "bench_queries", "--",
                        "generate", "--records", str(records), "--groups", str(groups),
                        "--out", str(base)], cwd=ROOT, check=True)
    name = f"records-{records}-{groups}" + ("-wide" if wide else "")
    ndjson = DATA / f"{name}.ndjson"
    if not ndjson.exists():
        with open(base) as lines, open(ndjson, "w") as out:
            for line in lines:
                if line.strip():
                    out.write(widen(line) + "\n")
    array = DATA / f"{name}.json"
    if not array.exists():
        with open(ndjson) as lines, open(array, "w") as out:
            out.write("[")
            for n, line in enumerate(l for l in lines if l.strip()):
                out.write(",\n" if n else "")
                out.write(line.rstrip("\n"))
            out.write("]\n")
    return array, ndjson


def main():
    ensure_venv()
    records = arg("--records", 1000000)
    groups = arg("--groups", 100000)
    runs = arg("--runs", 7)
    limit = arg("--limit", 3)
    subprocess.run(["cargo", "build", "--release", "-q", "--bin", "images-group"],
                   cwd=ROOT, check=True)
    binary = ROOT / "target" / "release" / "images-group"
    wide = "--wide" in sys.argv
    array, ndjson = data_files(records, groups, wide)

    queries = "--queries" in sys.argv
    before = next((sys.argv[i + 1] for i, a in enumerate(sys.argv[:-1]) if a == "--before"), None)
    queries_file = DATA / "queries.txt"
    if queries:
        listed = subprocess.run(["cargo", "run", "--release", "-q", "--example", "bench_queries", "--",
                                 "queries", "--groups", str(groups)], cwd=ROOT, check=True,
                                capture_output=True, text=True).stdout
        queries_file.write_text("".join(l.split("\t", 2)[2] + "\n" for l in listed.splitlines()))
        asked = f"the {len(listed.splitlines())} queries of {queries_file.name}, records loaded once"
    else:
        asked = f"query `limit={limit}`"

    print(f"{records} records{' (wide)' if wide else ''}, {groups} groups; {asked}; "
          f"median of {runs} alternating runs, largest peak RSS\n")
    print("| input | size | images-group | DuckDB | DuckDB ÷ images-group "
          "(time, memory) | floor (`cat`) | images-group ÷ floor |"
          + (" before; before ÷ after (time, memory) |" if before else ""))
    print("|---|---|---|---|---|---|---|" + ("---|" if before else ""))
    for name, path, fmt in [("JSON array", array, "array"),
                            ("NDJSON", ndjson, "newline_delimited")]:
        ask = ["--queries", str(queries_file)] if queries else [f"limit={limit}"]
        duckdb = ([sys.executable, "-c", DUCKDB_QUERIES, str(path), fmt, str(queries_file),
                   str(HERE), str(ROOT / "tests" / "sql")] if queries else
                  [sys.executable, "-c", DUCKDB, str(path), fmt, str(limit)])
        commands = {
            "ours": [str(binary), "--records", str(path), *ask],
            "duckdb": duckdb,
            "floor": ["sh", "-c", 'cat "$0" > /dev/null', str(path)],
        }
        if before:
            commands["before"] = [before, "--records", str(path), *ask]
        times = {k: [] for k in commands}
        cpus = {k: [] for k in commands}
        peaks = {k: 0.0 for k in commands}
        outs = {}
        run(commands["floor"])  # the file into the page cache first
        for _ in range(runs):
            for key, command in commands.items():
                wall, peak, out, cpu = run(command)
                times[key].append(wall)
                cpus[key].append(cpu)
                peaks[key] = max(peaks[key], peak)
                outs[key] = out
        if queries:
            same = ([json.loads(l) for l in outs["ours"].splitlines()]
                    == [json.loads(l) for l in outs["duckdb"].splitlines()])
        else:
            page = json.loads(outs["ours"])
            ours = {"total": page["total"],
                    "data": [[g["name"], g["namespace"], g["version_count"], g["create_at"],
                              g["update_at"]] for g in page["data"]]}
            same = ours == json.loads(outs["duckdb"])
        if before:
            same = same and outs["before"] == outs["ours"]
        t = {k: statistics.median(v) for k, v in times.items()}
        c = {k: statistics.median(v) for k, v in cpus.items()}
        print(f"| {name} | {path.stat().st_size / 1e6:.0f} MB "
              f"| {t['ours']:.2f} s ({c['ours']:.2f} s CPU), {peaks['ours']:.0f} MB "
              f"| {t['duckdb']:.2f} s ({c['duckdb']:.2f} s CPU), {peaks['duckdb']:.0f} MB "
              f"| {t['duckdb'] / t['ours']:.2f}x, {peaks['duckdb'] / peaks['ours']:.2f}x "
              f"| {t['floor']:.3f} s | {t['ours'] / t['floor']:.1f}x |"
              + (f" {t['before']:.2f} s, {peaks['before']:.0f} MB; {t['before'] / t['ours']:.2f}x, "
                 f"{peaks['before'] / peaks['ours']:.2f}x |" if before else "")
              + ("" if same else " **pages differ**"), flush=True)


if __name__ == "__main__":
    main()
