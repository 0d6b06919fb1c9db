//! Work beside the calling thread: pieces of work run on other threads while
//! the calling thread does its own. Shared by every multi-thread path, so
//! that each does the same when no thread can be had (a process limit): the
//! calling thread does the rest itself, rather than panic.
//!
//! Why threads kept between calls: a thread started for each call waited
//! for the scheduler's next tick (up to 4 ms) before it ran whenever the
//! other core was busy; a thread already started, asleep, is woken at once (BENCHMARKS.md, "the
//! two-thread scan's spread"). The kept threads are a `rayon-core` pool of
//! one thread fewer than the cores, started by the first call that wants
//! one; while another call has them, a call starts threads of its own as
//! before, so that concurrent callers never wait for each other's work,
//! and so does a call in a child process made by `fork`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

#[cfg(test)]
thread_local! {
    /// Makes [`beside`] behave as if the system refused every thread.
    pub(crate) static REFUSE_THREADS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `a` and `b`, `a` on another thread with `two_threads` (or on this
/// one, after `b`, when no thread can be had: a process limit), and
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
    let (mut a, b) = beside(vec![a], b);
    (a.pop().expect("one result for one piece of work"), b)
}

/// Runs each of `others` on another thread while `own` runs on this one,
/// and returns their results in order, and `own`'s; a panic in any is the
/// caller's. Work no thread can be had for runs on this thread, after
/// `own`.
pub(crate) fn beside<A: Send, B>(
    others: Vec<impl FnOnce() -> A + Send>,
    own: impl FnOnce() -> B,
) -> (Vec<A>, B) {
    if others.is_empty() {
        return (Vec::new(), own());
    }
    if let Some(kept) = KeptThreads::claim() {
        return kept.run(others, own);
    }
    started_threads(others, own)
}

/// [`beside`] on threads started for the call.
fn started_threads<A: Send, B>(
    others: Vec<impl FnOnce() -> A + Send>,
    own: impl FnOnce() -> B,
) -> (Vec<A>, B) {
    #[cfg(test)]
    let refused = REFUSE_THREADS.get();
    #[cfg(not(test))]
    let refused = false;
    // Where a thread that fails to start would have found its work, so that
    // this thread can still run it.
    let slots: Vec<_> = others
        .into_iter()
        .map(|work| std::sync::Mutex::new(Some(work)))
        .collect();
    let take = |slot: &std::sync::Mutex<Option<_>>| {
        slot.lock()
            .expect("nothing panics while holding the lock")
            .take()
            .expect("each piece of work runs once")
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = slots
            .iter()
            .map(|slot| match refused {
                true => Err(std::io::Error::other("a refused thread, for a test")),
                false => std::thread::Builder::new().spawn_scoped(scope, || take(slot)()),
            })
            .collect();
        let b = own();
        let a = handles
            .into_iter()
            .zip(&slots)
            .map(|(handle, slot)| match handle {
                Ok(handle) => handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                Err(_) => take(slot)(),
            })
            .collect();
        (a, b)
    })
}

/// The kept threads, held by one call at a time.
///
/// A child process made by `fork` inherits the pool but none of its
/// threads: work handed to it there would wait for ever. The pool is
/// therefore kept with the id of the process that started it, and a call
/// in any other process starts threads of its own.
struct KeptThreads {
    pool: &'static rayon_core::ThreadPool,
}

/// Whether a call holds the kept threads.
static HELD: AtomicBool = AtomicBool::new(false);

impl KeptThreads {
    /// The kept threads, started on first use, if no other call holds them
    /// and the system gave them.
    fn claim() -> Option<KeptThreads> {
        Self::claim_in(std::process::id())
    }

