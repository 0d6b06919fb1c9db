//! Connections a well-behaved client would not make: idle ones filling the
//! descriptor limit, slow headers, slow bodies; and stopping with requests
//! in flight (SIGTERM and SIGINT).

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream as AsyncTcpStream;

use super::*;

/// A request for alpha's first page on a new connection, answered: its
/// status, within `limit`.
async fn one_request(addr: &str, limit: Duration) -> u16 {
    let request = async {
        let mut stream = AsyncTcpStream::connect(addr).await.unwrap();
        let head = format!(
            "GET /v1/alpha/images/group HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.unwrap();
        let text = String::from_utf8_lossy(&response);
        text.get(9..12)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0)
    };
    tokio::time::timeout(limit, request)
        .await
        .unwrap_or_else(|_| panic!("no answer within {limit:?}"))
}

/// Reads until the peer closes (or fails); when, after `start`.
async fn closed_after(mut stream: AsyncTcpStream, start: Instant, limit: Duration) -> Duration {
    let mut buf = [0u8; 1024];
    let read_all = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return start.elapsed(),
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(limit, read_all)
        .await
        .unwrap_or_else(|_| panic!("still open after {limit:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_filling_the_descriptor_limit_never_lock_a_client_out() {
    let (dir, alpha, _) = data_dir("hostile-idle");
    // 128 descriptors (soft and hard), the defaults otherwise: the cap is
    // 128 less the 64 kept for the server's own files.
    let mut prlimit = Command::new("prlimit");
    prlimit.arg("--nofile=128:128");
    let server = Server::spawn(prlimit, &dir, &[], &[]);
    // More idle connections than the server has descriptors: the cap's
    // worth accepted, the rest waiting in the listen queue.
    let mut idle = Vec::new();
    for _ in 0..200 {
        idle.push(AsyncTcpStream::connect(&server.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    assert_eq!(
        one_request(&server.addr, Duration::from_secs(15)).await,
        200
    );
    let waited = started.elapsed();
    eprintln!("answered {waited:?} after 200 idle connections");
    // The cap held: the oldest idle connections were closed to make room,
    // all but the 64 the cap allows (the last request's among them).
    let mut closed = 0;
    for stream in &mut idle {
        let mut buf = [0u8; 16];
        if let Ok(Ok(0)) =
            tokio::time::timeout(Duration::from_millis(10), stream.read(&mut buf)).await
        {
            closed += 1;
        }
    }
    assert!(closed >= 200 - 64, "only {closed} idle connections closed");
    assert!(closed < 200, "every idle connection closed");
    // And again, the idle ones still there (the evicted ones closed).
    let client = reqwest::Client::new();
    let (status, _, body) = get(&client, &server.url(&group_path("alpha", "")), None).await;
    assert_eq!((status, body), expected(&alpha, ""));
    drop(idle);
    drop(server);

    // The same with the cap set by --max-connections.
    let server = Server::with_args(&dir, &["--max-connections".into(), "20".into()], &[]);
    let mut idle = Vec::new();
    for _ in 0..50 {
        idle.push(AsyncTcpStream::connect(&server.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        one_request(&server.addr, Duration::from_secs(15)).await,
        200
    );
    let mut closed = 0;
    for stream in &mut idle {
        let mut buf = [0u8; 16];
        if let Ok(Ok(0)) =
            tokio::time::timeout(Duration::from_millis(10), stream.read(&mut buf)).await
        {
            closed += 1;
        }
    }
    assert!(
        (50 - 20..50).contains(&closed),
        "{closed} idle connections closed"
    );
    drop(server);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_header_connections_are_closed_by_the_default_header_timeout() {
    let (dir, _, _) = data_dir("hostile-slow");
    let server = Server::start(&dir, &[]);
    let addr = server.addr.clone();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..300 {
        let addr = addr.clone();
        tasks.push(tokio::spawn(async move {
            let mut stream = AsyncTcpStream::connect(&addr).await.unwrap();
            let opened = Instant::now();
            stream
                .write_all(
                    format!("GET /v1/alpha/images/group HTTP/1.1\r\nHost: {addr}\r\n").as_bytes(),
                )
                .await
                .unwrap();
            // A header line every 500 ms, never the blank line that ends them.
            let mut buf = [0u8; 1024];
            let mut line = 0;
            loop {
                tokio::select! {
                    read = stream.read(&mut buf) => match read {
                        Ok(0) | Err(_) => return opened.elapsed(),
                        Ok(_) => {}
                    },
                    () = tokio::time::sleep(Duration::from_millis(500)) => {
                        line += 1;
                        let header = format!("X-Slow-{i}-{line}: {}\r\n", "a".repeat(10));
                        if stream.write_all(header.as_bytes()).await.is_err() {
                            return opened.elapsed();
                        }
                    }
                }
                assert!(
                    opened.elapsed() < Duration::from_secs(30),
                    "open after 30 s"
                );
            }
        }));
    }
    let mut times = Vec::new();
    for task in tasks {
        times.push(task.await.unwrap());
    }
    let (first, last) = (times.iter().min().unwrap(), times.iter().max().unwrap());
    eprintln!("300 slow-header connections closed after {first:?} to {last:?}");
    // The default header timeout is 10 s: none closed much before it, all
    // within 30 s of the start.
    assert!(
        *first >= Duration::from_secs(9),
        "closed after only {first:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    drop(server);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_kept_alive_connections_close_after_the_header_timeout() {
    let (dir, _, _) = data_dir("hostile-keepalive");
    let server = Server::with_args(&dir, &["--header-timeout".into(), "1".into()], &[]);
    // A connection that never sends anything.
    let start = Instant::now();
    let silent = AsyncTcpStream::connect(&server.addr).await.unwrap();
    let closed = closed_after(silent, start, Duration::from_secs(5)).await;
    assert!(closed >= Duration::from_millis(900), "{closed:?}");
    // A kept-alive connection, idle after its answer.
    let mut stream = AsyncTcpStream::connect(&server.addr).await.unwrap();
    let head = format!(
        "GET /v1/alpha/images/group HTTP/1.1\r\nHost: {}\r\n\r\n",
        server.addr
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let mut buf = [0u8; 65536];
    // The whole answer: its head, then Content-Length bytes.
    let answered = loop {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed before answering");
        response.extend_from_slice(&buf[..n]);
        if let Some(split) = response.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&response[..split]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            if response.len() >= split + 4 + length {
                break Instant::now();
            }
        }
    };
    assert!(response.starts_with(b"HTTP/1.1 200"));
    let closed = closed_after(stream, answered, Duration::from_secs(5)).await;
    assert!(closed >= Duration::from_millis(900), "{closed:?}");
    drop(server);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_large_bodies_are_refused() {
    let (dir, _, _) = data_dir("hostile-body");
    let server = Server::with_args(&dir, &["--body-timeout".into(), "1".into()], &[]);
    // A body that never finishes arriving: 408 after the body timeout.
    let mut stream = AsyncTcpStream::connect(&server.addr).await.unwrap();
    let head = format!(
        "GET /v1/alpha/images/group HTTP/1.1\r\nHost: {}\r\nContent-Length: 100\r\n\r\nab",
        server.addr
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut response))
        .await
        .expect("no answer to a slow body")
        .unwrap();
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("APIG.0201"), "{text}");
    // A body over 64 KiB: 413.
    let body = "x".repeat(65 * 1024);
    let client = reqwest::Client::new();
    let response = client
        .get(server.url("/v1/alpha/images/group"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_error_body(&body, "APIG.0201");
    drop(server);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_and_sigint_drain_requests_in_flight() {
    for signal in ["TERM", "INT"] {
        let (dir, alpha, _) = data_dir(&format!("hostile-{signal}"));
        let mut server = Server::start(&dir, &[]);
        // An idle connection, and a request in flight: its body half sent.
        let idle = AsyncTcpStream::connect(&server.addr).await.unwrap();
        let mut stream = AsyncTcpStream::connect(&server.addr).await.unwrap();
        let head = format!(
            "GET /v1/alpha/images/group?name=torch HTTP/1.1\r\nHost: {}\r\nContent-Length: 4\r\n\r\nab",
            server.addr
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        server.signal(signal);
        // The idle connection is closed at once, new ones are refused.
        let start = Instant::now();
        let closed = closed_after(idle, start, Duration::from_secs(5)).await;
        assert!(
            closed < Duration::from_secs(2),
            "SIG{signal}: idle closed after {closed:?}"
        );
        let deadline = Instant::now() + Duration::from_secs(5);
        while AsyncTcpStream::connect(&server.addr).await.is_ok() {
            assert!(Instant::now() < deadline, "SIG{signal}: still accepting");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // The request in flight is answered in full.
        stream.write_all(b"cd").await.unwrap();
        let mut response = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut response))
            .await
            .expect("no answer")
            .unwrap();
        let text = String::from_utf8(response).unwrap();
        assert!(text.starts_with("HTTP/1.1 200"), "SIG{signal}: {text}");
        let body: Value = serde_json::from_str(text.split_once("\r\n\r\n").unwrap().1).unwrap();
        assert_eq!((200, body), expected(&alpha, "name=torch"));
        let status = server.wait(Duration::from_secs(5));
        assert_eq!(status.code(), Some(0), "SIG{signal}: {status}");
        drop(server);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
