//! Accepting connections: hyper's HTTP/1.1 server with bounded waits, a cap
//! on open connections, and a draining stop.
//!
//! * **Header timeout** (`--header-timeout`, 10 s): hyper's
//!   `header_read_timeout`. hyper runs it whenever a connection waits for a
//!   request's head: from the accept, and again from the end of each
//!   response. So it bounds both a request whose headers never finish
//!   (slowloris) and an idle connection, fresh or kept alive: an idle
//!   keep-alive connection is closed this long after its last response.
//!   hyper's HTTP/1 server has no separate idle timer; one setting for both
//!   is what it offers.
//! * **Body timeout** (`--body-timeout`, 10 s): tower-http's
//!   `RequestBodyTimeoutLayer` fails a body that takes longer to arrive
//!   (answered 408), so a trickled body cannot hold a request open either.
//! * **Connection cap** (`--max-connections`; by default the descriptor
//!   limit, raised at start from its soft to its hard value, less
//!   [`RESERVED_DESCRIPTORS`], so the server never runs out of descriptors
//!   for its own files). At the cap, a new connection is made room for by
//!   closing the oldest connection without a request in flight: one that is
//!   idle, or still sending its headers. Such a connection costs the server
//!   a slot while giving it nothing to do, and a client may lose an idle
//!   keep-alive connection at any time anyway (HTTP lets either side close
//!   it). So idle connections, however many a client opens, never lock a
//!   new client out: it is taken at once. Only when every open connection
//!   has a request in flight does a new one wait in the kernel's listen
//!   queue, until a request finishes (which the timeouts bound).
//! * **Accept errors**: a descriptor shortage (`EMFILE`, `ENFILE`) or a
//!   connection reset before it was taken waits 100 ms and accepts again;
//!   the server never stops on them.
//! * **Stop**: on SIGINT or SIGTERM (what process managers and container
//!   runtimes send) the listener is closed at once; connections without a
//!   request in flight are closed, and requests in flight finish and are
//!   answered (then their connections close). The drain waits at most
//!   [`DRAIN_LIMIT`], then the server exits anyway.
//!
//! Only HTTP/1.1 (and 1.0) is served: it is what the SDKs speak, and HTTP/2
//! would need its own idle-connection policy.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify, Semaphore};
use tower::ServiceExt;

/// Descriptors kept for everything but connections: the standard streams,
/// the listener, the runtime's and the watcher's, the data files a reload
/// reads.
pub const RESERVED_DESCRIPTORS: u64 = 64;

/// The longest a stop waits for requests in flight.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(30);

/// How long an accept that failed for lack of resources waits to try again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// At the cap, how long to wait for an evicted connection's slot before
/// evicting another.
const EVICT_RETRY: Duration = Duration::from_millis(100);

/// While draining, how often a connection that is still open is looked at
/// again (its request may have finished while its answer is being sent).
const DRAIN_POLL: Duration = Duration::from_millis(100);

/// The connection limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// hyper's `header_read_timeout`: headers, and idle connections.
    pub header_timeout: Duration,
    /// At most this many connections open at once.
    pub max_connections: usize,
}

/// What the accept loop knows of one open connection.
#[derive(Default)]
struct Tracked {
    /// Requests whose answer is not yet handed to hyper in full.
    in_flight: AtomicUsize,
    /// Set when the connection was chosen to make room.
    evicted: AtomicBool,
    /// Wakes the connection's task when it is evicted.
    evict: Notify,
}

/// Every open connection, oldest first (ids grow with each accept).
#[derive(Default)]
struct Registry {
    open: Mutex<BTreeMap<u64, Arc<Tracked>>>,
}

