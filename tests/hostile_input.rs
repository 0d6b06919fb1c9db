//! Hostile and extreme input: nothing a caller sends may panic the crate, hang
//! it, or make it answer wrongly without saying so.

mod common;

#[path = "support/reference.rs"]
mod reference;

use common::version;
use image_groups::{group_images, group_images_parallel, GroupQuery, ImageVersion, QueryError};
use proptest::prelude::*;

// ---- records ----

#[test]
fn mebibyte_names_and_namespaces_group_and_match() {
    let long_name = format!("{}Torch{}", "x".repeat(1 << 20), "y".repeat(1 << 20));
    let long_ns = "n".repeat(1 << 20);
    let mut near = long_name.clone();
    near.pop(); // same length but one byte, and the same prefix: a worst case for comparison
    near.push('z');
    let records = vec![
        version(&long_name, &long_ns, 1, 2),
        version(&long_name, &long_ns, 3, 4),
        version(&near, &long_ns, 5, 6),
        version("torch", "ns", 7, 8),
    ];
    for query in ["name=torch", "", "sort_key=name&sort_dir=asc"] {
        let q: GroupQuery = query.parse().unwrap();
        assert_eq!(
            group_images(&records, &q),
            reference::reference(&records, &q),
            "{query}"
        );
    }
    let page = group_images(
        &records,
        &"name=torch&sort_key=version_count".parse().unwrap(),
    );
    assert_eq!(page.total, 3);
    assert_eq!(page.data[0].version_count, 2);
    assert_eq!(page.data[0].name.len(), long_name.len());
}

#[test]
fn messy_strings_are_grouped_as_given() {
    let records = vec![
        version("", "", 0, 0),
        version("", "", 1, 1),
        version("PYTORCH", "NS", 0, 0),
        version("pytorch", "ns", 0, 0),
        version("ぱいとーち\u{0}\u{1b}[31m", "名前空間", 0, 0),
        version("\u{feff}torch", "ns", 0, 0),
    ];
    let q: GroupQuery = "sort_key=name&sort_dir=asc".parse().unwrap();
    let page = group_images(&records, &q);
    assert_eq!(page, reference::reference(&records, &q));
    assert_eq!(page.total, 5);
    assert_eq!(page.data[0].version_count, 2);
    assert_eq!(
        group_images(&records, &"name=torch".parse().unwrap()).total,
        3
    );
}

#[test]
fn extreme_timestamps_and_paging_bounds() {
    let records = vec![
        version("a", "n", i64::MIN, i64::MAX),
        version("a", "n", i64::MAX, i64::MIN),
        version("b", "n", i64::MAX, i64::MAX),
    ];
    for query in [
        "offset=2147483647&limit=2147483647",
        "limit=2147483647",
        "offset=2147483647",
        "sort_key=create_at,update_at&sort_dir=asc",
    ] {
        let q: GroupQuery = query.parse().unwrap();
        assert_eq!(
            group_images(&records, &q),
            reference::reference(&records, &q),
            "{query}"
        );
    }
    let page = group_images(&records, &"limit=2147483647".parse().unwrap());
    assert_eq!(
        (page.data[0].create_at, page.data[0].update_at),
        (i64::MIN, i64::MAX)
    );
}

#[test]
#[ignore = "millions of versions, slow in a debug build: run with --ignored (CI does)"]
fn one_group_with_two_million_versions() {
    let v = version("torch", "ns", 0, 0);
    let records: Vec<ImageVersion> = (0..2_000_000i64)
        .map(|i| {
            let mut v = v.clone();
            (v.create_at, v.update_at) = (-i, i);
            v
        })
        .collect();
    let q = GroupQuery::default();
    let page = group_images(&records, &q);
    assert_eq!(page, group_images_parallel(&records, &q));
    assert_eq!(page.total, 1);
    let g = &page.data[0];
    assert_eq!(
        (g.version_count, g.create_at, g.update_at),
        (2_000_000, -1_999_999, 1_999_999)
    );
}

#[test]
#[ignore = "millions of versions, slow in a debug build: run with --ignored (CI does)"]
fn a_million_one_version_groups() {
    let records: Vec<ImageVersion> = (0..1_000_000i64)
        .map(|i| version(&format!("img{i}"), "ns", i, i))
        .collect();
    let q: GroupQuery = "sort_key=create_at&sort_dir=asc&offset=999998"
        .parse()
        .unwrap();
    let page = group_images(&records, &q);
    assert_eq!(page, group_images_parallel(&records, &q));
    assert_eq!((page.total, page.size, page.pages), (1_000_000, 2, 5000));
    assert_eq!(page.data[1].name, "img999999");
}

