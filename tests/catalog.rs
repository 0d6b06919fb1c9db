//! `Catalog`: after any sequence of upserts and removes, every query answers
//! what `group_images` answers over a plain `HashMap<id, ImageVersion>` model.

#[path = "support/generators.rs"]
mod generators;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use generators::{query, record};
use image_groups::{group_images, Catalog, GroupQuery, ImageType, ImageVersion};
use proptest::prelude::*;
use proptest::sample::select;

#[derive(Debug, Clone)]
enum Op {
    /// Upsert a version under one of a few ids, so that most upserts replace
    /// a version, often moving it to another group, workspace or type.
    Upsert(u8, Option<String>, ImageVersion),
    /// Remove an id, present or not.
    Remove(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u8..24, prop::option::of("[a-z0-9.]{0,4}"), record())
            .prop_map(|(id, tag, v)| Op::Upsert(id, tag, v)),
        1 => (0u8..30).prop_map(Op::Remove),
    ]
}

/// Every query's page from `catalog` equals the model's; `when` names the
/// moment in a failure.
fn assert_pages(
    catalog: &Catalog,
    model: &HashMap<String, ImageVersion>,
    queries: &[GroupQuery],
    when: &str,
) {
    for q in queries {
        assert_eq!(catalog.query(q), model_page(model, q), "{when}: {q}");
    }
}

fn model_page(
    model: &HashMap<String, ImageVersion>,
    q: &GroupQuery,
) -> image_groups::ImageGroupPage {
    group_images(model.values(), q)
}

/// The queries of `texts`, parsed (each a valid query string).
fn parsed(texts: &[&str]) -> Vec<GroupQuery> {
    texts.iter().map(|q| q.parse().unwrap()).collect()
}

