//! Partial results for sharded data: any split of the records into shards,
//! each partial carried as JSON, merged in any order and grouping, gives the
//! page of `group_images` over all the records.

#[path = "support/generators.rs"]
mod generators;

use generators::{query, records};
use image_groups::{group_images, GroupQuery, PartialGroups};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn merged_shards_give_the_whole_page(
        records in records(),
        q in query(),
        shards in 1usize..=8,
        seed in any::<u64>(),
    ) {
        // Deal the records to shards by a seeded hash of their position.
        let mut parts: Vec<Vec<_>> = vec![Vec::new(); shards];
        for (i, r) in records.iter().enumerate() {
            let spread = (i as u64 ^ seed).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
            parts[spread as usize % shards].push(r);
        }
        // Each shard's partial crosses a transport as JSON.
        let mut partials: Vec<PartialGroups> = parts
            .iter()
            .map(|part| {
                let json = serde_json::to_string(&PartialGroups::from_records(part.iter().copied(), &q)).unwrap();
                serde_json::from_str(&json).unwrap()
            })
            .collect();
        // Merge in an order and grouping picked by the seed.
        let mut pick = seed;
        while partials.len() > 1 {
            pick = pick.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let a = (pick >> 33) as usize % partials.len();
            let taken = partials.swap_remove(a);
            let b = (pick >> 17) as usize % partials.len();
            partials[b].merge(taken).unwrap();
        }
        let merged = partials.pop().unwrap();
        prop_assert_eq!(merged.into_page(&q).unwrap(), group_images(&records, &q));
    }

    /// Paging and order are the coordinator's: partials computed with one
    /// paging serve a query with another.
    #[test]
    fn paging_and_order_do_not_bind_partials(records in records(), q in query()) {
        let shard_query: GroupQuery = "limit=1&sort_key=name".parse().unwrap();
        let shard_query = shard_query
            .with_name(q.name()).unwrap()
            .with_name_fuzzy_match(q.name_fuzzy_match())
            .with_namespace(q.namespace()).unwrap()
            .with_image_type(q.image_type())
            .with_service_type(q.service_type())
            .with_workspace_id(q.workspace_id()).unwrap()
            .with_swr_instance_id(q.swr_instance_id()).unwrap();
        let partial = PartialGroups::from_records(&records, &shard_query);
        prop_assert_eq!(partial.into_page(&q).unwrap(), group_images(&records, &q));
    }
}

#[test]
fn partials_of_different_filters_do_not_merge() {
    let a = PartialGroups::from_records([], &"namespace=ml".parse().unwrap());
    let b = PartialGroups::from_records([], &"namespace=cv".parse().unwrap());
    let mut merged = a.clone();
    let err = merged.merge(b).unwrap_err();
    assert_eq!(merged, a, "a failed merge leaves the partial unchanged");
    assert!(
        err.to_string().contains("namespace=ml") && err.to_string().contains("namespace=cv"),
        "{err}"
    );
    assert!(a.into_page(&"namespace=cv".parse().unwrap()).is_err());
}

#[test]
fn a_partial_serializes_its_filters_and_groups() {
    let records = image_groups::parse_records(
        r#"[{"id":"1","name":"torch","namespace":"ml","type":"DEDICATED","create_at":1,"update_at":2}]"#,
    )
    .unwrap();
    let partial = PartialGroups::from_records(&records, &"type=DEDICATED&limit=5".parse().unwrap());
    assert_eq!(partial.len(), 1);
    let json = serde_json::to_value(&partial).unwrap();
    assert_eq!(json["filters"], "type=DEDICATED");
    assert_eq!(json["groups"][0]["name"], "torch");
    assert_eq!(json["groups"][0]["version_count"], 1);
}

/// A partial as a shard sends it, with `groups` as given.
fn wire(filters: &str, groups: &str) -> String {
    format!(r#"{{"filters":"{filters}","groups":[{groups}]}}"#)
}

fn group(name: &str, count: u64) -> String {
    format!(
        r#"{{"name":"{name}","namespace":"ml","version_count":{count},"create_at":1,"update_at":2}}"#
    )
}

#[test]
fn a_crafted_partial_is_an_error_not_a_page() {
    let max = u64::MAX;
    for (filters, groups, says) in [
        (
            "",
            format!("{},{}", group("a", max), group("b", 1)),
            "more than",
        ),
        ("", format!("{},{}", group("a", 1), group("a", 2)), "twice"),
        ("", group("a", 0), "counts no version"),
        ("name=torch", group("zzz", 1), "does not pass"),
        (
            "name=torch&name_fuzzy_match=false",
            group("pytorch", 1),
            "does not pass",
        ),
        ("namespace=cv", group("a", 1), "does not pass"),
        ("swr_instance_id=inst-1", group("a", 1), "does not pass"),
        ("limit=5", group("a", 1), "order or paging"),
    ] {
        let err = serde_json::from_str::<PartialGroups>(&wire(filters, &groups)).unwrap_err();
        assert!(err.to_string().contains(says), "{filters} {groups}: {err}");
    }
    // What from_records makes passes: a fuzzy name folds ASCII case.
    let ok: PartialGroups =
        serde_json::from_str(&wire("name=torch", &group("PyTorch", 3))).unwrap();
    assert_eq!(ok.len(), 1);
}

#[test]
fn merging_partials_that_count_more_than_u64_max_versions_is_an_error() {
    let big: PartialGroups = serde_json::from_str(&wire("", &group("a", u64::MAX))).unwrap();
    let one: PartialGroups = serde_json::from_str(&wire("", &group("a", 1))).unwrap();
    let mut merged = big.clone();
    let err = merged.merge(one).unwrap_err();
    assert!(err.to_string().contains("more than"), "{err}");
    assert_eq!(merged, big, "a failed merge leaves the partial unchanged");
}
