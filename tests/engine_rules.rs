//! The crate docs' "Filter", "Groups", "Order and paging" and "Response",
//! one test per rule: which versions match, how they group, how groups are
//! ordered and how the page is cut.

mod common;

use common::{keys, version};
use image_groups::{group_images, GroupQuery, ImageType, ImageVersion, ServiceType};

fn run(records: &[ImageVersion], query: &str) -> image_groups::ImageGroupPage {
    group_images(records, &query.parse().unwrap())
}

fn names(records: &[ImageVersion], query: &str) -> Vec<String> {
    run(records, query)
        .data
        .into_iter()
        .map(|g| g.name)
        .collect()
}

// ---- Filter ----

#[test]
fn a_query_sees_exactly_one_workspace_default_0() {
    let mut other = version("b", "ns", 0, 0);
    other.workspace_id = "ws1".into();
    let records = vec![version("a", "ns", 0, 0), other];
    assert_eq!(names(&records, ""), ["a"]);
    assert_eq!(names(&records, "workspace_id=ws1"), ["b"]);
    assert!(names(&records, "workspace_id=WS1").is_empty());
}

#[test]
fn swr_instance_filter_sees_one_instance_and_its_absence_sees_all() {
    let records = vec![
        version("shared", "ns", 0, 0),
        version("in-a", "ns", 0, 0).with_swr_instance_id("inst-a"),
        version("in-b", "ns", 0, 0).with_swr_instance_id("inst-b"),
    ];
    assert_eq!(
        names(&records, "sort_key=name&sort_dir=asc"),
        ["in-a", "in-b", "shared"]
    );
    assert_eq!(names(&records, "swr_instance_id=inst-a"), ["in-a"]);
    assert!(names(&records, "swr_instance_id=INST-A").is_empty());
}

#[test]
fn type_filter_equals_the_version_type() {
    let mut built_in = version("b", "ns", 0, 0);
    built_in.image_type = ImageType::BuildIn;
    let records = vec![version("a", "ns", 0, 0), built_in];
    assert_eq!(names(&records, "type=DEDICATED"), ["a"]);
    assert_eq!(names(&records, "type=BUILD_IN"), ["b"]);
    assert_eq!(run(&records, "").total, 2);
}

#[test]
fn service_type_filter_treats_absent_as_unknown() {
    let records = image_groups::parse_records(concat!(
        r#"{"id":"1","name":"absent","namespace":"ns","type":"DEDICATED","create_at":0,"update_at":0}"#, "\n",
        r#"{"id":"2","name":"train","namespace":"ns","type":"DEDICATED","create_at":0,"update_at":0,"service_type":"TRAIN"}"#, "\n",
        r#"{"id":"3","name":"unknown","namespace":"ns","type":"DEDICATED","create_at":0,"update_at":0,"service_type":"UNKNOWN"}"#, "\n",
    ))
    .unwrap();
    assert_eq!(
        names(&records, "service_type=UNKNOWN&sort_key=name&sort_dir=asc"),
        ["absent", "unknown"]
    );
    assert_eq!(names(&records, "service_type=TRAIN"), ["train"]);
    assert!(names(&records, "service_type=DEV").is_empty());
}

#[test]
fn namespace_filter_is_byte_for_byte() {
    let records = vec![
        version("a", "team", 0, 0),
        version("b", "Team", 0, 0),
        version("c", "team2", 0, 0),
    ];
    assert_eq!(names(&records, "namespace=team"), ["a"]);
    assert_eq!(names(&records, "namespace=tEam"), Vec::<String>::new());
}

#[test]
fn fuzzy_name_is_an_ascii_case_insensitive_substring() {
    let records = vec![
        version("PyTorch", "ns", 0, 4),
        version("torch", "ns", 0, 3),
        version("TORCH_2", "ns", 0, 2),
        version("tensorflow", "ns", 0, 1),
        version("TÖRCH", "ns", 0, 0),
    ];
    assert_eq!(
        names(&records, "name=torch"),
        ["PyTorch", "torch", "TORCH_2"]
    );
    assert_eq!(
        names(&records, "name=torch&name_fuzzy_match=true"),
        ["PyTorch", "torch", "TORCH_2"]
    );
    assert_eq!(names(&records, "name=h_2"), ["TORCH_2"]);
}

#[test]
fn exact_name_is_byte_for_byte() {
    let records = vec![version("PyTorch", "ns", 0, 1), version("torch", "ns", 0, 0)];
    assert_eq!(
        names(&records, "name=torch&name_fuzzy_match=false"),
        ["torch"]
    );
    assert!(names(&records, "name=pytorch&name_fuzzy_match=false").is_empty());
}

#[test]
fn name_fuzzy_match_without_name_filters_nothing() {
    let records = vec![version("a", "ns", 0, 0)];
    assert_eq!(run(&records, "name_fuzzy_match=false").total, 1);
}

