//! [`Few`]: a short list that keeps its one-element case inline, for the
//! lists the catalog keeps per group or per name, most of which hold one
//! element when most groups have one version or a name of their own.

/// None, one or several `T`s, in no particular order once one is removed;
/// one is kept inline (no allocation), several in a vector.
#[derive(Clone, Debug, Default)]
pub(super) enum Few<T> {
    #[default]
    Empty,
    One(T),
    Many(Vec<T>),
}

/// Below this many, a growing list grows by one element at a time: the lists
/// here hold a few elements each, and a vector's doubling would leave room
/// for as many again in every one of them. Longer lists double, as usual.
const EXACT_UP_TO: usize = 8;

impl<T> Few<T> {
    /// The elements.
    pub(super) fn as_slice(&self) -> &[T] {
        match self {
            Few::Empty => &[],
            Few::One(one) => std::slice::from_ref(one),
            Few::Many(many) => many,
        }
    }

    /// The elements, to change in place.
    pub(super) fn as_mut_slice(&mut self) -> &mut [T] {
        match self {
            Few::Empty => &mut [],
            Few::One(one) => std::slice::from_mut(one),
            Few::Many(many) => many,
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        matches!(self, Few::Empty)
    }

    pub(super) fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Appends `item`.
    pub(super) fn push(&mut self, item: T) {
        match std::mem::take(self) {
            Few::Empty => *self = Few::One(item),
            Few::One(one) => {
                let mut many = Vec::with_capacity(2);
                many.extend([one, item]);
                *self = Few::Many(many);
            }
            Few::Many(mut many) => {
                if many.len() < EXACT_UP_TO {
                    many.reserve_exact(1);
                }
                many.push(item);
                *self = Few::Many(many);
            }
        }
    }

    /// Removes and returns the element at `i`, the last taking its place.
    ///
    /// # Panics
    ///
    /// If `i` is out of bounds.
    pub(super) fn swap_remove(&mut self, i: usize) -> T {
        assert!(i < self.len(), "swap_remove: index out of bounds");
        match std::mem::take(self) {
            Few::Empty => unreachable!("an empty list has no index"),
            Few::One(one) => one,
            Few::Many(mut many) => {
                let item = many.swap_remove(i);
                *self = match many.len() {
                    1 => Few::One(many.pop().expect("one element left")),
                    _ => Few::Many(many),
                };
                item
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Pushes and removals keep the same elements as a vector, in any
        /// order, and one element never takes a vector.
        #[test]
        fn holds_what_a_vector_holds(ops in prop::collection::vec((any::<bool>(), 0usize..40), 0..200)) {
            let mut few = Few::default();
            let mut want: Vec<usize> = Vec::new();
            for (push, x) in ops {
                if push || want.is_empty() {
                    few.push(x);
                    want.push(x);
                } else {
                    let i = x % want.len();
                    let removed = few.swap_remove(i);
                    prop_assert_eq!(removed, want.swap_remove(i));
                }
                prop_assert_eq!(few.as_slice(), &want[..]);
                prop_assert_eq!(few.is_empty(), want.is_empty());
                prop_assert_eq!(matches!(few, Few::One(_)), want.len() == 1);
            }
        }
    }

    #[test]
    fn one_slot_is_inline_and_no_larger_than_a_vector() {
        assert_eq!(
            std::mem::size_of::<Few<u32>>(),
            std::mem::size_of::<Vec<u32>>()
        );
    }
}
