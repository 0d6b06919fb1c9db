//! `build_catalog`: times `Catalog::from_records` alone, as `bench_queries
//! run` does (the records parsed once, untimed; each build given a fresh
//! copy, which it frees), for before/after comparisons of the build.
//!
//! ```text
//! build_catalog FILE [BUILDS]
//! ```
//!
//! Prints one line per build: its milliseconds, wall clock and processor
//! time (user and system, of every thread of the process, from
//! `/proc/self/stat` in 10 ms ticks; 0 where there is none). The processor
//! time is the steadier figure on a shared machine; the wall clock is what a
//! caller waits.

use std::time::Instant;

use image_groups::{parse_records_bytes, Catalog};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().expect("usage: build_catalog FILE [BUILDS]");
    let builds: usize = args.get(1).map_or(3, |s| s.parse().expect("BUILDS"));
    let bytes = std::fs::read(path).expect("read FILE");
    let records = parse_records_bytes(&bytes).unwrap_or_else(|e| panic!("records: {e}"));
    drop(bytes);
    let mut catalog = Catalog::new();
    for _ in 0..builds {
        drop(std::mem::take(&mut catalog));
        let copies = records.clone();
        let (start, cpu) = (Instant::now(), cpu_ms());
        catalog = Catalog::from_records(copies);
        let wall = start.elapsed().as_secs_f64() * 1e3;
        println!("{wall:.1} {}", cpu_ms() - cpu);
    }
    std::hint::black_box(&catalog);
}

/// The processor time of the process so far, user and system, ms.
fn cpu_ms() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name (in parentheses), utime and stime
    // being the 12th and 13th of them, in ticks of 10 ms.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    fields.iter().sum::<u64>() * 10
}
