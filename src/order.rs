//! Ordering the groups and cutting out one page (crate docs, "Order and
//! paging" and "Response"). The scan's table, the catalog's views and the
//! partials all page through here.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

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
    /// Asks for the aggregates of group `g` (if there is one) to be loaded
    /// soon: a hint with no effect on results, for tables whose aggregates
    /// lie scattered in memory, read in turn by index.
    fn prefetch_state(&self, g: usize) {
        let _ = g;
    }
}

/// Orders the groups of `table` as `query` asks and returns its page.
///
/// Only the groups before the end of the page are put in order: a bounded
/// heap (for a short prefix) or a partial selection finds them, and only the
/// page itself is fully sorted, so a small page of many groups costs
/// O(groups), not O(groups log groups). Both compare groups by a `u128`
/// key per group ([`key_levels`]); the selection reads the next level's key
/// for the groups that tie where the page starts or ends, rather than
/// comparing them through their records.
pub(crate) fn page(table: &impl Groups, query: &GroupQuery) -> ImageGroupPage {
    page_of_first(table, query, table.len())
}

/// [`page`] when `table` holds, out of `total` groups, some that include
/// the first `offset + limit` of all in the page's order (every group, when
/// there are fewer): those are the first of `table`'s in that order too, so
/// the page is cut from `table`'s groups, and says `total`.
pub(crate) fn page_of_first(
    table: &impl Groups,
    query: &GroupQuery,
    total: usize,
) -> ImageGroupPage {
    let groups = table.len();
    let offset = query.offset() as usize;
    let limit = query.limit() as usize;
    let start = offset.min(groups);
    let end = offset.saturating_add(limit).min(groups);

    let full = comparator(table, query);
    let levels = key_levels(query);
    let key_at = |depth: usize, g: usize| level_key(table, levels[depth], g);
    // The first level's key is read for every group: called directly, not
    // through the closure, whose body may be left out of line.
    let first = levels[0];
    let order: Vec<usize> = if start >= end {
        Vec::new()
    } else if heap_fits(end, groups) {
        // A short prefix: only the groups that may be on it (see
        // [`candidates`]) are put in order.
        let mut order = candidates(table, query, 0..groups, end);
        order_window(&mut order, start, end, 0, levels.len(), &key_at, &full);
        order.truncate(end);
        order.into_iter().map(|(_, g)| g).collect()
    } else {
        // Each group's first key beside its index: a comparison reads the
        // two items it compares, not the groups' records.
        let mut order: Vec<(u128, usize)> = Vec::with_capacity(groups);
        // Over many groups, tens of MiB written and then selected in at
        // random: huge pages, as for the scan's table.
        crate::huge_pages::advise(order.as_ptr().cast(), groups * size_of::<(u128, usize)>());
        order.extend((0..groups).map(|g| (level_key(table, first, g), g)));
        order_window(&mut order, start, end, 0, levels.len(), &key_at, &full);
        order.truncate(end);
        order.into_iter().map(|(_, g)| g).collect()
    };

    build_page(table, order.get(start..).unwrap_or_default(), total, query)
}

/// [`page`], with the candidates for a short page over many groups
/// ([`candidates`]) found on two threads, each over half the groups, when
/// `two_threads` says the machine has two cores to give: the same page.
pub(crate) fn page_on_threads(
    table: &(impl Groups + Sync),
    query: &GroupQuery,
    two_threads: bool,
) -> ImageGroupPage {
    let total = table.len();
    let offset = query.offset() as usize;
    let end = offset.saturating_add(query.limit() as usize).min(total);
    if !two_threads || total < TWO_THREADS_MIN_GROUPS || offset >= end || !heap_fits(end, total) {
        return page(table, query);
    }
    let half = total / 2;
    let (second, mut order) = crate::threads::both(
        true,
        || candidates(table, query, half..total, end),
        || candidates(table, query, 0..half, end),
    );
    order.extend(second);
    // The first `end` of each half are among its candidates, so the first
    // `end` of all are among the two halves' together.
    let levels = key_levels(query);
    let key_at = |depth: usize, g: usize| level_key(table, levels[depth], g);
    let full = comparator(table, query);
    order_window(&mut order, offset, end, 0, levels.len(), &key_at, &full);
    let on_page: Vec<usize> = order[offset..end].iter().map(|&(_, g)| g).collect();
    build_page(table, &on_page, total, query)
}

