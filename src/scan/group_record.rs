//! The byte format of one group in the scan's table: its aggregates and its
//! key together, on whole cache lines of a [`LineArena`], so that counting a
//! version into its group reads one record (one line for a key of up to 36
//! bytes, most names and namespaces together).
//!
//! A record, in bytes from its start (a multiple of a cache line):
//!
//! | bytes | what |
//! |---|---|
//! | 0..8 | `version_count` |
//! | 8..16 | `create_at` |
//! | 16..24 | `update_at` |
//! | 24..28 | the key's part lengths, packed: the name's in the low 16 bits, the namespace's in the high 16, or [`LONG`] |
//! | 28.. | the name's bytes, then the key's second part |
//!
//! The second part is the namespace, followed for a repository in an SWR
//! enterprise instance by `0xff` and the instance id ([`GroupKey::stored`]).
//!
//! A key with a part of `u16::MAX` bytes or more is [`LONG`]: its lengths
//! are then two `u64` at 32 and 40, and its bytes start at 48.

use super::arena::LineArena;
use crate::group_state::{GroupKey, GroupState};

const VERSION_COUNT: usize = 0;
const CREATE_AT: usize = 8;
const UPDATE_AT: usize = 16;
const LENGTHS: usize = 24;
/// The bytes before a short key.
pub(super) const HEADER: usize = 28;
/// The packed lengths of a key with a part of `u16::MAX` bytes or more.
const LONG: u32 = u32::MAX;
const LONG_NAME_LEN: usize = 32;
const LONG_NAMESPACE_LEN: usize = 40;
const LONG_KEY: usize = 48;

/// A record's header: its aggregates and packed lengths.
pub(super) type Header = [u8; HEADER];

/// Appends the record of a new group to `arena` and returns its offset.
pub(super) fn push(arena: &mut LineArena, key: &GroupKey<'_>, state: GroupState) -> usize {
    let mut header = [0; HEADER];
    set_state(&mut header, &state);
    let (name, second_len) = (key.name, key.stored_len());
    let [namespace, mark, instance] = key.stored();
    let lengths = packed_lengths(name.len(), second_len);
    header[LENGTHS..LENGTHS + 4].copy_from_slice(&lengths.to_ne_bytes());
    if lengths == LONG {
        let padding = [0; LONG_NAME_LEN - HEADER];
        arena.push(&[
            &header,
            &padding,
            &(name.len() as u64).to_ne_bytes(),
            &(second_len as u64).to_ne_bytes(),
            name,
            namespace,
            mark,
            instance,
        ])
    } else {
        arena.push(&[&header, name, namespace, mark, instance])
    }
}

/// The header of the record at `record` and the bytes after it.
///
/// # Panics
/// If no record starts at `record`: the table hands out only offsets that
/// [`push`] returned.
#[inline(always)]
pub(super) fn read(arena: &LineArena, record: usize) -> (&Header, &[u8]) {
    arena
        .tail(record)
        .and_then(<[u8]>::split_first_chunk::<HEADER>)
        .expect("a group's offset points at its record in the arena")
}

/// As [`read`], to change the aggregates.
#[inline(always)]
pub(super) fn read_mut(arena: &mut LineArena, record: usize) -> (&mut Header, &mut [u8]) {
    arena
        .tail_mut(record)
        .and_then(<[u8]>::split_first_chunk_mut::<HEADER>)
        .expect("a group's offset points at its record in the arena")
}

/// The packed lengths of a key: the name's in the low 16 bits and the
/// namespace's in the high 16, or [`LONG`] if either does not fit.
#[inline(always)]
fn packed_lengths(name_len: usize, namespace_len: usize) -> u32 {
    match (u16::try_from(name_len), u16::try_from(namespace_len)) {
        (Ok(name), Ok(namespace)) if name < u16::MAX && namespace < u16::MAX => {
            u32::from(name) | u32::from(namespace) << 16
        }
        _ => LONG,
    }
}

/// The name and second key part of a record (see [`GroupKey::stored`]),
/// from its header and `rest`, the bytes after the header.
///
/// # Panics
/// If the lengths point past the arena: [`push`] wrote them with the bytes.
#[inline(always)]
pub(super) fn key<'r>(header: &Header, rest: &'r [u8]) -> (&'r [u8], &'r [u8]) {
    let packed = u32::from_ne_bytes(*header[LENGTHS..].first_chunk().expect("4 length bytes"));
    let (name_len, namespace_len, key) = match packed {
        LONG => {
            let len_at = |at: usize| {
                let bytes = rest[at - HEADER..].first_chunk::<8>();
                u64::from_ne_bytes(*bytes.expect("a long key's lengths follow its header")) as usize
            };
            (
                len_at(LONG_NAME_LEN),
                len_at(LONG_NAMESPACE_LEN),
                &rest[LONG_KEY - HEADER..],
            )
        }
        packed => ((packed & 0xffff) as usize, (packed >> 16) as usize, rest),
    };
    let (name, rest) = key.split_at(name_len);
    (name, &rest[..namespace_len])
}

/// The 8-byte field at `at` of a header.
#[inline(always)]
fn field(header: &Header, at: usize) -> u64 {
    u64::from_ne_bytes(*header[at..].first_chunk().expect("8 field bytes"))
}

/// The aggregates in a header.
#[inline(always)]
pub(super) fn state(header: &Header) -> GroupState {
    GroupState {
        version_count: field(header, VERSION_COUNT),
        create_at: field(header, CREATE_AT) as i64,
        update_at: field(header, UPDATE_AT) as i64,
    }
}

/// Writes the aggregates into a header.
#[inline(always)]
pub(super) fn set_state(header: &mut Header, state: &GroupState) {
    for (at, value) in [
        (VERSION_COUNT, state.version_count),
        (CREATE_AT, state.create_at as u64),
        (UPDATE_AT, state.update_at as u64),
    ] {
        header[at..at + 8].copy_from_slice(&value.to_ne_bytes());
    }
}
