//! [`TypeStates`]: each group's aggregates over all its versions and over
//! those of each image type, by group slot.

use crate::group_state::GroupState;
use crate::kinds::ImageType;

/// The image types.
const TYPES: usize = 2;
const _: () = assert!(ImageType::ALL.len() == TYPES);

/// A slot's [`Slot::types`] when it has no versions.
const NO_TYPE: u32 = u32::MAX;
/// From this [`Slot::types`] on, the slot has versions of both types and
/// its per-type aggregates are in [`TypeStates::mixed`], at `types - MIXED`.
const MIXED: u32 = TYPES as u32;

/// One group's aggregates over all its versions, and where those per type
/// are: 24 bytes, as a [`GroupState`].
#[derive(Clone, Copy, Debug)]
struct Slot {
    /// Its versions (a catalog holds fewer than `u32::MAX`).
    count: u32,
    /// [`NO_TYPE`]; the one image type of all its versions (`ImageType as
    /// u32`); or [`MIXED`] plus the index of its per-type aggregates.
    types: u32,
    create_at: i64,
    update_at: i64,
}

impl Slot {
    const EMPTY: Slot = Slot {
        count: 0,
        types: NO_TYPE,
        create_at: GroupState::EMPTY.create_at,
        update_at: GroupState::EMPTY.update_at,
    };

    #[inline(always)]
    fn state(&self) -> GroupState {
        GroupState {
            version_count: u64::from(self.count),
            create_at: self.create_at,
            update_at: self.update_at,
        }
    }
}

/// The aggregates of each group slot over all its versions and per image
/// type, in one plain vector a query reads in slot order: a group whose
/// versions are all of one type (most, where groups are small) keeps its
/// per-type aggregates as its total and that type; only a group with both
/// types keeps them apart, in a second vector. A free slot has a count of 0.
#[derive(Clone, Debug, Default)]
pub(super) struct TypeStates {
    slots: Vec<Slot>,
    /// Per type, by [`Slot::types`] minus [`MIXED`]; freed entries are
    /// reused.
    mixed: Vec<[GroupState; TYPES]>,
    free_mixed: Vec<u32>,
}

impl TypeStates {
    /// The number of slots.
    pub(super) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Adds a slot without versions.
    pub(super) fn push_empty(&mut self) {
        self.slots.push(Slot::EMPTY);
    }

    /// Makes room for `additional` more slots, exactly.
    pub(super) fn reserve_exact(&mut self, additional: usize) {
        self.slots.reserve_exact(additional);
    }

    pub(super) fn shrink_to_fit(&mut self) {
        self.slots.shrink_to_fit();
        self.mixed.shrink_to_fit();
    }

    /// Whether slot `g` has versions of `image_type` (of any type with
    /// `None`).
    #[inline]
    pub(super) fn has(&self, g: u32, image_type: Option<ImageType>) -> bool {
        let slot = &self.slots[g as usize];
        match image_type {
            None => slot.count > 0,
            Some(t) => slot.types == t as u32 || (slot.types >= MIXED && slot.types != NO_TYPE),
        }
    }

    /// Slot `g`'s aggregates over its versions of `image_type` (over all its
    /// versions with `None`); a count of 0 if it has none.
    #[inline(always)]
    pub(super) fn get(&self, g: u32, image_type: Option<ImageType>) -> GroupState {
        let slot = &self.slots[g as usize];
        match image_type {
            None => slot.state(),
            Some(t) if slot.types == t as u32 => slot.state(),
            Some(t) if slot.types >= MIXED && slot.types != NO_TYPE => {
                self.mixed[(slot.types - MIXED) as usize][t as usize]
            }
            Some(_) => GroupState::EMPTY,
        }
    }

    /// Asks for slot `g`'s aggregates ahead of their reading.
    pub(super) fn prefetch(&self, g: u32) {
        if let Some(slot) = self.slots.get(g as usize) {
            crate::prefetch::prefetch(slot);
        }
    }

    /// The [`type_bit`](super::names::type_bit)s of the image types slot
    /// `g` has versions of.
    pub(super) fn type_bits(&self, g: u32) -> u8 {
        ImageType::ALL
            .iter()
            .filter(|&&t| self.has(g, Some(t)))
            .fold(0, |bits, &t| bits | super::names::type_bit(t))
    }

