//! One record borrowed from the text ([`RecordView`]), and the parser
//! that reads most records without serde's machinery ([`fast_record`]).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer};

use crate::filter::VersionFields;
use crate::kinds::{ImageType, ServiceType};
use crate::version::{ImageVersion, DEFAULT_WORKSPACE_ID};

/// One record, its strings borrowed from the text where they have no
/// escapes. It accepts exactly the records `ImageVersion` accepts: the
/// same fields in the same order (a record may be a JSON array of its
/// fields), the same types and defaults; the fields the query does not read
/// are checked and dropped.
#[derive(Deserialize)]
pub(super) struct RecordView<'a> {
    #[serde(borrow)]
    pub(super) id: Text<'a>,
    #[serde(borrow)]
    pub(super) name: Text<'a>,
    #[serde(borrow)]
    pub(super) namespace: Text<'a>,
    #[serde(default, borrow)]
    pub(super) tag: Option<Text<'a>>,
    #[serde(rename = "type")]
    pub(super) image_type: ImageType,
    #[serde(default, borrow)]
    pub(super) workspace_id: Option<Text<'a>>,
    #[serde(default, deserialize_with = "null_as_unknown")]
    pub(super) service_type: ServiceType,
    #[serde(default, borrow)]
    pub(super) swr_instance_id: Option<Text<'a>>,
    pub(super) create_at: i64,
    pub(super) update_at: i64,
}

impl RecordView<'_> {
    /// The record as [`ImageVersion`] deserializes it: the same strings,
    /// `"0"` for no workspace, no instance for an empty one.
    pub(super) fn into_version(self) -> ImageVersion {
        ImageVersion {
            id: self.id.0.into_owned(),
            name: self.name.0.into_owned(),
            namespace: self.namespace.0.into_owned(),
            tag: self.tag.map(|t| t.0.into_owned()),
            image_type: self.image_type,
            workspace_id: self
                .workspace_id
                .map_or_else(|| DEFAULT_WORKSPACE_ID.to_string(), |w| w.0.into_owned()),
            service_type: self.service_type,
            swr_instance_id: self
                .swr_instance_id
                .map(|i| i.0.into_owned())
                .filter(|i| !i.is_empty()),
            create_at: self.create_at,
            update_at: self.update_at,
        }
    }
}

fn null_as_unknown<'de, D: Deserializer<'de>>(d: D) -> Result<ServiceType, D::Error> {
    Ok(Option::<ServiceType>::deserialize(d)?.unwrap_or_default())
}

impl VersionFields for RecordView<'_> {
    #[inline(always)]
    fn workspace_id(&self) -> &[u8] {
        self.workspace_id
            .as_ref()
            .map_or(DEFAULT_WORKSPACE_ID, |w| &w.0)
            .as_bytes()
    }
    #[inline(always)]
    fn image_type(&self) -> ImageType {
        self.image_type
    }
    #[inline(always)]
    fn service_type(&self) -> ServiceType {
        self.service_type
    }
    #[inline(always)]
    fn namespace(&self) -> &[u8] {
        self.namespace.0.as_bytes()
    }
    #[inline(always)]
    fn name(&self) -> &[u8] {
        self.name.0.as_bytes()
    }
    #[inline(always)]
    fn swr_instance_id(&self) -> Option<&[u8]> {
        // Empty is the shared SWR, as for `ImageVersion`.
        self.swr_instance_id
            .as_ref()
            .map(|i| i.0.as_bytes())
            .filter(|i| !i.is_empty())
    }
}

/// A JSON string, borrowed unless it has escapes (serde's `Cow<str>` always
/// copies inside an `Option`).
pub(super) struct Text<'a>(pub(super) Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(s)))
            }
        }
        d.deserialize_str(TextVisitor)
    }
}

/// JSON's white space (serde_json skips exactly these).
#[inline]
pub(super) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t')
}

/// The first byte at or after `i` that is not white space (or the end).
#[inline]
pub(super) fn skip_space(b: &[u8], i: usize) -> usize {
    skip::<true>(b, i)
}

/// [`skip_space`], where `NEWLINES` says whether `\n` is white space (not
/// within one NDJSON line).
#[inline]
fn skip<const NEWLINES: bool>(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_space(b[i]) && (NEWLINES || b[i] != b'\n') {
        i += 1;
    }
    i
}

/// A record's fields, by bit in a set of the fields seen.
const ID: u16 = 1;
const NAME: u16 = 1 << 1;
const NAMESPACE: u16 = 1 << 2;
const TAG: u16 = 1 << 3;
const TYPE: u16 = 1 << 4;
const WORKSPACE_ID: u16 = 1 << 5;
const SERVICE_TYPE: u16 = 1 << 6;
const SWR_INSTANCE_ID: u16 = 1 << 7;
const CREATE_AT: u16 = 1 << 8;
const UPDATE_AT: u16 = 1 << 9;
/// The fields a record must have.
const REQUIRED: u16 = ID | NAME | NAMESPACE | TYPE | CREATE_AT | UPDATE_AT;

