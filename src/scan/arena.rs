//! A byte arena whose records start on cache lines.
//!
//! Why not a plain `Vec<u8>` with offsets rounded up to 64: a `Vec<u8>` is
//! only as aligned as the allocator makes it (16 bytes with glibc), so a
//! record at a multiple of 64 from its start straddles two cache lines, and
//! the scan waits for both. This arena keeps its first byte on a line
//! boundary itself, in safe code: it skips the few bytes before the first
//! boundary of its allocation, and when it needs more room it moves into a
//! new allocation and skips again there, so a record's offset never changes.

/// The size of a cache line on the processors this is tuned for.
pub(crate) const LINE: usize = 64;

/// Bytes in records that each start on a cache line.
pub(crate) struct LineArena {
    /// `bytes[start..]` is the arena; `bytes[start]` is at an address that
    /// is a multiple of [`LINE`].
    bytes: Vec<u8>,
    start: usize,
    /// The size to move to once past [`ROOM_FROM`] (see [`Self::with_room`]).
    room: usize,
}

/// The size past which an arena moves to the room it was given. Below it,
/// doubling costs little: the allocator keeps blocks of a few MiB when they
/// are freed and hands them out again to the next query, already backed by
/// memory (glibc raises its threshold for handing blocks back to the
/// operating system up to 32 MiB), while a block the size of the room is
/// fresh memory on every query.
const ROOM_FROM: usize = 16 << 20;

impl LineArena {
    pub(crate) fn new() -> Self {
        LineArena {
            bytes: Vec::new(),
            start: 0,
            room: 0,
        }
    }

    /// An empty arena that, once it outgrows [`ROOM_FROM`] bytes, moves
    /// straight to an allocation of `bytes` bytes (if it needs no more).
    ///
    /// Why: an arena that doubles copies its bytes at each move, and the
    /// new allocation is faulted in page by page again; where a table ends
    /// up with a record for most versions, that is most of its memory
    /// written twice. The room is only asked for: the operating system
    /// backs it with memory as it is written, so room never filled costs
    /// nothing but address space, and an arena that stays small never asks.
    pub(crate) fn with_room(bytes: usize) -> Self {
        LineArena {
            room: bytes,
            ..LineArena::new()
        }
    }

    /// Empties the arena, keeping its allocation (and the line boundary it
    /// starts on) for the records pushed next; `room` as in
    /// [`Self::with_room`].
    pub(crate) fn clear(&mut self, room: usize) {
        self.bytes.truncate(self.start);
        self.room = room;
    }

    /// The bytes the arena's allocation holds.
    pub(crate) fn capacity(&self) -> usize {
        self.bytes.capacity()
    }

    /// The arena's length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.bytes.len() - self.start
    }

    /// The bytes from offset `at` to the end.
    #[inline(always)]
    pub(crate) fn tail(&self, at: usize) -> Option<&[u8]> {
        self.bytes.get(self.start.checked_add(at)?..)
    }

    /// The bytes from offset `at` to the end, to change.
    #[inline(always)]
    pub(crate) fn tail_mut(&mut self, at: usize) -> Option<&mut [u8]> {
        let at = self.start.checked_add(at)?;
        self.bytes.get_mut(at..)
    }

    /// Appends a record made of `parts`, starting on a new cache line, and
    /// returns its offset (a multiple of [`LINE`]).
    pub(crate) fn push(&mut self, parts: &[&[u8]]) -> usize {
        let at = self.len().next_multiple_of(LINE);
        let end = at + parts.iter().map(|part| part.len()).sum::<usize>();
        if self.start + end > self.bytes.capacity() {
            self.move_to_room_for(end);
        }
        self.bytes.resize(self.start + at, 0);
        for part in parts {
            self.bytes.extend_from_slice(part);
        }
        at
    }

    /// Moves the arena into a new allocation with room for `len` bytes (and
    /// at least twice its length), starting on a line boundary there.
    #[cold]
    fn move_to_room_for(&mut self, len: usize) {
        let mut len = len.max(2 * self.len());
        if len > ROOM_FROM {
            len = len.max(self.room);
        }
        let mut bytes = Vec::with_capacity(len + LINE);
        // Before anything is written, so that the first write of each huge
        // page faults it in whole.
        crate::huge_pages::advise(bytes.as_ptr(), bytes.capacity());
        // Pointer to integer: only its remainder is used, to skip the bytes
        // before the allocation's first line boundary.
        let start = (bytes.as_ptr() as usize).wrapping_neg() % LINE;
        bytes.resize(start, 0);
        bytes.extend_from_slice(&self.bytes[self.start..]);
        self.bytes = bytes;
        self.start = start;
    }
}

impl Clone for LineArena {
    /// A copy on lines of its own: a derived clone would copy `start`, but
    /// the new allocation's first line boundary is elsewhere.
    fn clone(&self) -> Self {
        let mut copy = LineArena::new();
        copy.move_to_room_for(self.len());
        copy.bytes.extend_from_slice(&self.bytes[self.start..]);
        copy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records of every size up to a few lines, pushed through many moves
    /// to a bigger allocation: each starts on a line and keeps its bytes.
    #[test]
    fn records_start_on_lines_and_keep_their_bytes_across_moves() {
        let mut arena = LineArena::new();
        let mut records = Vec::new();
        for n in 0..600usize {
            let bytes: Vec<u8> = (0..n % 150).map(|i| (i + n) as u8).collect();
            let head = [n as u8; 3];
            let at = arena.push(&[&head, &bytes]);
            assert_eq!(at % LINE, 0);
            records.push((at, head, bytes));
            for (at, head, bytes) in &records {
                let stored = arena.tail(*at).unwrap();
                assert_eq!(stored.as_ptr() as usize % LINE, 0, "record at {at}");
                assert_eq!(&stored[..3], head);
                assert_eq!(&stored[3..3 + bytes.len()], bytes.as_slice());
            }
        }
        assert!(arena.tail(arena.len() + 1).is_none());
        let copy = arena.clone();
        for (at, head, _) in &records {
            let stored = copy.tail(*at).unwrap();
            assert_eq!(stored.as_ptr() as usize % LINE, 0, "copied record at {at}");
            assert_eq!(&stored[..3], head);
        }
    }

    /// An arena given room keeps its records' offsets and bytes when it
    /// moves into that room past [`ROOM_FROM`], and again when it outgrows
    /// the room.
    #[test]
    fn an_arena_with_room_keeps_its_records_past_the_room() {
        let mut arena = LineArena::with_room(ROOM_FROM + ROOM_FROM / 2);
        let mut records = Vec::new();
        // 100-byte records on 128 bytes each: twice the room.
        for n in 0..(3 * ROOM_FROM / 128) {
            let bytes: Vec<u8> = (0..100).map(|i| (i + n) as u8).collect();
            let at = arena.push(&[&bytes]);
            assert_eq!(at % LINE, 0);
            records.push((at, bytes));
        }
        assert!(
            arena.len() > ROOM_FROM + ROOM_FROM / 2,
            "the arena outgrew its room"
        );
        for (at, bytes) in &records {
            let stored = arena.tail(*at).unwrap();
            assert_eq!(stored.as_ptr() as usize % LINE, 0, "record at {at}");
            assert_eq!(&stored[..bytes.len()], bytes.as_slice());
        }
    }
}
