//! The aggregates of one group's versions of one `(type, service_type)`,
//! kept exact as versions come and go.

use std::collections::BTreeMap;

use crate::group_state::GroupState;
use crate::kinds::{ImageType, ServiceType};

/// Up to this many versions, a cell lists its members' slots and rescans
/// them when an extreme leaves; past it, it keeps ordered multisets of times.
const SMALL: usize = 32;

/// Count and extremes of a set of versions, with what it takes to find the
/// next extreme when the current one is removed: minimum and maximum cannot
/// be subtracted.
#[derive(Clone, Debug)]
pub(super) struct Cell {
    /// Count and extremes, current, so a query reads them directly.
    pub(super) state: GroupState,
    members: Members,
}

/// A cell's members, in the form that fits their number.
#[derive(Clone, Debug, Default)]
// A boxed vector: 8 bytes in every group instead of 24 (see `Small`).
#[allow(clippy::box_collection)]
pub(super) enum Members {
    /// None: a new cell, or one whose last version left.
    #[default]
    Empty,
    /// The slot of a cell's first version while it is its only one (the
    /// cell of a group of one version): no allocation.
    One(u32),
    /// The version slots (most cells hold a handful of versions): 4 bytes a
    /// version, and a removal rescans at most [`SMALL`] of them. (Boxed, so
    /// that the members of a cell take 16 bytes, not a vector's 24, in
    /// every group: most groups' single cell has one version.)
    Small(Box<Vec<u32>>),
    /// Times with their multiplicities: a removal finds the next extreme in
    /// O(log n), however large the cell.
    Large(Box<Multisets>),
}

/// Ordered multisets of a large cell's times.
#[derive(Clone, Debug, Default)]
pub(super) struct Multisets {
    creates: BTreeMap<i64, u32>,
    updates: BTreeMap<i64, u32>,
}

impl Multisets {
    fn add(&mut self, create_at: i64, update_at: i64) {
        *self.creates.entry(create_at).or_insert(0) += 1;
        *self.updates.entry(update_at).or_insert(0) += 1;
    }

    fn remove(&mut self, create_at: i64, update_at: i64) {
        for (map, key) in [
            (&mut self.creates, create_at),
            (&mut self.updates, update_at),
        ] {
            if let Some(n) = map.get_mut(&key) {
                *n -= 1;
                if *n == 0 {
                    map.remove(&key);
                }
            }
        }
    }
}

impl Cell {
    pub(super) fn new() -> Self {
        Cell {
            state: GroupState::EMPTY,
            members: Members::Empty,
        }
    }

    /// Adds the version in `slot`; `times` gives any member's
    /// `(create_at, update_at)` by slot.
    pub(super) fn add(
        &mut self,
        slot: u32,
        create_at: i64,
        update_at: i64,
        times: impl Fn(u32) -> (i64, i64),
    ) {
        self.state.merge(&GroupState {
            version_count: 1,
            create_at,
            update_at,
        });
        match &mut self.members {
            Members::Empty => self.members = Members::One(slot),
            Members::Small(slots) if slots.is_empty() => self.members = Members::One(slot),
            &mut Members::One(first) => self.members = Members::Small(Box::new(vec![first, slot])),
            Members::Small(slots) if slots.len() < SMALL => slots.push(slot),
            Members::Small(slots) => {
                let mut sets = Box::<Multisets>::default();
                for &s in slots.iter() {
                    let (c, u) = times(s);
                    sets.add(c, u);
                }
                sets.add(create_at, update_at);
                self.members = Members::Large(sets);
            }
            Members::Large(sets) => sets.add(create_at, update_at),
        }
    }

