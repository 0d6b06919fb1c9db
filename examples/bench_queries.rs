//! `bench_queries`: the crate's side of the engine comparison
//! (`benches/compare/`), and a quick timing tool.
//!
//! ```text
//! bench_queries shapes
//! bench_queries generate --records N [--shape NAME] [--groups G] [--seed S] --out FILE.ndjson
//! bench_queries queries [--shape NAME] [--records N | --groups G] [--seed S]
//! bench_queries run --records FILE --queries FILE [--repeat R] [--interleave]
//! bench_queries load --records FILE
//! ```
//!
//! `shapes` lists the generator's presets (`benches/support/synthetic.rs`,
//! `SHAPES`), one `name<TAB>groups per 1M records<TAB>description` per line.
//!
//! `queries` prints the benchmark's queries for a shape's data (default
//! `default`) with `G` groups (or as many as the shape gives `N` records),
//! one `label<TAB>aggregate|selective<TAB>query string` per line.
//!
//! `generate` writes the seeded synthetic data set of a shape as NDJSON;
//! `--groups` overrides the shape's number of groups. The `default` shape
//! is the original generator, byte for byte. `run` loads the
//! records once (not timed), then times each query `R` times in-process and
//! prints one JSON line per query: the query, the median and minimum
//! milliseconds of `group_images`, `group_images_parallel` and `Catalog::query`,
//! the median of the query's "filter floor" (per record only what decides
//! its workspace and SWR instance: no scan of the query reads less), and the
//! page. Then a line times the "floor": a loop that only reads, from
//! every record, the fields a query needs; a line the "touch floor": only
//! each record's workspace id length, on every core (no scan reads less); and a
//! last line times the catalog:
//! `from_records` (median of three builds, and the first), the median
//! `upsert` and `remove`, the bytes per version of the catalog and of the
//! `Vec<ImageVersion>` it was built from, and the first 100 catalog queries
//! (the queries in turn) right after the build and after 10,000 upserts:
//! their p50 and p99, and each query's median among them. A query's scans
//! are timed in `R` rounds of one run of each (not `R` runs of one, then of
//! the other), so that a moment of load falls on both alike; its catalog
//! query `R` times in a row (the steady state) in the first round; the
//! query's line also gives every run's time (`runs`). With `--interleave`,
//! it waits for a line on stdin before each round of a query (printing the
//! round's two times after each round but the last, which prints the
//! query's line) and before each floor, so that a driver can time other
//! engines on the same query between the rounds, while this process is
//! idle (`benches/compare`).
//!
//! `load` does what the HTTP server does with a data file (read, parse,
//! free the text, build the `Catalog`) and prints one JSON line: each
//! step's milliseconds and the peak resident memory.

#[path = "../benches/support/synthetic.rs"]
mod synthetic;

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use image_groups::{group_images, group_images_parallel, parse_records_bytes, Catalog, GroupQuery};

/// The system allocator, counting the bytes currently allocated, so that the
/// catalog's memory can be stated against the `Vec<ImageVersion>` it is built
/// from (requested sizes, the same way for both; the allocator's own
/// per-block overhead is not included).
struct Counting;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; only a counter is kept.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE_BYTES.fetch_add(new_size, Ordering::Relaxed);
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live_bytes() -> usize {
    LIVE_BYTES.load(Ordering::Relaxed)
}

fn arg<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn required<'a>(args: &'a [String], name: &str) -> &'a str {
    arg(args, name).unwrap_or_else(|| {
        eprintln!("bench_queries: {name} is required");
        std::process::exit(2)
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("generate") => generate(&args),
        Some("run") => run(&args),
        Some("load") => load(&args),
        Some("shapes") => {
            for s in synthetic::SHAPES {
                println!("{}\t{}\t{}", s.name, s.groups_per_million, s.about);
            }
        }
        Some("queries") => {
            let (shape, groups, seed) = shape_args(&args);
            for (label, query) in shape.queries(groups, seed) {
                let kind = if synthetic::is_aggregate(label) {
                    "aggregate"
                } else {
                    "selective"
                };
                println!("{label}\t{kind}\t{query}");
            }
        }
        _ => {
            eprintln!("usage: bench_queries shapes\n       bench_queries generate --records N [--shape NAME] [--groups G] [--seed S] --out FILE\n       bench_queries queries [--shape NAME] [--records N | --groups G] [--seed S]\n       bench_queries run --records FILE --queries FILE [--repeat R] [--interleave]\n       bench_queries load --records FILE");
            std::process::exit(2);
        }
    }
}

