//! Answering a query from one workspace's groups and indexes.

use super::workspace::Workspace;
use crate::group_state::GroupState;
use crate::kinds::ImageType;
use crate::name_match::NameMatcher;
use crate::order::{self, Groups};
use crate::query::GroupQuery;
use crate::response::ImageGroupPage;
use crate::sort::{SortDir, SortField};

/// The page of `query` over the workspace's groups (none if the workspace
/// has no versions).
pub(super) fn answer(workspace: Option<&Workspace>, query: &GroupQuery) -> ImageGroupPage {
    let Some(ws) = workspace else {
        let empty = Workspace::default();
        return page(&MatchingGroups::new(&empty), query);
    };
    let mut matching = MatchingGroups::new(ws);
    let instance = query.swr_instance_id();
    // The instance's number; `None` when no group is in it.
    let instance_key = instance.map(|id| ws.by_instance.find(id));
    if instance_key == Some(None) {
        return page(&matching, query);
    }
    let mut push = |g: u32| {
        if instance_key.is_some_and(|k| k != Some(ws.groups[g as usize].instance)) {
            return;
        }
        if let Some(state) = state_of(ws, g, query) {
            matching.push(g, state);
        }
    };
    let exact_name = query.name().filter(|_| !query.name_fuzzy_match());
    let fuzzy_name = query.name().filter(|_| query.name_fuzzy_match());
    match (exact_name, fuzzy_name, query.namespace(), instance) {
        // An exact name: its run in the name index.
        (Some(name), _, namespace, _) => {
            let namespace = namespace.map(|ns| ws.by_namespace.find(ns));
            for g in ws.by_name.equal(name.as_bytes(), |g| ws.name(g)) {
                if namespace.is_none_or(|ns| ns == Some(ws.groups[g as usize].namespace)) {
                    push(g);
                }
            }
        }
        // A namespace: its list, each name checked.
        (None, fuzzy, Some(namespace), _) => {
            let mut matcher = fuzzy.map(NameMatcher::new);
            for &g in ws.by_namespace.get(namespace) {
                let name = ws.name(g);
                if matcher.as_mut().is_none_or(|m| m.matches(name)) {
                    push(g);
                }
            }
        }
        // A fuzzy name in an SWR instance holding few of the workspace's
        // groups: its list, each name checked.
        (None, Some(needle), None, Some(instance))
            if ws.by_instance.get(instance).len() < ws.live() / FEW =>
        {
            let mut matcher = NameMatcher::new(needle);
            for &g in ws.by_instance.get(instance) {
                if matcher.matches(ws.name(g)) {
                    push(g);
                }
            }
        }
        // A fuzzy name: one search over the folded names, which also drops
        // the groups without versions of the query's type.
        (None, Some(needle), None, _) => {
            let matcher = NameMatcher::with_ranks(needle, ws.names.ranks());
            let end = (query.offset() as usize).saturating_add(query.limit() as usize);
            let by_update = query.sort_key().first() == Some(&SortField::UpdateAt);
            if instance.is_none() && query.service_type().is_none() && by_update && end <= TOP_MAX {
                // Ordered by `update_at` first: the search keeps only the
                // groups whose update bucket may put them on the page.
                let descending = query.sort_dir() == SortDir::Desc;
                let image_type = query.image_type();
                let (total, ids) = ws.names.top_matching(&matcher, image_type, descending, end);
                let view = StateView {
                    ws,
                    image_type,
                    ids,
                };
                return order::page_of_first(&view, query, total);
            }
            let ids = ws.names.matching(&matcher, query.image_type());
            if instance.is_none() && query.service_type().is_none() {
                // Without a service-type filter the aggregates are in a
                // state vector: keep only the matching slots (a fuzzy name
                // can match most groups), not a key and state apiece.
                let image_type = query.image_type();
                return page(
                    &StateView {
                        ws,
                        image_type,
                        ids,
                    },
                    query,
                );
            }
            ids.into_iter().for_each(&mut push);
        }
        // An SWR instance: its list.
        (None, None, None, Some(instance)) => {
            for &g in ws.by_instance.get(instance) {
                push(g);
            }
        }
        // Every group: in name order when the page is ordered by name first.
        (None, None, None, None) => {
            if query.sort_key().first() == Some(&SortField::Name) {
                return page_in_name_order(ws, query);
            }
            if query.service_type().is_none() {
                return page_by_update(ws, query).unwrap_or_else(|| page_from_states(ws, query));
            }
            for (g, group) in ws.groups.iter().enumerate() {
                if group.is_live() {
                    push(g as u32);
                }
            }
        }
    }
    page(&matching, query)
}

