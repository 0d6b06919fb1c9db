//! `catalog_warmup`: how `Catalog::query` behaves right after a build and
//! after many upserts, against the steady state, with what each query costs
//! the allocator and the kernel (page faults).
//!
//! ```text
//! cargo run --release --example catalog_warmup -- [--shape workspaces|long-names] [--records N]
//!     [--query 'QUERY STRING'] [--first N] [--upserts N] [--builds-only N]
//! ```
//!
//! It makes its own data (the shapes the catalog's first-query and
//! long-name figures were reported on, independent of
//! `benches/support/synthetic.rs`):
//!
//! * `workspaces`: 1M versions, about 69k groups in workspace `"0"` and the
//!   rest in 20 UUID workspaces; 5% of versions lie outside their group's
//!   workspace;
//! * `long-names`: 1M versions over 300k groups in one workspace, names of
//!   40 to 90 bytes, path-like and mixed case.
//!
//! For each query (the benchmark's shapes, or the one given with `--query`)
//! it builds a fresh catalog, then times the first `--first` queries one by
//! one, then more until the timings settle (the steady state), then applies
//! `--upserts` upserts and times the first queries again. Each line gives
//! p50 and p99 in milliseconds, and per query the minor page faults
//! (`getrusage`) and the time spent inside the allocator. A last line gives
//! `from_records` (the first build in the process and the median) and the
//! catalog's bytes against the `Vec<ImageVersion>` it was built from, both
//! counted by a counting global allocator (requested sizes).

#[path = "../benches/support/synthetic.rs"]
mod synthetic;

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use image_groups::{Catalog, GroupQuery, ImageType, ImageVersion, ServiceType};
use synthetic::Rng;

/// The system allocator, counting live bytes always, and, while
/// [`TIMING`] is on, the calls and the nanoseconds spent in them.
struct Counting;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);
static TIMING: AtomicBool = AtomicBool::new(false);
static ALLOC_CALLS: AtomicU64 = AtomicU64::new(0);
static ALLOC_NANOS: AtomicU64 = AtomicU64::new(0);
/// The slowest allocator call while timing, and its size and kind.
static SLOWEST: AtomicU64 = AtomicU64::new(0);
static SLOWEST_SIZE: AtomicUsize = AtomicUsize::new(0);

fn timed<T>(size: usize, f: impl FnOnce() -> T) -> T {
    if !TIMING.load(Ordering::Relaxed) {
        return f();
    }
    let start = Instant::now();
    let out = f();
    let nanos = start.elapsed().as_nanos() as u64;
    if nanos > SLOWEST.load(Ordering::Relaxed) {
        SLOWEST.store(nanos, Ordering::Relaxed);
        SLOWEST_SIZE.store(size, Ordering::Relaxed);
    }
    ALLOC_NANOS.fetch_add(nanos, Ordering::Relaxed);
    ALLOC_CALLS.fetch_add(1, Ordering::Relaxed);
    out
}

// SAFETY: every call is forwarded to `System` unchanged; only counters are kept.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        timed(layout.size(), || System.alloc(layout))
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        timed(usize::MAX - layout.size(), || System.dealloc(ptr, layout))
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE_BYTES.fetch_add(new_size, Ordering::Relaxed);
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        timed(new_size, || System.realloc(ptr, layout, new_size))
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live_bytes() -> usize {
    LIVE_BYTES.load(Ordering::Relaxed)
}

/// glibc's count of free chunks outside the fastbins and in them (its
/// `mallinfo2`), where the program runs on glibc: free chunks left scattered
/// by a build are what the next allocations have to sort through.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn free_chunks() -> Option<(usize, usize)> {
    #[repr(C)]
    struct MallInfo2 {
        arena: usize,
        ordblks: usize,
        smblks: usize,
        hblks: usize,
        hblkhd: usize,
        usmblks: usize,
        fsmblks: usize,
        uordblks: usize,
        fordblks: usize,
        keepcost: usize,
    }
    extern "C" {
        fn mallinfo2() -> MallInfo2;
    }
    // SAFETY: `mallinfo2` takes no arguments and returns a plain struct of
    // counters (glibc 2.33 and later).
    let info = unsafe { mallinfo2() };
    Some((info.ordblks, info.smblks))
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn free_chunks() -> Option<(usize, usize)> {
    None
}

/// CPU time of this thread so far (user and system), in milliseconds: on
/// a busy machine, steadier than the time on the clock.
fn thread_cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(") ").next().unwrap_or("").split(' ').collect();
    // Fields 14 and 15 (utime, stime), in clock ticks, usually of 10 ms.
    let ticks: u64 = fields
        .get(11..13)
        .map_or(0, |f| f.iter().filter_map(|t| t.parse::<u64>().ok()).sum());
    ticks as f64 * 10.0
}

