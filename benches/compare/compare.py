#!/usr/bin/env python3
"""Side-by-side: image-groups vs DuckDB vs Polars on the same data and queries.

One command (from the repository root):

    python3 benches/compare/compare.py [--records 1000000] [--groups 100000] [--repeat 15]

It creates benches/compare/.venv with requirements.txt (outside the crate's
build), builds the crate's examples in release mode, writes the seeded
synthetic data set as NDJSON (cached under benches/compare/data/), and then:

* the crate: `bench_queries run` loads the records once, then times each query
  in-process: `group_images` (one thread), `group_images_parallel` (both
  cores) and `Catalog::query` (the records indexed once, not timed), the
  "floor" loop that only reads the fields a query needs, and the catalog's
  `from_records`, `upsert`, `remove` and its memory;
* DuckDB: the records in an in-memory table, each query one SQL statement;
* Polars: the records in a DataFrame, each query one lazy plan;

with data already loaded, both engines free to use every core. It prints a
Markdown table: median ms per engine, the ratio of the faster of DuckDB and
Polars to the crate's best, the crate's best as a multiple of the floor, and
whether the three engines returned the same page.
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
VENV = HERE / ".venv"


def ensure_venv():
    """Re-runs this script inside the local virtual environment."""
    python = VENV / "bin" / "python"
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-r",
                        str(HERE / "requirements.txt")], check=True)
    os.execv(str(python), [str(python), __file__, *sys.argv[1:]])


def arg(name, default):
    if name in sys.argv:
        return type(default)(sys.argv[sys.argv.index(name) + 1])
    return default


sys.path.insert(0, str(ROOT / "tests" / "sql"))


def parse_query(query_string):
    """The query as the engines need it (the crate validated it already)."""
    from crosscheck import validate  # the query rules (crate docs, "Query") in Python
    return validate(query_string)


def timed(repeat, fn):
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times), result


def page_of(rows, total, q):
    data = [{"create_at": int(r[3]), "name": r[0], "namespace": r[1],
             "update_at": int(r[4]), "version_count": int(r[2])} for r in rows]
    limit = q["limit"]
    return {"current": q["offset"] // limit + 1, "data": data,
            "pages": -(-total // limit), "size": len(data), "total": total}


def duckdb_engine(path):
    import duckdb
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    con.execute(f"""
        CREATE TABLE records AS SELECT
            name, namespace, type,
            coalesce(service_type, 'UNKNOWN') AS service_type,
            coalesce(workspace_id, '0') AS workspace_id,
            create_at::BIGINT AS create_at, update_at::BIGINT AS update_at
        FROM read_json('{path}', format = 'newline_delimited', columns = {{
            name: 'VARCHAR', namespace: 'VARCHAR', type: 'VARCHAR', service_type: 'VARCHAR',
            workspace_id: 'VARCHAR', create_at: 'BIGINT', update_at: 'BIGINT'}})""")

    from crosscheck import sql_filter  # tests/sql/crosscheck.py, on the path via parse_query

    def run(q):
        # DuckDB's lower() folds non-ASCII too; the synthetic names are ASCII.
        where, args, order = sql_filter(q, "contains(lower(name), ?)")
        sql = f"""
            WITH g AS (
                SELECT name, namespace, count(*) AS version_count,
                       min(create_at) AS create_at, max(update_at) AS update_at
                FROM records WHERE {' AND '.join(where)} GROUP BY namespace, name)
            SELECT name, namespace, version_count, create_at, update_at,
                   count(*) OVER () AS total
            FROM g ORDER BY {', '.join(order)} LIMIT ? OFFSET ?"""
        rows = con.execute(sql, args + [q["limit"], q["offset"]]).fetchall()
        if rows:
            total = rows[0][5]
        else:
            total = con.execute(f"SELECT count(*) FROM (SELECT 1 FROM records WHERE "
                                f"{' AND '.join(where)} GROUP BY namespace, name)", args).fetchone()[0]
        return page_of(rows, total, q)
    return run


def polars_engine(path):
    import polars as pl
    df = pl.read_ndjson(path, schema={
        "name": pl.Utf8, "namespace": pl.Utf8, "type": pl.Utf8, "service_type": pl.Utf8,
        "workspace_id": pl.Utf8, "create_at": pl.Int64, "update_at": pl.Int64})
    df = df.with_columns(pl.col("service_type").fill_null("UNKNOWN"),
                         pl.col("workspace_id").fill_null("0"))

    def run(q):
        cond = pl.col("workspace_id") == q["workspace_id"]
        for column in ("type", "service_type", "namespace"):
            if q[column] is not None:
                cond = cond & (pl.col(column) == q[column])
        if q["name"] is not None:
            if q["fuzzy"]:
                cond = cond & pl.col("name").str.to_lowercase().str.contains(q["name"], literal=True)
            else:
                cond = cond & (pl.col("name") == q["name"])
        desc = q["sort_dir"] == "DESC"
        keys = q["sort_key"] + [k for k in ("name", "namespace") if k not in q["sort_key"]]
        grouped = (df.lazy().filter(cond)
                   .group_by(["namespace", "name"])
                   .agg(pl.len().alias("version_count"), pl.col("create_at").min(),
                        pl.col("update_at").max())
                   .collect())
        rows = (grouped.sort(keys, descending=[desc] * len(q["sort_key"]) + [False] * (len(keys) - len(q["sort_key"])))
                .slice(q["offset"], q["limit"])
                .select(["name", "namespace", "version_count", "create_at", "update_at"])
                .rows())
        return page_of(rows, grouped.height, q)
    return run


def main():
    ensure_venv()
    records, groups, repeat = arg("--records", 1_000_000), arg("--groups", 100_000), arg("--repeat", 15)
    subprocess.run(["cargo", "build", "--release", "--quiet", "--example", "bench_queries"],
                   cwd=ROOT, check=True)
    exe = ROOT / "target" / "release" / "examples" / "bench_queries"
    data_dir = HERE / "data"
    data_dir.mkdir(exist_ok=True)
    data = data_dir / f"records-{records}-{groups}.ndjson"
    if not data.exists():
        subprocess.run([str(exe), "generate", "--records", str(records), "--groups", str(groups),
                        "--out", str(data)], check=True)
    shapes = [line.split("\t", 1) for line in subprocess.run(
        [str(exe), "queries", "--groups", str(groups)], check=True, capture_output=True,
        text=True).stdout.splitlines()]
    queries_file = data_dir / "queries.txt"
    queries_file.write_text("".join(q + "\n" for _, q in shapes))

    crate = [json.loads(l) for l in subprocess.run(
        [str(exe), "run", "--records", str(data), "--queries", str(queries_file), "--repeat", str(repeat)],
        check=True, capture_output=True, text=True).stdout.splitlines()]
    catalog = crate[-1]
    floor = crate[-2]["median_ms"]
    duck, pola = duckdb_engine(str(data)), polars_engine(str(data))

    import duckdb, polars, platform
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"{records:,} records, {groups:,} groups; {os.cpu_count()} cores ({cpu}); "
          f"DuckDB {duckdb.__version__}, Polars {polars.__version__}; median of {repeat} runs; "
          f"floor {floor:.2f} ms\n")
    print("| query | crate 1 thread ms | crate 2 threads ms | Catalog ms | DuckDB ms | Polars ms | faster of DuckDB/Polars ÷ crate scan | ÷ Catalog | crate scan ÷ floor | same page |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for (label, query), mine in zip(shapes, crate[:-2]):
        q = parse_query(query)
        d_ms, d_page = timed(repeat, lambda: duck(q))
        p_ms, p_page = timed(repeat, lambda: pola(q))
        best = min(mine["median_ms"], mine["parallel_median_ms"])
        same = mine["page"] == d_page == p_page
        cat_ms = mine["catalog_median_ms"]
        print(f"| {label} (`{query}`) | {mine['median_ms']:.2f} | {mine['parallel_median_ms']:.2f} | "
              f"{cat_ms:.3f} | {d_ms:.2f} | {p_ms:.2f} | {min(d_ms, p_ms) / best:.2f}x | "
              f"{min(d_ms, p_ms) / cat_ms:.0f}x | {best / floor:.2f}x | {'yes' if same else 'NO'} |")
        if not same:
            for name, page in (("duckdb", d_page), ("polars", p_page)):
                if page != mine["page"]:
                    print(f"  {name} differs: {json.dumps(page)[:300]} vs crate {json.dumps(mine['page'])[:300]}",
                          file=sys.stderr)


    print(f"\nCatalog: from_records {catalog['from_records_ms']:.0f} ms (median of 3 builds; the first, "
          f"paying the fresh process's page faults, {catalog['first_from_records_ms']:.0f} ms), "
          f"upsert median {catalog['upsert_median_us']:.2f} µs, remove median {catalog['remove_median_us']:.2f} µs "
          f"(1,000 updates, a third of them moving a version to another group); "
          f"memory {catalog['catalog_bytes_per_version']:.0f} bytes per version, against "
          f"{catalog['vec_bytes_per_version']:.0f} for the Vec<ImageVersion> it was built from "
          f"(bytes requested from the allocator)")


if __name__ == "__main__":
    main()
