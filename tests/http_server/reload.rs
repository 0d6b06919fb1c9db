//! Data that changes while serving: reloads on change events and SIGHUP,
//! atomically, under load; a bad file keeps the previous data.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::*;

/// Replaces `dir/name` the way the docs say writers should: a temporary file
/// beside it, renamed over it.
fn replace(dir: &Path, name: &str, contents: &str) {
    let temp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&temp, contents).unwrap();
    std::fs::rename(&temp, dir.join(name)).unwrap();
}

/// Polls `target` until its answer is `(status, body)`; panics after 10 s.
async fn until_served(
    client: &reqwest::Client,
    server: &Server,
    target: &str,
    want: &(u16, Value),
) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, _, body) = get(client, &server.url(target), None).await;
        if (status, &body) == (want.0, &want.1) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{target} still answers {status} {body} 10 s later; stderr: {}",
            server.stderr()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

const LOAD_QUERIES: &[&str] = &["", "name=torch&limit=3", "sort_key=name&sort_dir=ASC"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_reloads_under_continuous_load_never_fail_or_mix_a_page() {
    const RELOADS: usize = 50;
    let dir = temp_dir("reload-load");
    // Version i of alpha's data; each page of every version, expected.
    let versions: Vec<Vec<ImageVersion>> = (0..=RELOADS)
        .map(|i| generated_records(100 + i as u64))
        .collect();
    let pages: Arc<Vec<Vec<Value>>> = Arc::new(
        versions
            .iter()
            .map(|records| {
                LOAD_QUERIES
                    .iter()
                    .map(|q| expected(records, q).1)
                    .collect()
            })
            .collect(),
    );
    for i in 1..=RELOADS {
        assert_ne!(
            pages[i][0],
            pages[i - 1][0],
            "versions {i} and {} look alike",
            i - 1
        );
    }
    let json = |i: usize| serde_json::to_string(&versions[i]).unwrap();
    std::fs::write(dir.join("alpha.json"), json(0)).unwrap();
    let server = Arc::new(Server::start(&dir, &[]));
    let client = reqwest::Client::new();

    // `confirmed`: a version the server was seen serving (it never goes
    // back); `written`: the newest version that may be on disk. An answer must be the
    // page of a version from `confirmed` before the request to `written`
    // after it: the old data or the new, never a failure or a mix.
    let confirmed = Arc::new(AtomicUsize::new(0));
    let written = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut loaders = Vec::new();
    for task in 0..6 {
        let (client, server, pages) = (client.clone(), server.clone(), pages.clone());
        let (confirmed, written, stop) = (confirmed.clone(), written.clone(), stop.clone());
        loaders.push(tokio::spawn(async move {
            let mut answered = 0usize;
            let mut i = task;
            while !stop.load(Ordering::Acquire) {
                let q = i % LOAD_QUERIES.len();
                i += 1;
                let low = confirmed.load(Ordering::Acquire);
                let target = group_path("alpha", LOAD_QUERIES[q]);
                let (status, _, body) = get(&client, &server.url(&target), None).await;
                let high = written.load(Ordering::Acquire);
                assert_eq!(status, 200, "{target}: {body}");
                assert!(
                    (low..=high).any(|v| pages[v][q] == body),
                    "{target}: the answer is no version's page from {low} to {high}: {body}"
                );
                answered += 1;
            }
            answered
        }));
    }
    let started = Instant::now();
    for i in 1..=RELOADS {
        // Published before the file is: a reader can never see a version
        // newer than `written`.
        written.store(i, Ordering::Release);
        replace(&dir, "alpha.json", &json(i));
        let target = group_path("alpha", LOAD_QUERIES[0]);
        until_served(&client, &server, &target, &(200, pages[i][0].clone())).await;
        confirmed.store(i, Ordering::Release);
    }
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Release);
    let mut answered = 0;
    for loader in loaders {
        answered += loader.await.unwrap();
    }
    assert!(
        answered > 6 * RELOADS,
        "only {answered} requests during {RELOADS} reloads"
    );
    eprintln!("{RELOADS} reloads in {elapsed:?}, {answered} requests answered meanwhile");
    drop(server);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_file_keeps_the_previous_data_and_files_come_and_go() {
    let (dir, alpha, beta) = data_dir("reload-files");
    let server = Server::start(&dir, &[]);
    let client = reqwest::Client::new();
    let target = group_path("alpha", "name=torch");

    // Record 2's create_at is not a number: logged with the file, the record
    // and the field; alpha keeps its data.
    let mut broken: Vec<Value> = alpha
        .iter()
        .map(|v| serde_json::to_value(v).unwrap())
        .collect();
    broken[2]["create_at"] = Value::from("soon");
    replace(&dir, "alpha.json", &serde_json::to_string(&broken).unwrap());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server.stderr().contains("alpha.json") {
        assert!(
            Instant::now() < deadline,
            "no error logged: {}",
            server.stderr()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let log = server.stderr();
    assert!(
        log.contains("record 2") && log.contains("create_at"),
        "{log}"
    );
    assert!(log.contains("kept_previous_data=true"), "{log}");
    let (status, _, body) = get(&client, &server.url(&target), None).await;
    assert_eq!((status, body), expected(&alpha, "name=torch"));

    // Fixed: the new data. Added: a new project. Removed: gone.
    let fixed = generated_records(7);
    replace(&dir, "alpha.json", &serde_json::to_string(&fixed).unwrap());
    until_served(&client, &server, &target, &expected(&fixed, "name=torch")).await;
    replace(&dir, "gamma.json", &serde_json::to_string(&beta).unwrap());
    until_served(
        &client,
        &server,
        &group_path("gamma", ""),
        &expected(&beta, ""),
    )
    .await;
    std::fs::remove_file(dir.join("beta.json")).unwrap();
    let gone = (
        404,
        serde_json::json!({
            "error_code": "APIG.0101",
            "error_msg": "Project beta not found",
        }),
    );
    until_served(&client, &server, &group_path("beta", ""), &gone).await;
    // A file whose name is not a project id is skipped, the others stay.
    replace(&dir, "a_b.json", "[]");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server.stderr().contains("a_b.json") {
        assert!(Instant::now() < deadline, "no warning: {}", server.stderr());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (status, _, body) = get(&client, &server.url(&target), None).await;
    assert_eq!((status, body), expected(&fixed, "name=torch"));
    drop(server);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_watch_sighup_reloads() {
    let (dir, alpha, _) = data_dir("reload-hup");
    let server = Server::with_args(&dir, &["--no-watch".into()], &[]);
    let client = reqwest::Client::new();
    let target = group_path("alpha", "");
    let next = generated_records(9);
    replace(&dir, "alpha.json", &serde_json::to_string(&next).unwrap());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (status, _, body) = get(&client, &server.url(&target), None).await;
    assert_eq!(
        (status, body),
        expected(&alpha, ""),
        "reloaded without SIGHUP"
    );
    server.signal("HUP");
    until_served(&client, &server, &target, &expected(&next, "")).await;
    // Still serving after SIGHUP (whose default action would end it).
    server.signal("HUP");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(get(&client, &server.url(&target), None).await.0, 200);
    drop(server);
    std::fs::remove_dir_all(dir).unwrap();
}
