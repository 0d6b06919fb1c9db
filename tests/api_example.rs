//! The API page's example (crate docs, "Response"), reproduced exactly: its three images in,
//! the empty query, its page out.

use image_groups::{group_images, parse_records, GroupQuery, ImageGroupPage};

/// The example response of `ListImageGroup.html`, verbatim.
const API_EXAMPLE_RESPONSE: &str = r#"{
  "current" : 1,
  "data" : [ {
    "create_at" : 1652878011643,
    "name" : "123",
    "namespace" : "cnnorth7-infer-model-dev",
    "update_at" : 1652878531791,
    "version_count" : 1
  }, {
    "create_at" : 1671708630448,
    "name" : "pytorch_1_8",
    "namespace" : "op_svc_modelarts_container2",
    "update_at" : 1671708630448,
    "version_count" : 1
  }, {
    "create_at" : 1671093486722,
    "name" : "mock-service-python",
    "namespace" : "mock-service1",
    "update_at" : 1671093486722,
    "version_count" : 1
  } ],
  "pages" : 1,
  "size" : 3,
  "total" : 3
}"#;

/// The example's three images as records (the example program's bundled sample).
const SAMPLE: &str = include_str!("../examples/data/sample.json");

fn answer() -> ImageGroupPage {
    let records = parse_records(SAMPLE).unwrap();
    assert_eq!(records.len(), 3);
    group_images(&records, &GroupQuery::from_query_string("").unwrap())
}

#[test]
fn envelope_matches_the_example() {
    let page = answer();
    assert_eq!(
        (page.current, page.pages, page.size, page.total),
        (1, 1, 3, 3)
    );
}

#[test]
fn groups_are_the_examples_own() {
    let example: ImageGroupPage = serde_json::from_str(API_EXAMPLE_RESPONSE).unwrap();
    let mut ours = answer().data;
    let mut theirs = example.data;
    ours.sort_by(|a, b| a.name.cmp(&b.name));
    theirs.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(ours, theirs);
}

#[test]
fn default_order_is_update_at_descending() {
    let names: Vec<String> = answer().data.into_iter().map(|g| g.name).collect();
    assert_eq!(names, ["pytorch_1_8", "mock-service-python", "123"]);
}

/// The serialized text, field order included, is the example's text with its
/// white space removed and its groups put in the default order.
#[test]
fn serialized_text_matches_the_example_field_for_field() {
    let compact: String = API_EXAMPLE_RESPONSE
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let (head, rest) = compact.split_once("\"data\":[").unwrap();
    let (groups, tail) = rest.split_once("}],").unwrap();
    let groups: Vec<String> = groups
        .trim_start_matches('{')
        .split("},{")
        .map(|g| format!("{{{g}}}"))
        .collect();
    assert_eq!(groups.len(), 3);
    // The example lists 123, pytorch_1_8, mock-service-python; by update_at
    // descending they come pytorch_1_8, mock-service-python, 123.
    let reordered = [&groups[1], &groups[2], &groups[0]]
        .map(String::as_str)
        .join(",");
    let expected = format!("{head}\"data\":[{reordered}],{tail}");
    assert_eq!(serde_json::to_string(&answer()).unwrap(), expected);
}
