//! criterion benchmarks of `group_images` over seeded synthetic data.
//!
//! ```text
//! cargo bench --bench group_images                 # every size (10M needs ~3 GB and minutes)
//! cargo bench --bench group_images -- 1M/          # one size
//! cargo bench --bench group_images -- floor        # the floors only
//! ```
//!
//! Each size (10k, 100k, 1M, 10M records, with one group per 10 records and a
//! Zipf-like number of versions per group) has the query shapes of
//! `support/synthetic.rs`, run through `group_images` (one thread),
//! `group_images_parallel`, `Catalog::query` (the records indexed once) and
//! the coordinator's side of `PartialGroups` (merging two shards' partials and
//! paging), and a "floor": a loop that only reads, from every
//! record, the fields a query needs. A query's time as a multiple of its
//! size's floor is what the layout of the input leaves to the engine.

#[path = "support/synthetic.rs"]
mod synthetic;

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use image_groups::{
    group_images, group_images_parallel, Catalog, GroupQuery, ImageVersion, PartialGroups,
};

/// Records as a deserializer leaves them: generated, written as JSON and parsed
/// back, so that each record's strings are allocated together, in input order.
fn load(records: usize, groups: usize) -> Vec<ImageVersion> {
    let generated = synthetic::generate(records, groups, 42);
    let text = serde_json::to_string(&generated).expect("records serialize");
    drop(generated);
    image_groups::parse_records(&text).expect("generated records parse")
}

fn bench(c: &mut Criterion) {
    for (label, records, groups) in [
        ("10k", 10_000, 1_000),
        ("100k", 100_000, 10_000),
        ("1M", 1_000_000, 100_000),
        ("10M", 10_000_000, 1_000_000),
    ] {
        let mut group = c.benchmark_group(label);
        group.throughput(Throughput::Elements(records as u64));
        if records >= 1_000_000 {
            group
                .sample_size(10)
                .measurement_time(Duration::from_secs(8));
        }
        // Loaded lazily: a filter that skips this size skips its data too.
        let mut loaded: Option<Vec<ImageVersion>> = None;
        let mut catalog: Option<Catalog> = None;
        group.bench_function("floor", |b| {
            let records = loaded.get_or_insert_with(|| load(records, groups));
            b.iter(|| synthetic::floor(black_box(records)))
        });
        for (shape, query) in synthetic::query_shapes(groups) {
            let query: GroupQuery = query.parse().expect("benchmark queries are valid");
            group.bench_with_input(BenchmarkId::new("one_thread", shape), &query, |b, q| {
                let records = loaded.get_or_insert_with(|| load(records, groups));
                b.iter(|| group_images(black_box(records.as_slice()), q))
            });
            group.bench_with_input(BenchmarkId::new("parallel", shape), &query, |b, q| {
                let records = loaded.get_or_insert_with(|| load(records, groups));
                b.iter(|| group_images_parallel(black_box(records), q))
            });
            group.bench_with_input(BenchmarkId::new("catalog", shape), &query, |b, q| {
                let catalog = catalog.get_or_insert_with(|| {
                    Catalog::from_records(
                        loaded.get_or_insert_with(|| load(records, groups)).clone(),
                    )
                });
                b.iter(|| black_box(&*catalog).query(q))
            });
            // Two shards' partials, computed beforehand as shards would; the
            // coordinator's work is timed: merging them and paging.
            group.bench_with_input(BenchmarkId::new("partial_merge", shape), &query, |b, q| {
                let records = loaded.get_or_insert_with(|| load(records, groups));
                let (left, right) = records.split_at(records.len() / 2);
                let (left, right) = (
                    PartialGroups::from_records(left, q),
                    PartialGroups::from_records(right, q),
                );
                b.iter(|| {
                    let mut merged = left.clone();
                    merged.merge(right.clone()).expect("same filters");
                    merged.into_page(q).expect("same filters")
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