    /// Counts a version of `image_type` with aggregates `one` into slot `g`.
    pub(super) fn add(&mut self, g: u32, image_type: ImageType, one: &GroupState) {
        let t = image_type as u32;
        let slot = self.slots[g as usize];
        let types = match slot.types {
            NO_TYPE => t,
            only if only == t => t,
            // Its first version of a second type: its total so far is the
            // other type's.
            other if other < MIXED => {
                let mut per_type = [GroupState::EMPTY; TYPES];
                per_type[other as usize] = slot.state();
                MIXED + self.alloc_mixed(per_type)
            }
            mixed => mixed,
        };
        if types >= MIXED && types != NO_TYPE {
            self.mixed[(types - MIXED) as usize][t as usize].merge(one);
        }
        let slot = &mut self.slots[g as usize];
        slot.types = types;
        slot.count = u32::try_from(u64::from(slot.count) + one.version_count)
            .expect("a Catalog group holds fewer than u32::MAX versions");
        slot.create_at = slot.create_at.min(one.create_at);
        slot.update_at = slot.update_at.max(one.update_at);
    }

    /// Sets slot `g`'s aggregates: `per_type[t]` over its versions of type
    /// `t` (`ImageType as usize`), whose merge is its total.
    pub(super) fn set(&mut self, g: u32, per_type: [GroupState; TYPES]) {
        let mut total = GroupState::EMPTY;
        for state in &per_type {
            total.merge(state);
        }
        let old = self.slots[g as usize].types;
        let old_mixed = (old >= MIXED && old != NO_TYPE).then(|| old - MIXED);
        let has = |t: usize| per_type[t].version_count > 0;
        let types = match (has(0), has(1), old_mixed) {
            (false, false, _) => NO_TYPE,
            (true, false, _) => 0,
            (false, true, _) => 1,
            (true, true, Some(k)) => {
                self.mixed[k as usize] = per_type;
                old
            }
            (true, true, None) => MIXED + self.alloc_mixed(per_type),
        };
        if let Some(k) = old_mixed.filter(|_| types < MIXED || types == NO_TYPE) {
            self.mixed[k as usize] = [GroupState::EMPTY; TYPES];
            self.free_mixed.push(k);
        }
        self.slots[g as usize] = Slot {
            count: u32::try_from(total.version_count)
                .expect("a Catalog group holds fewer than u32::MAX versions"),
            types,
            create_at: total.create_at,
            update_at: total.update_at,
        };
    }

    fn alloc_mixed(&mut self, per_type: [GroupState; TYPES]) -> u32 {
        match self.free_mixed.pop() {
            Some(k) => {
                self.mixed[k as usize] = per_type;
                k
            }
            None => {
                self.mixed.push(per_type);
                u32::try_from(self.mixed.len() - 1)
                    .ok()
                    .filter(|&k| k < NO_TYPE - MIXED)
                    .expect("a Catalog workspace has fewer than u32::MAX - 2 groups")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Versions added one at a time and aggregates set (as a removal
        /// sets them), over a few slots, read back as the per-type sums of
        /// a model, both types and one, with the second vector's entries
        /// reused and none leaked.
        #[test]
        fn per_type_aggregates_match_a_model(
            ops in prop::collection::vec((0u32..4, any::<bool>(), 0usize..2, -5i64..5, -5i64..5), 0..200),
        ) {
            let mut states = TypeStates::default();
            for _ in 0..4 {
                states.push_empty();
            }
            let mut model = [[GroupState::EMPTY; TYPES]; 4];
            for (g, add, t, c, u) in ops {
                let one = GroupState { version_count: 1, create_at: c, update_at: u };
                if add {
                    states.add(g, ImageType::ALL[t], &one);
                    model[g as usize][t].merge(&one);
                } else {
                    // A removal's new aggregates: the type `t` emptied.
                    model[g as usize][t] = GroupState::EMPTY;
                    states.set(g, model[g as usize]);
                }
                for s in 0..4u32 {
                    let want = model[s as usize];
                    let mut total = GroupState::EMPTY;
                    for (i, &image_type) in ImageType::ALL.iter().enumerate() {
                        prop_assert_eq!(states.get(s, Some(image_type)), want[i]);
                        prop_assert_eq!(states.has(s, Some(image_type)), want[i].version_count > 0);
                        total.merge(&want[i]);
                    }
                    prop_assert_eq!(states.get(s, None), total);
                    prop_assert_eq!(states.has(s, None), total.version_count > 0);
                }
                let both = model.iter().filter(|m| m.iter().all(|s| s.version_count > 0)).count();
                prop_assert_eq!(states.mixed.len() - states.free_mixed.len(), both);
            }
        }
    }

    #[test]
    fn a_slot_takes_what_a_group_state_takes() {
        assert_eq!(
            std::mem::size_of::<Slot>(),
            std::mem::size_of::<GroupState>()
        );
    }
}
