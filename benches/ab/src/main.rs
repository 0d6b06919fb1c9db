//! Runs each query alternately on two versions of the crate over the same
//! records and prints, per query and per form (one thread, parallel), the
//! median time of each and the median and quartiles of the per-pair ratio
//! `before / after`. See README.md.

use std::hint::black_box;
use std::time::Instant;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Milliseconds that `f` takes.
fn time(f: &dyn Fn()) -> f64 {
    let start = Instant::now();
    f();
    start.elapsed().as_secs_f64() * 1e3
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, records, queries, pairs] = args.as_slice() else {
        eprintln!("usage: image-groups-ab RECORDS.ndjson QUERIES.txt PAIRS");
        std::process::exit(2);
    };
    let pairs: usize = pairs.parse().expect("PAIRS is a number");
    let bytes = std::fs::read(records).expect("records file");
    let old = before::parse_records_bytes(&bytes).expect("records parse (before)");
    let new = after::parse_records_bytes(&bytes).expect("records parse (after)");
    drop(bytes);
    for line in std::fs::read_to_string(queries)
        .expect("queries file")
        .lines()
    {
        let old_query: before::GroupQuery = line.parse().expect("query parses (before)");
        let new_query: after::GroupQuery = line.parse().expect("query parses (after)");
        let (old_page, new_page) = (
            before::group_images(&old, &old_query),
            after::group_images(&new, &new_query),
        );
        assert_eq!(
            serde_json::to_value(&old_page).expect("page serializes"),
            serde_json::to_value(&new_page).expect("page serializes"),
            "the two versions answer {line:?} differently"
        );
        for parallel in [false, true] {
            // Each version's scan in this form, timed.
            let form =
                |one: &dyn Fn(), two: &dyn Fn()| if parallel { time(two) } else { time(one) };
            let run_old = || {
                form(
                    &|| drop(black_box(before::group_images(&old, &old_query))),
                    &|| drop(black_box(before::group_images_parallel(&old, &old_query))),
                )
            };
            let run_new = || {
                form(
                    &|| drop(black_box(after::group_images(&new, &new_query))),
                    &|| drop(black_box(after::group_images_parallel(&new, &new_query))),
                )
            };
            // Warm both, then alternate which goes first.
            run_old();
            run_new();
            let (mut olds, mut news, mut ratios) = (vec![], vec![], vec![]);
            for pair in 0..pairs {
                let (o, n) = if pair % 2 == 0 {
                    let o = run_old();
                    (o, run_new())
                } else {
                    let n = run_new();
                    (run_old(), n)
                };
                olds.push(o);
                news.push(n);
                ratios.push(o / n);
            }
            let mut sorted = ratios.clone();
            sorted.sort_by(f64::total_cmp);
            let label = if line.is_empty() { "(empty)" } else { line };
            println!(
                "{:40} {:8} before {:7.2} ms  after {:7.2} ms  before/after {:.2} [q1 {:.2}, q3 {:.2}]",
                label.chars().take(40).collect::<String>(),
                if parallel { "parallel" } else { "1 thread" },
                median(olds),
                median(news),
                median(ratios),
                sorted[sorted.len() / 4],
                sorted[3 * sorted.len() / 4],
            );
        }
    }
}