// ---- query strings ----

#[track_caller]
fn rejected(query: &str) -> QueryError {
    let err = GroupQuery::from_query_string(query).expect_err("should be rejected");
    let body = serde_json::to_value(&err).unwrap();
    let msg = body["error_msg"].as_str().unwrap();
    assert!(
        ["ModelArts.0104", "ModelArts.6303"].contains(&err.error_code()),
        "{}",
        err.error_code()
    );
    // 64 characters of value, each escaped to at most 6 bytes (`\\u{7f}`), plus
    // the rule: never more than 1 KiB.
    assert!(msg.len() <= 1024, "error_msg of {} bytes", msg.len());
    assert!(
        !msg.chars().any(char::is_control),
        "control character in {msg:?}"
    );
    err
}

#[test]
fn a_100_kb_query_string_is_an_error_with_a_short_message() {
    rejected(&format!("name={}", "a".repeat(100_000)));
    rejected(&format!("{}=1", "p".repeat(100_000)));
    rejected(&format!("sort_key={}", "x".repeat(100_000)));
    rejected(&"&".repeat(100_000).replace("&&", "&name=a&"));
}

#[test]
fn invalid_percent_escapes_and_control_characters_are_errors() {
    for query in [
        "name=%",
        "name=%4",
        "name=%zz",
        "name=%C3%28",
        "namespace=a%00b",
        "namespace=a%1b%5b2J",
        "workspace_id=%0d%0aX-Injected:%201",
        "sort_dir=%7f",
        "%ff=1",
        "name=\u{1b}[2J",
    ] {
        rejected(query);
    }
}

/// Found by the `query_string` fuzz target: 64 DEL characters, each escaped
/// to six bytes, in the longest message (the unsortable-field one).
#[test]
fn fuzz_regression_escaped_value_in_the_longest_message_stays_bounded() {
    let query = format!("sort_key===={}%3D%8B%84======", "%7F".repeat(70));
    let err = rejected(&query);
    assert_eq!(err.error_code(), "ModelArts.6303");
    assert!(err.to_string().contains("\\u{7f}"), "{err}");
    assert!(
        err.to_string().len() > 600,
        "no longer the long case: {err}"
    );
}

#[test]
fn a_thousand_repeated_sort_fields_is_one_error() {
    let err = rejected(&format!("sort_key={}", vec!["name"; 1000].join(",")));
    assert_eq!(err.error_code(), "ModelArts.0104");
    let err = rejected(&format!("sort_key={}", vec!["nope"; 1000].join(",")));
    assert_eq!(err.error_code(), "ModelArts.6303");
}

#[test]
fn numbers_past_64_bits_are_out_of_range() {
    for query in [
        format!("offset={}", "9".repeat(100)),
        format!("limit={}", "1".repeat(30)),
        "limit=18446744073709551616".to_string(),
    ] {
        let err = rejected(&query);
        assert!(err.to_string().contains("must be an integer"), "{err}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any string is a query or a ModelArts error, never a panic.
    #[test]
    fn arbitrary_query_strings_never_panic(s in "\\PC{0,64}|[a-z_=&%0-9A-F,.+-]{0,80}") {
        match GroupQuery::from_query_string(&s) {
            Ok(q) => prop_assert_eq!(q.to_string().parse::<GroupQuery>().unwrap(), q),
            Err(_) => { rejected(&s); }
        }
    }

    /// Any strings and numbers in records: the engine answers, as the model does.
    #[test]
    fn arbitrary_records_never_panic_the_engine(
        records in prop::collection::vec(
            ("\\PC{0,8}", "\\PC{0,4}", "\\PC{0,2}", any::<i64>(), any::<i64>()),
            0..40,
        ),
        query in "(name=[a-z]{1,2}&)?(sort_key=name&)?limit=[1-9]",
    ) {
        let records: Vec<ImageVersion> = records
            .into_iter()
            .map(|(name, ns, ws, c, u)| version(&name, &ns, c, u).with_workspace_id(ws))
            .collect();
        let q: GroupQuery = query.parse().unwrap();
        prop_assert_eq!(group_images(&records, &q), reference::reference(&records, &q));
    }
}