/// The shape, its number of groups and the seed from `--shape`, `--groups`
/// (else the shape's for `--records`, else for 1M records) and `--seed`.
fn shape_args(args: &[String]) -> (&'static synthetic::Shape, usize, u64) {
    let name = arg(args, "--shape").unwrap_or("default");
    let shape = synthetic::shape(name).unwrap_or_else(|| {
        let names: Vec<&str> = synthetic::SHAPES.iter().map(|s| s.name).collect();
        eprintln!(
            "bench_queries: no shape {name:?}; shapes: {}",
            names.join(", ")
        );
        std::process::exit(2)
    });
    let groups = match arg(args, "--groups") {
        Some(g) => g.parse().expect("--groups G"),
        None => {
            let records =
                arg(args, "--records").map_or(1_000_000, |n| n.parse().expect("--records N"));
            shape.groups_for(records)
        }
    };
    let seed: u64 = arg(args, "--seed").map_or(42, |s| s.parse().expect("--seed S"));
    (shape, groups, seed)
}

fn generate(args: &[String]) {
    let records: usize = required(args, "--records").parse().expect("--records N");
    let (shape, groups, seed) = shape_args(args);
    let out = required(args, "--out");
    let data = shape.generate(records, groups, seed);
    let mut w = BufWriter::new(std::fs::File::create(out).expect("create --out"));
    for r in &data {
        synthetic::write_record(&mut w, r, shape.full_records).unwrap();
    }
    w.flush().unwrap();
}

/// The median and the minimum of `repeat` timings of `f`, in milliseconds.
fn time<T>(repeat: usize, mut f: impl FnMut() -> T) -> (f64, f64) {
    median_min((0..repeat).map(|_| time_once(&mut f)).collect())
}

/// The milliseconds of one call of `f`.
fn time_once<T>(f: impl FnOnce() -> T) -> f64 {
    let start = Instant::now();
    black_box(f());
    start.elapsed().as_secs_f64() * 1e3
}

/// The median and the minimum of some timings (at least one).
fn median_min(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(f64::total_cmp);
    (ms[ms.len() / 2], ms[0])
}

/// `load`: what the HTTP server does with a data file at start and on each
/// reload (examples/http_server/reload.rs): read it, parse the records,
/// free the text, build the catalog. One JSON line: the milliseconds of
/// each step and the process's peak resident memory (KiB, `VmHWM`).
fn load(args: &[String]) {
    let start = Instant::now();
    let bytes = std::fs::read(required(args, "--records")).expect("read --records");
    let read_ms = start.elapsed().as_secs_f64() * 1e3;
    let parse = Instant::now();
    let records = parse_records_bytes(&bytes).unwrap_or_else(|e| panic!("records: {e}"));
    let parse_ms = parse.elapsed().as_secs_f64() * 1e3;
    drop(bytes);
    let build = Instant::now();
    let catalog = Catalog::from_records(records);
    let catalog_ms = build.elapsed().as_secs_f64() * 1e3;
    let total_ms = start.elapsed().as_secs_f64() * 1e3;
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak_kib: Option<u64> = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok());
    println!(
        "{}",
        serde_json::json!({
            "versions": catalog.len(), "read_ms": read_ms, "parse_ms": parse_ms,
            "catalog_ms": catalog_ms, "total_ms": total_ms, "peak_kib": peak_kib,
        })
    );
}

