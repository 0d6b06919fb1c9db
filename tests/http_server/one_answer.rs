//! One records file, one answer: the same files through the `images-group`
//! program, the server and a `Catalog` give the same pages, and a file that
//! repeats an `id` is refused by all three, naming the id and both records.

use std::process::Command;

use image_groups::{parse_records, Catalog, GroupQuery};
use serde_json::Value;

use super::{raw_get, temp_dir, Server, QUERIES};

/// The `images-group` program, which cargo builds for the integration tests.
const PROGRAM: &str = env!("CARGO_BIN_EXE_images-group");

/// Records in every shape the files take: a repository in the shared SWR
/// and in two enterprise instances, other workspaces, and escapes.
fn records_text() -> Vec<String> {
    let mut lines = Vec::new();
    for i in 0..120u32 {
        let instance = match i % 5 {
            0 => r#","swr_instance_id":"inst-a""#,
            1 => r#","swr_instance_id":"inst-b""#,
            2 => r#","swr_instance_id":"""#,
            _ => "",
        };
        lines.push(format!(
            r#"{{"id":"v{i}","name":"{}","namespace":"{}","type":"{}","workspace_id":"{}","create_at":{},"update_at":{}{instance}}}"#,
            ["pytorch", "PyTorch-cuda", "tensor\\u0066low"][i as usize % 3],
            ["ml", "vision"][i as usize % 2],
            ["DEDICATED", "BUILD_IN"][i as usize % 2],
            ["0", "0", "ws-1"][i as usize % 3],
            1_600_000_000_000u64 + u64::from(i * 7919 % 1000),
            1_700_000_000_000u64 + u64::from(i * 104_729 % 1000),
        ));
    }
    lines
}

/// The program's answer to `query` over `file`: the page or error body.
fn program_answer(file: &std::path::Path, query: &str) -> Value {
    let out = Command::new(PROGRAM)
        .arg("--records")
        .arg(file)
        .arg("--")
        .arg(query)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{query:?}: {e}; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn a_records_file_gives_the_same_pages_through_the_program_the_server_and_a_catalog() {
    let lines = records_text();
    let queries: Vec<&str> = QUERIES
        .iter()
        .copied()
        .chain([
            "swr_instance_id=inst-a",
            "sort_key=name&sort_dir=ASC&limit=4&offset=1",
            "name=tensorflow&name_fuzzy_match=false",
        ])
        .collect();
    for (shape, text) in [
        ("array", format!("[{}]", lines.join(","))),
        (
            "page",
            format!(r#"{{"total":1,"data":[{}]}}"#, lines.join(",")),
        ),
        ("ndjson", lines.join("\n")),
    ] {
        let dir = temp_dir(&format!("one-answer-{shape}"));
        let file = dir.join("alpha.json");
        std::fs::write(&file, &text).unwrap();
        let catalog = Catalog::from_records(parse_records(&text).unwrap());
        let server = Server::start(&dir, &[]);
        for query in &queries {
            let from_catalog = match GroupQuery::from_query_string(query) {
                Ok(q) => serde_json::to_value(catalog.query(&q)).unwrap(),
                Err(e) => serde_json::to_value(&e).unwrap(),
            };
            let path = if query.is_empty() {
                "/v1/alpha/images/group".to_string()
            } else {
                format!("/v1/alpha/images/group?{query}")
            };
            let (_, from_server) = raw_get(&server.addr, &path, "");
            assert_eq!(from_server, from_catalog, "{shape} {query:?}: server");
            let from_program = program_answer(&file, query);
            assert_eq!(from_program, from_catalog, "{shape} {query:?}: program");
        }
        drop(server);
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[test]
fn a_repeated_id_is_refused_by_the_program_the_server_and_the_parser() {
    let mut lines = records_text();
    lines[7] = lines[7].replace(r#""id":"v7""#, r#""id":"v3""#);
    let dir = temp_dir("one-answer-repeat");
    let file = dir.join("alpha.json");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let names_both =
        |text: &str| text.contains(r#""v3""#) && text.contains("line 4") && text.contains("line 8");

    let err = parse_records(&lines.join("\n")).unwrap_err();
    assert!(names_both(&err.to_string()), "{err}");

    let out = Command::new(PROGRAM)
        .arg("--records")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        names_both(&stderr) && stderr.contains("alpha.json"),
        "{stderr}"
    );

    let out = Command::new(super::binary())
        .arg("--data-dir")
        .arg(&dir)
        .args(["--addr", "127.0.0.1:0", "--no-auth"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        names_both(&stderr) && stderr.contains("alpha.json"),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