impl Registry {
    fn insert(&self, id: u64, tracked: Arc<Tracked>) {
        self.open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, tracked);
    }

    fn remove(&self, id: u64) {
        self.open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
    }

    /// Evicts the oldest connection without a request in flight; false when
    /// every connection has one.
    fn evict_oldest_idle(&self) -> bool {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        for tracked in open.values() {
            if tracked.in_flight.load(Ordering::Acquire) == 0
                && !tracked.evicted.swap(true, Ordering::AcqRel)
            {
                tracked.evict.notify_one();
                return true;
            }
        }
        false
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then drains.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let mut shutdown = std::pin::pin!(shutdown);
    let (stop_tx, stop_rx) = watch::channel(false);
    let registry = Arc::new(Registry::default());
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let mut next_id = 0u64;
    'accept: loop {
        // A free slot first. At the cap, make one by evicting the oldest
        // connection that has no request in flight, and evict the next one
        // if no slot is free a moment later (a request may have started on
        // the first since it was chosen, or every connection had one).
        let slot = loop {
            if let Ok(slot) = slots.clone().try_acquire_owned() {
                break slot;
            }
            let evicted = registry.evict_oldest_idle();
            tracing::debug!(evicted, "connection cap reached");
            tokio::select! {
                slot = slots.clone().acquire_owned() => match slot {
                    Ok(slot) => break slot,
                    Err(_) => break 'accept,
                },
                () = tokio::time::sleep(EVICT_RETRY) => {}
                () = &mut shutdown => break 'accept,
            }
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break 'accept,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(e) => {
                tracing::warn!("accept failed ({e}); retrying in 100 ms");
                tokio::select! {
                    () = tokio::time::sleep(ACCEPT_BACKOFF) => continue 'accept,
                    () = &mut shutdown => break 'accept,
                }
            }
        };
        // Small answers on kept-alive connections: no Nagle delay.
        let _ = stream.set_nodelay(true);
        let id = next_id;
        next_id += 1;
        let tracked = Arc::new(Tracked::default());
        registry.insert(id, tracked.clone());
        let service = counted(app.clone(), tracked.clone());
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let (registry, mut stop_rx) = (registry.clone(), stop_rx.clone());
        tokio::spawn(async move {
            let mut connection = std::pin::pin!(connection);
            let draining = tokio::select! {
                result = connection.as_mut() => {
                    if let Err(e) = result {
                        // Timeouts and clients that went away.
                        tracing::debug!("connection closed: {e}");
                    }
                    None
                }
                () = tracked.evict.notified() => Some(false),
                _ = stop_rx.wait_for(|stop| *stop) => Some(true),
            };
            // Evicted or drained: closed at once unless a request is in
            // flight, whose answer is sent first (hyper's graceful shutdown
            // closes the connection after it). An evicted connection had no
            // request in flight when chosen, but one may have started since.
            if let Some(draining) = draining {
                connection.as_mut().graceful_shutdown();
                loop {
                    // hyper closes an idle connection on its next poll; one
                    // still sending its headers, or between a finished
                    // request and hyper's last write, it would keep: that
                    // one is dropped.
                    let wait = if draining { DRAIN_POLL } else { Duration::ZERO };
                    let finished = tokio::select! {
                        biased;
                        _ = connection.as_mut() => true,
                        () = tokio::time::sleep(wait) => false,
                    };
                    if finished || tracked.in_flight.load(Ordering::Acquire) == 0 {
                        break;
                    }
                    if !draining {
                        // A request started after the eviction: let it finish.
                        let _ = connection.as_mut().await;
                        break;
                    }
                }
            }
            registry.remove(id);
            drop(slot);
        });
    }
    // Closing the listener refuses new connections at once.
    drop(listener);
    let open = limits.max_connections - slots.available_permits();
    tracing::info!(
        open_connections = open,
        "stopping: draining requests in flight"
    );
    let _ = stop_tx.send(true);
    // Every connection's task gives its slot back when it ends.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(DRAIN_LIMIT, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight after {DRAIN_LIMIT:?}; stopping anyway");
    }
}

/// `app` as one connection's hyper service, counting its requests in
/// flight in `tracked` until each answer's body is handed over in full.
fn counted(
    app: Router,
    tracked: Arc<Tracked>,
) -> impl hyper::service::Service<
    hyper::Request<Incoming>,
    Response = hyper::Response<Body>,
    Error = std::convert::Infallible,
    Future = impl Future<Output = Result<hyper::Response<Body>, std::convert::Infallible>> + Send,
> + Clone {
    hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let guard = InFlight::new(tracked.clone());
        let app = app.clone();
        async move {
            let response = app.oneshot(request.map(Body::new)).await?;
            Ok(response.map(|body| {
                Body::new(Counted {
                    body,
                    _guard: guard,
                })
            }))
        }
    })
}

/// One request in flight; counted down when dropped.
struct InFlight(Arc<Tracked>);

impl InFlight {
    fn new(tracked: Arc<Tracked>) -> Self {
        tracked.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(tracked)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// An answer's body that keeps its request counted until hyper drops it.
struct Counted {
    body: Body,
    _guard: InFlight,
}

impl http_body::Body for Counted {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// Installs the SIGINT and SIGTERM handlers now (so a signal that arrives
/// before the server is up is not the default, fatal one) and returns what
/// completes on the first of them.
#[cfg(unix)]
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => tracing::info!("SIGINT received"),
            _ = terminate.recv() => tracing::info!("SIGTERM received"),
        }
    })
}

/// Ctrl-C where there are no Unix signals.
#[cfg(not(unix))]
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    Ok(async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    })
}