/// A model of the catalog: `versions` by id, the last of an id kept.
fn by_id(versions: impl IntoIterator<Item = ImageVersion>) -> HashMap<String, ImageVersion> {
    versions.into_iter().map(|v| (v.id.clone(), v)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn catalog_equals_group_images_over_the_model_after_every_step(
        ops in prop::collection::vec(op(), 1..60),
        queries in prop::collection::vec(query(), 3),
    ) {
        let mut catalog = Catalog::new();
        let mut model: HashMap<String, ImageVersion> = HashMap::new();
        for op in ops {
            match op {
                Op::Upsert(id, tag, mut v) => {
                    v.id = format!("id-{id}");
                    v.tag = tag;
                    prop_assert_eq!(catalog.upsert(v.clone()), model.insert(v.id.clone(), v));
                }
                Op::Remove(id) => {
                    let id = format!("id-{id}");
                    prop_assert_eq!(catalog.remove(&id), model.remove(&id));
                }
            }
            prop_assert_eq!(catalog.len(), model.len());
            prop_assert_eq!(catalog.is_empty(), model.is_empty());
            for q in &queries {
                prop_assert_eq!(catalog.query(q), model_page(&model, q), "{}", q);
            }
        }
        for (id, v) in &model {
            prop_assert_eq!(catalog.get(id).map(|lent| lent.to_version()), Some(v.clone()));
        }
        prop_assert!(catalog.get("absent").is_none());
    }

    #[test]
    fn from_records_keeps_the_last_version_of_each_id(
        records in prop::collection::vec((0u8..10, record()), 0..40),
        q in query(),
    ) {
        let records: Vec<ImageVersion> = records
            .into_iter()
            .map(|(id, mut v)| {
                v.id = format!("id-{id}");
                v
            })
            .collect();
        let mut model = HashMap::new();
        for v in &records {
            model.insert(v.id.clone(), v.clone());
        }
        let catalog = Catalog::from_records(records);
        prop_assert_eq!(catalog.query(&q), model_page(&model, &q));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Hundreds of versions over a handful of groups: cells grow past the
    /// size where they switch from member lists to ordered multisets, and
    /// shrink again, with extremes removed along the way.
    #[test]
    fn large_groups_keep_exact_extremes(
        ops in prop::collection::vec(
            (0u16..300, prop::bool::weighted(0.1), select(ImageType::ALL), -9999i64..9999, -9999i64..9999, prop::bool::weighted(0.3)),
            400..700,
        ),
        queries in prop::collection::vec(query(), 4),
    ) {
        let mut catalog = Catalog::new();
        let mut model: HashMap<String, ImageVersion> = HashMap::new();
        for (i, (id, name, image_type, create_at, update_at, remove)) in ops.into_iter().enumerate() {
            let id = format!("id-{id}");
            if remove {
                prop_assert_eq!(catalog.remove(&id), model.remove(&id));
            } else {
                let mut v = common_version(create_at, update_at);
                v.id = id.clone();
                v.name = if name { "tf" } else { "torch" }.into();
                v.image_type = image_type;
                prop_assert_eq!(catalog.upsert(v.clone()), model.insert(id, v));
            }
            if i % 10 == 0 {
                for q in &queries {
                    prop_assert_eq!(catalog.query(q), model_page(&model, q), "{}", q);
                }
            }
        }
        for q in &queries {
            prop_assert_eq!(catalog.query(q), model_page(&model, q), "{}", q);
        }
    }
}

/// Fuzzy names over names with NUL bytes, upper case and non-ASCII, in a
/// bulk-loaded workspace of enough groups that the folded names carry group
/// numbers of several bytes, then after upserts that add and drop groups:
/// every page is the scan's.
#[test]
fn fuzzy_names_with_nul_bytes_over_many_groups() {
    let name = |g: u32| match g % 4 {
        0 => format!("a\0TORCH{g}"),
        1 => format!("Ä-torch\0{g}"),
        2 => format!("tf{g}"),
        _ => format!("x{g}\0"),
    };
    let version = |id: u32, g: u32| {
        let t = i64::from(id);
        let image_type = ImageType::ALL[(g % 3 % 2) as usize];
        ImageVersion::new(format!("id-{id}"), name(g), "ns", image_type, t, t)
    };
    let mut model = by_id((0..40_000u32).map(|i| version(i, i / 2)));
    let mut catalog = Catalog::from_records(model.values().cloned());
    let queries = parsed(&[
        "name=torch&limit=1000",
        "name=torch1&type=DEDICATED&offset=100&limit=50",
        "name=0&sort_key=name&limit=30",
        "name=x1&sort_key=version_count",
        "name=a&limit=5",
    ]);
    for round in 0..2u32 {
        assert_pages(&catalog, &model, &queries, &format!("round {round}"));
        for i in (0..40_000u32).step_by(7) {
            let v = version(i, 20_000 + i + round);
            model.insert(v.id.clone(), v.clone());
            catalog.upsert(v);
        }
    }
}

/// A catalog large enough that a fuzzy name is searched on two threads (the
/// folded names past a few MB) and a short page over many groups is put in
/// order on two (tens of thousands of matching groups): after removals
/// that leave dead entries, upserts that give groups versions of the other
/// type or take a type's last version away, and with non-ASCII names, every
/// page is the scan's.
#[test]
fn large_fuzzy_and_unfiltered_pages_on_two_threads() {
    let name = |g: u32| match g % 3 {
        0 => format!("PyTorch-infer_{g}"),
        1 => format!("Ä-tf-serving_{g}"),
        _ => format!("torchvision-ä{g}"),
    };
    let version = |id: u32, g: u32, image_type: ImageType| {
        let t = i64::from(id % 1000);
        ImageVersion::new(format!("id-{id}"), name(g), "ns", image_type, t, t)
    };
    let groups = 150_000u32;
    let mut model = by_id(
        (0..groups + 20_000).map(|i| version(i, i % groups, ImageType::ALL[(i % 5 % 2) as usize])),
    );
    let mut catalog = Catalog::from_records(model.values().cloned());
    let queries = parsed(&[
        "name=torch&type=DEDICATED",
        "name=torch&type=BUILD_IN&offset=300&limit=100",
        "name=torch",
        "name=serving_1&sort_key=version_count",
        "sort_key=version_count",
        "sort_key=version_count&sort_dir=asc&offset=40&limit=60",
        "type=BUILD_IN&sort_key=create_at",
    ]);
    for round in 0..2u32 {
        assert_pages(&catalog, &model, &queries, &format!("round {round}"));
        // Dead entries (too few for the buffer to be rebuilt) and versions
        // moved to the other type.
        for i in (round..groups).step_by(11) {
            let id = format!("id-{i}");
            assert_eq!(catalog.remove(&id), model.remove(&id));
        }
        for i in (groups..groups + 20_000).step_by(3) {
            let v = version(
                i,
                i % groups,
                ImageType::ALL[((i + round + 1) % 2) as usize],
            );
            model.insert(v.id.clone(), v.clone());
            catalog.upsert(v);
        }
    }
}

/// Removing a group's last version of one type, the group keeping versions
/// of the other, takes it out of the fuzzy pages of that type (the type
/// filter of a fuzzy name reads which types a group has from its folded
/// name) and keeps it in the other's.
#[test]
fn removing_a_types_last_version_takes_the_group_out_of_fuzzy_pages_of_it() {
    let version = |id: &str, image_type| ImageVersion::new(id, "PyTorch", "ns", image_type, 1, 2);
    let mut catalog = Catalog::from_records([
        version("a", ImageType::Dedicated),
        version("b", ImageType::BuildIn),
    ]);
    catalog.upsert(version("c", ImageType::Dedicated));
    let mut model: HashMap<String, ImageVersion> = catalog
        .versions()
        .map(|v| (v.id().to_owned(), v.to_version()))
        .collect();
    let queries = parsed(&["name=torch&type=DEDICATED", "name=torch&type=BUILD_IN"]);
    for id in ["b", "a", "c"] {
        assert_eq!(catalog.remove(id), model.remove(id));
        assert_pages(&catalog, &model, &queries, &format!("without {id}"));
    }
    for q in &queries {
        assert_eq!(catalog.query(q).total, 0, "{q}");
    }
}

/// Many long names come and go, so the folded-name buffer of fuzzy queries
/// is rebuilt several times; fuzzy and name-ordered pages stay right.
#[test]
fn fuzzy_names_survive_the_name_buffer_rebuilds() {
    let mut catalog = Catalog::new();
    let mut model: HashMap<String, ImageVersion> = HashMap::new();
    let queries = parsed(&[
        "name=torch&limit=1000",
        "name=x7&limit=1000",
        "sort_key=name&sort_dir=ASC&offset=5&limit=20",
        "sort_key=name,update_at&offset=3&limit=7&type=DEDICATED",
    ]);
    for round in 0..6u32 {
        for i in 0..200u32 {
            let mut v = common_version(i64::from(i), i64::from(round));
            v.id = format!("id-{i}");
            v.name = format!(
                "{}-{}-{}",
                "x".repeat(60),
                ["Torch", "tf"][(i % 2) as usize],
                round * 1000 + i
            );
            v.image_type = image_groups::ImageType::ALL[(i % 3 % 2) as usize];
            catalog.upsert(v.clone());
            model.insert(v.id.clone(), v);
        }
        for i in (0..200u32).filter(|i| i % 4 != round % 4) {
            let id = format!("id-{i}");
            assert_eq!(catalog.remove(&id), model.remove(&id));
        }
        assert_pages(&catalog, &model, &queries, &format!("round {round}"));
    }
}

/// The index by SWR instance under upserts that move versions between
/// instances, workspaces and groups, removals that empty groups, instances
/// and workspaces (whose slots are then reused), over enough groups that an
/// instance's list is long and a fuzzy name searches it alone: every page
/// filtered by instance is the scan's.
#[test]
fn instance_pages_follow_versions_between_instances_workspaces_and_groups() {
    // Version `i` in round `r`: one of 60 names, 9 instances and the shared
    // SWR, 2 workspaces; each round moves most versions elsewhere.
    let version = |i: u32, r: u32| {
        let k = i.wrapping_mul(7).wrapping_add(r.wrapping_mul(13));
        let t = i64::from(i);
        let mut v = ImageVersion::new(
            format!("id-{i}"),
            format!("{}-{}", ["Torch", "tf", "x"][(k % 3) as usize], k % 60),
            format!("ns{}", k % 2),
            ImageType::ALL[(k % 5 % 2) as usize],
            t,
            t + i64::from(r),
        )
        .with_workspace_id(["0", "w"][(k / 3 % 2) as usize]);
        // Each instance holds a tenth of the groups: few enough for a fuzzy
        // name to search its list alone.
        v.swr_instance_id = Some(k / 5 % 10).filter(|&n| n > 0).map(|n| format!("i{n}"));
        v
    };
    let queries = parsed(&[
        "swr_instance_id=i1",
        "swr_instance_id=i2&sort_key=name&offset=3&limit=5",
        "swr_instance_id=i3&workspace_id=w&type=DEDICATED&sort_key=version_count",
        "swr_instance_id=i4&name=torch",
        "swr_instance_id=i5&name=x&type=BUILD_IN&limit=3",
        "swr_instance_id=i1&name=1&service_type=UNKNOWN",
        "swr_instance_id=i2&namespace=ns1",
        "swr_instance_id=absent",
    ]);
    let check = |catalog: &Catalog, model: &HashMap<String, ImageVersion>, when: &str| {
        assert_pages(catalog, model, &queries, when);
    };
    let mut model = by_id((0..3000).map(|i| version(i, 0)));
    let mut catalog = Catalog::from_records(model.values().cloned());
    check(&catalog, &model, "after the build");
    for r in 1..4 {
        for i in (0..3000).filter(|i| i % 4 != r % 4) {
            let v = version(i, r);
            assert_eq!(catalog.upsert(v.clone()), model.insert(v.id.clone(), v));
        }
        check(&catalog, &model, &format!("round {r}, moved"));
        // Empty instance i1 (and every group of it), then refill it.
        let in_i1: Vec<String> = model
            .values()
            .filter(|v| v.swr_instance_id.as_deref() == Some("i1"))
            .map(|v| v.id.clone())
            .collect();
        for id in &in_i1 {
            assert_eq!(catalog.remove(id), model.remove(id));
        }
        check(&catalog, &model, &format!("round {r}, i1 emptied"));
        for id in in_i1.iter().step_by(2) {
            let i: u32 = id["id-".len()..].parse().unwrap();
            let mut v = version(i, r + 10);
            v.swr_instance_id = Some("i1".into());
            assert_eq!(catalog.upsert(v.clone()), model.insert(v.id.clone(), v));
        }
        check(&catalog, &model, &format!("round {r}, i1 refilled"));
    }
    // Everything out: the workspaces' slots are freed, then reused.
    for i in 0..3000 {
        let id = format!("id-{i}");
        assert_eq!(catalog.remove(&id), model.remove(&id));
    }
    check(&catalog, &model, "empty");
    for i in 0..500 {
        let v = version(i, 99);
        assert_eq!(catalog.upsert(v.clone()), model.insert(v.id.clone(), v));
    }
    check(&catalog, &model, "refilled");
}

/// A bulk load builds the name index from the names sorted at once: names
/// that share their first 32 bytes or more, differ only by trailing NUL
/// bytes, or repeat over namespaces and instances come out in byte order,
/// exact names find all their groups, and upserts after the build keep both.
#[test]
fn bulk_loaded_name_index_orders_names_sharing_long_prefixes() {
    let prefix = "p".repeat(31);
    let version = |i: u32| {
        let name = match i % 5 {
            0 => format!("{prefix}{}", i % 7),
            1 => format!("{prefix}{}\0", i % 7),
            2 => format!("{prefix}{}\0\0x", i % 3),
            3 => prefix.clone(),
            _ => format!("q{}", i % 11),
        };
        let t = i64::from(i);
        let mut v = ImageVersion::new(
            format!("id-{i}"),
            name,
            format!("ns{}", i % 4),
            ImageType::ALL[(i % 2) as usize],
            t,
            t,
        );
        v.swr_instance_id = (i % 6 == 0).then(|| "inst".to_string());
        v
    };
    let mut model = by_id((0..2000).map(version));
    let mut catalog = Catalog::from_records(model.values().cloned());
    let exact = format!("name={prefix}3&name_fuzzy_match=false");
    let queries = parsed(&[
        "sort_key=name&sort_dir=asc&limit=1000",
        "sort_key=name&sort_dir=desc&offset=7&limit=13",
        "sort_key=name,create_at&sort_dir=asc&offset=20&limit=5&type=BUILD_IN",
        exact.as_str(),
        "name=q1&name_fuzzy_match=false",
    ]);
    for round in 0..2 {
        assert_pages(&catalog, &model, &queries, &format!("round {round}"));
        for i in (0..2000).step_by(3) {
            let mut v = version(i + 1);
            v.id = format!("id-{i}");
            assert_eq!(catalog.upsert(v.clone()), model.insert(v.id.clone(), v));
        }
    }
}

#[test]
fn removing_the_extreme_versions_gives_the_next_extremes() {
    let v = |id: &str, c: i64, u: i64| {
        let mut v = common_version(c, u);
        v.id = id.into();
        v
    };
    let mut catalog =
        Catalog::from_records([v("a", 1, 100), v("b", 5, 50), v("c", 3, 70), v("d", 1, 100)]);
    let q = GroupQuery::default();
    let g = |c: &Catalog| {
        let p = c.query(&q);
        (
            p.data[0].create_at,
            p.data[0].update_at,
            p.data[0].version_count,
        )
    };
    assert_eq!(g(&catalog), (1, 100, 4));
    catalog.remove("a");
    assert_eq!(g(&catalog), (1, 100, 3), "d still holds both extremes");
    catalog.remove("d");
    assert_eq!(g(&catalog), (3, 70, 2));
    catalog.upsert(v("c", 9, 10));
    assert_eq!(g(&catalog), (5, 50, 2));
    catalog.remove("b");
    catalog.remove("c");
    assert_eq!(catalog.query(&q).total, 0);
}

/// Pages ordered by `update_at` without a filter (found from the groups'
/// update buckets) are the scan's: both directions, short and long pages,
/// offsets across a bucket's edge (a bucket holds some 90 groups here),
/// ties on `update_at` within and across buckets, a type filter and a
/// second sort field; after upserts that move groups to newer buckets
/// (past the newest bound too), to older ones and to new groups, and after
/// removals that empty groups; for a bulk load and for a catalog built by
/// upserts alone.
#[test]
fn pages_by_update_at_from_the_buckets_are_the_scans() {
    // Version `i`: about 11,000 groups of one or two versions, both types,
    // 2,500 distinct times (so four or five groups share each).
    let version = |i: u32, update_at: i64| {
        let g = i % 11_000;
        ImageVersion::new(
            format!("id-{i}"),
            format!("Torch-{g}"),
            ["ns", "team"][(g % 2) as usize],
            ImageType::ALL[(i % 3 % 2) as usize],
            i64::from(i % 7),
            update_at,
        )
    };
    let queries = parsed(&[
        "",
        "sort_dir=asc",
        "limit=1",
        "sort_dir=asc&limit=1",
        "limit=1000",
        "offset=80&limit=25",
        "sort_dir=asc&offset=170&limit=30",
        "offset=4000&limit=96",
        "sort_dir=asc&offset=4095&limit=1",
        "offset=4000&limit=97",
        "sort_key=update_at,version_count&sort_dir=asc&offset=85&limit=10",
        "sort_key=update_at,name&offset=355&limit=12",
        "type=DEDICATED&offset=90&limit=20",
        "type=BUILD_IN&sort_dir=asc&limit=3",
        "workspace_id=other",
    ]);
    let first: Vec<ImageVersion> = (0..14_000u32)
        .map(|i| version(i, i64::from(i * 7 % 2500)))
        .collect();
    let mut by_upserts = Catalog::new();
    for v in first.clone() {
        by_upserts.upsert(v);
    }
    let mut model = by_id(first.clone());
    let mut catalogs = [Catalog::from_records(first), by_upserts];
    for round in 0..4u32 {
        for (c, catalog) in catalogs.iter().enumerate() {
            assert_pages(
                catalog,
                &model,
                &queries,
                &format!("catalog {c}, round {round}"),
            );
        }
        let changes: Vec<Option<ImageVersion>> = (0..3000u32)
            .map(|k| {
                let i = (k * 37 + round * 1001) % 14_000;
                match k % 5 {
                    // Newer than every time so far, and newer each round.
                    0 => Some(version(i, 3000 + i64::from(round * 100 + k % 50))),
                    // Older than every time so far.
                    1 => Some(version(i, -1 - i64::from(k % 40))),
                    // Into another group (new, or shared with other moved
                    // versions), at a time within the others.
                    2 => {
                        let mut v = version(i, i64::from(k % 2500));
                        v.name = format!("moved-{}", (i + round) % 700);
                        Some(v)
                    }
                    // Out: groups of one version are emptied.
                    3 => None,
                    _ => Some(version(i, i64::from(k * 13 % 2500))),
                }
            })
            .collect();
        for (k, change) in changes.into_iter().enumerate() {
            let i = (k as u32 * 37 + round * 1001) % 14_000;
            let id = format!("id-{i}");
            for catalog in &mut catalogs {
                match &change {
                    Some(v) => assert_eq!(catalog.upsert(v.clone()), model.get(&id).cloned()),
                    None => assert_eq!(catalog.remove(&id), model.get(&id).cloned()),
                }
            }
            match change {
                Some(v) => model.insert(id, v),
                None => model.remove(&id),
            };
        }
    }
}

fn common_version(create_at: i64, update_at: i64) -> ImageVersion {
    let dedicated = image_groups::ImageType::Dedicated;
    ImageVersion::new("", "torch", "ml", dedicated, create_at, update_at)
}

#[test]
fn catalog_is_send_and_sync() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Catalog>();
}

/// Readers query under a read lock while a writer upserts and removes; every
/// answer is the one `group_images` gives over the same state.
#[test]
fn concurrent_readers_with_a_writer_see_consistent_pages() {
    let catalog = Arc::new(RwLock::new(Catalog::new()));
    // The writer's operations, replayed afterwards into a model.
    let op = |i: u64| -> Result<ImageVersion, String> {
        if i % 7 == 3 {
            return Err(format!("id-{}", (i * 3) % 400));
        }
        let mut v = common_version((i * 7 % 101) as i64, (i * 13 % 97) as i64);
        v.id = format!("id-{}", i % 400);
        v.name = format!("img{}", i % 37);
        v.workspace_id = if i % 5 == 0 { "ws".into() } else { "0".into() };
        Ok(v)
    };
    let writer = {
        let catalog = Arc::clone(&catalog);
        std::thread::spawn(move || {
            for i in 0..3000u64 {
                let mut guard = catalog.write().unwrap();
                match op(i) {
                    Ok(v) => guard.upsert(v),
                    Err(id) => guard.remove(&id),
                };
            }
        })
    };
    let readers: Vec<_> = (0..3)
        .map(|r| {
            let catalog = Arc::clone(&catalog);
            std::thread::spawn(move || {
                let queries = parsed(&[
                    "",
                    "name=img1&sort_key=version_count",
                    "workspace_id=ws&limit=3&offset=2",
                ]);
                for i in 0..300 {
                    let q = &queries[(i + r) % queries.len()];
                    let guard = catalog.read().unwrap();
                    let versions: Vec<ImageVersion> =
                        guard.versions().map(|lent| lent.to_version()).collect();
                    assert_eq!(guard.query(q), group_images(&versions, q));
                }
            })
        })
        .collect();
    writer.join().unwrap();
    for reader in readers {
        reader.join().unwrap();
    }
    let mut model = HashMap::new();
    for i in 0..3000u64 {
        match op(i) {
            Ok(v) => model.insert(v.id.clone(), v),
            Err(id) => model.remove(&id),
        };
    }
    let guard = catalog.read().unwrap();
    assert_eq!(guard.len(), model.len());
    let q: GroupQuery = "limit=1000".parse().unwrap();
    assert_eq!(guard.query(&q), model_page(&model, &q));
}
