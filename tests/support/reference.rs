//! The deliberately naive reference model of the crate docs' "Filter" to "Response": plain loops, a
//! BTreeMap, a full sort with the comparator of "Order and paging", a slice. Shared by the
//! proptest properties (`tests/reference_model.rs`) and the engine fuzz
//! target (`fuzz/`), which include this file by path.
#![allow(dead_code)]

use std::cmp::Ordering;
use std::collections::BTreeMap;

use image_groups::{GroupQuery, ImageGroup, ImageGroupPage, ImageVersion, SortDir, SortField};

pub fn reference_matches(v: &ImageVersion, q: &GroupQuery) -> bool {
    let name_ok = match q.name() {
        None => true,
        Some(n) if q.name_fuzzy_match() => v.name.to_ascii_lowercase().contains(n),
        Some(n) => v.name == n,
    };
    v.workspace_id == q.workspace_id()
        && (q.image_type().is_none() || q.image_type() == Some(v.image_type))
        && (q.service_type().is_none() || q.service_type() == Some(v.service_type))
        && (q.namespace().is_none() || q.namespace() == Some(v.namespace.as_str()))
        && (q.swr_instance_id().is_none() || q.swr_instance_id() == v.swr_instance_id.as_deref())
        && name_ok
}

pub fn reference_all_groups(records: &[ImageVersion], q: &GroupQuery) -> Vec<ImageGroup> {
    // (name, namespace, SWR instance) to (count, min create_at, max update_at).
    type Key = (String, String, Option<String>);
    let mut groups: BTreeMap<Key, (u64, i64, i64)> = BTreeMap::new();
    for v in records {
        if reference_matches(v, q) {
            let g = groups
                .entry((
                    v.name.clone(),
                    v.namespace.clone(),
                    v.swr_instance_id.clone(),
                ))
                .or_insert((0, i64::MAX, i64::MIN));
            g.0 += 1;
            g.1 = g.1.min(v.create_at);
            g.2 = g.2.max(v.update_at);
        }
    }
    let mut rows: Vec<ImageGroup> = groups
        .into_iter()
        .map(|((name, namespace, instance), (count, create, update))| {
            // The output types are non-exhaustive: built from the API's JSON.
            let mut group = serde_json::json!({
                "create_at": create, "name": name, "namespace": namespace,
                "update_at": update, "version_count": count,
            });
            if let Some(instance) = instance {
                group["swr_instance_id"] = instance.into();
            }
            serde_json::from_value(group).unwrap()
        })
        .collect();
    rows.sort_by(|a, b| {
        let mut ord = Ordering::Equal;
        for field in q.sort_key() {
            let o = match field {
                SortField::Name => a.name.as_bytes().cmp(b.name.as_bytes()),
                SortField::Namespace => a.namespace.as_bytes().cmp(b.namespace.as_bytes()),
                SortField::VersionCount => a.version_count.cmp(&b.version_count),
                SortField::CreateAt => a.create_at.cmp(&b.create_at),
                SortField::UpdateAt => a.update_at.cmp(&b.update_at),
                other => panic!("the reference model does not know {other}"),
            };
            ord = ord.then(if q.sort_dir() == SortDir::Desc {
                o.reverse()
            } else {
                o
            });
        }
        ord.then(a.name.as_bytes().cmp(b.name.as_bytes()))
            .then(a.namespace.as_bytes().cmp(b.namespace.as_bytes()))
            .then(a.swr_instance_id.cmp(&b.swr_instance_id))
    });
    rows
}

pub fn reference(records: &[ImageVersion], q: &GroupQuery) -> ImageGroupPage {
    let all = reference_all_groups(records, q);
    let total = all.len() as u64;
    let limit = q.limit() as u64;
    let offset = q.offset() as u64;
    let data: Vec<ImageGroup> = all
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .collect();
    let pages = if total % limit == 0 {
        total / limit
    } else {
        total / limit + 1
    };
    serde_json::from_value(serde_json::json!({
        "current": offset / limit + 1, "data": data, "pages": pages,
        "size": data.len(), "total": total,
    }))
    .unwrap()
}
