//! The engine: arbitrary records and an arbitrary valid query give the page of
//! the naive reference model (the one the proptest properties use).
#![no_main]

#[path = "../../tests/support/reference.rs"]
mod reference;

use arbitrary::Arbitrary;
use image_groups::{
    group_images, GroupQuery, ImageType, ImageVersion, ServiceType, SortDir, SortField,
};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Record {
    name: String,
    namespace: String,
    workspace: u8,
    image_type: bool,
    service_type: u8,
    create_at: i64,
    update_at: i64,
}

#[derive(Arbitrary, Debug)]
struct Query {
    name: String,
    fuzzy: bool,
    namespace: Option<String>,
    image_type: Option<bool>,
    service_type: Option<u8>,
    workspace: u8,
    offset: u32,
    limit: u32,
    sort_key: Vec<u8>,
    desc: bool,
}

#[derive(Arbitrary, Debug)]
struct Input {
    records: Vec<Record>,
    query: Query,
}

const WORKSPACES: [&str; 3] = ["0", "ws1", ""];

fn service(n: u8) -> ServiceType {
    ServiceType::ALL[usize::from(n) % ServiceType::ALL.len()]
}

fn image_type(b: bool) -> ImageType {
    if b {
        ImageType::BuildIn
    } else {
        ImageType::Dedicated
    }
}

/// A valid query from arbitrary parts: a part that breaks its rule is left out.
fn query(q: &Query) -> GroupQuery {
    let mut out = GroupQuery::new()
        .with_name_fuzzy_match(q.fuzzy)
        .with_image_type(q.image_type.map(image_type))
        .with_service_type(q.service_type.map(service))
        .with_sort_dir(if q.desc { SortDir::Desc } else { SortDir::Asc });
    let name: String = q.name.to_ascii_lowercase().chars().take(8).collect();
    out = out.clone().with_name(name.as_str()).unwrap_or(out);
    if let Some(ns) = &q.namespace {
        out = out.clone().with_namespace(ns.as_str()).unwrap_or(out);
    }
    out = out
        .clone()
        .with_workspace_id(WORKSPACES[usize::from(q.workspace) % 2])
        .unwrap_or(out);
    out = out
        .clone()
        .with_offset(u32::from(q.offset % 64))
        .unwrap_or(out);
    out = out
        .clone()
        .with_limit(u32::from(q.limit % 16))
        .unwrap_or(out);
    let mut fields = Vec::new();
    for &f in &q.sort_key {
        let field = SortField::ALL[usize::from(f) % SortField::ALL.len()];
        if !fields.contains(&field) {
            fields.push(field);
        }
    }
    out.clone().with_sort_key(fields).unwrap_or(out)
}

fuzz_target!(|input: Input| {
    let records: Vec<ImageVersion> = input
        .records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let (name, namespace) = (r.name.clone(), r.namespace.clone());
            ImageVersion::new(i.to_string(), name, namespace, image_type(r.image_type), r.create_at, r.update_at)
                .with_workspace_id(WORKSPACES[usize::from(r.workspace) % WORKSPACES.len()])
                .with_service_type(service(r.service_type))
        })
        .collect();
    let q = query(&input.query);
    assert_eq!(
        group_images(&records, &q),
        reference::reference(&records, &q),
        "{q}"
    );
});