/// Whether the first `end` of `total` groups are found with a bounded heap:
/// a short prefix of many groups.
fn heap_fits(end: usize, total: usize) -> bool {
    end <= total / 4 && end <= HEAP_MAX
}

/// Groups this many and more are put in order on two threads by
/// [`page_on_threads`]: below it, starting a thread costs about as much as
/// the work it takes over. (The crate's own tests use two threads on small
/// tables too, so that both ways are checked alike.)
const TWO_THREADS_MIN_GROUPS: usize = if cfg!(test) { 8 } else { 1 << 15 };

/// The groups in `range` that may be among the first `end` of them in the
/// page's order, each with its first key ([`key_levels`]): a bounded heap
/// of first keys finds the `end`-th smallest while the groups go by; the
/// groups whose key was at most the heap's worst when they came are kept,
/// and those above its final worst are dropped at the end. Every group of
/// the first `end` is kept.
///
/// Why: only the first key of each group is read. Most groups lose to the
/// heap's worst key alone; those that tie with it (a count of 1 among many)
/// are kept without comparing each through its record against the heap, a
/// load that would wait on the one before; [`order_window`] reads their
/// next level's key later, loads that do not wait on one another. When
/// ties pile up past [`KEPT_MAX`] (and `end`), the kept groups are cut to
/// their first `end` in that way, so the list stays short.
fn candidates(
    table: &impl Groups,
    query: &GroupQuery,
    range: std::ops::Range<usize>,
    end: usize,
) -> Vec<(u128, usize)> {
    let levels = key_levels(query);
    let first = levels[0];
    let key_at = |depth: usize, g: usize| level_key(table, levels[depth], g);
    let full = comparator(table, query);
    let cut_at = end.saturating_mul(4).max(KEPT_MAX);
    let mut worst: BinaryHeap<u128> = BinaryHeap::with_capacity(end);
    let mut kept = Vec::with_capacity(end);
    // After a cut: the first and second keys of the `end`-th group so far.
    // A group that ties with it on the first key and comes after it on the
    // second cannot be on the page: its second key, a load of its own,
    // settles it.
    let mut bound: Option<(u128, u128)> = None;
    let range_end = range.end;
    for g in range {
        if g + STATE_AHEAD < range_end {
            table.prefetch_state(g + STATE_AHEAD);
        }
        let key = level_key(table, first, g);
        if worst.len() < end {
            worst.push(key);
            kept.push((key, g));
        } else if let Some(mut root) = worst.peek_mut() {
            if key > *root {
                continue;
            }
            if bound.is_some_and(|(k0, k1)| key == k0 && key_at(1, g) > k1) {
                continue;
            }
            kept.push((key, g));
            if key < *root {
                *root = key;
            }
            if kept.len() >= cut_at {
                drop(root);
                order_window(&mut kept, 0, end, 0, levels.len(), &key_at, &full);
                kept.truncate(end);
                // The ordering left later levels' keys in tied items.
                for item in &mut kept {
                    item.0 = level_key(table, first, item.1);
                }
                let last = kept[end - 1];
                bound = Some((last.0, key_at(1, last.1)));
            }
        }
    }
    if worst.len() == end {
        if let Some(&last) = worst.peek() {
            kept.retain(|&(key, _)| key <= last);
        }
    }
    kept
}

/// How many groups ahead [`candidates`] asks for a group's aggregates
/// ([`Groups::prefetch_state`]), so that the loads of scattered aggregates
/// overlap.
const STATE_AHEAD: usize = 16;

/// How many groups [`candidates`] keeps at least before cutting them to the
/// page's end. (Few in the crate's own tests, so that the cut is checked.)
const KEPT_MAX: usize = if cfg!(test) { 16 } else { 1 << 14 };

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

/// The longest page end a bounded heap finds; past it, a selection over
/// all the groups costs less than keeping the heap in order.
const HEAP_MAX: usize = 4096;

/// How many 16-byte chunks of a string field [`key_levels`] orders by
/// before the full comparator decides.
const STRING_CHUNKS: usize = 8;

/// Runs this short are put in order by the full comparator at once.
const SMALL_RUN: usize = 32;