/// Minor page faults of this process so far.
fn minor_faults() -> u64 {
    // /proc/self/stat field 10 is minflt; no libc dependency needed.
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit(") ").next().unwrap_or("");
    after_name
        .split(' ')
        .nth(7)
        .and_then(|f| f.parse().ok())
        .unwrap_or(0)
}

/// A UUID-shaped id from `rng` (workspace and instance ids).
fn uuid(rng: &mut Rng) -> String {
    let (a, b) = (rng.next_u64(), rng.next_u64());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

const FRAMEWORKS: &[&str] = &[
    "pytorch",
    "PyTorch",
    "tensorflow",
    "TensorFlow",
    "mindspore",
    "MindSpore",
    "mxnet",
    "Paddle",
    "jax",
    "onnx",
    "triton",
    "vLLM",
];
const PARTS: &[&str] = &[
    "Vision", "nlp", "Speech", "recsys", "base", "train", "Infer", "serving", "dev", "CUDA",
    "cann", "Ascend", "lab", "ResNet50", "bert", "yolo", "whisper", "Eval", "export",
];

/// What one data set looks like.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    /// About 69k groups in workspace "0" and 20 UUID workspaces; 5% of
    /// versions outside their group's workspace.
    Workspaces,
    /// 300k groups in one workspace, names of 40 to 90 bytes.
    LongNames,
}

/// The name of group `g`: short (`PyTorch-train_123`) or a path of 40 to 90
/// bytes (`Vision/Team-CUDA/pytorch-serving/...-g123`).
fn name_of(shape: Shape, g: usize, rng: &mut Rng) -> String {
    let framework = FRAMEWORKS[g % FRAMEWORKS.len()];
    match shape {
        Shape::Workspaces => {
            let part = PARTS[(g / FRAMEWORKS.len()) % PARTS.len()];
            format!("{framework}-{part}_{g}")
        }
        Shape::LongNames => {
            let target = 40 + rng.below(51) as usize;
            let mut name = String::new();
            while name.len() + 16 < target {
                name.push_str(PARTS[rng.below(PARTS.len() as u64) as usize]);
                name.push(if rng.below(2) == 0 { '/' } else { '-' });
            }
            name.push_str(framework);
            name.push_str(&format!("-g{g}"));
            while name.len() < target {
                name.push(b"abcdefXYZ_."[rng.below(11) as usize] as char);
            }
            name.truncate(90);
            name
        }
    }
}

/// `records` versions of `shape`, shuffled.
fn generate(shape: Shape, records: usize, seed: u64) -> Vec<ImageVersion> {
    let mut rng = Rng::new(seed);
    let (groups, workspaces): (usize, Vec<String>) = match shape {
        Shape::Workspaces => {
            let mut ws = vec!["0".to_string()];
            ws.extend((0..20).map(|_| uuid(&mut rng)));
            (records * 115 / 1000, ws)
        }
        Shape::LongNames => (records * 3 / 10, vec!["0".to_string()]),
    };
    // Workspace "0" holds 60% of the groups' homes, the rest share the others.
    let home: Vec<usize> = (0..groups)
        .map(|_| {
            if workspaces.len() == 1 || rng.below(10) < 6 {
                0
            } else {
                1 + rng.below(workspaces.len() as u64 - 1) as usize
            }
        })
        .collect();
    let names: Vec<String> = (0..groups).map(|g| name_of(shape, g, &mut rng)).collect();
    let orgs = (groups / 500).max(4);
    let namespaces: Vec<String> = (0..groups)
        .map(|g| format!("org-{}", g.wrapping_mul(2_654_435_761) % orgs))
        .collect();
    let mut out = Vec::with_capacity(records);
    for i in 0..records {
        let g = if i < groups {
            i
        } else {
            (rng.unit().powi(3) * groups as f64) as usize % groups
        };
        let ws = if workspaces.len() > 1 && rng.below(20) == 0 {
            rng.below(workspaces.len() as u64) as usize
        } else {
            home[g]
        };
        let create_at = 1_600_000_000_000 + rng.below(100_000_000_000) as i64;
        let update_at = create_at + rng.below(5_000_000_000) as i64;
        let image_type = if g % 5 == 0 {
            ImageType::BuildIn
        } else {
            ImageType::Dedicated
        };
        let service = ServiceType::ALL[rng.below(ServiceType::ALL.len() as u64) as usize];
        out.push(
            ImageVersion::new(
                uuid(&mut rng),
                names[g].clone(),
                namespaces[g].clone(),
                image_type,
                create_at,
                update_at,
            )
            .with_tag(format!("v{}", i % 97))
            .with_workspace_id(workspaces[ws].clone())
            .with_service_type(service),
        );
    }
    for i in (1..out.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        out.swap(i, j);
    }
    out
}