/// The record (a JSON object) at `text[at..]` and the index just after it,
/// read directly for the records most texts hold; `None` where it declines,
/// and then serde reads the record (in the same place), so that what is
/// accepted and what it means stay exactly [`RecordView`]'s.
///
/// It accepts a subset of what serde accepts, with the same values: string
/// values and keys without escapes or control characters, the record's
/// fields with the types and `null`s serde takes, integer times of at most
/// 18 digits (no `-0`, which serde reads as a float), and other members
/// whose values are strings without escapes, JSON numbers, `true`, `false`,
/// `null`, or arrays of those. It declines duplicate fields, missing fields, nested values
/// and anything else. Without `NEWLINES`, the record must be on one line
/// (NDJSON).
///
/// `layout` is what the records read before with it looked like: a key
/// that is the one the last record had in its place is compared rather
/// than scanned, as is a member's value the query does not read that is
/// the last record's (records of one text mostly share their keys' order
/// and many of their values). Records that differ update it. Once two
/// records in a row have had the same keys, the layout also holds a
/// [`Template`] of the second, which the next records are read by first.
pub(super) fn fast_record<'a, const NEWLINES: bool>(
    text: &'a str,
    at: usize,
    layout: &mut Layout<'a>,
) -> Option<(RecordView<'a>, usize)> {
    let i = skip::<NEWLINES>(text.as_bytes(), at);
    if layout.credit < 0 {
        // Recent records missed the template: read this one member by
        // member, which the next tries earn back.
        layout.credit += 1;
    } else if let Some(template) = layout.template.as_ref().filter(|t| t.newlines == NEWLINES) {
        match templated::<NEWLINES>(text, i, &template.ops) {
            Some(read) => {
                layout.credit = (layout.credit + 1).min(CREDIT_MAX);
                return Some(read);
            }
            None => layout.credit -= MISS_COST,
        }
    }
    // A template is made only where the next record may be read by it.
    let build = layout.credit >= 0;
    member_by_member::<NEWLINES>(text, i, layout, build)
}

/// The records a miss of the template costs its tries: a miss compares
/// part of a record in vain before reading it member by member, so where
/// more than about one record in nine misses (records of two layouts
/// mixed, say), the template is tried only now and then.
const MISS_COST: i32 = 8;

/// The most tries a run of records read by the template saves up, so that
/// a record now and then that misses (a value that changes) does not stop
/// the tries.
const CREDIT_MAX: i32 = 16;

/// [`fast_record`] without its template: each member read in turn, at
/// `i`, the record's first byte. With `build`, where its keys are the last
/// record's, it leaves the layout a template of this record.
fn member_by_member<'a, const NEWLINES: bool>(
    text: &'a str,
    mut i: usize,
    layout: &mut Layout<'a>,
    build: bool,
) -> Option<(RecordView<'a>, usize)> {
    let b = text.as_bytes();
    if b.get(i) != Some(&b'{') {
        return None;
    }
    // The template of this record, built as it is read: the text from
    // `literal` on is the same in the next record unless a value that
    // varies (a field's, or one unlike the last record's) comes first.
    let mut literal = i;
    let ops = &mut layout.spare;
    ops.clear();
    let mut same_keys = build && !layout.members.is_empty();
    i = skip::<NEWLINES>(b, i + 1);
    let mut seen = 0u16;
    let mut fields = Fields::default();
    for member in 0.. {
        let (field, after) = match layout.members.get(member) {
            Some(last) if starts_with(b, i, last.key) => (last.field, i + last.key.len()),
            _ => {
                same_keys = false;
                let (key, after) = plain_string(text, i)?;
                let field = field_of(key);
                if member < LAYOUT_MEMBERS {
                    layout.members.truncate(member);
                    layout.members.push(Member {
                        key: &b[i..after],
                        field,
                        value: b"",
                    });
                }
                (field, after)
            }
        };
        i = skip::<NEWLINES>(b, after);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = skip::<NEWLINES>(b, i + 1);
        if seen & field != 0 {
            return None;
        }
        seen |= field;
        let varies = |ops: &mut Vec<Op<'a>>, op: Op<'a>, literal: usize| {
            if build {
                ops.push(Op::Literal(&b[literal..i]));
                ops.push(op);
            }
        };
        i = match field {
            0 => match layout.members.get_mut(member) {
                // The last record's value, whole: it ends where the value
                // read would (the text after it is checked as after any).
                Some(last) if !last.value.is_empty() && starts_with(b, i, last.value) => {
                    i + last.value.len()
                }
                Some(last) => {
                    varies(ops, Op::Other, literal);
                    let after = other_value::<NEWLINES>(text, i)?;
                    // Not a number, which the text may go on (`1` of `12`).
                    last.value = match b[after - 1] {
                        b'0'..=b'9' => b"",
                        _ => &b[i..after],
                    };
                    literal = after;
                    after
                }
                // A member past those the layout keeps.
                None => {
                    same_keys = false;
                    other_value::<NEWLINES>(text, i)?
                }
            },
            _ => {
                varies(ops, Op::Field(field), literal);
                let after = fields.read(text, i, field)?;
                literal = after;
                after
            }
        };
        i = skip::<NEWLINES>(b, i);
        match b.get(i) {
            Some(b',') => i = skip::<NEWLINES>(b, i + 1),
            Some(b'}') => break,
            _ => return None,
        }
    }
    if seen & REQUIRED != REQUIRED {
        return None;
    }
    if same_keys {
        ops.push(Op::Literal(&b[literal..=i]));
        match &mut layout.template {
            Some(template) => std::mem::swap(&mut template.ops, ops),
            None => {
                layout.template = Some(Template {
                    ops: std::mem::take(ops),
                    newlines: NEWLINES,
                })
            }
        }
    }
    Some((fields.view(), i + 1))
}

/// The record at `text[i..]` if it is the template's record but for the
/// values the template reads, read as [`member_by_member`] reads it (which
/// it would take, with the same values: the same keys, in the same order,
/// the same white space, values read by the same functions where they vary,
/// and where they do not, the very text a value was read from).
#[inline]
fn templated<'a, const NEWLINES: bool>(
    text: &'a str,
    mut i: usize,
    ops: &[Op<'a>],
) -> Option<(RecordView<'a>, usize)> {
    let b = text.as_bytes();
    let mut fields = Fields::default();
    for op in ops {
        i = match *op {
            Op::Literal(literal) if starts_with(b, i, literal) => i + literal.len(),
            Op::Literal(_) => return None,
            Op::Field(field) => fields.read(text, i, field)?,
            Op::Other => other_value::<NEWLINES>(text, i)?,
        };
    }
    Some((fields.view(), i))
}

