//! Hash flooding: keys crafted to collide under a fixed hash against random
//! keys, through `group_images`.
//!
//! ```text
//! cargo bench --bench hostile
//! ```
//!
//! The crafted keys all share the top 12 bits of foldhash's hash under its
//! fixed seed, so a table indexed by that hash would pile them into one
//! 4096th of its places and probe quadratically. The crate seeds its hasher per
//! process, so the crafted keys should cost what random keys cost (the issue
//! asks for within 2x).

use std::hash::{BuildHasher, Hasher};
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use image_groups::{group_images, GroupQuery, ImageType, ImageVersion};

const GROUPS: usize = 20_000;
const VERSIONS: usize = 5;

fn record(name: &str, i: usize) -> ImageVersion {
    ImageVersion::new(
        i.to_string(),
        name,
        "ns",
        ImageType::Dedicated,
        i as i64,
        i as i64,
    )
}

fn records(names: &[String]) -> Vec<ImageVersion> {
    (0..names.len() * VERSIONS)
        .map(|i| record(&names[(i * 7919) % names.len()], i))
        .collect()
}

fn bench(c: &mut Criterion) {
    let fixed = foldhash::fast::FixedState::default();
    let mut crafted = Vec::with_capacity(GROUPS);
    let mut nonce = 0u64;
    while crafted.len() < GROUPS {
        let name = format!("img-{nonce}");
        nonce += 1;
        // The crate hashes a key as two writes, name then namespace.
        let mut hasher = fixed.build_hasher();
        hasher.write(name.as_bytes());
        hasher.write(b"ns");
        if hasher.finish() >> 52 == 0 {
            crafted.push(name);
        }
    }
    let random: Vec<String> = (0..GROUPS).map(|i| format!("img-{i}")).collect();
    let (crafted, random) = (records(&crafted), records(&random));
    let query = GroupQuery::default();
    let mut group = c.benchmark_group("hash_flooding");
    group.bench_function("random_keys", |b| {
        b.iter(|| group_images(black_box(&random), &query))
    });
    group.bench_function("crafted_keys", |b| {
        b.iter(|| group_images(black_box(&crafted), &query))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