/// One level of the keys the page is ordered by: a number field, or the
/// 16-byte chunk `chunk` of a string field; each in its direction.
#[derive(Clone, Copy, Debug)]
struct Level {
    field: SortField,
    chunk: usize,
    descending: bool,
}

/// The keys of the page's order, level by level: the sort fields in turn,
/// then `name` and `namespace` ascending where not already used, a number
/// field in one level and the first string field in [`STRING_CHUNKS`]
/// levels, after which the full comparator decides (a string's chunks
/// cannot tell a string from itself followed by zero bytes, so no later
/// field may decide after them).
///
/// Why: comparing two groups through the table reads their records, often
/// far apart in memory; a key as a `u128`, read once per group into a
/// vector, settles most comparisons of a sort or selection, and where many
/// groups tie on one level (names sharing a long prefix, counts of 1), the
/// next level's key is read once per tied group, not once per comparison.
fn key_levels(query: &GroupQuery) -> Vec<Level> {
    let mut fields: Vec<(SortField, bool)> = query
        .sort_key()
        .iter()
        .map(|&field| (field, query.sort_dir() == SortDir::Desc))
        .collect();
    for tie_break in [SortField::Name, SortField::Namespace] {
        if !query.sort_key().contains(&tie_break) {
            fields.push((tie_break, false));
        }
    }
    let mut levels = Vec::new();
    for (field, descending) in fields {
        if matches!(field, SortField::Name | SortField::Namespace) {
            levels.extend((0..STRING_CHUNKS).map(|chunk| Level {
                field,
                chunk,
                descending,
            }));
            break;
        }
        levels.push(Level {
            field,
            chunk: 0,
            descending,
        });
    }
    levels
}

/// A group's key at `level`, as a `u128` whose ascending order agrees with
/// the page's order among groups that tie on every level before it: a
/// number exactly, a string's chunk as its 16 bytes big-endian, padded with
/// zeros. Padding never orders two strings against their byte order: among
/// strings equal in their earlier chunks, a shorter one pads with zeros,
/// which no byte is below, so equal keys are the only ones left undecided.
#[inline(always)]
fn level_key(table: &impl Groups, level: Level, g: usize) -> u128 {
    // An `i64` maps to a `u64` of the same order by flipping its sign bit.
    let key = match level.field {
        SortField::VersionCount => u128::from(table.state(g).version_count),
        SortField::CreateAt => u128::from((table.state(g).create_at as u64) ^ (1 << 63)),
        SortField::UpdateAt => u128::from((table.state(g).update_at as u64) ^ (1 << 63)),
        SortField::Name => prefix(table.name(g).get(level.chunk * 16..).unwrap_or_default()),
        SortField::Namespace => prefix(
            table
                .namespace(g)
                .get(level.chunk * 16..)
                .unwrap_or_default(),
        ),
    };
    if level.descending {
        !key
    } else {
        key
    }
}