fn run(args: &[String]) {
    let bytes = std::fs::read(required(args, "--records")).expect("read --records");
    let records = parse_records_bytes(&bytes).unwrap_or_else(|e| panic!("records: {e}"));
    drop(bytes);
    let queries = std::fs::read_to_string(required(args, "--queries")).expect("read --queries");
    let repeat: usize = arg(args, "--repeat").map_or(15, |s| s.parse().expect("--repeat R"));
    let mut out = std::io::stdout();
    let out_flush = || std::io::stdout().flush().unwrap();
    // Three builds, as every other figure is a median: the first in a fresh
    // process also pays the kernel's first-touch page faults for the memory
    // it takes, and is reported on its own.
    let mut build_ms = Vec::new();
    let (mut vec_bytes, mut catalog_bytes) = (0, 0);
    let mut catalog = Catalog::new();
    for _ in 0..3 {
        drop(std::mem::take(&mut catalog));
        let before_copy = live_bytes();
        let copies = records.clone(); // the catalog takes ownership; copying is not its cost
        vec_bytes = live_bytes() - before_copy;
        let start = Instant::now();
        catalog = Catalog::from_records(copies); // frees the copies
        build_ms.push(start.elapsed().as_secs_f64() * 1e3);
        catalog_bytes = live_bytes() - before_copy;
    }
    let first_from_records_ms = build_ms[0];
    build_ms.sort_by(f64::total_cmp);
    let from_records_ms = build_ms[1];
    let parsed: Vec<GroupQuery> = queries
        .lines()
        .map(|line| GroupQuery::from_query_string(line).unwrap_or_else(|e| panic!("{line}: {e}")))
        .collect();
    // The first 100 queries after the build, the queries in turn.
    let after_build = first_queries(&catalog, &parsed);
    let interleave = args.iter().any(|a| a == "--interleave");
    let go = || {
        if interleave {
            out_flush();
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).expect("read stdin");
        }
    };
    for (i, (line, query)) in queries.lines().zip(&parsed).enumerate() {
        // The scans in `repeat` rounds of one run of each, so that a moment
        // of load on the machine falls on both (and, interleaved, on the
        // engines' runs between the rounds) rather than on one's block of
        // runs. The catalog's steady state is its query repeated: one block
        // in the first round.
        let mut page = None;
        let mut cat_median = 0.0;
        let (mut one_ms, mut par_ms, mut floor_ms) = (vec![], vec![], vec![]);
        for round in 0..repeat.max(1) {
            go();
            if page.is_none() {
                let first = group_images(&records, query);
                assert_eq!(group_images_parallel(&records, query), first);
                assert_eq!(catalog.query(query), first, "catalog: {line}");
                page = Some(first);
                cat_median = time(repeat, || catalog.query(query)).0;
                // What any scan of this query must read: checked to count
                // what it claims to, then timed in the rounds.
                assert_eq!(
                    synthetic::filter_floor(&records, query),
                    records
                        .iter()
                        .filter(|v| v.workspace_id == query.workspace_id()
                            && query.image_type().is_none_or(|t| v.image_type == t)
                            && query.service_type().is_none_or(|t| v.service_type == t)
                            && query
                                .swr_instance_id()
                                .is_none_or(|id| v.swr_instance_id.as_deref() == Some(id)))
                        .count() as u64,
                    "filter floor: {line}"
                );
            }
            // Each first in every other round: neither always runs after
            // the other.
            let one = || time_once(|| group_images(&records, query));
            let two = || time_once(|| group_images_parallel(&records, query));
            let (o, p) = if round % 2 == 0 {
                (one(), two())
            } else {
                let p = two();
                (one(), p)
            };
            one_ms.push(o);
            par_ms.push(p);
            floor_ms.push(time_once(|| synthetic::filter_floor(&records, query)));
            if interleave && round + 1 < repeat {
                let round_json = serde_json::json!({
                    "ms": one_ms.last(), "parallel_ms": par_ms.last(),
                });
                writeln!(out, "{round_json}").unwrap();
            }
        }
        let page = page.expect("at least one round");
        let runs_json = serde_json::json!({"ms": one_ms, "parallel_ms": par_ms});
        let (median, min) = median_min(one_ms);
        let (par_median, par_min) = median_min(par_ms);
        let (filter_floor_median, _) = median_min(floor_ms);
        let line_json = serde_json::json!({
            "query": line,
            "median_ms": median, "min_ms": min,
            "parallel_median_ms": par_median, "parallel_min_ms": par_min,
            "filter_floor_ms": filter_floor_median,
            "catalog_median_ms": cat_median,
            "catalog_after_build_ms": after_build.per_query_median(i),
            "runs": runs_json,
            "page": page,
        });
        writeln!(out, "{line_json}").unwrap();
    }
    type Floor = fn(&[image_groups::ImageVersion]) -> u64;
    let floors: [(&str, Floor); 2] = [
        ("<floor>", synthetic::floor),
        ("<touch floor>", synthetic::touch_floor),
    ];
    for (label, floor) in floors {
        go();
        let (median, min) = time(repeat, || floor(&records));
        let line_json = serde_json::json!({"query": label, "median_ms": median, "min_ms": min});
        writeln!(out, "{line_json}").unwrap();
    }
    // Catalog updates: replace versions with edited copies (moving some to
    // another group), then remove and re-insert them, one at a time.
    let mut upsert_us = Vec::new();
    let mut remove_us = Vec::new();
    for (i, v) in records
        .iter()
        .step_by((records.len() / 1000).max(1))
        .enumerate()
    {
        let mut edited = v.clone();
        edited.update_at += 1;
        if i % 3 == 0 {
            edited.name.push_str("-moved");
        }
        let t = Instant::now();
        black_box(catalog.upsert(edited));
        upsert_us.push(t.elapsed().as_secs_f64() * 1e6);
        let t = Instant::now();
        let removed = black_box(catalog.remove(&v.id));
        remove_us.push(t.elapsed().as_secs_f64() * 1e6);
        if let Some(r) = removed {
            catalog.upsert(r);
        }
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    // 10,000 upserts (edited copies, a third moved to another group), then
    // the first 100 queries again.
    for (i, v) in records
        .iter()
        .step_by((records.len() / 10_000).max(1))
        .take(10_000)
        .enumerate()
    {
        let mut edited = v.clone();
        edited.update_at += 2;
        if i % 3 == 0 {
            edited.name.push_str("-up");
        }
        catalog.upsert(edited);
    }
    let after_upserts = first_queries(&catalog, &parsed);
    let catalog_line = serde_json::json!({
        "query": "<catalog>",
        "from_records_ms": from_records_ms,
        "first_from_records_ms": first_from_records_ms,
        "upsert_median_us": median(upsert_us),
        "remove_median_us": median(remove_us),
        "vec_bytes_per_version": vec_bytes as f64 / records.len().max(1) as f64,
        "catalog_bytes_per_version": catalog_bytes as f64 / records.len().max(1) as f64,
        "first_100_after_build_ms": {"p50": after_build.percentile(50.0), "p99": after_build.percentile(99.0)},
        "first_100_after_upserts_ms": {"p50": after_upserts.percentile(50.0), "p99": after_upserts.percentile(99.0)},
        "after_upserts_per_query_ms": (0..parsed.len()).map(|i| after_upserts.per_query_median(i)).collect::<Vec<_>>(),
    });
    writeln!(out, "{catalog_line}").unwrap();
}

