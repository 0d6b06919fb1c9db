//! The fuzzy name match (crate docs, "Filter"): the query name occurs in a
//! version's name, ASCII-case-insensitively. One matcher serves the scan
//! (name by name) and the catalog (one search over many folded names).

use memchr::memmem;

/// Searches names for a query name.
///
/// The query name is lower-case ASCII (the `name` rule allows only
/// `a-z 0-9 - _ .`), so folding the searched name's ASCII upper-case letters
/// is all the case-insensitivity there is: UTF-8 lead and continuation bytes
/// are `>= 0x80` and never equal a query byte, so a byte-wise search is a
/// correct character-wise one, and `Ä` never matches `ä`.
pub(crate) struct NameMatcher<'q> {
    finder: memmem::Finder<'q>,
    /// Reused buffer for names that hold upper-case ASCII letters.
    folded: Vec<u8>,
    /// The needle has no ASCII letter: folding a name cannot change where
    /// it matches (only letters fold, and only to letters), so names are
    /// searched as they are.
    caseless: bool,
}

impl<'q> NameMatcher<'q> {
    /// A matcher for `needle`, a name that satisfies the query's `name` rule.
    pub(crate) fn new(needle: &'q str) -> Self {
        debug_assert!(
            !needle.bytes().any(|b| b.is_ascii_uppercase() || b == 0),
            "a query name is lower-case ASCII without NUL"
        );
        NameMatcher {
            finder: memmem::Finder::new(needle.as_bytes()),
            folded: Vec::new(),
            caseless: !needle.bytes().any(|b| b.is_ascii_alphabetic()),
        }
    }

    /// A matcher for `needle` over text whose bytes are as common as
    /// `ranks` says: the search looks for the needle's two rarest bytes
    /// first, and by default ranks bytes as in English text, which in
    /// path-like names (many of the needle's letters, few spaces) picks
    /// bytes that occur everywhere.
    pub(crate) fn with_ranks(needle: &'q str, ranks: ByteRanks) -> Self {
        let mut matcher = NameMatcher::new(needle);
        matcher.finder =
            memmem::FinderBuilder::new().build_forward_with_ranker(ranks, needle.as_bytes());
        matcher
    }

    /// Whether the needle occurs in `name`, ASCII-case-insensitively.
    #[inline]
    pub(crate) fn matches(&mut self, name: &[u8]) -> bool {
        if self.caseless || !name.iter().any(u8::is_ascii_uppercase) {
            return self.finder.find(name).is_some();
        }
        self.folded.clear();
        fold_into(name, &mut self.folded);
        self.finder.find(&self.folded).is_some()
    }

    /// The needle's length in bytes.
    #[inline]
    pub(crate) fn needle_len(&self) -> usize {
        self.finder.needle().len()
    }

    /// Where the needle first occurs in `folded`, bytes already folded with
    /// [`fold_into`] (many names back to back, say).
    #[inline]
    pub(crate) fn find_in_folded(&self, folded: &[u8]) -> Option<usize> {
        self.finder.find(folded)
    }
}

/// How common each byte value is in a text, from 0 (never) to 255 (the
/// most common), for [`NameMatcher::with_ranks`].
pub(crate) struct ByteRanks([u8; 256]);

impl ByteRanks {
    /// The ranks of byte values that occur `counts[b]` times (`counts` has
    /// 256 entries, or none for an empty text).
    pub(crate) fn from_counts(counts: &[u64]) -> Self {
        let most = counts.iter().copied().max().unwrap_or(0).max(1);
        let mut ranks = [0u8; 256];
        for (rank, &count) in ranks.iter_mut().zip(counts) {
            *rank = (u128::from(count) * 255 / u128::from(most)) as u8;
        }
        ByteRanks(ranks)
    }
}

impl memchr::arch::all::packedpair::HeuristicFrequencyRank for ByteRanks {
    fn rank(&self, byte: u8) -> u8 {
        self.0[usize::from(byte)]
    }
}

/// Appends `name` to `out` with its ASCII letters in lower case: the form
/// [`NameMatcher::find_in_folded`] searches.
pub(crate) fn fold_into(name: &[u8], out: &mut Vec<u8>) {
    out.extend(name.iter().map(u8::to_ascii_lowercase));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_only_ascii_case_of_the_searched_name() {
        let mut m = NameMatcher::new("torch");
        assert!(m.matches(b"PyTorch-2"));
        assert!(m.matches(b"torch"));
        assert!(m.matches("ÄTORCHÖ".as_bytes()));
        assert!(!m.matches("TÖRCH".as_bytes()));
        assert!(!m.matches(b"torc"));
        assert!(!m.matches(b""));
    }

    /// A needle without letters matches wherever its bytes occur, whatever
    /// the case of the letters around them.
    #[test]
    fn a_needle_without_letters_matches_in_any_case() {
        let mut m = NameMatcher::new("_1-2");
        assert!(m.caseless);
        assert!(m.matches(b"AB_1-2CD"));
        assert!(m.matches(b"_1-2"));
        assert!(!m.matches(b"AB_1-3CD"));
        assert!(!NameMatcher::new("a_1").caseless);
        assert!(NameMatcher::new("a_1").matches(b"XA_1"));
    }

    #[test]
    fn a_folded_buffer_matches_like_each_name() {
        let m = NameMatcher::new("orch");
        let mut folded = Vec::new();
        fold_into(b"PyTORCH", &mut folded);
        assert_eq!(m.find_in_folded(&folded), Some(3));
    }
}
