//! The catalog: arbitrary sequences of upserts and removes, after each of
//! which a query answers what `group_images` answers over a plain map.
#![no_main]

use std::collections::HashMap;

use arbitrary::Arbitrary;
use image_groups::{group_images, Catalog, GroupQuery, ImageType, ImageVersion, ServiceType};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Op {
    Upsert {
        id: u8,
        name: String,
        namespace: u8,
        workspace: bool,
        build_in: bool,
        service: u8,
        /// The shared SWR (0) or one of three instances.
        instance: u8,
        create_at: i64,
        update_at: i64,
    },
    Remove(u8),
}

#[derive(Arbitrary, Debug)]
struct Input {
    ops: Vec<Op>,
    query: u8,
}

const QUERIES: [&str; 8] = [
    "",
    "limit=3&offset=1&sort_key=name",
    "name=a&sort_key=version_count,create_at&sort_dir=asc",
    "workspace_id=w&type=BUILD_IN",
    "service_type=UNKNOWN&namespace=ns1&limit=2147483647",
    "name=ab&name_fuzzy_match=false",
    "swr_instance_id=i1&sort_key=version_count",
    "swr_instance_id=i2&name=a&sort_key=name&limit=2",
];

fuzz_target!(|input: Input| {
    let query: GroupQuery = QUERIES[usize::from(input.query) % QUERIES.len()].parse().unwrap();
    let mut catalog = Catalog::new();
    let mut model: HashMap<String, ImageVersion> = HashMap::new();
    for op in input.ops.into_iter().take(200) {
        match op {
            Op::Upsert { id, name, namespace, workspace, build_in, service, instance, create_at, update_at } => {
                let image_type = if build_in { ImageType::BuildIn } else { ImageType::Dedicated };
                let namespace = format!("ns{}", namespace % 3);
                let mut v = ImageVersion::new(id.to_string(), name, namespace, image_type, create_at, update_at)
                    .with_workspace_id(if workspace { "w" } else { "0" })
                    .with_service_type(ServiceType::ALL[usize::from(service) % ServiceType::ALL.len()]);
                v.swr_instance_id = Some(instance % 4).filter(|&i| i > 0).map(|i| format!("i{i}"));
                assert_eq!(catalog.upsert(v.clone()), model.insert(v.id.clone(), v));
            }
            Op::Remove(id) => {
                assert_eq!(catalog.remove(&id.to_string()), model.remove(&id.to_string()));
            }
        }
        assert_eq!(catalog.query(&query), group_images(model.values(), &query));
    }
});
