//! [`UpdateBuckets`]: each group's update bucket, one byte per group slot,
//! and how many groups each bucket holds, so that a page ordered by
//! `update_at` reads the aggregates of the few groups that can reach it
//! instead of every group's.

use super::names::BUCKETS;

/// A live group's byte has this bit set, beside its bucket in the seven
/// low bits; a free slot's byte is 0, which no bucket range holds.
const LIVE: u8 = 0x80;
/// The [`LIVE`] bit of each byte of a word.
const HIGH: u64 = 0x8080_8080_8080_8080;
/// A word of ones, one per byte.
const ONES: u64 = 0x0101_0101_0101_0101;

/// The [`NameArena::bucket`](super::names::NameArena::bucket) of each
/// group's latest `update_at` (over all its versions), by group slot, with
/// the number of live groups in each bucket.
///
/// A group in a higher bucket was updated later than one in a lower
/// bucket, so the first `end` groups of a page ordered by `update_at` lie
/// in the buckets that, counted from the page's side, first reach `end`
/// groups: the counts say which, and one pass over these bytes (a byte a
/// group, against the 24 of its aggregates) lists their groups.
#[derive(Clone, Debug)]
pub(super) struct UpdateBuckets {
    /// By group slot: [`LIVE`] with the bucket, or 0 for a free slot.
    of_group: Vec<u8>,
    /// Live groups per bucket.
    counts: [u32; BUCKETS],
}

impl Default for UpdateBuckets {
    fn default() -> Self {
        UpdateBuckets {
            of_group: Vec::new(),
            counts: [0; BUCKETS],
        }
    }
}

impl UpdateBuckets {
    /// Adds a free slot.
    pub(super) fn push_free(&mut self) {
        self.of_group.push(0);
    }

    /// Makes room for `additional` more slots, exactly.
    pub(super) fn reserve_exact(&mut self, additional: usize) {
        self.of_group.reserve_exact(additional);
    }

    pub(super) fn shrink_to_fit(&mut self) {
        self.of_group.shrink_to_fit();
    }

    /// Makes every one of `slots` slots free, before the buckets are set
    /// again for new bounds.
    pub(super) fn clear(&mut self, slots: usize) {
        self.of_group.clear();
        self.of_group.resize(slots, 0);
        self.counts = [0; BUCKETS];
    }

    /// Puts live group `g` in `bucket`.
    pub(super) fn set(&mut self, g: u32, bucket: u8) {
        assert!(usize::from(bucket) < BUCKETS, "a bucket below BUCKETS");
        self.take_out(g);
        self.of_group[g as usize] = LIVE | bucket;
        self.counts[usize::from(bucket)] += 1;
    }

    /// Frees slot `g`.
    pub(super) fn free(&mut self, g: u32) {
        self.take_out(g);
        self.of_group[g as usize] = 0;
    }

    /// Uncounts group `g` from its bucket, if it is live.
    fn take_out(&mut self, g: u32) {
        let was = self.of_group[g as usize];
        if was & LIVE != 0 {
            self.counts[usize::from(was & !LIVE)] -= 1;
        }
    }

    /// The live groups, in slot order, of the buckets that hold the first
    /// `end` groups in the order of `update_at` (`descending` or not): from
    /// the page's side, every bucket up to and including the one where the
    /// count of groups reaches `end`. `None` when that takes every bucket
    /// (fewer than `end` groups outside the last one: the list would be
    /// every live group), or more than `most` groups.
    pub(super) fn first(&self, descending: bool, end: usize, most: usize) -> Option<Vec<u32>> {
        let mut reached = 0usize;
        // Buckets in the page's order, with the number of groups counted
        // once each is added.
        let mut order: Box<dyn Iterator<Item = usize>> = match descending {
            true => Box::new((0..BUCKETS).rev()),
            false => Box::new(0..BUCKETS),
        };
        let last = order.find(|&b| {
            reached += self.counts[b] as usize;
            reached >= end
        })?;
        let all_but_one = match descending {
            true => last == 0,
            false => last == BUCKETS - 1,
        };
        if all_but_one || reached > most {
            return None;
        }
        let mut ids = Vec::with_capacity(reached);
        let last = last as u64;
        match descending {
            // Live and at or above the last bucket: a bucket `b` plus
            // `0x80 - last` reaches the high bit when `b >= last`.
            true => self.push_where(&mut ids, 0x80 - last, 0),
            // Live and at or below it: `b + 0x7f - last` stays below the
            // high bit when `b <= last`.
            false => self.push_where(&mut ids, 0x7f - last, HIGH),
        }
        debug_assert_eq!(ids.len(), reached, "the counts are the bytes'");
        Some(ids)
    }

