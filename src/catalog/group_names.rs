//! [`GroupNames`]: the names of a workspace's groups, in one buffer.

/// Where a group's name lies in its workspace's [`GroupNames`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Span {
    at: u32,
    len: u32,
}

impl Span {
    /// The name's length in bytes.
    pub(super) fn len(self) -> usize {
        self.len as usize
    }
}

/// Group names one after another in one buffer, each found by its
/// [`Span`]: no allocation per group, and 8 bytes in the group instead of a
/// string's 16. A dropped name's bytes stay, counted as dead, until they
/// outweigh the live ones; then the live names are copied into a new buffer
/// and their spans rewritten ([`compact`](Self::compact)).
#[derive(Clone, Debug, Default)]
pub(super) struct GroupNames {
    bytes: Vec<u8>,
    dead: usize,
}

impl GroupNames {
    /// Adds `name` and returns its span.
    ///
    /// # Panics
    ///
    /// When the names of one workspace pass 4 GiB.
    pub(super) fn push(&mut self, name: &str) -> Span {
        assert!(
            self.bytes.len() + name.len() <= u32::MAX as usize,
            "a Catalog workspace's group names take at most 4 GiB"
        );
        let at = self.bytes.len() as u32;
        self.bytes.extend_from_slice(name.as_bytes());
        Span {
            at,
            len: name.len() as u32,
        }
    }

    /// The name at `span`.
    #[inline]
    pub(super) fn get(&self, span: Span) -> &[u8] {
        &self.bytes[span.at as usize..span.at as usize + span.len as usize]
    }

    /// The name at `span` as the string it was given as.
    pub(super) fn get_str(&self, span: Span) -> &str {
        std::str::from_utf8(self.get(span)).expect("group names are stored from strings")
    }

    /// Counts the name at `span` as dropped (its bytes stay until the next
    /// compaction).
    pub(super) fn kill(&mut self, span: Span) {
        self.dead += span.len as usize;
    }

    /// Whether dropped names take more room than live ones (and enough to be
    /// worth copying the live ones).
    pub(super) fn wants_compaction(&self) -> bool {
        super::worth_compacting(self.dead, self.bytes.len())
    }

    /// Copies the live names, whose spans are `live`, into a buffer of
    /// exactly their size, and rewrites their spans.
    pub(super) fn compact<'s>(&mut self, live: impl Iterator<Item = &'s mut Span>) {
        let mut bytes = Vec::with_capacity(self.bytes.len() - self.dead);
        for span in live {
            let at = bytes.len() as u32;
            bytes.extend_from_slice(self.get(*span));
            span.at = at;
        }
        self.bytes = bytes;
        self.dead = 0;
    }

    /// Gives back the buffer's spare room.
    pub(super) fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Names added and dropped in any order, with compactions whenever
        /// they are wanted: every live span reads its own name, and the
        /// buffer holds no more than the live names plus the dead bytes.
        #[test]
        fn live_spans_read_their_names_across_compactions(
            ops in prop::collection::vec((any::<bool>(), "[a-zé]{0,300}", any::<prop::sample::Index>()), 0..300),
        ) {
            let mut names = GroupNames::default();
            let mut live: Vec<(Span, String)> = Vec::new();
            let mut compactions = 0;
            for (push, name, index) in ops {
                if push || live.is_empty() {
                    live.push((names.push(&name), name));
                } else {
                    let (span, _) = live.swap_remove(index.index(live.len()));
                    names.kill(span);
                }
                if names.wants_compaction() {
                    names.compact(live.iter_mut().map(|(span, _)| span));
                    compactions += 1;
                    let total: usize = live.iter().map(|(_, n)| n.len()).sum();
                    prop_assert_eq!(names.bytes.len(), total);
                }
                for (span, name) in &live {
                    prop_assert_eq!(names.get_str(*span), name.as_str());
                    prop_assert_eq!(span.len(), name.len());
                }
            }
            let _ = compactions;
        }
    }

    #[test]
    fn compaction_moves_the_names_it_keeps() {
        let mut names = GroupNames::default();
        let long = "x".repeat(5000);
        let dead = names.push(&long);
        let mut kept = names.push("torch");
        names.kill(dead);
        assert!(names.wants_compaction());
        names.compact(std::iter::once(&mut kept));
        assert_eq!(kept, Span { at: 0, len: 5 });
        assert_eq!(names.get_str(kept), "torch");
        assert_eq!(names.bytes.len(), 5);
        assert!(!names.wants_compaction());
    }
}
