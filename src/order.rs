//! Ordering the groups and cutting out one page (SPEC 5 and 6).

use std::cmp::Ordering;

use crate::aggregate::GroupTable;
use crate::query::{GroupQuery, SortDir, SortField};
use crate::response::{ImageGroup, ImageGroupPage};

/// Orders the groups of `table` as `query` asks and returns its page.
///
/// Only the groups before the end of the page are put in order: a partial
/// selection finds them, and only the page itself is fully sorted, so a
/// small page of many groups costs O(groups), not O(groups log groups).
pub(crate) fn page(table: &GroupTable<'_>, query: &GroupQuery) -> ImageGroupPage {
    let total = table.len();
    let offset = query.offset() as usize;
    let limit = query.limit() as usize;
    let start = offset.min(total);
    let end = offset.saturating_add(limit).min(total);

    let mut order: Vec<usize> = Vec::new();
    if start < end {
        let cmp = comparator(table, query);
        order = (0..total).collect();
        if end < total {
            order.select_nth_unstable_by(end, &cmp);
            order.truncate(end);
        }
        if start > 0 {
            order.select_nth_unstable_by(start, &cmp);
        }
        order[start..].sort_unstable_by(&cmp);
    }

    let data: Vec<ImageGroup> = order
        .get(start..)
        .unwrap_or_default()
        .iter()
        .map(|&g| ImageGroup {
            create_at: table.create_at[g],
            name: table.keys[g].0.to_string(),
            namespace: table.keys[g].1.to_string(),
            update_at: table.update_at[g],
            version_count: table.version_count[g],
        })
        .collect();
    let total = total as u64;
    let limit = u64::from(query.limit());
    ImageGroupPage {
        current: u64::from(query.offset()) / limit + 1,
        size: data.len() as u64,
        data,
        pages: total.div_ceil(limit),
        total,
    }
}

/// The total order of SPEC 5 over group indices: the sort fields in turn, each
/// in `sort_dir`, then `name` and `namespace` ascending where not already used.
/// Since `(name, namespace)` is unique per group, no two groups compare equal,
/// so unstable sorts and selections give one answer.
fn comparator<'t>(
    table: &'t GroupTable<'_>,
    query: &GroupQuery,
) -> impl Fn(&usize, &usize) -> Ordering + 't {
    let mut keys: Vec<(SortField, SortDir)> = query
        .sort_key()
        .iter()
        .map(|&field| (field, query.sort_dir()))
        .collect();
    for tie_break in [SortField::Name, SortField::Namespace] {
        if !query.sort_key().contains(&tie_break) {
            keys.push((tie_break, SortDir::Asc));
        }
    }
    move |&a, &b| {
        for &(field, dir) in &keys {
            let ord = match field {
                SortField::Name => table.keys[a].0.cmp(table.keys[b].0),
                SortField::Namespace => table.keys[a].1.cmp(table.keys[b].1),
                SortField::VersionCount => table.version_count[a].cmp(&table.version_count[b]),
                SortField::CreateAt => table.create_at[a].cmp(&table.create_at[b]),
                SortField::UpdateAt => table.update_at[a].cmp(&table.update_at[b]),
            };
            let ord = match dir {
                SortDir::Asc => ord,
                SortDir::Desc => ord.reverse(),
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    }
}