/// Puts the items of ranks `start..end` among `items` at
/// `items[start..end]`, in order; the rest of `items` in any order. Each
/// item is a group's key at level `depth` and the group; all items tie on
/// the levels before. `key_at(depth, g)` is group `g`'s key at a level,
/// `depths` the number of levels, `full` the page's whole order.
///
/// By the key alone first; then each run of items whose keys tie and that
/// reaches into the window is gathered (its items before and after the
/// window too) and put in order by the next level's key, read once per item.
fn order_window(
    items: &mut [(u128, usize)],
    start: usize,
    end: usize,
    depth: usize,
    depths: usize,
    key_at: &impl Fn(usize, usize) -> u128,
    full: &impl Fn(&usize, &usize) -> Ordering,
) {
    let n = items.len();
    let end = end.min(n);
    if start >= end {
        return;
    }
    if n <= SMALL_RUN || depth + 1 >= depths {
        let cmp =
            |a: &(u128, usize), b: &(u128, usize)| a.0.cmp(&b.0).then_with(|| full(&a.1, &b.1));
        if end < n {
            items.select_nth_unstable_by(end, cmp);
        }
        if start > 0 {
            items[..end].select_nth_unstable_by(start, cmp);
        }
        items[start..end].sort_unstable_by(cmp);
        return;
    }
    if end < n {
        items.select_nth_unstable_by_key(end, |item| item.0);
    }
    if start > 0 {
        items[..end].select_nth_unstable_by_key(start, |item| item.0);
    }
    items[start..end].sort_unstable_by_key(|item| item.0);
    // The items before the window that tie with its first item, moved
    // next to it; those after it that tie with its last, likewise.
    let (first, last) = (items[start].0, items[end - 1].0);
    let mut lo = 0;
    for j in 0..start {
        if items[j].0 != first {
            items.swap(lo, j);
            lo += 1;
        }
    }
    let mut hi = end;
    for j in end..n {
        if items[j].0 == last {
            items.swap(hi, j);
            hi += 1;
        }
    }
    // Now `items[lo..hi]` is in key order, each run of a tied key whole.
    let mut a = lo;
    while a < hi {
        let key = items[a].0;
        let b = a + items[a..hi].iter().take_while(|item| item.0 == key).count();
        if b - a > 1 {
            let run = &mut items[a..b];
            for item in run.iter_mut() {
                item.0 = key_at(depth + 1, item.1);
            }
            let (run_start, run_end) = (start.max(a) - a, end.min(b) - a);
            order_window(run, run_start, run_end, depth + 1, depths, key_at, full);
        }
        a = b;
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
        /// The candidates for the first `k` hold the first `k` in the
        /// page's order and only groups whose first key is at most the
        /// `k`-th smallest, with many ties (and cuts of the kept list), in
        /// any stretch of the groups.
        #[test]
        fn candidates_hold_the_first_k_and_no_group_past_the_kth_key(
            counts in prop::collection::vec(0u64..6, 0..300),
            k in 0usize..40,
            from in 0usize..20,
        ) {
            // Names in the order of the groups: ties on the count go by index.
            let table = Names(
                counts
                    .iter()
                    .enumerate()
                    .map(|(g, &version_count)| {
                        let state = GroupState { version_count, ..GroupState::EMPTY };
                        (format!("{g:04}").into_bytes(), state)
                    })
                    .collect(),
            );
            let query: GroupQuery = "sort_key=version_count&sort_dir=asc".parse().unwrap();
            let range = from.min(counts.len())..counts.len();
            let got: Vec<usize> = candidates(&table, &query, range.clone(), k)
                .into_iter()
                .map(|(key, g)| {
                    assert_eq!(key, u128::from(counts[g]), "a candidate's key is its count");
                    g
                })
                .collect();
            let mut order: Vec<usize> = range.collect();
            order.sort_by_key(|&g| (counts[g], g));
            for g in order.iter().take(k) {
                prop_assert!(got.contains(g), "group {} of the first {} is kept", g, k);
            }
            if let Some(&kth) = order.get(k.wrapping_sub(1)) {
                for &g in &got {
                    prop_assert!(counts[g] <= counts[kth], "group {} is past the k-th key", g);
                }
            }
            if k == 0 {
                prop_assert!(got.is_empty());
            }
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

    /// Groups of any name and namespace (each pair once), shared SWR.
    struct Keyed(Vec<(Vec<u8>, Vec<u8>, GroupState)>);

    impl Groups for Keyed {
        fn len(&self) -> usize {
            self.0.len()
        }
        fn name(&self, g: usize) -> &[u8] {
            &self.0[g].0
        }
        fn namespace(&self, g: usize) -> &[u8] {
            &self.0[g].1
        }
        fn swr_instance_id(&self, _: usize) -> Option<&[u8]> {
            None
        }
        fn state(&self, g: usize) -> GroupState {
            self.0[g].2
        }
    }

    /// A string of `prefix` shared bytes (so that keys tie over one or
    /// more 16-byte chunks, or end inside one) and a tail of a few letters,
    /// zero bytes and bytes above 0x7f.
    /// A table of (name, namespace) → (version count, create_at, update_at).
    fn keyed(groups: std::collections::HashMap<(Vec<u8>, &str), (u64, i64, i64)>) -> Keyed {
        Keyed(
            groups
                .into_iter()
                .map(
                    |((name, namespace), (version_count, create_at, update_at))| {
                        let state = GroupState {
                            version_count,
                            create_at,
                            update_at,
                        };
                        (name, namespace.as_bytes().to_vec(), state)
                    },
                )
                .collect(),
        )
    }

    /// The query of a sort key (empty for the default), a direction and paging.
    fn query_of(sort_key: &str, desc: bool, offset: u32, limit: u32) -> GroupQuery {
        let dir = if desc { "desc" } else { "asc" };
        let mut query = format!("sort_dir={dir}&offset={offset}&limit={limit}");
        if !sort_key.is_empty() {
            query += &format!("&sort_key={sort_key}");
        }
        query.parse().unwrap()
    }

    fn tied_string() -> impl Strategy<Value = Vec<u8>> {
        (
            prop::sample::select(vec![0usize, 14, 16, 31, 40, 130]),
            prop::collection::vec(prop::sample::select(vec!["\0", "a", "b", "\u{ff}"]), 0..4),
        )
            .prop_map(|(prefix, tail)| {
                let mut bytes = "p".repeat(prefix).into_bytes();
                bytes.extend(tail.concat().into_bytes());
                bytes
            })
    }

    proptest! {
        /// Pages of many groups that tie on their first keys, ordered level
        /// by level (a heap for a short prefix, runs refined by the next
        /// key otherwise), are the pages of a plain sort by the order's
        /// rule: the sort fields in turn, then name and namespace ascending.
        #[test]
        fn pages_of_many_tied_groups_are_the_sorted_order(
            groups in prop::collection::hash_map(
                (tied_string(), prop::sample::select(vec!["", "ns", "ns\0", "nt"])),
                (0u64..3, -2i64..2, -2i64..2),
                0..400,
            ),
            sort_key in prop::sample::select(vec![
                "", "name", "namespace", "version_count", "create_at,name", "update_at,namespace,version_count",
            ]),
            desc in any::<bool>(),
            offset in 0u32..420,
            limit in 1u32..420,
        ) {
            let table = keyed(groups);
            let query = query_of(sort_key, desc, offset, limit);
            // The model: a stable sort on each rule, last rule first.
            let mut want: Vec<usize> = (0..table.len()).collect();
            // The sort fields as given, or the default's when none are.
            let fields: Vec<SortField> = query.sort_key().to_vec();
            let mut rules: Vec<(SortField, bool)> = fields.iter().map(|&f| (f, desc)).collect();
            for tie in [SortField::Name, SortField::Namespace] {
                if !fields.contains(&tie) {
                    rules.push((tie, false));
                }
            }
            for &(field, descending) in rules.iter().rev() {
                let t = &table;
                want.sort_by(|&a, &b| {
                    let ord = match field {
                        SortField::Name => t.0[a].0.cmp(&t.0[b].0),
                        SortField::Namespace => t.0[a].1.cmp(&t.0[b].1),
                        SortField::VersionCount => t.0[a].2.version_count.cmp(&t.0[b].2.version_count),
                        SortField::CreateAt => t.0[a].2.create_at.cmp(&t.0[b].2.create_at),
                        SortField::UpdateAt => t.0[a].2.update_at.cmp(&t.0[b].2.update_at),
                    };
                    if descending { ord.reverse() } else { ord }
                });
            }
            let want: Vec<(String, String)> = want
                .into_iter()
                .skip(offset as usize)
                .take(limit as usize)
                .map(|g| (owned(&table.0[g].0), owned(&table.0[g].1)))
                .collect();
            let page = page(&table, &query);
            prop_assert_eq!(page.total, table.len() as u64);
            let got: Vec<(String, String)> = page.data.into_iter().map(|g| (g.name, g.namespace)).collect();
            prop_assert_eq!(got, want);
        }
    }

    proptest! {
        /// A short page over many groups that tie on their first keys is
        /// the same when each of two threads finds the candidates among
        /// half the groups.
        #[test]
        fn two_threads_give_the_same_short_pages(
            groups in prop::collection::hash_map(
                (tied_string(), prop::sample::select(vec!["", "ns", "nt"])),
                (0u64..3, -2i64..2, -2i64..2),
                0..300,
            ),
            sort_key in prop::sample::select(vec!["", "name", "version_count", "create_at,name"]),
            desc in any::<bool>(),
            offset in 0u32..30,
            limit in 1u32..40,
        ) {
            let table = keyed(groups);
            let query = query_of(sort_key, desc, offset, limit);
            prop_assert_eq!(page_on_threads(&table, &query, true), page(&table, &query));
        }
    }
}