    /// Removes the version in `slot`, a member, whose times are given;
    /// `times` gives the other members' times by slot.
    pub(super) fn remove(
        &mut self,
        slot: u32,
        create_at: i64,
        update_at: i64,
        times: impl Fn(u32) -> (i64, i64),
    ) {
        self.state.version_count = self.state.version_count.saturating_sub(1);
        match &mut self.members {
            Members::Empty => panic!("a removed version is a member of its cell"),
            &mut Members::One(only) => {
                assert_eq!(only, slot, "a removed version is a member of its cell");
                self.members = Members::Empty;
                self.state = GroupState::EMPTY;
            }
            Members::Small(slots) => {
                let i = slots
                    .iter()
                    .position(|&s| s == slot)
                    .expect("a removed version is a member of its cell");
                slots.swap_remove(i);
                // Rescan only when the removed version held an extreme.
                if create_at == self.state.create_at || update_at == self.state.update_at {
                    let count = self.state.version_count;
                    self.state = GroupState::EMPTY;
                    for &s in slots.iter() {
                        let (c, u) = times(s);
                        self.state.create_at = self.state.create_at.min(c);
                        self.state.update_at = self.state.update_at.max(u);
                    }
                    self.state.version_count = count;
                }
            }
            Members::Large(sets) => {
                sets.remove(create_at, update_at);
                self.state.create_at = sets.creates.keys().next().copied().unwrap_or(i64::MAX);
                self.state.update_at = sets.updates.keys().next_back().copied().unwrap_or(i64::MIN);
            }
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.state.version_count == 0
    }
}

/// What a group's aggregates need of one of its versions.
pub(super) struct Member {
    pub(super) slot: u32,
    pub(super) image_type: ImageType,
    pub(super) service_type: ServiceType,
    pub(super) create_at: i64,
    pub(super) update_at: i64,
}

/// A group's cells, one per `(type, service_type)` it has versions of.
///
/// A group with one cell (most, where groups are small) keeps only that
/// cell's members: the cell's aggregates are the group's total, which the
/// workspace keeps anyway (`TypeStates`), and every operation here that
/// needs them is given that total.
#[derive(Clone, Debug, Default)]
// A boxed vector: 8 bytes in every group instead of 24 (see `Many`).
#[allow(clippy::box_collection)]
pub(super) enum Cells {
    #[default]
    Empty,
    One(ImageType, ServiceType, Members),
    /// (Boxed, so that a group's cells take 24 bytes, not 32.)
    Many(Box<Vec<(ImageType, ServiceType, Cell)>>),
}

impl Cells {
    /// Whether there are no cells (the group has no versions).
    pub(super) fn is_empty(&self) -> bool {
        matches!(self, Cells::Empty)
    }

    /// Adds `version`; `total` is the group's aggregates before it, and
    /// `times` gives any member's times by slot.
    pub(super) fn add(
        &mut self,
        version: &Member,
        total: GroupState,
        times: impl Fn(u32) -> (i64, i64),
    ) {
        let &Member {
            slot,
            image_type,
            service_type,
            create_at,
            update_at,
        } = version;
        match self {
            Cells::Empty => {
                let mut cell = Cell::new();
                cell.add(slot, create_at, update_at, times);
                *self = Cells::One(image_type, service_type, cell.members);
            }
            Cells::One(t, s, members) if (*t, *s) == (image_type, service_type) => {
                let mut cell = Cell {
                    state: total,
                    members: std::mem::take(members),
                };
                cell.add(slot, create_at, update_at, times);
                *members = cell.members;
            }
            Cells::One(t, s, members) => {
                let first = Cell {
                    state: total,
                    members: std::mem::take(members),
                };
                let mut second = Cell::new();
                second.add(slot, create_at, update_at, times);
                *self = Cells::Many(Box::new(vec![
                    (*t, *s, first),
                    (image_type, service_type, second),
                ]));
            }
            Cells::Many(cells) => {
                let i = match cells
                    .iter()
                    .position(|(t, s, _)| (*t, *s) == (image_type, service_type))
                {
                    Some(i) => i,
                    None => {
                        cells.push((image_type, service_type, Cell::new()));
                        cells.len() - 1
                    }
                };
                cells[i].2.add(slot, create_at, update_at, times);
            }
        }
    }