/// The values of a record's fields, as [`fast_record`] reads them.
struct Fields<'a> {
    id: &'a str,
    name: &'a str,
    namespace: &'a str,
    tag: Option<&'a str>,
    image_type: ImageType,
    workspace_id: Option<&'a str>,
    service_type: ServiceType,
    swr_instance_id: Option<&'a str>,
    create_at: i64,
    update_at: i64,
}

impl Default for Fields<'_> {
    fn default() -> Self {
        Fields {
            id: "",
            name: "",
            namespace: "",
            tag: None,
            image_type: ImageType::Dedicated,
            workspace_id: None,
            service_type: ServiceType::Unknown,
            swr_instance_id: None,
            create_at: 0,
            update_at: 0,
        }
    }
}

impl<'a> Fields<'a> {
    /// Reads the value at `text[i..]` of `field` (a field's bit), as serde
    /// reads it where this reads it at all; the index after it.
    #[inline(always)]
    fn read(&mut self, text: &'a str, i: usize, field: u16) -> Option<usize> {
        let b = text.as_bytes();
        Some(match field {
            ID | NAME | NAMESPACE => {
                let (value, after) = plain_string(text, i)?;
                *match field {
                    ID => &mut self.id,
                    NAME => &mut self.name,
                    _ => &mut self.namespace,
                } = value;
                after
            }
            TAG | WORKSPACE_ID | SWR_INSTANCE_ID => {
                let (value, after) = match null(b, i) {
                    Some(after) => (None, after),
                    None => plain_string(text, i).map(|(s, after)| (Some(s), after))?,
                };
                *match field {
                    TAG => &mut self.tag,
                    WORKSPACE_ID => &mut self.workspace_id,
                    _ => &mut self.swr_instance_id,
                } = value;
                after
            }
            TYPE => {
                let (value, after) = plain_string(text, i)?;
                self.image_type = ImageType::ALL
                    .iter()
                    .copied()
                    .find(|t| t.as_str() == value)?;
                after
            }
            SERVICE_TYPE => match null(b, i) {
                Some(after) => {
                    self.service_type = ServiceType::Unknown;
                    after
                }
                None => {
                    let (value, after) = plain_string(text, i)?;
                    self.service_type = ServiceType::ALL
                        .iter()
                        .copied()
                        .find(|s| s.as_str() == value)?;
                    after
                }
            },
            CREATE_AT | UPDATE_AT => {
                let (value, after) = integer(b, i)?;
                *if field == CREATE_AT {
                    &mut self.create_at
                } else {
                    &mut self.update_at
                } = value;
                after
            }
            _ => unreachable!("a field bit is one of the record's fields"),
        })
    }

    /// The record these values are, its strings borrowed.
    fn view(self) -> RecordView<'a> {
        fn borrowed(s: &str) -> Text<'_> {
            Text(Cow::Borrowed(s))
        }
        RecordView {
            id: borrowed(self.id),
            name: borrowed(self.name),
            namespace: borrowed(self.namespace),
            tag: self.tag.map(borrowed),
            image_type: self.image_type,
            workspace_id: self.workspace_id.map(borrowed),
            service_type: self.service_type,
            swr_instance_id: self.swr_instance_id.map(borrowed),
            create_at: self.create_at,
            update_at: self.update_at,
        }
    }
}

/// What the last record [`fast_record`] read with it looked like.
#[derive(Default)]
pub(super) struct Layout<'a> {
    /// Its first members (at most [`LAYOUT_MEMBERS`]), in order, as far as
    /// it was read.
    members: Vec<Member<'a>>,
    /// The template of the last record read member by member whose keys
    /// were the record's before it.
    template: Option<Template<'a>>,
    /// The next template, built as a record is read (kept to reuse its
    /// memory).
    spare: Vec<Op<'a>>,
    /// Whether to try the template: its hits less its misses (each
    /// [`MISS_COST`]), up to [`CREDIT_MAX`]; below 0, records are read
    /// member by member, each adding 1.
    credit: i32,
}

/// A record read member by member, as the text the next records are
/// expected to repeat and the values they are expected to vary in: its
/// text in turns of bytes to compare and values to read, the record's
/// fields' values and the other values that were not the last record's.
/// Reading a record by it compares one stretch of text where the record
/// repeats several members, instead of each key and value in turn.
pub(super) struct Template<'a> {
    ops: Vec<Op<'a>>,
    /// The white space rule it was read in: a record on one line or not.
    newlines: bool,
}

/// A turn of a [`Template`].
#[derive(Clone, Copy, Debug)]
enum Op<'a> {
    /// Text the record has here: its start or what follows a value, up to
    /// the next value that varies (keys, white space, colons, commas,
    /// values that do not vary, whole and never a number), or to its end.
    Literal(&'a [u8]),
    /// A field's value (its bit).
    Field(u16),
    /// A value of a member the query does not read.
    Other,
}

/// The most members a [`Layout`] keeps: records have a few dozen, and a
/// record of millions of members must not cost memory for each.
const LAYOUT_MEMBERS: usize = 64;

/// A member of the last record read.
struct Member<'a> {
    /// The key, a string without escapes or control characters, quotes
    /// and all (no other string starts with it).
    key: &'a [u8],
    /// The key's field bit, 0 for a member the query does not read.
    field: u16,
    /// For a member the query does not read, its value's text, once read:
    /// a whole JSON value that no other value starts with (a string, an
    /// array, `true`, `false` or `null`; not a number), read in the text's
    /// white space rule (a record on one line or not); empty otherwise.
    value: &'a [u8],
}

