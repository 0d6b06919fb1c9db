//! proptest generators shared by the property tests: messy records (upper
//! case, non-ASCII, empty strings, extreme and negative times, update before
//! create, exact duplicates) and valid queries built with the setters.
#![allow(dead_code)]

use image_groups::{GroupQuery, ImageType, ImageVersion, ServiceType, SortDir, SortField};
use proptest::prelude::*;
use proptest::sample::{select, subsequence};

pub fn timestamp() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => 0i64..20,
        1 => Just(i64::MIN),
        1 => Just(i64::MAX),
        1 => any::<i64>(),
        1 => -5i64..5,
    ]
}

pub fn record_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(vec!["torch", "PyTorch", "TORCH_2", "tf", "a.b", "py-torch", "", "Ä-torch", "TÖRCH", "ぱい", "t"])
            .prop_map(String::from),
        2 => "[a-zA-Z0-9._Äö-]{0,6}",
    ]
}

pub fn namespace() -> impl Strategy<Value = String> {
    select(vec!["ns", "team", "Team", "a.b", "", "ns2"]).prop_map(String::from)
}

pub fn record() -> impl Strategy<Value = ImageVersion> {
    (
        record_name(),
        namespace(),
        select(ImageType::ALL),
        select(vec!["0", "0", "ws1", ""]),
        select(ServiceType::ALL),
        (timestamp(), timestamp()),
        any::<u16>(),
        // Mostly the shared SWR; an instance repeats a shared key at times.
        select(vec![None, None, None, Some("inst-1"), Some("inst-2")]),
    )
        .prop_map(
            |(
                name,
                namespace,
                image_type,
                ws,
                service_type,
                (create_at, update_at),
                id,
                instance,
            )| {
                let mut v = ImageVersion::new(
                    id.to_string(),
                    name,
                    namespace,
                    image_type,
                    create_at,
                    update_at,
                )
                .with_workspace_id(ws)
                .with_service_type(service_type);
                v.swr_instance_id = instance.map(String::from);
                v
            },
        )
}

pub fn records() -> impl Strategy<Value = Vec<ImageVersion>> {
    prop::collection::vec(record(), 0..60).prop_flat_map(|mut rs| {
        // Exact duplicates, which must count twice.
        let dups: Vec<ImageVersion> = rs.iter().step_by(7).cloned().collect();
        rs.extend(dups);
        Just(rs).prop_shuffle()
    })
}

pub fn query() -> impl Strategy<Value = GroupQuery> {
    let name = prop_oneof![
        2 => Just(String::new()),
        3 => select(vec!["torch", "t", "py", "a.b", "tf", "-", "2", "to"]).prop_map(String::from),
        1 => "[a-z0-9._-]{1,3}",
    ];
    let count =
        |small: u32| prop_oneof![4 => 0..small, 1 => Just(2147483647u32), 1 => 0..2147483648u32];
    (
        name,
        any::<bool>(),
        prop::option::of(select(vec!["ns", "team", "a.b", "ns2"])),
        prop::option::of(select(ImageType::ALL)),
        prop::option::of(select(ServiceType::ALL)),
        (
            select(vec!["0", "0", "ws1"]),
            select(vec![None, None, Some("inst-1"), Some("inst-3")]),
        ),
        count(12),
        count(8).prop_map(|n| n.max(1)),
        subsequence(SortField::ALL.to_vec(), 0..=5).prop_shuffle(),
        select(vec![SortDir::Asc, SortDir::Desc]),
    )
        .prop_map(
            |(name, fuzzy, ns, t, s, (ws, instance), offset, limit, keys, dir)| {
                GroupQuery::new()
                    .with_name(Some(name.as_str()).filter(|n| !n.is_empty()))
                    .unwrap()
                    .with_name_fuzzy_match(fuzzy)
                    .with_namespace(ns)
                    .unwrap()
                    .with_image_type(t)
                    .with_service_type(s)
                    .with_workspace_id(ws)
                    .unwrap()
                    .with_swr_instance_id(instance)
                    .unwrap()
                    .with_offset(offset)
                    .unwrap()
                    .with_limit(limit)
                    .unwrap()
                    .with_sort_key(keys)
                    .unwrap()
                    .with_sort_dir(dir)
            },
        )
}
