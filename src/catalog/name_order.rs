//! [`NameOrder`]: a workspace's group slots in the byte order of their
//! names, for exact names and name-ordered pages.

/// Group slots sorted by name (groups that share a name next to each other,
/// among themselves in no particular order), in blocks of at most
/// [`2 * BLOCK`](BLOCK) slots.
///
/// The names are not kept here: every operation that compares reads them
/// through a function from slot to name, so an entry is 4 bytes, and a bulk
/// load builds the order from slots it has sorted already, without
/// comparing names again (a `BTreeMap` keyed by name would sort and
/// deduplicate its input once more, reading each name through a pointer
/// in no order in memory).
///
/// An insertion or removal finds its block and its place in it by binary
/// search (O(log n) name comparisons) and moves at most `2 * BLOCK` slots
/// within the block; a block split or dropped moves the list of blocks,
/// one in `BLOCK` insertions at most.
#[derive(Clone, Debug, Default)]
pub(super) struct NameOrder {
    /// Each non-empty, in order.
    blocks: Vec<Vec<u32>>,
    /// Per block, the first 16 bytes of its last name: the search for a
    /// name's block reads these, side by side, and reads a block's last
    /// name (through its group, far away in memory) only when they tie.
    fences: Vec<Prefix>,
    len: usize,
}

/// A name's first 16 bytes ([`prefix`]), the key a block's fence keeps.
type Prefix = u128;

/// The first 16 bytes of `bytes` as a big-endian number, padded with zeros:
/// ordered as the bytes are, except that a string and the same string
/// followed by zero bytes tie (the full comparison then decides). Also the
/// key of the bulk load's sort by name (`Workspace`, two of them).
pub(super) fn prefix(bytes: &[u8]) -> u128 {
    let mut word = [0u8; 16];
    let n = bytes.len().min(16);
    word[..n].copy_from_slice(&bytes[..n]);
    u128::from_be_bytes(word)
}

/// The fence of `block`: its last name's prefix.
fn fence<'n>(block: &[u32], name_of: &impl Fn(u32) -> &'n [u8]) -> Prefix {
    prefix(name_of(*block.last().expect("blocks are not empty")))
}

/// A bulk load's blocks hold this many slots; an insertion splits a block
/// past twice as many. (Few in the crate's own tests, so that splits and
/// merges happen.)
const BLOCK: usize = if cfg!(test) { 4 } else { 128 };