/// The query shapes measured: (label, query string).
fn query_shapes(records: &[ImageVersion]) -> Vec<(&'static str, String)> {
    // A group in workspace "0" whose name a query can give exactly.
    let valid = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit() || b"-_.".contains(&c);
    let in_zero = records
        .iter()
        .find(|v| v.workspace_id == "0" && v.name.bytes().all(valid))
        .unwrap_or(&records[0]);
    vec![
        ("default", String::new()),
        ("fuzzy_name", "name=torch".to_string()),
        ("fuzzy_name_type", "name=torch&type=DEDICATED".to_string()),
        (
            "exact_name",
            format!("name={}&name_fuzzy_match=false", in_zero.name),
        ),
        ("namespace", format!("namespace={}", in_zero.namespace)),
        ("sort_version_count", "sort_key=version_count".to_string()),
        (
            "sort_name_deep_offset",
            "sort_key=name&sort_dir=asc&offset=30000&limit=50".to_string(),
        ),
        ("limit_1", "limit=1".to_string()),
        ("limit_1000", "limit=1000".to_string()),
        ("service_type", "service_type=TRAIN".to_string()),
    ]
}

/// One timed query: milliseconds, minor faults, allocator calls and
/// allocator milliseconds.
struct Sample {
    ms: f64,
    /// The slowest allocator call: nanoseconds and size (`usize::MAX -
    /// size` for a free).
    slowest: (u64, usize),
    faults: u64,
    alloc_calls: u64,
    alloc_ms: f64,
}

fn sample(catalog: &Catalog, query: &GroupQuery) -> Sample {
    ALLOC_CALLS.store(0, Ordering::Relaxed);
    ALLOC_NANOS.store(0, Ordering::Relaxed);
    SLOWEST.store(0, Ordering::Relaxed);
    let faults = minor_faults();
    TIMING.store(true, Ordering::Relaxed);
    let start = Instant::now();
    black_box(catalog.query(query));
    let ms = start.elapsed().as_secs_f64() * 1e3;
    TIMING.store(false, Ordering::Relaxed);
    Sample {
        ms,
        slowest: (
            SLOWEST.load(Ordering::Relaxed),
            SLOWEST_SIZE.load(Ordering::Relaxed),
        ),
        faults: minor_faults() - faults,
        alloc_calls: ALLOC_CALLS.load(Ordering::Relaxed),
        alloc_ms: ALLOC_NANOS.load(Ordering::Relaxed) as f64 / 1e6,
    }
}