#[test]
fn all_filters_must_hold_together() {
    let mut v = version("pytorch", "ml", 0, 0);
    v.service_type = ServiceType::Train;
    let records = vec![v];
    assert_eq!(
        run(
            &records,
            "name=torch&namespace=ml&type=DEDICATED&service_type=TRAIN"
        )
        .total,
        1
    );
    let all = "name=torch&namespace=ml&type=DEDICATED&service_type=TRAIN&workspace_id=0";
    for (hit, miss) in [
        ("name=torch", "name=tf"),
        ("namespace=ml", "namespace=ml2"),
        ("type=DEDICATED", "type=BUILD_IN"),
        ("service_type=TRAIN", "service_type=DEV"),
        ("workspace_id=0", "workspace_id=x"),
    ] {
        assert_eq!(run(&records, &all.replace(hit, miss)).total, 0, "{miss}");
    }
}

// ---- Groups ----

#[test]
fn groups_are_keyed_by_namespace_and_name() {
    let records = vec![
        version("torch", "a", 0, 0),
        version("torch", "b", 0, 0),
        version("torch", "a", 0, 0),
    ];
    let page = run(&records, "sort_key=namespace&sort_dir=asc");
    assert_eq!(
        keys(&page),
        [("torch".into(), "a".into()), ("torch".into(), "b".into())]
    );
    assert_eq!(page.data[0].version_count, 2);
    assert_eq!(page.data[1].version_count, 1);
}

#[test]
fn one_repository_in_two_swr_instances_is_two_groups_ordered_shared_first() {
    let records = vec![
        version("torch", "ns", 1, 1).with_swr_instance_id("inst-b"),
        version("torch", "ns", 2, 2),
        version("torch", "ns", 3, 3).with_swr_instance_id("inst-a"),
        version("torch", "ns", 4, 4).with_swr_instance_id("inst-a"),
    ];
    // Same update_at everywhere would tie; order by name: name and
    // namespace tie too, and the instance decides (none first).
    let page = run(&records, "sort_key=name");
    let instances: Vec<Option<&str>> = page
        .data
        .iter()
        .map(|g| g.swr_instance_id.as_deref())
        .collect();
    assert_eq!(instances, [None, Some("inst-a"), Some("inst-b")]);
    assert_eq!(page.data[1].version_count, 2);
    // Paging through one group at a time meets each exactly once.
    let walked: Vec<Option<String>> = (0..3)
        .map(|offset| run(&records, &format!("sort_key=name&limit=1&offset={offset}")))
        .map(|p| p.data[0].swr_instance_id.clone())
        .collect();
    assert_eq!(walked, [None, Some("inst-a".into()), Some("inst-b".into())]);
}

#[test]
fn a_group_carries_swr_instance_id_only_when_it_has_one() {
    let records = vec![
        version("a", "ns", 0, 0),
        version("b", "ns", 0, 0).with_swr_instance_id("inst-a"),
    ];
    let page = serde_json::to_value(run(&records, "sort_key=name&sort_dir=asc")).unwrap();
    assert!(page["data"][0].get("swr_instance_id").is_none());
    assert_eq!(page["data"][1]["swr_instance_id"], "inst-a");
}

#[test]
fn group_reports_min_create_and_max_update_of_matching_versions() {
    let mut not_matching = version("torch", "ns", -100, 100);
    not_matching.image_type = ImageType::BuildIn;
    let records = vec![
        version("torch", "ns", 10, 20),
        version("torch", "ns", 5, 15),
        version("torch", "ns", 30, 7), // update before create: kept as given
        not_matching,
    ];
    let g = &run(&records, "type=DEDICATED").data[0];
    assert_eq!((g.create_at, g.update_at, g.version_count), (5, 20, 3));
    let g = &run(&records, "").data[0];
    assert_eq!((g.create_at, g.update_at, g.version_count), (-100, 100, 4));
}

#[test]
fn a_group_exists_only_if_a_version_matches() {
    let mut other = version("b", "ns", 0, 0);
    other.image_type = ImageType::BuildIn;
    let records = vec![version("a", "ns", 0, 0), other];
    let page = run(&records, "type=DEDICATED");
    assert_eq!((page.total, page.pages), (1, 1));
}

#[test]
fn duplicate_records_are_counted_as_given() {
    let v = version("a", "ns", 0, 0);
    let records = vec![v.clone(), v.clone(), v];
    assert_eq!(run(&records, "").data[0].version_count, 3);
}

#[test]
fn extreme_timestamps_are_kept_exactly() {
    let records = vec![
        version("a", "ns", i64::MIN, i64::MIN),
        version("a", "ns", i64::MAX, i64::MAX),
    ];
    let g = &run(&records, "").data[0];
    assert_eq!((g.create_at, g.update_at), (i64::MIN, i64::MAX));
    assert_eq!(g.create_time(), None);
    assert_eq!(g.update_time(), None);
}

// ---- Order and paging ----

fn ordered() -> Vec<ImageVersion> {
    vec![
        version("b", "y", 1, 30),
        version("a", "z", 2, 30),
        version("a", "y", 3, 10),
        version("c", "x", 0, 20),
        version("c", "x", 9, 5),
    ]
}

