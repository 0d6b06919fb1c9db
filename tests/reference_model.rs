//! proptest: `group_images` against a deliberately naive reference model, and
//! the invariants of paging, counting and input order.

use image_groups::{
    group_images, group_images_parallel, GroupQuery, ImageType, ImageVersion, ServiceType,
};
use proptest::prelude::*;

#[path = "support/reference.rs"]
mod reference;

use reference::{reference, reference_matches};

#[path = "support/generators.rs"]
mod generators;

use generators::{query, records};

fn whole(q: &GroupQuery) -> GroupQuery {
    q.clone()
        .with_offset(0)
        .unwrap()
        .with_limit(2147483647)
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn engine_equals_the_reference_model(records in records(), q in query()) {
        prop_assert_eq!(group_images(&records, &q), reference(&records, &q));
    }

    #[test]
    fn query_display_parses_back_to_the_same_query(q in query()) {
        prop_assert_eq!(q.to_string().parse::<GroupQuery>().unwrap(), q);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn walking_the_pages_yields_every_group_once_in_order(
        records in records(), q in query(), limit in 1u64..6,
    ) {
        let all = group_images(&records, &whole(&q)).data;
        let mut walked = Vec::new();
        let mut offset = 0u64;
        let mut pages_walked = 0u64;
        loop {
            let page_q = q.clone().with_offset(offset as u32).unwrap().with_limit(limit as u32).unwrap();
            let page = group_images(&records, &page_q);
            prop_assert_eq!(page.total, all.len() as u64);
            prop_assert_eq!(page.current, offset / limit + 1);
            prop_assert_eq!(page.size, page.data.len() as u64);
            prop_assert!(page.size <= limit);
            if page.data.is_empty() {
                break;
            }
            prop_assert_eq!(page.current, pages_walked + 1);
            prop_assert!(page.current <= page.pages);
            walked.extend(page.data);
            offset += limit;
            pages_walked += 1;
        }
        prop_assert_eq!(pages_walked, group_images(&records, &q.clone().with_limit(limit as u32).unwrap()).pages);
        prop_assert_eq!(walked, all);
    }

    #[test]
    fn version_counts_add_up_to_the_matching_records(records in records(), q in query()) {
        let page = group_images(&records, &whole(&q));
        let matching = records.iter().filter(|v| reference_matches(v, &q)).count() as u64;
        prop_assert_eq!(page.data.iter().map(|g| g.version_count).sum::<u64>(), matching);
        prop_assert!(page.data.iter().all(|g| g.version_count >= 1));
    }

    #[test]
    fn input_order_does_not_change_the_page(
        (records, shuffled) in records().prop_flat_map(|r| (Just(r.clone()), Just(r).prop_shuffle())),
        q in query(),
    ) {
        prop_assert_eq!(group_images(&records, &q), group_images(&shuffled, &q));
    }

    #[test]
    fn page_fields_follow_spec_6(records in records(), q in query()) {
        let page = group_images(&records, &q);
        let (offset, limit) = (u64::from(q.offset()), u64::from(q.limit()));
        prop_assert_eq!(page.current, offset / limit + 1);
        prop_assert_eq!(page.pages, page.total.div_ceil(limit));
        prop_assert_eq!(page.size, page.data.len() as u64);
        prop_assert_eq!(page.size, page.total.saturating_sub(offset).min(limit));
    }
}

/// Thousands of groups: the table grows many times and batches hold keys of
/// many groups, unlike the small cases above.
#[test]
fn engine_equals_the_reference_model_on_many_groups() {
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let records: Vec<ImageVersion> = (0..30_000)
        .map(|i| {
            let g = next(6_000);
            let name = format!("{}-torch_{g}", ["py", "Py", "tf"][(g % 3) as usize]);
            let image_type = ImageType::ALL[(g % 2) as usize];
            let (create_at, update_at) = (next(1_000) as i64 - 500, next(1_000) as i64);
            ImageVersion::new(
                i.to_string(),
                name,
                format!("ns{}", g % 7),
                image_type,
                create_at,
                update_at,
            )
            .with_workspace_id(["0", "0", "w"][(g % 3) as usize])
            .with_service_type(ServiceType::ALL[next(5) as usize])
        })
        .collect();
    for query in [
        "",
        "limit=2147483647",
        "name=torch_1&limit=500",
        "name=py-torch_17&name_fuzzy_match=false",
        "namespace=ns3&sort_key=version_count,name&offset=100",
        "type=BUILD_IN&service_type=DEV&sort_key=create_at&sort_dir=asc&limit=1000",
        "workspace_id=w&sort_key=namespace,update_at",
    ] {
        let q: GroupQuery = query.parse().unwrap();
        assert_eq!(
            group_images(&records, &q),
            reference(&records, &q),
            "{query}"
        );
    }
    // Large enough for group_images_parallel to split the scan over threads.
    let many: Vec<ImageVersion> = records.iter().cycle().take(150_000).cloned().collect();
    for query in [
        "",
        "name=torch_2&sort_key=version_count",
        "namespace=ns1&limit=3&offset=7",
    ] {
        let q: GroupQuery = query.parse().unwrap();
        assert_eq!(
            group_images_parallel(&many, &q),
            reference(&many, &q),
            "{query}"
        );
    }
}