/// Timings of the first 100 catalog queries (the queries in turn).
struct FirstQueries {
    /// (query index, milliseconds), in the order run.
    ms: Vec<(usize, f64)>,
}

impl FirstQueries {
    /// The `p`th percentile (nearest rank) over all 100.
    fn percentile(&self, p: f64) -> f64 {
        let mut all: Vec<f64> = self.ms.iter().map(|&(_, ms)| ms).collect();
        all.sort_by(f64::total_cmp);
        let rank = ((p / 100.0 * all.len() as f64).ceil() as usize).clamp(1, all.len());
        all[rank - 1]
    }

    /// The median of query `i`'s runs among the 100.
    fn per_query_median(&self, i: usize) -> f64 {
        let mut mine: Vec<f64> = self
            .ms
            .iter()
            .filter(|&&(q, _)| q == i)
            .map(|&(_, ms)| ms)
            .collect();
        mine.sort_by(f64::total_cmp);
        mine.get(mine.len() / 2).copied().unwrap_or(f64::NAN)
    }
}

/// Times the first 100 queries of `catalog`, cycling through `queries`.
fn first_queries(catalog: &Catalog, queries: &[GroupQuery]) -> FirstQueries {
    let ms = (0..100)
        .map(|k| {
            let i = k % queries.len();
            let start = Instant::now();
            black_box(catalog.query(&queries[i]));
            (i, start.elapsed().as_secs_f64() * 1e3)
        })
        .collect();
    FirstQueries { ms }
}
