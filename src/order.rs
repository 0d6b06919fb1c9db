//! Ordering the groups and cutting out one page (crate docs, "Order and
//! paging" and "Response"). The scan's table, the catalog's views and the
//! partials all page through here.

use std::cmp::Ordering;

use crate::group_state::GroupState;
use crate::query::GroupQuery;
use crate::response::{ImageGroup, ImageGroupPage};
use crate::sort::{SortDir, SortField};

/// Groups addressed by dense index, as the ordering needs them: the scan's
/// group table and the catalog's per-query lists both provide this.
pub(crate) trait Groups {
    /// The number of groups.
    fn len(&self) -> usize;
    /// The name of group `g`, as bytes (strings compare byte-wise).
    fn name(&self, g: usize) -> &[u8];
    /// The namespace of group `g`, as bytes.
    fn namespace(&self, g: usize) -> &[u8];
    /// The SWR enterprise instance of group `g`, `None` for the shared SWR.
    fn swr_instance_id(&self, g: usize) -> Option<&[u8]>;
    /// The aggregates of group `g`.
    fn state(&self, g: usize) -> GroupState;
}

/// Orders the groups of `table` as `query` asks and returns its page.
///
/// Only the groups before the end of the page are put in order: a bounded
/// heap (for a short prefix) or a partial selection finds them, and only the
/// page itself is fully sorted, so a small page of many groups costs
/// O(groups), not O(groups log groups).
pub(crate) fn page(table: &impl Groups, query: &GroupQuery) -> ImageGroupPage {
    let total = table.len();
    let offset = query.offset() as usize;
    let limit = query.limit() as usize;
    let start = offset.min(total);
    let end = offset.saturating_add(limit).min(total);

    let order: Vec<usize> = if start >= end {
        Vec::new()
    } else if end <= total / 4 {
        // A short prefix: keep the best `end` groups in a bounded heap, each
        // with its first sort field's key, read as the groups go by. Most
        // groups lose to the heap's worst on that key alone, so few
        // comparisons reach the names, and no vector as long as the groups
        // is written.
        let full = comparator(table, query);
        let key = PrimaryKey::new(table, query);
        let cmp =
            |a: &(u128, usize), b: &(u128, usize)| a.0.cmp(&b.0).then_with(|| full(&a.1, &b.1));
        let mut best = first_in_order((0..total).map(|g| (key.of(g), g)), end, &cmp);
        best.sort_unstable_by(cmp);
        best.into_iter().map(|(_, g)| g).collect()
    } else {
        let mut order: Vec<usize> = (0..total).collect();
        let full = comparator(table, query);
        // Most comparisons are settled by the first sort field: read it once
        // per group into a vector of keys, ordered so that smaller comes
        // first, and fall back to the full order on ties.
        let key = PrimaryKey::new(table, query);
        let primary: Vec<u128> = (0..total).map(|g| key.of(g)).collect();
        let cmp = |a: &usize, b: &usize| primary[*a].cmp(&primary[*b]).then_with(|| full(a, b));
        if end < total {
            order.select_nth_unstable_by(end, &cmp);
            order.truncate(end);
        }
        if start > 0 {
            order.select_nth_unstable_by(start, &cmp);
        }
        order[start..].sort_unstable_by(&cmp);
        order
    };

    build_page(table, order.get(start..).unwrap_or_default(), total, query)
}

/// The page of `query` when `window` holds the groups at positions
/// `first..first + window.len()` of the whole order (among themselves in any
/// order), out of `total` groups: what a walk in name order collects, having
/// counted the groups before and after it.
pub(crate) fn page_of_window(
    window: &impl Groups,
    first: usize,
    total: usize,
    query: &GroupQuery,
) -> ImageGroupPage {
    let mut order: Vec<usize> = (0..window.len()).collect();
    order.sort_unstable_by(comparator(window, query));
    let offset = query.offset() as usize;
    let start = offset.saturating_sub(first).min(order.len());
    let end = offset
        .saturating_add(query.limit() as usize)
        .saturating_sub(first)
        .min(order.len());
    build_page(window, &order[start..end], total, query)
}