fn percentile(values: &[f64], p: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn summary(samples: &[Sample]) -> String {
    let ms: Vec<f64> = samples.iter().map(|s| s.ms).collect();
    let n = samples.len() as f64;
    let faults = samples.iter().map(|s| s.faults).sum::<u64>() as f64 / n;
    let calls = samples.iter().map(|s| s.alloc_calls).sum::<u64>() as f64 / n;
    let alloc_ms = samples.iter().map(|s| s.alloc_ms).sum::<f64>() / n;
    format!(
        "min {:.3} p50 {:.3} p99 {:.3} max {:.3} ms; per query {faults:.1} faults, {calls:.0} alloc calls, {alloc_ms:.3} ms in the allocator",
        percentile(&ms, 0.0),
        percentile(&ms, 0.5),
        percentile(&ms, 0.99),
        percentile(&ms, 1.0),
    )
}

fn arg<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let shape = match arg(&args, "--shape").unwrap_or("workspaces") {
        "workspaces" => Shape::Workspaces,
        "long-names" => Shape::LongNames,
        other => panic!("--shape workspaces|long-names, not {other}"),
    };
    let records_n: usize = arg(&args, "--records").map_or(1_000_000, |s| s.parse().unwrap());
    let first: usize = arg(&args, "--first").map_or(100, |s| s.parse().unwrap());
    let upserts: usize = arg(&args, "--upserts").map_or(10_000, |s| s.parse().unwrap());
    let records = generate(shape, records_n, 7);
    if let Some(builds) = arg(&args, "--builds-only") {
        // Only `from_records`, for `perf stat` and timing: no queries.
        for _ in 0..builds.parse::<usize>().unwrap() {
            let copies = records.clone();
            let (start, cpu) = (Instant::now(), thread_cpu_ms());
            let catalog = Catalog::from_records(copies);
            println!(
                "from_records {:.0} ms ({:.0} ms of CPU)",
                start.elapsed().as_secs_f64() * 1e3,
                thread_cpu_ms() - cpu
            );
            drop(catalog);
        }
        return;
    }
    let queries = match arg(&args, "--query") {
        Some(q) => vec![("given", q.to_string())],
        None => query_shapes(&records),
    };
    let groups_in_zero = {
        let mut keys: Vec<(&str, &str)> = records
            .iter()
            .filter(|v| v.workspace_id == "0")
            .map(|v| (v.name.as_str(), v.namespace.as_str()))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys.len()
    };
    println!(
        "{} versions, {groups_in_zero} groups in workspace \"0\"",
        records.len()
    );

    let mut build_ms = Vec::new();
    let (mut vec_bytes, mut catalog_bytes) = (0, 0);
    let mut rng = Rng::new(99);
    for (label, q) in &queries {
        let query = GroupQuery::from_query_string(q).unwrap();
        let before = live_bytes();
        let copies = records.clone();
        vec_bytes = live_bytes() - before;
        let start = Instant::now();
        let mut catalog = Catalog::from_records(copies);
        build_ms.push(start.elapsed().as_secs_f64() * 1e3);
        catalog_bytes = live_bytes() - before;
        if let Some((free, fast)) = free_chunks() {
            println!("after the build: {free} free chunks, {fast} in fastbins (glibc)");
        }
        if std::env::var_os("WARMUP_PROBE").is_some() {
            // One allocation of the size a page's group list takes, timed:
            // what the first query's first such allocation would pay.
            for size in [19_200usize, 19_200, 19_200, 64, 64, 64] {
                let start = Instant::now();
                black_box(Vec::<u8>::with_capacity(size));
                println!(
                    "probe: an allocation of {size} bytes took {:.3} ms",
                    start.elapsed().as_secs_f64() * 1e3
                );
            }
            if let Some((free, fast)) = free_chunks() {
                println!("after the probe: {free} free chunks, {fast} in fastbins (glibc)");
            }
        }

        let after_build: Vec<Sample> = (0..first).map(|_| sample(&catalog, &query)).collect();
        // Run on until the timings settle, then take the steady state.
        for _ in 0..400 {
            black_box(catalog.query(&query));
        }
        let steady: Vec<Sample> = (0..first).map(|_| sample(&catalog, &query)).collect();
        for _ in 0..upserts {
            let mut v = records[rng.below(records.len() as u64) as usize].clone();
            v.update_at += 1 + rng.below(1000) as i64;
            if rng.below(4) == 0 {
                v.name.push_str("-moved");
            }
            black_box(catalog.upsert(v));
        }
        let after_upserts: Vec<Sample> = (0..first).map(|_| sample(&catalog, &query)).collect();
        println!("{label:22} {q}");
        if std::env::var_os("WARMUP_TRACE").is_some() {
            for (i, s) in after_build.iter().enumerate().take(40) {
                println!(
                    "    #{i}: {:.3} ms, {} faults, {} allocs, {:.3} ms alloc, slowest {} ns for {}",
                    s.ms, s.faults, s.alloc_calls, s.alloc_ms, s.slowest.0,
                    if s.slowest.1 > usize::MAX / 2 { format!("free of {}", usize::MAX - s.slowest.1) } else { format!("{} bytes", s.slowest.1) }
                );
            }
        }
        println!("  first {first} after build:   {}", summary(&after_build));
        println!(
            "  first 21 after build: median {:.3} ms",
            percentile(
                &after_build[..21.min(first)]
                    .iter()
                    .map(|s| s.ms)
                    .collect::<Vec<_>>(),
                0.5
            )
        );
        println!("  steady:                  {}", summary(&steady));
        println!(
            "  first {first} after {upserts} upserts: {}",
            summary(&after_upserts)
        );
        drop(catalog);
    }
    let first_build = build_ms[0];
    println!(
        "from_records: first {first_build:.0} ms, median {:.0} ms; memory: catalog {:.0} bytes per version, Vec<ImageVersion> {:.0} ({:.2}x)",
        percentile(&build_ms, 0.5),
        catalog_bytes as f64 / records.len() as f64,
        vec_bytes as f64 / records.len() as f64,
        catalog_bytes as f64 / vec_bytes as f64,
    );
}
