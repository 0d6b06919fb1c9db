//! Two pieces of work at once: one on a thread started for it, one on the
//! calling thread. Shared by every two-thread path, so that each does the
//! same when the system refuses the thread (a process limit): the calling
//! thread does both, rather than panic.

#[cfg(test)]
thread_local! {
    /// Makes [`both`] behave as if the system refused its thread.
    pub(crate) static REFUSE_THREADS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `a` and `b`, `a` on a thread of its own with `two_threads` (or on
/// this one, after `b`, when no thread can be had: a process limit), and
/// returns both results; a panic in either is the caller's.
pub(crate) fn both<A: Send, B>(
    two_threads: bool,
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B,
) -> (A, B) {
    if !two_threads {
        let a = a();
        return (a, b());
    }
    // Where the thread that fails to start would have found `a`, so that
    // this thread can still run it.
    let a = std::sync::Mutex::new(Some(a));
    let take_a = || {
        a.lock()
            .expect("nothing panics while holding the lock")
            .take()
            .expect("`a` runs once")
    };
    std::thread::scope(|scope| {
        #[cfg(test)]
        let refused = REFUSE_THREADS.get();
        #[cfg(not(test))]
        let refused = false;
        let other = match refused {
            true => Err(std::io::Error::other("a refused thread, for a test")),
            false => std::thread::Builder::new().spawn_scoped(scope, || take_a()()),
        };
        let b = b();
        let a = match other {
            Ok(other) => other
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => take_a()(),
        };
        (a, b)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both results come back, on two threads, on one, and when the
    /// system refuses the thread.
    #[test]
    fn both_results_come_back_whether_or_not_the_thread_starts() {
        for (two_threads, refused) in [(true, false), (false, false), (true, true)] {
            REFUSE_THREADS.set(refused);
            let started = std::thread::current().id();
            let (a, b) = both(two_threads, || (1, std::thread::current().id()), || 2);
            REFUSE_THREADS.set(false);
            assert_eq!((a.0, b), (1, 2));
            assert_eq!(a.1 != started, two_threads && !refused);
        }
    }
}