/// A record's field by its key: the bit, or 0 for a member the query does
/// not read.
#[inline]
fn field_of(key: &str) -> u16 {
    match key {
        "id" => ID,
        "name" => NAME,
        "namespace" => NAMESPACE,
        "tag" => TAG,
        "type" => TYPE,
        "workspace_id" => WORKSPACE_ID,
        "service_type" => SERVICE_TYPE,
        "swr_instance_id" => SWR_INSTANCE_ID,
        "create_at" => CREATE_AT,
        "update_at" => UPDATE_AT,
        _ => 0,
    }
}

/// Whether `b[i..]` starts with `prefix`: compared a word at a time,
/// inline (`<[u8]>::starts_with` calls `memcmp`, which costs more than
/// comparing the short keys and values it is given here).
#[inline(always)]
fn starts_with(b: &[u8], i: usize, prefix: &[u8]) -> bool {
    let Some(head) = b.get(i..i + prefix.len()) else {
        return false;
    };
    let n = prefix.len();
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().expect("8 bytes"));
    let half = |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().expect("4 bytes"));
    match n {
        // Two loads that overlap cover the whole length.
        0..4 => head.iter().zip(prefix).all(|(x, y)| x == y),
        4..8 => half(head, 0) == half(prefix, 0) && half(head, n - 4) == half(prefix, n - 4),
        _ => {
            let mut at = 0;
            while at + 8 < n {
                if word(head, at) != word(prefix, at) {
                    return false;
                }
                at += 8;
            }
            word(head, n - 8) == word(prefix, n - 8)
        }
    }
}

/// The string at `text[i..]` if it has no escape and no control character,
/// and the index after its closing quote.
#[inline]
fn plain_string(text: &str, i: usize) -> Option<(&str, usize)> {
    let b = text.as_bytes();
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let end = i + 1 + string_stop(&b[i + 1..])?;
    if b[end] != b'"' {
        return None;
    }
    // Quotes are ASCII, so both ends are character boundaries.
    Some((&text[i + 1..end], end + 1))
}

