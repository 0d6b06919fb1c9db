#!/usr/bin/env python3
"""Side by side: image-groups vs DuckDB vs Polars, over a matrix of data shapes.

One command (from the repository root):

    python3 benches/compare/compare.py [--shapes all|NAME,NAME] [--records 1000000]
                                       [--groups G] [--repeat 15] [--seed 42]

* `--shapes`: the generator's presets to measure (`bench_queries shapes` lists
  them; `benches/support/synthetic.rs`, `SHAPES`, documents their parameters);
  default all. `--shapes default` measures the data and queries of the single
  table this script printed before the matrix (the same bytes; the file keeps
  its name, records-N-G.ndjson, and queries.txt, which benches/ab/run.sh reads).
* `--records`: records per shape; each shape scales its number of groups to it
  (`--groups` overrides, for a single shape).

It creates benches/compare/.venv with requirements.txt (outside the crate's
build), builds the crate's examples in release mode, writes each shape's
seeded data set as NDJSON (cached under benches/compare/data/, git-ignored),
and then, for each shape in turn:

* the crate: `bench_queries run --interleave` loads the records once, then
  times each query in rounds, when told to, alternating with the engines'
  runs of the same query (in-process; each engine's median is over runs
  spread over the same moments, in an order that turns each round): `group_images` (one thread), `group_images_parallel` (both
  cores) and `Catalog::query` (the records indexed once, not timed; steady
  state, and the first 100 queries right after the build and after 10,000
  upserts), the "floor" loop that only reads the fields a query needs, the
  "touch floor" that reads only each record's workspace id length (in the
  record itself) on every core (a lower bound for any scan of these records:
  every query filters by workspace), per query the "filter floor" that reads
  only what decides each record's workspace and SWR instance (the lengths and
  kinds in the record; the id bytes on the heap of the records that pass
  those, read ahead as the scan does), and the
  catalog's `from_records`, `upsert`, `remove` and its memory;
* DuckDB: the records in an in-memory table, each query one SQL statement;
* Polars: the records in a DataFrame, each query one lazy plan;

with data already loaded, both engines free to use both cores. Per shape it
prints a Markdown table: per query the median ms of each engine, the crate's
scan (the faster of its one- and two-thread figures) and catalog, the ratio of
the faster of DuckDB and Polars to each and to the filter floor, the scan as
a multiple of the floor, and whether all three returned the same page. Then a
summary: each query's worst ratio over the shapes, and issue 14's targets that
fail, with the figures that show it (a scan miss where even the touch floor or
the query's filter floor is under 2x the faster engine is marked out of reach).
"""

import gc
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VENV = HERE / ".venv"
EXE = ROOT / "target" / "release" / "examples" / "bench_queries"

# Issue 14's targets.
SCAN_TARGET = 2.0  # the scan ÷ the faster engine, every aggregate query
CATALOG_TARGET = 30.0  # Catalog::query ÷ the faster engine, every query
FROM_RECORDS_TARGET_MS = 1000.0  # for 1M versions


def ensure_venv():
    """Re-runs the running script (this one, or `end_to_end.py`, which
    shares the environment) inside the local virtual environment."""
    python = VENV / "bin" / "python"
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-r",
                        str(HERE / "requirements.txt")], check=True)
    os.execv(str(python), [str(python), os.path.abspath(sys.argv[0]), *sys.argv[1:]])


def arg(name, default):
    """The value of `--name VALUE` on the command line, typed as `default`."""
    if name in sys.argv:
        value = sys.argv[sys.argv.index(name) + 1]
        return value if default is None else type(default)(value)
    return default


sys.path.insert(0, str(ROOT / "tests" / "sql"))


def parse_query(query_string):
    """The query as the engines need it (the crate validated it already)."""
    from crosscheck import validate  # the query rules (crate docs, "Query") in Python
    return validate(query_string)


def bench_queries(*args):
    """Runs the crate's benchmark program; its stdout as text."""
    return subprocess.run([str(EXE), *map(str, args)], check=True, capture_output=True,
                          text=True).stdout


def timed(repeat, fn):
    """The median milliseconds of `repeat` calls of `fn`, and its last result."""
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times), result