    /// Removes `version`, a member of the cell of its type and service
    /// type; `total` is the group's aggregates before. Returns the group's
    /// aggregates over its versions of each image type (by
    /// `ImageType as usize`) after.
    ///
    /// # Panics
    ///
    /// If the group has no such cell (a broken invariant of the catalog).
    pub(super) fn remove(
        &mut self,
        version: &Member,
        total: GroupState,
        times: impl Fn(u32) -> (i64, i64),
    ) -> [GroupState; 2] {
        let &Member {
            slot,
            image_type,
            service_type,
            create_at,
            update_at,
        } = version;
        const MEMBER: &str = "a member's group has the cell of its type and service type";
        let mut per_type = [GroupState::EMPTY; 2];
        match self {
            Cells::Empty => panic!("{MEMBER}"),
            Cells::One(t, s, members) => {
                assert_eq!((*t, *s), (image_type, service_type), "{MEMBER}");
                let mut cell = Cell {
                    state: total,
                    members: std::mem::take(members),
                };
                cell.remove(slot, create_at, update_at, times);
                if cell.is_empty() {
                    *self = Cells::Empty;
                } else {
                    per_type[*t as usize] = cell.state;
                    *members = cell.members;
                }
            }
            Cells::Many(cells) => {
                let i = cells
                    .iter()
                    .position(|(t, s, _)| (*t, *s) == (image_type, service_type))
                    .expect(MEMBER);
                cells[i].2.remove(slot, create_at, update_at, times);
                if cells[i].2.is_empty() {
                    cells.swap_remove(i);
                }
                for (t, _, cell) in cells.iter() {
                    per_type[*t as usize].merge(&cell.state);
                }
                if cells.len() == 1 {
                    // Its aggregates are now the group's total.
                    let (t, s, cell) = cells.pop().expect("one cell");
                    *self = Cells::One(t, s, cell.members);
                }
            }
        }
        per_type
    }

    /// The aggregates over the versions of `service_type` and, with
    /// `Some`, of `image_type`; `total` is the group's aggregates.
    pub(super) fn state_of(
        &self,
        total: GroupState,
        image_type: Option<ImageType>,
        service_type: ServiceType,
    ) -> GroupState {
        let wanted = |t: ImageType, s: ServiceType| {
            s == service_type && image_type.is_none_or(|wanted| wanted == t)
        };
        match self {
            Cells::Empty => GroupState::EMPTY,
            Cells::One(t, s, _) if wanted(*t, *s) => total,
            Cells::One(..) => GroupState::EMPTY,
            Cells::Many(cells) => {
                let mut state = GroupState::EMPTY;
                for (t, s, cell) in cells.iter() {
                    if wanted(*t, *s) {
                        state.merge(&cell.state);
                    }
                }
                state
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Adding and removing in any order, across the small/large switch,
        /// the state is what a fresh scan of the remaining members gives.
        #[test]
        fn state_matches_a_rescan(
            times in prop::collection::vec((-5i64..5, -5i64..5), 1..80),
            removals in prop::collection::vec(any::<prop::sample::Index>(), 0..80),
        ) {
            let time_of = |s: u32| times[s as usize];
            let mut cell = Cell::new();
            let mut live: Vec<u32> = Vec::new();
            for (s, &(c, u)) in times.iter().enumerate() {
                cell.add(s as u32, c, u, time_of);
                live.push(s as u32);
            }
            for index in removals {
                if live.is_empty() {
                    break;
                }
                let s = live.swap_remove(index.index(live.len()));
                let (c, u) = time_of(s);
                cell.remove(s, c, u, time_of);
                let mut want = GroupState::EMPTY;
                for &l in &live {
                    let (c, u) = time_of(l);
                    want.merge(&GroupState { version_count: 1, create_at: c, update_at: u });
                }
                prop_assert_eq!(cell.state, want);
                prop_assert_eq!(cell.is_empty(), live.is_empty());
            }
        }
    }
}