/// The page of `groups`: [`order::page`], on two threads when the groups
/// are many and the machine has two cores.
fn page(groups: &(impl Groups + Sync), query: &GroupQuery) -> ImageGroupPage {
    order::page_on_threads(groups, query, super::cores() >= 2)
}

/// The longest page end (`offset + limit`) for which a fuzzy name's search
/// keeps only the groups that may be on a page ordered by `update_at`
/// ([`NameArena::top_matching`](super::names::NameArena::top_matching));
/// past it, the kept groups are many anyway.
const TOP_MAX: usize = 4096;

/// An instance's list is searched name by name, rather than the whole
/// workspace's folded names at once, when it holds less than one group in
/// this many: a name checked alone costs a few times a name searched in
/// the buffer.
const FEW: usize = 8;

/// Group `g`'s aggregates over the versions of the query's type and service
/// type, `None` if it has none.
fn state_of(ws: &Workspace, g: u32, query: &GroupQuery) -> Option<GroupState> {
    let state = match (query.image_type(), query.service_type()) {
        (image_type, None) => ws.states.get(g, image_type),
        (image_type, Some(service_type)) => {
            ws.groups[g as usize]
                .cells
                .state_of(ws.states.get(g, None), image_type, service_type)
        }
    };
    (state.version_count > 0).then_some(state)
}

/// The page of a query with no filter but workspace and perhaps type,
/// ordered other than by name first: the groups' aggregates are read from
/// the workspace's state vector, in order, and keys only where the order
/// needs them (ties, and the page itself).
fn page_from_states(ws: &Workspace, query: &GroupQuery) -> ImageGroupPage {
    let image_type = query.image_type();
    let ids = (0..ws.states.len() as u32)
        .filter(|&g| ws.states.has(g, image_type))
        .collect();
    page(
        &StateView {
            ws,
            image_type,
            ids,
        },
        query,
    )
}

/// The page of a query with no filter but workspace, ordered by
/// `update_at` first and ending within [`TOP_MAX`]: the groups of the update
/// buckets that hold its first groups are listed from one byte per group,
/// and only their aggregates are read. `None` when the query is not of
/// that kind, or when those buckets hold more than a quarter of the groups
/// (then reading every group's aggregates costs about as much).
fn page_by_update(ws: &Workspace, query: &GroupQuery) -> Option<ImageGroupPage> {
    let end = (query.offset() as usize).saturating_add(query.limit() as usize);
    let by_update = query.sort_key().first() == Some(&SortField::UpdateAt);
    if !by_update || query.image_type().is_some() || end > TOP_MAX {
        return None;
    }
    let descending = query.sort_dir() == SortDir::Desc;
    let ids = ws.update_buckets.first(descending, end, ws.live() / 4)?;
    let view = StateView {
        ws,
        image_type: None,
        ids,
    };
    Some(order::page_of_first(&view, query, ws.live()))
}

/// A workspace's groups with versions of `image_type` (of any with
/// `None`), by dense index.
struct StateView<'w> {
    ws: &'w Workspace,
    image_type: Option<ImageType>,
    ids: Vec<u32>,
}

impl Groups for StateView<'_> {
    fn len(&self) -> usize {
        self.ids.len()
    }
    fn name(&self, g: usize) -> &[u8] {
        self.ws.name(self.ids[g])
    }
    fn namespace(&self, g: usize) -> &[u8] {
        self.ws.namespace(self.ids[g]).as_bytes()
    }
    fn swr_instance_id(&self, g: usize) -> Option<&[u8]> {
        self.ws.instance(self.ids[g]).map(str::as_bytes)
    }
    // Called once per group by the order's selection: inlined there.
    #[inline(always)]
    fn state(&self, g: usize) -> GroupState {
        self.ws.states.get(self.ids[g], self.image_type)
    }
    fn prefetch_state(&self, g: usize) {
        // The matching groups of a fuzzy name lie scattered in the state
        // vector.
        if let Some(&id) = self.ids.get(g) {
            self.ws.states.prefetch(id);
        }
    }
}