/// The index of the first `"`, `\\` or control character in `b`: where a
/// string without escapes ends, or where it stops being one. Eight bytes at
/// a time, since most strings here are short (memchr's set-up costs more
/// than it saves on them).
#[inline]
fn string_stop(b: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while let Some(word) = b.get(i..i + 8) {
        let x = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        // A byte's high bit is set in a term when it is a quote or below
        // 0x20 (flipping bit 1 makes the quote 0x20 and keeps the
        // controls below 0x20, and no other byte below 0x21), or a
        // backslash; exact for the lowest such byte, which is the one
        // wanted.
        let quote_or_control = (x ^ (ONES * 0x02)).wrapping_sub(ONES * 0x21);
        let backslash = (x ^ (ONES * u64::from(b'\\'))).wrapping_sub(ONES);
        let hit = (quote_or_control | backslash) & !x & HIGH;
        if hit != 0 {
            return Some(i + (hit.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    b[i..]
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|at| i + at)
}

/// The index after a `null` at `i`.
#[inline]
fn null(b: &[u8], i: usize) -> Option<usize> {
    b.get(i..i + 4).filter(|w| *w == b"null").map(|_| i + 4)
}

/// An integer at `i` that serde reads as an `i64` (at most 18 digits, no
/// leading zero, no fraction or exponent, not `-0`), and the index after it.
#[inline(always)]
fn integer(b: &[u8], i: usize) -> Option<(i64, usize)> {
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    const POW10: [u64; 8] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000];
    let negative = b.get(i) == Some(&b'-');
    let first = i + usize::from(negative);
    // The digits a word at a time (times are 13): eight, or the few
    // before the word's first other byte, moved to the top of a word of
    // `0`s. Wrapping, since a value past 18 digits is refused below.
    let mut end = first;
    let mut value = 0u64;
    while let Some(word) = b.get(end..end + 8) {
        let x = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        let n = leading_digits(x);
        if n == 8 {
            value = value
                .wrapping_mul(100_000_000)
                .wrapping_add(digits_value(x));
            end += 8;
            continue;
        }
        if n > 0 {
            let digits = (x << (8 * (8 - n))) | (ZEROS >> (8 * n));
            value = value
                .wrapping_mul(POW10[n])
                .wrapping_add(digits_value(digits));
            end += n;
        }
        break;
    }
    // Within eight bytes of the text's end.
    if b.get(end).is_some_and(u8::is_ascii_digit) {
        while let Some(d) = b.get(end).map(|c| c.wrapping_sub(b'0')).filter(|d| *d < 10) {
            value = value.wrapping_mul(10).wrapping_add(u64::from(d));
            end += 1;
        }
    }
    let digits = end - first;
    if digits == 0 || digits > 18 || (digits > 1 && b[first] == b'0') {
        return None;
    }
    if matches!(b.get(end), Some(b'.' | b'e' | b'E')) {
        return None;
    }
    let value = i64::try_from(value).expect("18 digits fit an i64");
    if negative && value == 0 {
        return None;
    }
    Some((if negative { -value } else { value }, end))
}

/// How many of the eight bytes of `x` (little-endian, the first byte the
/// lowest) are ASCII digits before the first that is not.
#[inline(always)]
fn leading_digits(x: u64) -> usize {
    const LOW_NIBBLES: u64 = 0x0F0F_0F0F_0F0F_0F0F;
    const LOW_SEVEN: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    // Non-zero bytes where the high nibble is not 3, or the low one is
    // above 9 (adding 6 carries into bit 4; no carry leaves a byte).
    let other = ((x & !LOW_NIBBLES) ^ 0x3030_3030_3030_3030)
        | (((x & LOW_NIBBLES) + 0x0606_0606_0606_0606) & !LOW_NIBBLES);
    // The high bit of each non-zero byte, without carries between bytes.
    let marks = (((other & LOW_SEVEN) + LOW_SEVEN) | other) & !LOW_SEVEN;
    (marks.trailing_zeros() / 8) as usize
}

/// The value of eight ASCII digits (little-endian, the first digit the
/// lowest byte): pairs, then fours, then all eight combined.
#[inline(always)]
fn digits_value(x: u64) -> u64 {
    let x = x - 0x3030_3030_3030_3030;
    let x = (x.wrapping_mul(10) + (x >> 8)) & 0x00FF_00FF_00FF_00FF;
    let x = (x.wrapping_mul(100) + (x >> 16)) & 0x0000_FFFF_0000_FFFF;
    (x.wrapping_mul(10_000) + (x >> 32)) & 0xFFFF_FFFF
}

/// The index after the value of a member the query does not read: a
/// [`scalar`], or an array of them (`ImageResponse`'s `dev_services` and
/// `resource_categories` are); `None` for anything else.
#[inline]
fn other_value<const NEWLINES: bool>(text: &str, i: usize) -> Option<usize> {
    let b = text.as_bytes();
    if b.get(i) != Some(&b'[') {
        return scalar(text, i);
    }
    let mut i = skip::<NEWLINES>(b, i + 1);
    if b.get(i) == Some(&b']') {
        return Some(i + 1);
    }
    loop {
        i = skip::<NEWLINES>(b, scalar(text, i)?);
        match b.get(i)? {
            b',' => i = skip::<NEWLINES>(b, i + 1),
            b']' => return Some(i + 1),
            _ => return None,
        }
    }
}

/// The index after a value that is a string without escapes, a JSON
/// number, `true`, `false` or `null`; `None` for anything else.
#[inline]
fn scalar(text: &str, i: usize) -> Option<usize> {
    let b = text.as_bytes();
    match *b.get(i)? {
        b'"' => plain_string(text, i).map(|(_, after)| after),
        b't' => b.get(i..i + 4).filter(|w| *w == b"true").map(|_| i + 4),
        b'f' => b.get(i..i + 5).filter(|w| *w == b"false").map(|_| i + 5),
        b'n' => null(b, i),
        b'-' | b'0'..=b'9' => number(b, i),
        _ => None,
    }
}

/// The index after a JSON number at `i`:
/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn number(b: &[u8], mut i: usize) -> Option<usize> {
    let digits = |from: usize| {
        b.get(from..).map_or(0, |rest| {
            rest.iter().take_while(|c| c.is_ascii_digit()).count()
        })
    };
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    let n = digits(i);
    if n == 0 || (n > 1 && b[i] == b'0') {
        return None;
    }
    i += n;
    if b.get(i) == Some(&b'.') {
        let n = digits(i + 1);
        if n == 0 {
            return None;
        }
        i += 1 + n;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let n = digits(i);
        if n == 0 {
            return None;
        }
        i += n;
    }
    Some(i)
}

/// The record at `text[at..]` as serde reads it, and the index after it;
/// for records [`fast_record`] declines. `None` for a record serde refuses,
/// or one nested so deeply that serde's recursion limit, which counts the
/// array around it, might refuse it there.
pub(super) fn serde_record(text: &str, at: usize) -> Option<(RecordView<'_>, usize)> {
    let mut values = serde_json::Deserializer::from_str(&text[at..]).into_iter::<RecordView>();
    let record = values.next()?.ok()?;
    let end = at + values.byte_offset();
    (nesting(&text.as_bytes()[at..end]) < 64).then_some((record, end))
}

/// The deepest nesting of brackets in `b`, outside strings.
fn nesting(b: &[u8]) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0, false, false);
    for &c in b {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fast(text: &str) -> Option<(String, i64, usize)> {
        fast_record::<true>(text, 0, &mut Layout::default())
            .map(|(r, end)| (r.name.0.into_owned(), r.create_at, end))
    }

    const BASE: &str = r#""id":"i","name":"n","namespace":"s","type":"DEDICATED","update_at":2"#;

    #[test]
    fn string_stop_finds_the_first_quote_backslash_or_control() {
        let long = format!("{}\u{7}{}\"", "x".repeat(40), "y".repeat(9));
        for text in [
            "",
            "abc",
            "ab\"c",
            "0123456789\\x",
            "é\u{7}",
            "\u{1f}",
            "xxxxxxxx\"",
            "aé\u{80}ü\"",
            &long,
        ] {
            let want = text
                .bytes()
                .position(|c| c == b'"' || c == b'\\' || c < 0x20);
            assert_eq!(string_stop(text.as_bytes()), want, "{text:?}");
        }
    }

    #[test]
    fn reads_a_plain_record_and_declines_what_serde_reads_its_own_way() {
        let record = |rest: &str| format!("{{{BASE},{rest}}}");
        let t = record(r#""create_at":-12, "tag":null, "x":[[]]"#);
        assert_eq!(fast(&t), None, "nested values go to serde");
        let t = record(r#""create_at":-12, "x":[{}]"#);
        assert_eq!(fast(&t), None, "nested values go to serde");
        for flat in [r#"[]"#, r#"[ "a" , 1.5,null ]"#] {
            let t = record(&format!(r#""create_at":-12, "x":{flat}"#));
            assert_eq!(fast(&t), Some(("n".into(), -12, t.len())), "{flat}");
        }
        for broken in [r#"[1,]"#, r#"[,1]"#, r#"[1 2]"#, r#"[01]"#, r#"["#] {
            let t = record(&format!(r#""create_at":-12, "x":{broken}"#));
            assert_eq!(fast(&t), None, "{broken}");
        }
        let t = record(r#""create_at" : -12 , "tag":null, "x":1.5e3, "y":false"#);
        assert_eq!(fast(&t), Some(("n".into(), -12, t.len())));
        for declined in [
            r#""create_at":-0"#,
            r#""create_at":01"#,
            r#""create_at":1.0"#,
            r#""create_at":1234567890123456789"#,
            r#""create_at":1,"create_at":1"#,
            r#""create_at":1,"name":"m""#,
            r#""create_at":1,"x":"a\"b""#,
            r#""create_at":1,"x":01"#,
            r#""create_at":1,"type":"dedicated""#,
            r#""create_at":1,"n\u0061me":"m""#,
        ] {
            assert_eq!(fast(&record(declined)), None, "{declined}");
        }
        // A record without `create_at` is serde's to refuse.
        assert_eq!(fast(&format!("{{{BASE}}}")), None);
    }

    #[test]
    fn a_layout_keeps_a_records_first_members_only() {
        let many: String = (0..200)
            .map(|k| format!(r#""x{k}":"v{}","#, k % 3))
            .collect();
        let texts =
            ["a", "b", "a"].map(|tag| format!(r#"{{{many}{BASE},"create_at":1,"tag":"{tag}"}}"#));
        let mut layout = Layout::default();
        for t in &texts {
            let shared = fast_record::<true>(t, 0, &mut layout).map(|(r, end)| (values(&r), end));
            let alone =
                fast_record::<true>(t, 0, &mut Layout::default()).map(|(r, end)| (values(&r), end));
            assert!(alone.is_some());
            assert_eq!(shared, alone);
            assert_eq!(layout.members.len(), LAYOUT_MEMBERS);
        }
    }

    #[test]
    fn an_ndjson_record_is_on_one_line() {
        let t = format!("{{{BASE},\n\"create_at\":1}}");
        assert!(fast_record::<true>(&t, 0, &mut Layout::default()).is_some());
        assert!(fast_record::<false>(&t, 0, &mut Layout::default()).is_none());
    }

    #[test]
    fn serde_reads_the_records_declined_and_says_where_they_end() {
        let t = format!(r#"  {{{BASE},"create_at":1,"name2":"a\"b","x":[[1]]}} ,"#);
        let (record, end) = serde_record(&t, 2).unwrap();
        assert_eq!((record.create_at, &t[end..]), (1, " ,"));
        let deep = format!(
            r#"{{{BASE},"create_at":1,"x":{}{}}}"#,
            "[".repeat(70),
            "]".repeat(70)
        );
        assert!(serde_record(&deep, 0).is_none());
    }

    /// A record's values, to compare two reads of it.
    type Values = (
        String,
        String,
        String,
        Option<String>,
        ImageType,
        Option<String>,
        ServiceType,
        Option<String>,
        i64,
        i64,
    );

    fn values(r: &RecordView<'_>) -> Values {
        let text = |t: &Text<'_>| t.0.to_string();
        (
            text(&r.id),
            text(&r.name),
            text(&r.namespace),
            r.tag.as_ref().map(text),
            r.image_type,
            r.workspace_id.as_ref().map(text),
            r.service_type,
            r.swr_instance_id.as_ref().map(text),
            r.create_at,
            r.update_at,
        )
    }

    /// Values as raw JSON that the fast parser reads for a member with
    /// `key`: for members the query does not read, values that are
    /// another's prefix (`1`, `12`) or differ in one byte, of each length
    /// up to 23 bytes, and flat arrays.
    fn readable(key: &str) -> &'static [&'static str] {
        match key {
            "id" | "name" | "namespace" => &["\"i\"", "\"n\"", "\"\"", "\"名\"", "\"ab\""],
            "tag" | "workspace_id" | "swr_instance_id" => &["\"0\"", "\"\"", "null", "\"a\""],
            "type" => &["\"DEDICATED\"", "\"BUILD_IN\""],
            "service_type" => &["\"TRAIN\"", "null", "\"DEV\""],
            "create_at" | "update_at" => &[
                "1",
                "12",
                "-3",
                "0",
                "1658168844900",
                "-12345678",
                "123456789012345678",
                "99999999",
            ],
            _ => &[
                "1",
                "12",
                "1.5",
                "1.5e3",
                "-0",
                "true",
                "false",
                "null",
                "\"a\"",
                "\"b\"",
                "\"ab\"",
                "\"abc\"",
                "\"abd\"",
                "\"abcdefghij\"",
                "\"abcdefghik\"",
                "[1,2,3,4,5,6,7,8,9,0]",
                "[1,2,3,4,5,6,7,8,9,1]",
                "[1,2,3,4,9,6,7,8,9,0]",
                "\"\"",
                "[]",
                "[1]",
                "[1,2]",
                "[\"a\",null]",
                "[\"a\", 1 ]",
            ],
        }
    }

    /// Values as raw JSON the fast parser declines or must not take for
    /// another: a prefix of a value (`tru`), escapes (`\"`, `\\`,
    /// `\u0041`), a control character, nested values.
    fn hostile() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "tru",
            "nul",
            "01",
            "1.",
            "\"a\\\"b\"",
            "\"a\\\\\"",
            "\"\\u0041\"",
            "\"\\\"\"",
            "[[1]]",
            "{}",
            "{\"a\":[1]}",
            "\"x\ty\"",
            "[1,]",
            "\"GOLDEN\"",
            "\"1\"",
            "1234567890123456789",
            "0123456789",
            "12345678.5",
            "-0",
        ])
    }

    /// A value for a member with `key`: mostly one the fast parser reads.
    fn value(key: &str) -> impl Strategy<Value = String> {
        let readable = readable(key);
        (
            any::<prop::sample::Index>(),
            prop::option::weighted(0.1, hostile()),
        )
            .prop_map(move |(at, hostile)| {
                hostile
                    .unwrap_or_else(|| readable[at.index(readable.len())])
                    .to_string()
            })
    }

    /// A member as raw JSON, its key and its value (with white space):
    /// keys that are another's prefix, differ in one byte (the last or one
    /// in the middle) or in an escape.
    fn member() -> impl Strategy<Value = (String, String)> {
        let key = prop::sample::select(vec![
            "x",
            "xy",
            "nam",
            "names",
            "abcdefghij",
            "abcdefghik",
            "abcdefghijklmnopqr",
            "abcdefghijklmnopqs",
            "abcdefghXjklmnopqr",
            "x\\u0079",
            "name",
            "tag",
            "workspace_id",
            "service_type",
            "swr_instance_id",
        ]);
        let space = prop::sample::select(vec!["", "", " ", "\n"]);
        (key, space).prop_flat_map(|(k, space)| {
            value(k).prop_map(move |v| {
                (
                    format!("{space}\"{k}\"{space}:{space}"),
                    format!("{v}{space}"),
                )
            })
        })
    }

    /// The members of a record that reads (some of them replaced).
    fn record() -> impl Strategy<Value = Vec<(String, String)>> {
        let base: Vec<(String, String)> = [
            ("id", "\"i\""),
            ("name", "\"n\""),
            ("namespace", "\"s\""),
            ("type", "\"DEDICATED\""),
            ("create_at", "1"),
            ("update_at", "2"),
        ]
        .map(|(k, v)| (format!("\"{k}\":"), v.to_string()))
        .to_vec();
        (
            prop::collection::vec(member(), 0..6),
            prop::collection::vec(any::<prop::sample::Index>(), 0..6),
            prop::bool::weighted(0.1),
        )
            .prop_map(move |(extra, at, replace)| {
                let mut members = base.clone();
                for (m, at) in extra.into_iter().zip(at) {
                    let at = at.index(members.len() + 1);
                    if replace && at < members.len() {
                        members[at] = m;
                    } else {
                        members.insert(at, m);
                    }
                }
                members
            })
    }

    /// Records of one layout, mostly: a record, and each next one the one
    /// before with some values changed (keys kept), now and then a member
    /// added, and now and then cut short.
    fn records() -> impl Strategy<Value = Vec<String>> {
        let change = (
            prop::collection::vec((any::<prop::sample::Index>(), value("x")), 0..3),
            prop::option::weighted(0.2, (any::<prop::sample::Index>(), member())),
            prop::option::weighted(0.1, any::<prop::sample::Index>()),
        );
        (record(), prop::collection::vec(change, 1..8)).prop_map(|(mut members, changes)| {
            let mut texts = Vec::new();
            for (values, added, cut) in changes {
                for (at, value) in values {
                    // Members the query reads keep their values.
                    let at = at.index(members.len());
                    let key = members[at].0.split('"').nth(1).expect("a quoted key");
                    if field_of(key) == 0 {
                        members[at].1 = value;
                    }
                }
                if let Some((at, member)) = added {
                    members.insert(at.index(members.len() + 1), member);
                }
                texts.push(record_text(&members, cut));
            }
            texts
        })
    }

    /// The text of a record of `members` (each a quoted key and colon, and
    /// a value), cut short at `cut` (on a character boundary) if given.
    fn record_text(members: &[(String, String)], cut: Option<prop::sample::Index>) -> String {
        let text: Vec<String> = members.iter().map(|(k, v)| format!("{k}{v}")).collect();
        let mut text = format!("{{{}}}", text.join(","));
        if let Some(cut) = cut {
            let mut cut = cut.index(text.len() + 1);
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
        text
    }

    /// Runs of records as a template reads them: a record, and each next
    /// one the one before with some values changed (the record's fields'
    /// too, to any value the fast parser reads for the key, now and then
    /// one it declines), now and then a member added or the record cut
    /// short.
    fn runs() -> impl Strategy<Value = Vec<String>> {
        let change = (
            prop::collection::vec(
                (
                    any::<prop::sample::Index>(),
                    any::<prop::sample::Index>(),
                    prop::option::weighted(0.05, hostile()),
                ),
                0..4,
            ),
            prop::option::weighted(0.05, (any::<prop::sample::Index>(), member())),
            prop::option::weighted(0.05, any::<prop::sample::Index>()),
        );
        (record(), prop::collection::vec(change, 2..24)).prop_map(|(mut members, changes)| {
            let mut texts = Vec::new();
            for (values, added, cut) in changes {
                for (at, pick, hostile) in values {
                    let at = at.index(members.len());
                    let key = members[at].0.split('"').nth(1).expect("a quoted key");
                    let readable = readable(key);
                    members[at].1 = hostile
                        .unwrap_or_else(|| readable[pick.index(readable.len())])
                        .to_string();
                }
                if let Some((at, member)) = added {
                    members.insert(at.index(members.len() + 1), member);
                }
                texts.push(record_text(&members, cut));
            }
            texts
        })
    }

    /// Records read one after another with one layout (and its template)
    /// read as each alone does, and as serde reads them wherever the fast
    /// parser takes them.
    fn read_alike<const NEWLINES: bool>(texts: &[String]) -> Result<(), TestCaseError> {
        let mut layout = Layout::default();
        for text in texts {
            let shared =
                fast_record::<NEWLINES>(text, 0, &mut layout).map(|(r, end)| (values(&r), end));
            let alone = fast_record::<NEWLINES>(text, 0, &mut Layout::default())
                .map(|(r, end)| (values(&r), end));
            prop_assert_eq!(&shared, &alone, "{:?}", text);
            if let Some(read) = alone {
                let serde = serde_record(text, 0).map(|(r, end)| (values(&r), end));
                prop_assert_eq!(Some(read), serde, "{:?}", text);
            }
        }
        Ok(())
    }

    #[test]
    fn a_template_is_kept_once_two_records_share_their_keys() {
        let record =
            |tag: &str, x: &str| format!(r#"{{{BASE},"create_at":1,"tag":"{tag}","x":{x}}}"#);
        let texts = [record("a", "1"), record("b", "1")];
        let third = record("c", "2");
        // A key or white space the template's record did not have.
        let others = [
            third.replace("\"x\"", "\"y\""),
            third.replace(",\"x\"", ", \"x\""),
        ];
        let mut layout = Layout::default();
        for t in &texts {
            assert!(fast_record::<false>(t, 0, &mut layout).is_some());
        }
        let ops = layout.template.as_ref().expect("a template").ops.clone();
        // The tag varies, `x` is a number: both are read, not compared.
        let read = templated::<false>(&third, 0, &ops).map(|(r, end)| (values(&r), end));
        let alone = fast_record::<false>(&third, 0, &mut Layout::default())
            .map(|(r, end)| (values(&r), end));
        assert!(read.is_some());
        assert_eq!(read, alone);
        for other in &others {
            assert!(templated::<false>(other, 0, &ops).is_none(), "{other}");
            assert!(fast_record::<false>(other, 0, &mut layout).is_some());
        }
        // A template of a record read across lines is not used for one line.
        let across = |tag: &str| format!("{{{BASE},\n\"create_at\":1,\"tag\":\"{tag}\"}}");
        let texts = [across("a"), across("b"), across("c")];
        let mut layout = Layout::default();
        for t in &texts[..2] {
            assert!(fast_record::<true>(t, 0, &mut layout).is_some());
        }
        assert!(layout.template.is_some());
        assert!(fast_record::<false>(&texts[2], 0, &mut layout).is_none());
    }

    #[test]
    fn a_template_that_misses_is_tried_again_after_miss_cost_records() {
        let a = |x: &str| format!(r#"{{{BASE},"create_at":1,"x":"{x}"}}"#);
        let texts: Vec<String> = ["a", "a", "b"]
            .iter()
            .map(|x| a(x))
            .chain((0..=MISS_COST).map(|_| a("b")))
            .collect();
        let mut layout = Layout::default();
        let mut credits = Vec::new();
        for t in &texts {
            let shared = fast_record::<false>(t, 0, &mut layout).map(|(r, end)| (values(&r), end));
            let alone = fast_record::<false>(t, 0, &mut Layout::default())
                .map(|(r, end)| (values(&r), end));
            assert!(shared.is_some());
            assert_eq!(shared, alone);
            credits.push(layout.credit);
        }
        // No template for the first two (the second makes one, its `x`
        // to compare), a miss for the third; then read member by member
        // until the miss is paid for, and the next read by the template.
        let want: Vec<i32> = [0, 0]
            .into_iter()
            .chain(-MISS_COST..=0)
            .chain([1])
            .collect();
        assert_eq!(credits, want);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// `integer` reads what serde reads as an `i64`, where it reads
        /// anything: digits in runs of eight and one at a time, signs,
        /// leading zeros, fractions, exponents, too many digits, the bytes
        /// next to the digits (`/`, `:`) after them.
        #[test]
        fn integer_reads_as_serde(text in "-?[0-9]{0,21}([.eE][0-9]?)?[,}x :/]?[0-9]{0,8}") {
            let token_end = text
                .find([',', '}', 'x', ' ', ':', '/'])
                .unwrap_or(text.len());
            let serde = serde_json::from_str::<i64>(&text[..token_end]).ok();
            let digits = text.trim_start_matches('-').bytes().take_while(u8::is_ascii_digit).count();
            match integer(text.as_bytes(), 0) {
                Some((value, end)) => {
                    prop_assert_eq!(end, token_end);
                    prop_assert_eq!(Some(value), serde);
                }
                // Declined: not an integer to serde, or one it is not
                // sure to read the same (`-0` is a float to it), or one
                // of more than 18 digits.
                None => prop_assert!(
                    serde.is_none() || text.starts_with("-0") || digits > 18,
                    "{:?} declined", text
                ),
            }
        }

        /// `string_stop` finds the first quote, backslash or control
        /// character, among the bytes next to them and high ones, at every
        /// place in a word.
        #[test]
        fn string_stop_finds_what_a_byte_loop_finds(
            bytes in prop::collection::vec(
                prop::sample::select(vec![
                    0u8, 0x01, 0x1f, b' ', b'!', b'"', b'#', 0x02 ^ b'"', b'[', b'\\', b']',
                    b'a', 0x7f, 0x80, 0xa2, 0xdc, 0xff,
                ]),
                0..40,
            ),
        ) {
            let want = bytes.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
            prop_assert_eq!(string_stop(&bytes), want);
        }

        /// `starts_with` is `<[u8]>::starts_with`, for every length (a
        /// prefix of the text changed in one byte, or not).
        #[test]
        fn starts_with_compares_every_byte(
            text in prop::collection::vec(b'a'..b'c', 0..40),
            i in any::<prop::sample::Index>(),
            len in 0usize..40,
            change in prop::option::of((any::<prop::sample::Index>(), b'a'..b'd')),
        ) {
            let i = i.index(text.len() + 1);
            let mut prefix = text[i..(i + len).min(text.len())].to_vec();
            if let Some((at, byte)) = change.filter(|_| !prefix.is_empty()) {
                let at = at.index(prefix.len());
                prefix[at] = byte;
            }
            prop_assert_eq!(starts_with(&text, i, &prefix), text[i..].starts_with(&prefix));
        }

        /// Read one after another with one layout, records (of related
        /// shapes, some cut short) read as each alone does, and as serde
        /// reads them wherever the fast parser takes them.
        #[test]
        fn the_last_records_layout_changes_no_read(texts in records()) {
            read_alike::<true>(&texts)?;
            read_alike::<false>(&texts)?;
        }

        /// Long runs of records that differ in values, the record's fields'
        /// among them, read by the template of the one before as each alone
        /// is read (and as serde reads it).
        #[test]
        fn a_template_reads_as_member_by_member(texts in runs()) {
            read_alike::<true>(&texts)?;
            read_alike::<false>(&texts)?;
        }
    }
}