/// The page object for the groups `on_page`, in order, out of `total`.
fn build_page(
    table: &impl Groups,
    on_page: &[usize],
    total: usize,
    query: &GroupQuery,
) -> ImageGroupPage {
    let data: Vec<ImageGroup> = on_page
        .iter()
        .map(|&g| {
            let state = table.state(g);
            ImageGroup {
                create_at: state.create_at,
                name: owned(table.name(g)),
                namespace: owned(table.namespace(g)),
                swr_instance_id: table.swr_instance_id(g).map(owned),
                update_at: state.update_at,
                version_count: state.version_count,
            }
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

/// The `k` first of `items` in the order `cmp` (unordered), found with a
/// binary max-heap of `k` whose root is the worst kept so far.
fn first_in_order<T: Copy>(
    items: impl Iterator<Item = T>,
    k: usize,
    cmp: &impl Fn(&T, &T) -> Ordering,
) -> Vec<T> {
    let mut heap: Vec<T> = Vec::with_capacity(k);
    for g in items {
        if heap.len() < k {
            heap.push(g);
            let mut i = heap.len() - 1;
            while i > 0 {
                let parent = (i - 1) / 2;
                if cmp(&heap[i], &heap[parent]) != Ordering::Greater {
                    break;
                }
                heap.swap(i, parent);
                i = parent;
            }
        } else if k > 0 && cmp(&g, &heap[0]) == Ordering::Less {
            heap[0] = g;
            let mut i = 0;
            loop {
                let (l, r) = (2 * i + 1, 2 * i + 2);
                let mut largest = i;
                if l < k && cmp(&heap[l], &heap[largest]) == Ordering::Greater {
                    largest = l;
                }
                if r < k && cmp(&heap[r], &heap[largest]) == Ordering::Greater {
                    largest = r;
                }
                if largest == i {
                    break;
                }
                heap.swap(i, largest);
                i = largest;
            }
        }
    }
    heap
}

/// A group's first sort field as a `u128` whose ascending order agrees
/// with the page's order on that field: a number exactly, a string by its
/// first 16 bytes (0 for every group when there is no sort field). Groups
/// whose keys tie are ordered by the full comparator.
///
/// Why: comparing two groups through the table reads their records, and
/// comparing names reads their bytes; one vector of keys, read once, settles
/// most comparisons of a sort or selection without either. A string's first
/// 16 bytes, big-endian and padded with zeros, never order two strings
/// against their byte order (a shorter string pads with zeros, which no
/// byte is below), so equal keys are the only ones left to compare in full.
///
/// A struct with an always-inlined method rather than a closure: the key is
/// read once per group in the selection's hot loop, and a closure's body was
/// left out of line in some of `page`'s instances (a call per group).
struct PrimaryKey<'t, T> {
    table: &'t T,
    field: Option<SortField>,
    descending: bool,
}

impl<'t, T: Groups> PrimaryKey<'t, T> {
    fn new(table: &'t T, query: &GroupQuery) -> Self {
        PrimaryKey {
            table,
            field: query.sort_key().first().copied(),
            descending: query.sort_dir() == SortDir::Desc,
        }
    }

    /// Group `g`'s key.
    #[inline(always)]
    fn of(&self, g: usize) -> u128 {
        let table = self.table;
        // An `i64` maps to a `u64` of the same order by flipping its sign bit.
        let key = match self.field {
            None => return 0,
            Some(SortField::VersionCount) => u128::from(table.state(g).version_count),
            Some(SortField::CreateAt) => u128::from((table.state(g).create_at as u64) ^ (1 << 63)),
            Some(SortField::UpdateAt) => u128::from((table.state(g).update_at as u64) ^ (1 << 63)),
            Some(SortField::Name) => prefix(table.name(g)),
            Some(SortField::Namespace) => prefix(table.namespace(g)),
        };
        if self.descending {
            !key
        } else {
            key
        }
    }
}

/// The first 16 bytes of `bytes`, big-endian, padded with zeros.
fn prefix(bytes: &[u8]) -> u128 {
    let mut first = [0u8; 16];
    let n = bytes.len().min(16);
    first[..n].copy_from_slice(&bytes[..n]);
    u128::from_be_bytes(first)
}

/// The total order of the crate docs' "Order and paging" over group indices:
/// the sort fields in turn, each in `sort_dir`, then `name` and `namespace`
/// ascending where not already used, then the SWR instance (none first).
/// Since a group key is unique per group, no two groups compare equal, so
/// unstable sorts and selections give one answer.
fn comparator<'t>(
    table: &'t impl Groups,
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
        // Two groups of one name and namespace are in different SWR
        // instances: the shared SWR first, then instances by id.
        let instance = || table.swr_instance_id(a).cmp(&table.swr_instance_id(b));
        for &(field, dir) in &keys {
            let ord = match field {
                SortField::Name => table.name(a).cmp(table.name(b)),
                SortField::Namespace => table.namespace(a).cmp(table.namespace(b)),
                SortField::VersionCount => {
                    (table.state(a).version_count).cmp(&table.state(b).version_count)
                }
                SortField::CreateAt => table.state(a).create_at.cmp(&table.state(b).create_at),
                SortField::UpdateAt => table.state(a).update_at.cmp(&table.state(b).update_at),
            };
            let ord = match dir {
                SortDir::Asc => ord,
                SortDir::Desc => ord.reverse(),
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        instance()
    }
}

/// An owned copy of a key part.
///
/// # Panics
/// If `bytes` are not UTF-8: every table of groups copies in whole `&str`s
/// only, so that would be a broken table, not bad input.
pub(crate) fn owned(bytes: &[u8]) -> String {
    std::str::from_utf8(bytes)
        .expect("group keys are copied from whole strings")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The heap keeps exactly the first `k` in order, with many ties on
        /// the first key (broken by a second one, as the page order breaks them).
        #[test]
        fn first_in_order_is_the_sorted_prefix(
            keys in prop::collection::vec(0u8..6, 0..300),
            k in 0usize..40,
        ) {
            let cmp = |a: &usize, b: &usize| keys[*b].cmp(&keys[*a]).then(a.cmp(b));
            let k = k.min(keys.len());
            let mut got = first_in_order(0..keys.len(), k, &cmp);
            got.sort_unstable_by(cmp);
            let mut want: Vec<usize> = (0..keys.len()).collect();
            want.sort_unstable_by(cmp);
            want.truncate(k);
            prop_assert_eq!(got, want);
        }
    }

    /// Groups of the given names in namespace "ns".
    struct Names(Vec<(Vec<u8>, GroupState)>);

    impl Groups for Names {
        fn len(&self) -> usize {
            self.0.len()
        }
        fn name(&self, g: usize) -> &[u8] {
            &self.0[g].0
        }
        fn namespace(&self, _: usize) -> &[u8] {
            b"ns"
        }
        fn swr_instance_id(&self, _: usize) -> Option<&[u8]> {
            None
        }
        fn state(&self, g: usize) -> GroupState {
            self.0[g].1
        }
    }

    proptest! {
        /// Ordering by name through the 16-byte prefix keys gives the byte
        /// order, for names that share long prefixes, are prefixes of one
        /// another, or hold zero bytes or bytes above 0x7f, in both directions and at any page.
        #[test]
        fn name_order_through_prefix_keys_is_byte_order(
            names in prop::collection::hash_set(
                prop::collection::vec(prop::sample::select(vec!["\0", "a", "b", "\u{ff}"]), 0..20)
                    .prop_map(|tail| [b"aaaaaaaaaaaaaa".to_vec(), tail.concat().into_bytes()].concat()),
                0..80,
            ),
            desc in any::<bool>(),
            offset in 0u32..90,
            limit in 1u32..90,
        ) {
            let table = Names(names.into_iter().map(|n| (n, GroupState::EMPTY)).collect());
            let dir = if desc { "desc" } else { "asc" };
            let query: GroupQuery = format!("sort_key=name&sort_dir={dir}&offset={offset}&limit={limit}")
                .parse()
                .unwrap();
            let mut want: Vec<Vec<u8>> = table.0.iter().map(|(n, _)| n.clone()).collect();
            want.sort();
            if desc {
                want.reverse();
            }
            let want: Vec<String> = want
                .into_iter()
                .skip(offset as usize)
                .take(limit as usize)
                .map(|n| owned(&n))
                .collect();
            let got: Vec<String> = page(&table, &query).data.into_iter().map(|g| g.name).collect();
            prop_assert_eq!(got, want);
        }
    }
}