def page_of(rows, total, q):
    """An engine's rows (name, namespace, count, create, update, swr) as the API's page."""
    data = [{"create_at": int(r[3]), "name": r[0], "namespace": r[1],
             **({"swr_instance_id": r[5]} if r[5] else {}),
             "update_at": int(r[4]), "version_count": int(r[2])} for r in rows]
    limit = q["limit"]
    return {"current": q["offset"] // limit + 1, "data": data,
            "pages": -(-total // limit), "size": len(data), "total": total}


def records_table_sql(fmt):
    """DuckDB's statement loading a records file (its path the one
    parameter; `fmt` a `read_json` format) into the table `records`, with
    the fields the queries read. The shared SWR (absent, null or empty) is
    '' here: it sorts first, as the crate orders it, and no query names it.
    end_to_end.py times the same statement."""
    return f"""
        CREATE TABLE records AS SELECT
            name, namespace, type,
            coalesce(service_type, 'UNKNOWN') AS service_type,
            coalesce(workspace_id, '0') AS workspace_id,
            coalesce(swr_instance_id, '') AS swr_instance_id,
            create_at::BIGINT AS create_at, update_at::BIGINT AS update_at
        FROM read_json(?, format = '{fmt}', columns = {{
            name: 'VARCHAR', namespace: 'VARCHAR', type: 'VARCHAR', service_type: 'VARCHAR',
            workspace_id: 'VARCHAR', swr_instance_id: 'VARCHAR',
            create_at: 'BIGINT', update_at: 'BIGINT'}})"""


def duckdb_engine(path):
    """DuckDB over the records file: (run(query) -> page, close())."""
    import duckdb
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    con.execute(records_table_sql("newline_delimited"), [str(path)])

    from crosscheck import sql_filter  # tests/sql/crosscheck.py, on the path via parse_query

    def run(q):
        # DuckDB's lower() folds non-ASCII too; no generated name has a
        # non-ASCII letter whose lower case is ASCII, so the matches agree.
        where, args, order = sql_filter(q, "contains(lower(name), ?)")
        sql = f"""
            WITH g AS (
                SELECT name, namespace, swr_instance_id, count(*) AS version_count,
                       min(create_at) AS create_at, max(update_at) AS update_at
                FROM records WHERE {' AND '.join(where)}
                GROUP BY namespace, name, swr_instance_id)
            SELECT name, namespace, version_count, create_at, update_at, swr_instance_id,
                   count(*) OVER () AS total
            FROM g ORDER BY {', '.join(order)} LIMIT ? OFFSET ?"""
        rows = con.execute(sql, args + [q["limit"], q["offset"]]).fetchall()
        if rows:
            total = rows[0][6]
        else:
            total = con.execute(f"SELECT count(*) FROM (SELECT 1 FROM records WHERE "
                                f"{' AND '.join(where)} GROUP BY namespace, name, swr_instance_id)",
                                args).fetchone()[0]
        return page_of(rows, total, q)
    return run, con.close


def polars_engine(path):
    """Polars over the records file: (run(query) -> page, close())."""
    import polars as pl
    frame = {"df": pl.read_ndjson(path, schema={
        "name": pl.Utf8, "namespace": pl.Utf8, "type": pl.Utf8, "service_type": pl.Utf8,
        "workspace_id": pl.Utf8, "swr_instance_id": pl.Utf8,
        "create_at": pl.Int64, "update_at": pl.Int64}).with_columns(
            pl.col("service_type").fill_null("UNKNOWN"),
            pl.col("workspace_id").fill_null("0"),
            pl.col("swr_instance_id").fill_null(""))}

    def run(q):
        df = frame["df"]
        cond = pl.col("workspace_id") == q["workspace_id"]
        for column in ("type", "service_type", "namespace", "swr_instance_id"):
            if q[column] is not None:
                cond = cond & (pl.col(column) == q[column])
        if q["name"] is not None:
            if q["fuzzy"]:
                cond = cond & pl.col("name").str.to_lowercase().str.contains(q["name"], literal=True)
            else:
                cond = cond & (pl.col("name") == q["name"])
        desc = q["sort_dir"] == "DESC"
        ties = [k for k in ("name", "namespace", "swr_instance_id") if k not in q["sort_key"]]
        grouped = (df.lazy().filter(cond)
                   .group_by(["namespace", "name", "swr_instance_id"])
                   .agg(pl.len().alias("version_count"), pl.col("create_at").min(),
                        pl.col("update_at").max())
                   .collect())
        rows = (grouped.sort(q["sort_key"] + ties,
                             descending=[desc] * len(q["sort_key"]) + [False] * len(ties))
                .slice(q["offset"], q["limit"])
                .select(["name", "namespace", "version_count", "create_at", "update_at",
                         "swr_instance_id"])
                .rows())
        return page_of(rows, grouped.height, q)
    return run, frame.clear


def data_file(shape, records, groups, seed):
    """The shape's data set, generated once and cached."""
    data_dir = HERE / "data"
    data_dir.mkdir(exist_ok=True)
    # The default shape keeps its earlier name: benches/ab/run.sh reads it.
    name = (f"records-{records}-{groups}" if (shape, seed) == ("default", 42)
            else f"{shape}-{records}-{groups}-s{seed}")
    path = data_dir / f"{name}.ndjson"
    if not path.exists():
        partial = path.with_suffix(".partial")
        bench_queries("generate", "--shape", shape, "--records", records, "--groups", groups,
                      "--seed", seed, "--out", partial)
        partial.rename(path)
    return path


def measure_shape(shape, about, records, groups, seed, repeat):
    """Measures one shape; prints its table; returns its figures."""
    path = data_file(shape, records, groups, seed)
    queries = [line.split("\t", 2) for line in bench_queries(
        "queries", "--shape", shape, "--groups", groups, "--seed", seed).splitlines()]
    # queries.txt is the default shape's (benches/ab/run.sh reads it).
    queries_file = HERE / "data" / ("queries.txt" if shape == "default" else f"queries-{shape}.txt")
    queries_file.write_text("".join(q + "\n" for _, _, q in queries))

    size_mb = path.stat().st_size / 1e6
    duck, duck_close = duckdb_engine(str(path))
    pola, pola_close = polars_engine(str(path))
    # The crate's process, with its records and catalog loaded, measures one
    # query each time it is told to, then idles while the engines run the same
    # query: the three see the machine's load of the same moment.
    crate = subprocess.Popen([str(EXE), "run", "--records", str(path), "--queries", str(queries_file),
                              "--repeat", str(repeat), "--interleave"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def crate_next():
        crate.stdin.write("go\n")
        crate.stdin.flush()
        return json.loads(crate.stdout.readline())

    measured = []
    for label, kind, query in queries:
        q = parse_query(query)
        # `repeat` rounds of one run of each engine (the crate's round: one
        # run of each of its forms), each round in another order, so that a
        # moment of load on the machine, or what one engine leaves behind
        # (its threads, the caches), falls on every engine alike rather than
        # on one engine's block of runs. The crate's last round answers with
        # its medians.
        duck_runs, pola_runs = [], []
        for k in range(repeat):
            engines = [("crate", crate_next), ("duckdb", lambda: duck(q)), ("polars", lambda: pola(q))]
            for name, run in engines[k % 3:] + engines[:k % 3]:
                if name == "crate":
                    mine = run()
                else:
                    (duck_runs if name == "duckdb" else pola_runs).append(timed(1, run))
        d_ms, d_page = statistics.median(ms for ms, _ in duck_runs), duck_runs[-1][1]
        p_ms, p_page = statistics.median(ms for ms, _ in pola_runs), pola_runs[-1][1]
        measured.append((label, kind, query, mine, d_ms, d_page, p_ms, p_page))
    floor = crate_next()["median_ms"]
    touch = crate_next()["median_ms"]
    crate.stdin.close()
    catalog = json.loads(crate.stdout.readline())
    if crate.wait() != 0:
        sys.exit(f"compare.py: bench_queries run failed on {shape}")

    rows = []
    for (label, kind, query, mine, d_ms, d_page, p_ms, p_page), upserted in zip(
            measured, catalog["after_upserts_per_query_ms"]):
        engine = min(d_ms, p_ms)
        scan = min(mine["median_ms"], mine["parallel_median_ms"])
        same = mine["page"] == d_page == p_page
        if not same:
            for name, page in (("duckdb", d_page), ("polars", p_page)):
                if page != mine["page"]:
                    print(f"  {shape} {label}: {name} differs: {json.dumps(page)[:300]} "
                          f"vs crate {json.dumps(mine['page'])[:300]}", file=sys.stderr)
        rows.append({
            "label": label, "aggregate": kind == "aggregate", "query": query,
            "one_ms": mine["median_ms"], "two_ms": mine["parallel_median_ms"], "scan_ms": scan,
            "catalog_ms": mine["catalog_median_ms"],
            "catalog_first_ms": mine["catalog_after_build_ms"], "catalog_upserted_ms": upserted,
            "duckdb_ms": d_ms, "polars_ms": p_ms, "engine_ms": engine,
            "scan_x": engine / scan, "catalog_x": engine / mine["catalog_median_ms"],
            "catalog_first_x": engine / mine["catalog_after_build_ms"],
            "catalog_upserted_x": engine / upserted,
            "floor_x": scan / floor, "touch_x": engine / touch,
            "filter_floor_ms": mine["filter_floor_ms"], "filter_floor_x": engine / mine["filter_floor_ms"],
            "same": same,
        })
    duck_close()
    pola_close()
    gc.collect()

    print(f"\n### {shape}\n\n{about}. {records:,} records, {groups:,} groups, "
          f"{size_mb:,.0f} MB of NDJSON; floor {floor:.2f} ms; touch floor (the workspace id's "
          f"length alone, on every core) {touch:.2f} ms.\n")
    print("| query | scan 1 thread ms | scan 2 threads ms | floor × | filter floor ms | Catalog ms "
          "| Catalog first ms | DuckDB ms | Polars ms | ÷ scan | ÷ filter floor | ÷ Catalog | ÷ Catalog first "
          "| ÷ Catalog upserted | same page |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        mark = "" if r["aggregate"] else " (selective)"
        print(f"| {r['label']}{mark} (`{r['query'][:60]}`) | {r['one_ms']:.2f} | {r['two_ms']:.2f} | "
              f"{r['floor_x']:.2f}x | {r['filter_floor_ms']:.2f} | {r['catalog_ms']:.3f} | "
              f"{r['catalog_first_ms']:.3f} | {r['duckdb_ms']:.2f} | {r['polars_ms']:.2f} | "
              f"{r['scan_x']:.2f}x | {r['filter_floor_x']:.2f}x | "
              f"{r['catalog_x']:.0f}x | {r['catalog_first_x']:.0f}x | {r['catalog_upserted_x']:.0f}x | "
              f"{'yes' if r['same'] else 'NO'} |")
    ab, au = catalog["first_100_after_build_ms"], catalog["first_100_after_upserts_ms"]
    memory_x = catalog["catalog_bytes_per_version"] / catalog["vec_bytes_per_version"]
    print(f"\nCatalog: from_records {catalog['from_records_ms']:.0f} ms (median of 3 builds; the first "
          f"{catalog['first_from_records_ms']:.0f} ms); upsert {catalog['upsert_median_us']:.2f} µs, "
          f"remove {catalog['remove_median_us']:.2f} µs (medians of 1,000); memory "
          f"{catalog['catalog_bytes_per_version']:.0f} bytes per version against "
          f"{catalog['vec_bytes_per_version']:.0f} for the Vec<ImageVersion> ({memory_x:.2f}x); "
          f"first 100 queries after the build p50 {ab['p50']:.3f} ms, p99 {ab['p99']:.3f} ms; "
          f"after 10,000 upserts p50 {au['p50']:.3f} ms, p99 {au['p99']:.3f} ms.")
    return {"shape": shape, "rows": rows, "catalog": catalog, "memory_x": memory_x, "touch_ms": touch,
            "records": records, "groups": groups}


def summary(results):
    """Each query's worst ratio over the shapes, and the targets that fail."""
    labels = []
    for res in results:
        labels += [r["label"] for r in res["rows"] if r["label"] not in labels]
    print(f"\n### Worst ratio over the shapes ({', '.join(res['shape'] for res in results)})\n")
    print("| query | faster engine ÷ scan | ÷ Catalog | ÷ Catalog, first 100 after build "
          "| ÷ Catalog, first 100 after 10k upserts | shapes |")
    print("|---|---:|---:|---:|---:|---|")
    for label in labels:
        found = [(res["shape"], r) for res in results for r in res["rows"] if r["label"] == label]

        def worst(key):
            shape, r = min(found, key=lambda f: f[1][key])
            digits = 2 if key == "scan_x" else 0
            return f"{r[key]:.{digits}f}x ({shape})"
        aggregate = found[0][1]["aggregate"]
        print(f"| {label}{'' if aggregate else ' (selective)'} | {worst('scan_x')} | {worst('catalog_x')} | "
              f"{worst('catalog_first_x')} | {worst('catalog_upserted_x')} | {len(found)} |")
    print("\n| shape | from_records ms (first build) | catalog memory ÷ Vec | first 100 after build "
          "p50 / p99 ms | after 10k upserts p50 / p99 ms |")
    print("|---|---:|---:|---:|---:|")
    for res in results:
        c = res["catalog"]
        ab, au = c["first_100_after_build_ms"], c["first_100_after_upserts_ms"]
        print(f"| {res['shape']} | {c['from_records_ms']:.0f} ({c['first_from_records_ms']:.0f}) | "
              f"{res['memory_x']:.2f}x | {ab['p50']:.3f} / {ab['p99']:.3f} | "
              f"{au['p50']:.3f} / {au['p99']:.3f} |")

    misses = []
    for res in results:
        shape, c = res["shape"], res["catalog"]
        for r in res["rows"]:
            if r["aggregate"] and r["scan_x"] < SCAN_TARGET:
                # Beyond any scan of a Vec<ImageVersion> when merely deciding
                # each record's workspace (and SWR instance) is slower than the
                # target allows.
                if r["touch_x"] < SCAN_TARGET:
                    out_of_reach = f"; out of reach: the touch floor alone is {r['touch_x']:.2f}x"
                elif r["filter_floor_x"] < SCAN_TARGET:
                    out_of_reach = (f"; out of reach: the filter floor alone is "
                                    f"{r['filter_floor_x']:.2f}x")
                else:
                    out_of_reach = ""
                misses.append(f"{shape} {r['label']}: scan {r['scan_x']:.2f}x (< {SCAN_TARGET}x)"
                              f"{out_of_reach}")
            for key, what in (("catalog_x", "steady"), ("catalog_first_x", "first 100 after build"),
                              ("catalog_upserted_x", "first 100 after 10k upserts")):
                if r[key] < CATALOG_TARGET:
                    misses.append(f"{shape} {r['label']}: Catalog {what} {r[key]:.0f}x "
                                  f"(< {CATALOG_TARGET:.0f}x)")
            if not r["same"]:
                misses.append(f"{shape} {r['label']}: the engines' pages differ")
        budget = FROM_RECORDS_TARGET_MS * res["records"] / 1e6
        if c["from_records_ms"] > budget:
            misses.append(f"{shape}: from_records {c['from_records_ms']:.0f} ms (> {budget:.0f} ms)")
        if res["memory_x"] > 1.0:
            misses.append(f"{shape}: catalog memory {res['memory_x']:.2f}x the Vec (> 1x)")
    print("\nIssue 14 targets missed:" if misses else "\nEvery issue 14 target holds.")
    for m in misses:
        print(f"- {m}")


def main():
    ensure_venv()
    records, repeat, seed = arg("--records", 1_000_000), arg("--repeat", 15), arg("--seed", 42)
    groups_flag = arg("--groups", 0)
    subprocess.run(["cargo", "build", "--release", "--quiet", "--example", "bench_queries"],
                   cwd=ROOT, check=True)
    available = {name: (int(per_million), about) for name, per_million, about in
                 (line.split("\t", 2) for line in bench_queries("shapes").splitlines())}
    wanted = arg("--shapes", "all")
    shapes = list(available) if wanted == "all" else wanted.split(",")
    unknown = [s for s in shapes if s not in available]
    if unknown:
        sys.exit(f"compare.py: no shape {', '.join(unknown)}; shapes: {', '.join(available)}")
    if groups_flag and len(shapes) > 1:
        sys.exit("compare.py: --groups applies to one shape; give --shapes NAME")

    import duckdb
    import polars
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), "?")
    revision = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True).stdout.strip() or "?"
    print(f"image-groups {revision}; {records:,} records per shape; {os.cpu_count()} cores ({cpu}); "
          f"DuckDB {duckdb.__version__}, Polars {polars.__version__}; medians of {repeat} runs; "
          f"ratios are the faster of DuckDB and Polars ÷ the crate (higher is better for the crate).")
    results = []
    for shape in shapes:
        per_million, about = available[shape]
        groups = groups_flag or min(max(per_million * records // 1_000_000, 1), records)
        results.append(measure_shape(shape, about, records, groups, seed, repeat))
        sys.stdout.flush()
    summary(results)


if __name__ == "__main__":
    main()