    /// Appends, in order, the live slots whose bucket plus `add` (below
    /// 0x80, so that no byte carries into the next) has its high bit set,
    /// or clear when `flip` is [`HIGH`].
    ///
    /// Why eight bytes at a time: most slots are not wanted, and a word's
    /// test is a few arithmetic instructions for eight bytes (a vector of
    /// words for a block), tested once, rather than a branch per byte.
    fn push_where(&self, ids: &mut Vec<u32>, add: u64, flip: u64) {
        const BLOCK: usize = 64;
        let add = add * ONES;
        let wanted = |x: u64| (((x & !HIGH) + add) ^ flip) & x & HIGH;
        let blocks = self.of_group.chunks_exact(BLOCK);
        let tail = blocks.remainder();
        for (k, block) in blocks.enumerate() {
            let mut masks = [0u64; BLOCK / 8];
            for (mask, word) in masks.iter_mut().zip(block.chunks_exact(8)) {
                *mask = wanted(u64::from_le_bytes(word.try_into().expect("8 bytes")));
            }
            if masks.iter().fold(0, |any, &mask| any | mask) == 0 {
                continue;
            }
            for (w, mut mask) in masks.into_iter().enumerate() {
                while mask != 0 {
                    ids.push((k * BLOCK + w * 8) as u32 + mask.trailing_zeros() / 8);
                    mask &= mask - 1;
                }
            }
        }
        let base = self.of_group.len() - tail.len();
        for (i, &b) in tail.iter().enumerate() {
            if wanted(u64::from(b)) != 0 {
                ids.push((base + i) as u32);
            }
        }
    }

    /// Whether slot `g` holds a live group in `bucket` (tests' check that
    /// the bytes follow the groups).
    #[cfg(test)]
    pub(super) fn is(&self, g: u32, bucket: Option<u8>) -> bool {
        self.of_group[g as usize] == bucket.map_or(0, |b| LIVE | b)
    }

    /// The number of slots (tests' check).
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.of_group.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// After any sets and frees, the groups listed for the first `end`
        /// in either order are, in slot order, the live groups of the
        /// buckets from the page's side up to the one where the count
        /// reaches `end` (so every group of the first `end` in `update_at`
        /// order, whatever their times within a bucket); `None` only when
        /// that is every bucket or more than `most` groups.
        #[test]
        fn the_first_groups_are_those_of_the_buckets_that_reach_the_end(
            ops in prop::collection::vec((0u32..300, prop::option::of(0u8..BUCKETS as u8)), 0..600),
            slots in 1usize..300,
            end in 1usize..400,
            descending in any::<bool>(),
            most in 0usize..400,
        ) {
            let mut buckets = UpdateBuckets::default();
            buckets.clear(slots);
            let mut model: Vec<Option<u8>> = vec![None; slots];
            for (g, bucket) in ops {
                let g = g % slots as u32;
                match bucket {
                    Some(b) => buckets.set(g, b),
                    None => buckets.free(g),
                }
                model[g as usize] = bucket;
            }
            // Buckets in the page's order: the rank of a bucket from that side.
            let rank = |b: u8| if descending { BUCKETS - 1 - usize::from(b) } else { usize::from(b) };
            let mut ranks: Vec<usize> = model.iter().flatten().map(|&b| rank(b)).collect();
            ranks.sort_unstable();
            let got = buckets.first(descending, end, most);
            match ranks.get(end - 1) {
                Some(&last) if last < BUCKETS - 1 => {
                    let want: Vec<u32> = (0..slots as u32)
                        .filter(|&g| model[g as usize].is_some_and(|b| rank(b) <= last))
                        .collect();
                    prop_assert_eq!(got, (want.len() <= most).then_some(want));
                }
                _ => prop_assert_eq!(got, None),
            }
        }
    }

    /// The blocks' masks cover every slot: a wanted group in each position
    /// of a block and in the tail is listed.
    #[test]
    fn every_position_of_a_block_and_the_tail_is_read() {
        let mut buckets = UpdateBuckets::default();
        let slots = 64 * 3 + 17;
        buckets.clear(slots);
        for g in 0..slots as u32 {
            buckets.set(g, 0);
        }
        for g in (0..slots as u32).step_by(5) {
            buckets.set(g, 9);
        }
        let want: Vec<u32> = (0..slots as u32).step_by(5).collect();
        assert_eq!(buckets.first(true, want.len(), slots), Some(want));
    }
}