impl NameOrder {
    /// The order of `sorted`, slots already sorted by name.
    pub(super) fn from_sorted<'n>(sorted: &[u32], name_of: impl Fn(u32) -> &'n [u8]) -> Self {
        let blocks: Vec<Vec<u32>> = sorted.chunks(BLOCK).map(<[u32]>::to_vec).collect();
        let fences = blocks.iter().map(|block| fence(block, &name_of)).collect();
        NameOrder {
            blocks,
            fences,
            len: sorted.len(),
        }
    }

    /// The number of slots.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The block where a slot with `name` goes: the first whose last name
    /// is not before it, else the last block.
    fn block_for<'n>(&self, name: &[u8], name_of: &impl Fn(u32) -> &'n [u8]) -> usize {
        let wanted = prefix(name);
        // A binary search like `partition_point`'s, over the fences, with
        // the block's index at hand for a tie.
        let (mut low, mut high) = (0, self.fences.len());
        while low < high {
            let mid = low + (high - low) / 2;
            let before = match self.fences[mid].cmp(&wanted) {
                std::cmp::Ordering::Equal => {
                    name_of(*self.blocks[mid].last().expect("blocks are not empty")) < name
                }
                order => order.is_lt(),
            };
            if before {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        low.min(self.blocks.len().saturating_sub(1))
    }

    /// Sets block `b`'s fence after a change to it.
    fn refence<'n>(&mut self, b: usize, name_of: &impl Fn(u32) -> &'n [u8]) {
        self.fences[b] = fence(&self.blocks[b], name_of);
    }

    /// Adds slot `g`, whose name is `name_of(g)`.
    pub(super) fn insert<'n>(&mut self, g: u32, name_of: impl Fn(u32) -> &'n [u8]) {
        let name = name_of(g);
        if self.blocks.is_empty() {
            self.blocks.push(vec![g]);
            self.fences.push(prefix(name));
            self.len = 1;
            return;
        }
        let b = self.block_for(name, &name_of);
        let block = &mut self.blocks[b];
        let at = block.partition_point(|&other| name_of(other) < name);
        block.insert(at, g);
        self.len += 1;
        if block.len() > 2 * BLOCK {
            let second = block.split_off(BLOCK);
            self.blocks.insert(b + 1, second);
            self.fences.insert(b + 1, 0);
            self.refence(b + 1, &name_of);
        }
        self.refence(b, &name_of);
    }

    /// Takes slot `g`, whose name is `name_of(g)`, out.
    ///
    /// # Panics
    ///
    /// If `g` is not in the order (a broken invariant of the catalog).
    pub(super) fn remove<'n>(&mut self, g: u32, name_of: impl Fn(u32) -> &'n [u8]) {
        let name = name_of(g);
        let mut b = self.block_for(name, &name_of);
        // The slots with `name` start in block `b` and may run on into the
        // next blocks.
        let at = loop {
            let block = self
                .blocks
                .get(b)
                .expect("a removed slot is in the name order");
            let from = block.partition_point(|&other| name_of(other) < name);
            if let Some(i) = block[from..].iter().position(|&other| other == g) {
                break from + i;
            }
            assert!(
                block[from..].iter().all(|&other| name_of(other) == name),
                "a removed slot is in the name order"
            );
            b += 1;
        };
        self.blocks[b].remove(at);
        self.len -= 1;
        // Keep the blocks from thinning out: a block that a removal leaves
        // small joins its neighbour when both fit one block.
        let small = self.blocks[b].len();
        if small == 0 {
            self.blocks.remove(b);
            self.fences.remove(b);
            return;
        }
        if small < BLOCK / 2
            && b + 1 < self.blocks.len()
            && small + self.blocks[b + 1].len() <= BLOCK
        {
            let next = self.blocks.remove(b + 1);
            self.fences.remove(b + 1);
            self.blocks[b].extend(next);
        }
        self.refence(b, &name_of);
    }

    /// The slots named `name`.
    pub(super) fn equal<'n, 's>(
        &'s self,
        name: &'s [u8],
        name_of: impl Fn(u32) -> &'n [u8] + 's,
    ) -> impl Iterator<Item = u32> + 's {
        let (b, at) = match self.blocks.is_empty() {
            true => (0, 0),
            false => {
                let b = self.block_for(name, &name_of);
                (
                    b,
                    self.blocks[b].partition_point(|&other| name_of(other) < name),
                )
            }
        };
        self.starting_at(b, at)
            .take_while(move |&other| name_of(other) == name)
    }

    /// The slots from position `i` on (all positions in name order).
    pub(super) fn from(&self, i: usize) -> impl Iterator<Item = u32> + '_ {
        let (b, at) = self.locate(i);
        self.starting_at(b, at)
    }

    /// The slots from place `at` of block `b` on.
    fn starting_at(&self, b: usize, at: usize) -> impl Iterator<Item = u32> + '_ {
        let first = self.blocks.get(b).map_or(&[][..], |block| &block[at..]);
        first
            .iter()
            .chain(self.blocks.iter().skip(b + 1).flatten())
            .copied()
    }

    /// The slots before position `i`, from the one just before it back to
    /// the first.
    pub(super) fn before(&self, i: usize) -> impl Iterator<Item = u32> + '_ {
        let (b, at) = self.locate(i);
        let last = self.blocks.get(b).map_or(&[][..], |block| &block[..at]);
        last.iter()
            .rev()
            .chain(
                self.blocks[..b.min(self.blocks.len())]
                    .iter()
                    .rev()
                    .flat_map(|block| block.iter().rev()),
            )
            .copied()
    }

    /// The block and place in it of position `i`; `(blocks, 0)` past the
    /// end.
    fn locate(&self, mut i: usize) -> (usize, usize) {
        for (b, block) in self.blocks.iter().enumerate() {
            if i < block.len() {
                return (b, i);
            }
            i -= block.len();
        }
        (self.blocks.len(), 0)
    }

    /// Gives back the blocks' spare room.
    pub(super) fn shrink_to_fit(&mut self) {
        for block in &mut self.blocks {
            block.shrink_to_fit();
        }
        self.blocks.shrink_to_fit();
        self.fences.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The model: slots sorted by name, then slot (the order's ties are in
    /// no particular order, so both sides are compared as sorted runs).
    fn model(names: &[String], live: &[u32]) -> Vec<(String, u32)> {
        let mut want: Vec<(String, u32)> = live
            .iter()
            .map(|&g| (names[g as usize].clone(), g))
            .collect();
        want.sort();
        want
    }

    fn runs_of(order: &NameOrder, names: &[String]) -> Vec<(String, u32)> {
        let mut got: Vec<(String, u32)> = order
            .from(0)
            .map(|g| (names[g as usize].clone(), g))
            .collect();
        // Sorted by name already: within a name, any order.
        assert!(got.windows(2).all(|w| w[0].0 <= w[1].0), "sorted by name");
        got.sort();
        got
    }

    proptest! {
        /// Built in bulk or slot by slot, then with insertions and removals
        /// in any order (blocks split, emptied and joined), the order holds
        /// the live slots sorted by name; `equal` finds each name's slots,
        /// `from` and `before` cut it anywhere.
        #[test]
        fn holds_the_live_slots_in_name_order(
            names in prop::collection::vec(prop::sample::select(vec!["a", "ab", "b", "", "torch", "t", "zz"]), 1..80),
            bulk in 0usize..80,
            ops in prop::collection::vec((any::<bool>(), any::<prop::sample::Index>()), 0..200),
        ) {
            let names: Vec<String> = names.into_iter().map(String::from).collect();
            let name_of = |g: u32| names[g as usize].as_bytes();
            let bulk = bulk.min(names.len());
            let mut live: Vec<u32> = (0..bulk as u32).collect();
            let mut sorted = live.clone();
            sorted.sort_by_key(|&g| name_of(g));
            let mut order = NameOrder::from_sorted(&sorted, name_of);
            let mut dead: Vec<u32> = (bulk as u32..names.len() as u32).collect();
            for (insert, index) in ops {
                if insert && !dead.is_empty() {
                    let g = dead.swap_remove(index.index(dead.len()));
                    order.insert(g, name_of);
                    live.push(g);
                } else if !live.is_empty() {
                    let g = live.swap_remove(index.index(live.len()));
                    order.remove(g, name_of);
                    dead.push(g);
                }
                prop_assert_eq!(order.len(), live.len());
                prop_assert!(order.blocks.iter().all(|block| !block.is_empty() && block.len() <= 2 * BLOCK));
                let fences: Vec<Prefix> = order.blocks.iter().map(|block| fence(block, &name_of)).collect();
                prop_assert_eq!(&order.fences, &fences);
            }
            let want = model(&names, &live);
            prop_assert_eq!(runs_of(&order, &names), want.clone());
            for name in ["a", "ab", "b", "", "torch", "t", "zz", "c"] {
                let mut got: Vec<u32> = order.equal(name.as_bytes(), name_of).collect();
                got.sort();
                let expected: Vec<u32> = want.iter().filter(|(n, _)| n == name).map(|&(_, g)| g).collect();
                prop_assert_eq!(got, expected);
            }
            let all: Vec<u32> = order.from(0).collect();
            for i in 0..=all.len() + 1 {
                let from: Vec<u32> = order.from(i).collect();
                prop_assert_eq!(&from[..], &all[i.min(all.len())..]);
                let mut before: Vec<u32> = order.before(i).collect();
                before.reverse();
                prop_assert_eq!(&before[..], &all[..i.min(all.len())]);
            }
        }
    }
}