#[test]
fn default_order_is_update_at_desc_then_name_then_namespace() {
    let page = run(&ordered(), "");
    assert_eq!(
        keys(&page),
        [("a", "z"), ("b", "y"), ("c", "x"), ("a", "y")]
            .map(|(n, s)| (n.to_string(), s.to_string()))
    );
}

#[test]
fn each_sort_field_orders_in_sort_dir_with_ascending_tie_breaks() {
    let r = ordered();
    assert_eq!(
        names(&r, "sort_key=name&sort_dir=desc"),
        ["c", "b", "a", "a"]
    );
    assert_eq!(
        keys(&run(&r, "sort_key=name&sort_dir=desc"))[2].1,
        "y",
        "namespace breaks the tie ascending"
    );
    assert_eq!(
        names(&r, "sort_key=name&sort_dir=asc"),
        ["a", "a", "b", "c"]
    );
    assert_eq!(
        keys(&run(&r, "sort_key=namespace&sort_dir=asc")),
        keys(&run(&r, "sort_key=namespace,name&sort_dir=asc"))
    );
    assert_eq!(names(&r, "sort_key=namespace"), ["a", "a", "b", "c"]); // z, then y (a before b), then x
    assert_eq!(names(&r, "sort_key=version_count"), ["c", "a", "a", "b"]);
    assert_eq!(
        names(&r, "sort_key=version_count&sort_dir=asc"),
        ["a", "a", "b", "c"]
    );
    assert_eq!(
        names(&r, "sort_key=create_at&sort_dir=asc"),
        ["c", "b", "a", "a"]
    );
    assert_eq!(names(&r, "sort_key=createTime"), ["a", "a", "b", "c"]);
    assert_eq!(
        names(&r, "sort_key=update_at&sort_dir=asc"),
        ["a", "c", "a", "b"]
    );
}

#[test]
fn sort_fields_apply_in_turn() {
    let r = vec![
        version("a", "ns", 0, 1),
        version("b", "ns", 0, 2),
        version("b", "ns", 0, 2),
        version("c", "ns", 0, 3),
    ];
    assert_eq!(
        names(&r, "sort_key=version_count,update_at"),
        ["b", "c", "a"]
    );
    assert_eq!(
        names(&r, "sort_key=version_count,update_at&sort_dir=asc"),
        ["a", "c", "b"]
    );
}

#[test]
fn strings_compare_byte_wise() {
    let r = vec![
        version("b", "ns", 0, 0),
        version("B", "ns", 0, 0),
        version("é", "ns", 0, 0),
        version("", "ns", 0, 0),
    ];
    assert_eq!(names(&r, "sort_key=name&sort_dir=asc"), ["", "B", "b", "é"]);
}

// ---- Response: the page ----

fn many(n: usize) -> Vec<ImageVersion> {
    (0..n)
        .map(|i| version(&format!("img{i:03}"), "ns", 0, i as i64))
        .collect()
}

#[test]
fn page_fields_follow_offset_and_limit() {
    let r = many(10);
    let page = run(&r, "limit=3&offset=4&sort_key=name&sort_dir=asc");
    assert_eq!(
        (page.current, page.pages, page.size, page.total),
        (2, 4, 3, 10)
    );
    assert_eq!(
        names(&r, "limit=3&offset=4&sort_key=name&sort_dir=asc"),
        ["img004", "img005", "img006"]
    );
    let last = run(&r, "limit=3&offset=9");
    assert_eq!((last.current, last.size), (4, 1));
}

#[test]
fn offset_past_the_end_is_an_empty_page_not_an_error() {
    let page = run(&many(5), "offset=5");
    assert_eq!(
        (page.current, page.pages, page.size, page.total),
        (1, 1, 0, 5)
    );
    assert!(page.data.is_empty());
    let page = run(&many(5), "offset=2147483647&limit=2147483647");
    assert_eq!(
        (page.current, page.pages, page.size, page.total),
        (2, 1, 0, 5)
    );
    let page = run(&many(5), "offset=2147483647&limit=1");
    assert_eq!((page.current, page.pages, page.size), (2147483648, 5, 0));
}

#[test]
fn no_groups_means_zero_pages() {
    let page = run(&[], "offset=7&limit=3");
    assert_eq!(
        (page.current, page.pages, page.size, page.total),
        (3, 0, 0, 0)
    );
}

#[test]
fn default_limit_is_200() {
    let page = run(&many(250), "");
    assert_eq!((page.size, page.pages, page.total), (200, 2, 250));
}

#[test]
fn accepts_slices_vecs_and_iterators() {
    let r = many(4);
    let q = GroupQuery::default();
    let from_vec = group_images(&r, &q);
    assert_eq!(group_images(r.as_slice(), &q), from_vec);
    assert_eq!(group_images(r.iter(), &q), from_vec);
    assert_eq!(
        group_images(r.iter().filter(|v| v.update_at > 1), &q).total,
        2
    );
}