    /// [`claim`](Self::claim), in the process `process` (its id).
    fn claim_in(process: u32) -> Option<KeptThreads> {
        #[cfg(test)]
        if REFUSE_THREADS.get() {
            return None;
        }
        static POOL: OnceLock<Option<(u32, rayon_core::ThreadPool)>> = OnceLock::new();
        let (started_in, pool) = POOL
            .get_or_init(|| {
                let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
                let pool = rayon_core::ThreadPoolBuilder::new()
                    .num_threads(cores.saturating_sub(1).max(1))
                    .thread_name(|i| format!("image-groups-{i}"))
                    .build()
                    .ok()?;
                Some((process, pool))
            })
            .as_ref()?;
        if *started_in != process {
            return None;
        }
        HELD.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()?;
        Some(KeptThreads { pool })
    }

    /// [`beside`] on the kept threads.
    fn run<A: Send, B>(
        &self,
        others: Vec<impl FnOnce() -> A + Send>,
        own: impl FnOnce() -> B,
    ) -> (Vec<A>, B) {
        let mut results: Vec<Option<A>> = others.iter().map(|_| None).collect();
        // The scope waits for every piece of work spawned in it, and hands
        // on a panic of any, after `own` returned or panicked.
        let b = self.pool.in_place_scope(|scope| {
            for (result, work) in results.iter_mut().zip(others) {
                scope.spawn(move |_| *result = Some(work()));
            }
            own()
        });
        let a = results
            .into_iter()
            .map(|a| a.expect("the scope ran every piece of work"))
            .collect();
        (a, b)
    }
}

impl Drop for KeptThreads {
    /// Lets the next call have the threads (also when the work panicked).
    fn drop(&mut self) {
        HELD.store(false, Ordering::Release);
    }
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

    /// Every piece of work runs once and its result comes back in its
    /// place, on kept threads, on started ones and on this one.
    #[test]
    fn every_result_comes_back_in_order() {
        for refused in [false, true] {
            REFUSE_THREADS.set(refused);
            let work: Vec<_> = (0..5).map(|i| move || i * 10).collect();
            let (a, b) = beside(work, || "own");
            REFUSE_THREADS.set(false);
            assert_eq!((a, b), (vec![0, 10, 20, 30, 40], "own"));
        }
    }

    /// A call while another holds the kept threads starts its own and
    /// does not wait for the other's work (which here waits for it).
    #[test]
    fn a_second_call_does_not_wait_for_the_first() {
        let (started, first_started) = std::sync::mpsc::channel::<()>();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let (second_done, second_finished) = std::sync::mpsc::channel::<u32>();
        std::thread::scope(|scope| {
            scope.spawn(move || {
                let work = move || {
                    started.send(()).expect("the test waits for it");
                    released.recv().expect("the test releases it")
                };
                beside(vec![work], || ());
            });
            first_started.recv().expect("the first call's work starts");
            scope.spawn(move || {
                let (a, ()) = beside(vec![|| 7], || ());
                second_done.send(a[0]).expect("the test waits for it");
            });
            let second = second_finished.recv_timeout(std::time::Duration::from_secs(30));
            release.send(()).expect("the first call's work waits");
            assert_eq!(second, Ok(7), "the second call waited for the first's work");
        });
    }

    /// A process other than the one that started the kept threads (a
    /// child made by `fork`, which has none of them) never gets them.
    #[test]
    fn another_process_starts_its_own_threads() {
        let start = std::time::Instant::now();
        // The pool is started (if no test did yet) by this process.
        while KeptThreads::claim().is_none() {
            assert!(start.elapsed() < std::time::Duration::from_secs(30));
            std::thread::yield_now();
        }
        for _ in 0..1000 {
            assert!(KeptThreads::claim_in(std::process::id().wrapping_add(1)).is_none());
        }
    }

    /// A panic in work on a kept thread is the caller's, and the kept
    /// threads are free again afterwards (other tests may hold them for a
    /// moment meanwhile).
    #[test]
    fn a_panic_is_the_callers_and_frees_the_kept_threads() {
        let caught =
            std::panic::catch_unwind(|| beside(vec![|| panic!("the work's own panic")], || ()));
        assert!(caught.is_err());
        let start = std::time::Instant::now();
        while KeptThreads::claim().is_none() {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(30),
                "the kept threads stay held after a panic"
            );
            std::thread::yield_now();
        }
    }
}
