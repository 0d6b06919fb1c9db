//! `partials_merge`: the measure of merging partial results (issue 14's
//! "merging partials"): 1M synthetic records dealt at random to 7 shards,
//! each shard's `PartialGroups` sent through JSON, then merged in a random
//! order, against scanning all the records on one thread.
//!
//! ```text
//! cargo run --release --example partials_merge [-- GROUPS]
//! ```

#[path = "../benches/support/synthetic.rs"]
mod synthetic;

use std::time::Instant;

use image_groups::{group_images, GroupQuery, PartialGroups};

fn main() {
    let groups: usize = std::env::args()
        .nth(1)
        .map_or(100_000, |g| g.parse().expect("GROUPS is a number"));
    let records = synthetic::generate(1_000_000, groups, 7);
    let query = GroupQuery::default();
    let mut rng = synthetic::Rng::new(11);
    let mut shards: Vec<Vec<_>> = vec![Vec::new(); 7];
    for r in &records {
        shards[rng.below(7) as usize].push(r);
    }
    let wire: Vec<String> = shards
        .iter()
        .map(|s| {
            serde_json::to_string(&PartialGroups::from_records(s.iter().copied(), &query)).unwrap()
        })
        .collect();
    for round in 0..5 {
        let mut partials: Vec<PartialGroups> = wire
            .iter()
            .map(|w| serde_json::from_str(w).unwrap())
            .collect();
        let sizes: Vec<usize> = partials.iter().map(PartialGroups::len).collect();
        let start = Instant::now();
        while partials.len() > 1 {
            let a = rng.below(partials.len() as u64) as usize;
            let taken = partials.swap_remove(a);
            let b = rng.below(partials.len() as u64) as usize;
            partials[b].merge(taken).unwrap();
        }
        let merge_ms = start.elapsed().as_secs_f64() * 1e3;
        let merged = partials.pop().unwrap();
        let start = Instant::now();
        let page = group_images(&records, &query);
        let scan_ms = start.elapsed().as_secs_f64() * 1e3;
        assert_eq!(merged.into_page(&query).unwrap(), page);
        println!(
            "round {round}: partials of {sizes:?} groups; merging 7: {merge_ms:.1} ms; one-thread scan of 1M: {scan_ms:.1} ms; ratio {:.2}",
            merge_ms / scan_ms
        );
    }
}