/// The page of a query without name or namespace filter whose first sort
/// field is `name`: the name index is walked in the query's order, and the
/// window kept is the page's groups with the groups that share a name with
/// its first or last (within a name, the other sort fields decide). When
/// every group matches, the walk starts at the page (the groups before it
/// are only counted, a block of the index at a time); otherwise each group
/// is checked, and the rest counted once the page is full.
fn page_in_name_order(ws: &Workspace, query: &GroupQuery) -> ImageGroupPage {
    let offset = query.offset() as usize;
    let end = offset.saturating_add(query.limit() as usize);
    let every_group_matches = query.image_type().is_none() && query.service_type().is_none();
    let total = ws.by_name.len();
    let asc = query.sort_dir() == SortDir::Asc;
    // The groups from position `i` of the query's order on, and those
    // before it, nearest first.
    let from = |i: usize| -> Box<dyn Iterator<Item = u32> + '_> {
        match asc {
            true => Box::new(ws.by_name.from(i)),
            false => Box::new(ws.by_name.before(total - i.min(total))),
        }
    };
    let before = |i: usize| -> Box<dyn Iterator<Item = u32> + '_> {
        match asc {
            true => Box::new(ws.by_name.before(i)),
            false => Box::new(ws.by_name.from(total - i.min(total))),
        }
    };
    let mut window = MatchingGroups::new(ws);
    if every_group_matches {
        if offset >= total {
            return order::page_of_window(&window, total, total, query);
        }
        let mut groups = from(offset);
        let first = groups
            .next()
            .expect("a group at a position below the total");
        let name = ws.name(first);
        // The earlier groups of the first's name.
        for g in before(offset).take_while(|&g| ws.name(g) == name) {
            window.push(g, ws.states.get(g, None));
        }
        let window_first = offset - window.groups.len();
        window.push(first, ws.states.get(first, None));
        let mut last = name;
        for (position, g) in (offset + 1..).zip(groups) {
            if position >= end && ws.name(g) != last {
                break;
            }
            last = ws.name(g);
            window.push(g, ws.states.get(g, None));
        }
        return order::page_of_window(&window, window_first, total, query);
    }
    // Matching groups walked so far.
    let mut position = 0usize;
    let mut window_first = None;
    let mut last: Option<&[u8]> = None;
    for (i, g) in from(0).enumerate() {
        let Some(state) = state_of(ws, g, query) else {
            continue;
        };
        if position < offset {
            position += 1;
            continue;
        }
        if position >= end {
            // Past the page: the groups of the last one's name still join
            // the window, the rest are counted.
            if last.is_some_and(|name| name == ws.name(g)) {
                window.push(g, state);
                position += 1;
                continue;
            }
            last = None;
            position += 1;
            continue;
        }
        if window_first.is_none() {
            // The page's first group: the earlier matching groups of its
            // name join the window.
            let name = ws.name(g);
            let earlier = before(i)
                .take_while(|&other| ws.name(other) == name)
                .filter_map(|other| Some((other, state_of(ws, other, query)?)));
            for (other, other_state) in earlier {
                window.push(other, other_state);
            }
            window_first = Some(offset - window.groups.len());
        }
        window.push(g, state);
        last = Some(ws.name(g));
        position += 1;
    }
    order::page_of_window(&window, window_first.unwrap_or(position), position, query)
}

/// The groups one catalog query matched, by slot, with their aggregates.
struct MatchingGroups<'w> {
    ws: &'w Workspace,
    groups: Vec<(u32, GroupState)>,
}

impl<'w> MatchingGroups<'w> {
    fn new(ws: &'w Workspace) -> Self {
        MatchingGroups {
            ws,
            groups: Vec::new(),
        }
    }

    fn push(&mut self, g: u32, state: GroupState) {
        self.groups.push((g, state));
    }
}

impl Groups for MatchingGroups<'_> {
    fn len(&self) -> usize {
        self.groups.len()
    }
    fn name(&self, g: usize) -> &[u8] {
        self.ws.name(self.groups[g].0)
    }
    fn namespace(&self, g: usize) -> &[u8] {
        self.ws.namespace(self.groups[g].0).as_bytes()
    }
    fn swr_instance_id(&self, g: usize) -> Option<&[u8]> {
        self.ws.instance(self.groups[g].0).map(str::as_bytes)
    }
    fn state(&self, g: usize) -> GroupState {
        self.groups[g].1
    }
}
