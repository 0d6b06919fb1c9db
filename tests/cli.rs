//! The `images-group` program: record formats, standard input, `--queries`,
//! `--format table`, `--help`, and exit codes.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use image_groups::{group_images, parse_records, GroupQuery, ImageGroupPage};

/// The program, which Cargo builds for this test (the `cli` feature).
const BINARY: &str = env!("CARGO_BIN_EXE_images-group");

fn run(args: &[&str]) -> Output {
    Command::new(BINARY).args(args).output().unwrap()
}

/// Runs the program with `input` piped to its standard input.
fn run_with_stdin(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(BINARY)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_string();
    // Written from another thread, so that a program that stops reading
    // early cannot deadlock the test on a full pipe.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// A new file holding `contents`, named `name` in a directory of its own:
/// tests run in parallel, and two that chose one name would race.
fn temp_file(name: &str, contents: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("image-groups-cli-{}/{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

const SAMPLE: &str = include_str!("../examples/data/sample.json");

fn records_json() -> String {
    let mut records = Vec::new();
    for (i, (name, ns, t)) in [
        ("pytorch", "ml", "DEDICATED"),
        ("PyTorch-cuda", "ml", "DEDICATED"),
        ("pytorch", "ml", "DEDICATED"),
        ("tensorflow", "ml", "BUILD_IN"),
        ("pytorch", "vision", "BUILD_IN"),
    ]
    .iter()
    .enumerate()
    {
        records.push(format!(
            r#"{{"id":"{i}","name":"{name}","namespace":"{ns}","type":"{t}","create_at":{},"update_at":{}}}"#,
            1_600_000_000_000i64 + i as i64 * 1000,
            1_700_000_000_000i64 + i as i64 * 7000 % 5000,
        ));
    }
    format!("[{}]", records.join(",\n"))
}

#[test]
fn without_records_it_prints_the_api_example_page() {
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(0));
    let page: ImageGroupPage = serde_json::from_str(&stdout(&out)).unwrap();
    let expected = group_images(&parse_records(SAMPLE).unwrap(), &GroupQuery::default());
    assert_eq!(page, expected);
    assert_eq!(
        (page.current, page.pages, page.size, page.total),
        (1, 1, 3, 3)
    );
}

#[test]
fn all_three_record_formats_give_the_library_answer() {
    let array = records_json();
    let records = parse_records(&array).unwrap();
    let values: Vec<serde_json::Value> = serde_json::from_str(&array).unwrap();
    let ndjson: String = values.iter().map(|v| format!("{v}\n")).collect();
    let page_obj = format!("{{\"current\":1,\"data\":{array},\"total\":5}}");
    let query = "name=torch&sort_key=name,namespace&sort_dir=asc";
    let expected = group_images(&records, &query.parse().unwrap());
    assert_eq!(expected.total, 3);
    for (file, text) in [
        ("a.json", &array),
        ("b.ndjson", &ndjson),
        ("c.json", &page_obj),
    ] {
        let path = temp_file(file, text);
        let out = run(&["--records", path.to_str().unwrap(), query]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let page: ImageGroupPage = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(page, expected, "{file}");
    }
}

#[test]
fn queries_mode_prints_one_compact_line_per_query() {
    let array = records_json();
    let records = parse_records(&array).unwrap();
    let records_path = temp_file("q-records.json", &array);
    let queries = [
        "name=torch",
        "",
        "sort_key=foo",
        "limit=0",
        "type=BUILD_IN&sort_key=namespace&sort_dir=asc",
    ];
    let queries_path = temp_file("queries.txt", &format!("{}\r\n", queries.join("\n")));
    let out = run(&[
        "--records",
        records_path.to_str().unwrap(),
        "--queries",
        queries_path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), queries.len());
    for (line, query) in lines.iter().zip(queries) {
        let expected = match GroupQuery::from_query_string(query) {
            Ok(q) => serde_json::to_string(&group_images(&records, &q)).unwrap(),
            Err(e) => serde_json::to_string(&e).unwrap(),
        };
        assert_eq!(*line, expected, "{query}");
    }
    assert!(lines[2].contains("ModelArts.6303") && lines[3].contains("ModelArts.0104"));
}

#[test]
fn table_format_aligns_columns_and_prints_rfc3339_times() {
    let out = run(&["--format", "table", "limit=2"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(
        lines[0].starts_with("NAME")
            && lines[0].contains("NAMESPACE")
            && lines[0].contains("VERSIONS")
    );
    assert!(
        lines[1].starts_with("pytorch_1_8 ") && lines[1].contains("2022-12-22T11:30:30.448Z"),
        "{text}"
    );
    assert!(lines[2].starts_with("mock-service-python "), "{text}");
    let col = |l: &str| {
        l.find("op_svc")
            .or_else(|| l.find("mock-service1"))
            .or_else(|| l.find("NAMESPACE"))
    };
    assert_eq!(col(lines[0]), col(lines[1]));
    assert_eq!(col(lines[1]), col(lines[2]));
    assert_eq!(lines[3], "page 1 of 2: 2 of 3 groups (offset 0, limit 2)");
}

#[test]
fn table_format_prints_out_of_range_times_as_milliseconds() {
    let path = temp_file(
        "extreme.json",
        r#"[{"id":"1","name":"x","namespace":"n","type":"DEDICATED","create_at":-9223372036854775808,"update_at":9223372036854775807}]"#,
    );
    let out = run(&["--records", path.to_str().unwrap(), "--format=table"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("-9223372036854775808 ms (out of range)"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn an_invalid_query_prints_the_error_body_and_exits_2() {
    let out = run(&["sort_key=size"]);
    assert_eq!(out.status.code(), Some(2));
    let body: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(body["error_code"], "ModelArts.6303");
    let out = run(&["--format", "table", "limit=abc"]);
    assert_eq!(out.status.code(), Some(2));
    let body: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(body["error_code"], "ModelArts.0104");
}

#[test]
fn a_missing_records_file_exits_1_naming_the_file() {
    let out = run(&["--records", "/nonexistent/records.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("/nonexistent/records.json"));
}

#[test]
fn usage_errors_exit_2_on_stderr() {
    for args in [
        &["--bogus"][..],
        &["--format", "xml"],
        &["a=1", "b=2"],
        &["--records"],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(
            String::from_utf8(out.stderr).unwrap().contains("usage:"),
            "{args:?}"
        );
    }
}

#[test]
fn bad_records_exit_1_naming_record_and_field_with_nothing_on_stdout() {
    let good =
        r#"{"id":"1","name":"x","namespace":"n","type":"DEDICATED","create_at":1,"update_at":2}"#;
    let cases: [(&str, String, &str, &str); 8] = [
        (
            "truncated.json",
            format!("[{good},{}", &good[..40]),
            "record 1",
            "EOF",
        ),
        (
            "wrong-type.json",
            format!("[{good},{}]", good.replace("\"x\"", "5")),
            "record 1",
            "`name`",
        ),
        (
            "enum.ndjson",
            format!("{good}\n{}\n", good.replace("DEDICATED", "SHARED")),
            "line 2",
            "`type`",
        ),
        (
            "enum.json",
            format!("[{}]", good.replace("DEDICATED", "SHARED")),
            "record 0",
            "`type`",
        ),
        (
            "past-i64.json",
            format!("[{}]", good.replace(":1,", ":9223372036854775808,")),
            "record 0",
            "`create_at`",
        ),
        (
            "fraction.ndjson",
            good.replace(":2}", ":2.5}"),
            "record",
            "`update_at`",
        ),
        (
            "page.json",
            format!("{{\"data\":[{good},{}]}}", good.replace("\"n\"", "null")),
            "record 1",
            "`namespace`",
        ),
        (
            "missing.json",
            format!("[{}]", good.replace(",\"update_at\":2", "")),
            "record 0",
            "`update_at`",
        ),
    ];
    for (file, text, record, field) in cases {
        let path = temp_file(file, &text);
        let out = run(&["--records", path.to_str().unwrap(), "name=x"]);
        assert_eq!(out.status.code(), Some(1), "{file}");
        assert!(
            out.stdout.is_empty(),
            "{file}: stdout {:?}",
            String::from_utf8_lossy(&out.stdout)
        );
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(path.to_str().unwrap()), "{file}: {err}");
        assert!(err.contains(record) && err.contains(field), "{file}: {err}");
    }
}

/// One DEDICATED record of workspace 0, as JSON.
fn record(id: usize, name: &str, namespace: &str) -> String {
    format!(
        r#"{{"id":"{id}","name":"{name}","namespace":"{namespace}","type":"DEDICATED","create_at":{},"update_at":{}}}"#,
        1_600_000_000_000i64 + id as i64,
        1_700_000_000_000i64 + id as i64,
    )
}

/// Display columns of text made of ASCII, `…` and CJK ideographs only: the
/// test's own count, not the program's.
fn columns(text: &str) -> usize {
    text.chars()
        .map(|c| if c.is_ascii() || c == '…' { 1 } else { 2 })
        .sum()
}

/// The display column at which `cell` starts in `line`.
fn column_of(line: &str, cell: &str) -> usize {
    let at = line
        .find(cell)
        .unwrap_or_else(|| panic!("{cell:?} not in {line:?}"));
    columns(&line[..at])
}

#[test]
fn table_aligns_wide_characters_by_display_width() {
    let names = [
        ("日本語-名前", "cjk-ns"),
        ("pytorch", "ml"),
        ("x", "vision"),
    ];
    let records: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, (name, ns))| record(i, name, ns))
        .collect();
    let path = temp_file("cjk.json", &format!("[{}]", records.join(",")));
    let out = run(&["--records", path.to_str().unwrap(), "--format", "table"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    let namespace_at = column_of(lines[0], "NAMESPACE");
    let created_at = column_of(lines[0], "CREATED");
    // Newest update first: ids 2, 1, 0.
    for (line, (name, ns)) in lines[1..4].iter().zip(names.iter().rev()) {
        assert!(line.starts_with(name), "{text}");
        assert_eq!(column_of(line, ns), namespace_at, "{text}");
        assert_eq!(column_of(line, "2020-09-13T"), created_at, "{text}");
    }
}

#[test]
fn table_cuts_a_long_name_and_json_keeps_it_whole() {
    let long = "a".repeat(80);
    let records = [
        record(0, &long, "ns"),
        record(1, "pytorch", "ml"),
        record(2, "日本語-名前", "cjk"),
    ];
    let path = temp_file("long.json", &format!("[{}]", records.join(",")));
    let path = path.to_str().unwrap();

    let out = run(&["--records", path, "--format", "table"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(!text.contains(&long), "{text}");
    let cut = lines
        .iter()
        .find(|l| l.starts_with("aaaa"))
        .unwrap_or_else(|| panic!("{text}"));
    let name_cell = cut.split(' ').next().unwrap();
    assert!(name_cell.ends_with('…'), "{text}");
    assert!(columns(name_cell) <= 40, "{text}");
    // The other rows keep to the same, capped column: not 80 wide.
    let namespace_at = column_of(lines[0], "NAMESPACE");
    assert!(namespace_at <= 42, "{text}");
    assert_eq!(column_of(cut, "ns "), namespace_at, "{text}");
    for (line, ns) in [(lines[1], "cjk"), (lines[2], "ml")] {
        assert_eq!(column_of(line, ns), namespace_at, "{text}");
    }

    let out = run(&["--records", path]);
    let page: ImageGroupPage = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(page.data.iter().any(|g| g.name == long));
}

#[test]
fn a_dash_reads_records_or_queries_from_standard_input() {
    let array = records_json();
    let records = parse_records(&array).unwrap();

    let query = "name=torch&sort_key=name,namespace&sort_dir=asc";
    let out = run_with_stdin(&["--records", "-", query], &array);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page: ImageGroupPage = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(page, group_images(&records, &query.parse().unwrap()));

    let records_path = temp_file("stdin-records.json", &array);
    let out = run_with_stdin(
        &["--records", records_path.to_str().unwrap(), "--queries=-"],
        "name=torch\nlimit=0\n",
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    let expected = serde_json::to_string(&group_images(&records, &"name=torch".parse().unwrap()));
    assert_eq!(lines, [expected.unwrap().as_str(), lines[1]]);
    assert!(lines[1].contains("ModelArts.0104"), "{text}");

    let out = run_with_stdin(&["--records", "-"], "[{\"id\":");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("standard input") && err.contains("EOF"),
        "{err}"
    );
}

#[test]
fn only_one_input_can_be_standard_input() {
    let out = run_with_stdin(&["--records", "-", "--queries", "-"], "[]");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("standard input") && err.contains("usage:"),
        "{err}"
    );
}

/// `/dev/stdin` is standard input under another name: when it is a pipe,
/// with `--queries -` one of the two would find it already read (and
/// answer nothing).
#[test]
fn standard_input_under_another_name_is_still_one_input() {
    for args in [
        ["--records", "/dev/stdin", "--queries", "-"],
        ["--records", "-", "--queries", "/dev/stdin"],
    ] {
        let out = run_with_stdin(&args, "[]");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains("one pipe") && err.contains("usage:"),
            "{args:?}: {err}"
        );
    }
    // What can be read twice is two inputs: each answers for itself.
    let out = run(&["--records", "/dev/null", "--queries", "/dev/null"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("no records in file /dev/null"), "{err}");
    // --help comes first.
    let out = run_with_stdin(&["--records", "-", "--queries", "/dev/stdin", "--help"], "");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn help_describes_every_flag_the_formats_and_the_exit_codes() {
    for flag in ["--help", "-h"] {
        let out = run(&[flag]);
        assert_eq!(out.status.code(), Some(0));
        assert!(out.stderr.is_empty());
        let help = stdout(&out);
        // Each flag heads its own paragraph.
        for flag in [
            "QUERY_STRING",
            "--records FILE",
            "--format json|table",
            "--queries FILE",
            "-h, --help",
        ] {
            assert!(
                help.lines().any(|l| l.starts_with(flag)),
                "no paragraph for {flag:?} in:\n{help}"
            );
        }
        for needle in [
            "standard input",
            "JSON array",
            "GET /v1/{project_id}/images",
            "NDJSON",
            "Exit codes",
            "\n    0  ",
            "\n    1  ",
            "\n    2  ",
        ] {
            assert!(help.contains(needle), "{needle:?} missing from:\n{help}");
        }
    }
}

#[test]
fn table_shows_the_swr_instance_column_only_when_a_group_has_one() {
    let shared = record(1, "torch", "ml");
    let out = run_with_stdin(&["--records", "-", "--format", "table"], &shared);
    assert!(!stdout(&out).contains("SWR INSTANCE"), "{}", stdout(&out));
    let enterprise = record(2, "torch", "ml").replace('}', r#","swr_instance_id":"inst-1"}"#);
    let input = format!("{shared}\n{enterprise}\n");
    let out = run_with_stdin(
        &["--records", "-", "--format", "table", "sort_key=name"],
        &input,
    );
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].ends_with("SWR INSTANCE"), "{text}");
    assert!(
        lines[1].ends_with('-') && lines[2].ends_with("inst-1"),
        "{text}"
    );
}

#[test]
fn a_repeated_id_exits_1_naming_both_records() {
    let input = format!("{}\n{}\n", record(7, "torch", "ml"), record(7, "tf", "ml"));
    let out = run_with_stdin(&["--records", "-"], &input);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 2") && err.contains("line 1") && err.contains("`id`"),
        "{err}"
    );
}

#[test]
fn empty_records_input_exits_1_instead_of_an_empty_page() {
    for input in ["", " \n\r\n", "\u{feff}", "\u{feff}\n "] {
        let out = run_with_stdin(&["--records", "-"], input);
        assert_eq!(out.status.code(), Some(1), "{input:?}");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("empty") && err.contains("standard input"),
            "{err}"
        );
    }
    let out = run_with_stdin(&["--records", "-"], "[]");
    assert_eq!(out.status.code(), Some(0));
    let page: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(page["total"], 0);
}

#[test]
fn an_empty_records_file_exits_1_too() {
    // A byte-order mark alone is no more records than nothing at all.
    for text in ["\n  \n", "\u{feff}", "\u{feff} \n"] {
        let path = temp_file("empty.json", text);
        for args in [&["name=torch"][..], &["--queries", "-"][..]] {
            let path = path.to_str().unwrap();
            let out = run_with_stdin(&[&["--records", path][..], args].concat(), "limit=1\n");
            assert_eq!(out.status.code(), Some(1), "{text:?} {args:?}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("empty") && err.contains("empty.json"), "{err}");
        }
    }
}

#[test]
fn a_queries_file_may_start_with_a_byte_order_mark_and_bad_utf8_names_its_line() {
    let out = run_with_stdin(&["--queries", "-"], "\u{feff}limit=1\n");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).starts_with(r#"{"current":1"#),
        "{}",
        stdout(&out)
    );
    let mut child = std::process::Command::new(BINARY)
        .args(["--queries", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"limit=1\nlimit=\xff\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2"), "{err}");
}

/// Records text long enough to be parsed on every core: `n` records of a
/// few groups, as NDJSON.
fn long_ndjson(n: usize) -> String {
    (0..n)
        .map(|i| record(i, ["pytorch", "tensorflow", "mxnet"][i % 3], "ml") + "\n")
        .collect()
}

#[test]
fn queries_over_a_long_records_file_answer_as_the_library_does() {
    let ndjson = long_ndjson(5000);
    assert!(ndjson.len() > 1 << 19, "several chunks");
    let array = format!("[{}]", ndjson.trim_end().replace('\n', ",\n"));
    let queries = ["", "name=torch", "sort_key=name&sort_dir=asc&limit=2"];
    let queries_path = temp_file("long-queries.txt", &(queries.join("\n") + "\n"));
    let records = parse_records(&ndjson).unwrap();
    let want: Vec<serde_json::Value> = queries
        .iter()
        .map(|q| {
            let page = group_images(&records, &GroupQuery::from_query_string(q).unwrap());
            serde_json::to_value(page).unwrap()
        })
        .collect();
    for (file, text) in [("long.ndjson", &ndjson), ("long.json", &array)] {
        let path = temp_file(file, text);
        let from_file = run(&[
            "--records",
            path.to_str().unwrap(),
            "--queries",
            queries_path.to_str().unwrap(),
        ]);
        let from_stdin = run_with_stdin(
            &[
                "--records",
                "-",
                "--queries",
                queries_path.to_str().unwrap(),
            ],
            text,
        );
        for out in [from_file, from_stdin] {
            assert_eq!(out.status.code(), Some(0), "{file}");
            let got: Vec<serde_json::Value> = stdout(&out)
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            assert_eq!(got, want, "{file}");
        }
    }
}

#[test]
fn a_bad_record_deep_in_a_long_file_is_named_with_queries_too() {
    let lines: Vec<String> = long_ndjson(5000).lines().map(String::from).collect();
    let mut broken = lines.clone();
    broken[4000] = broken[4000].replace(",\"update_at\"", ",\"update_at\":1.5,\"x\"");
    let mut repeated = lines;
    repeated[4500] = repeated[4500].replace("\"id\":\"4500\"", "\"id\":\"17\"");
    let queries_path = temp_file("deep-queries.txt", "limit=1\n");
    for (file, text, says) in [
        (
            "deep.ndjson",
            broken.join("\n"),
            ["line 4001", "`update_at`"],
        ),
        (
            "deep-id.ndjson",
            repeated.join("\n"),
            ["line 4501", "line 18's"],
        ),
    ] {
        let path = temp_file(file, &text);
        let queries = queries_path.to_str().unwrap();
        let from_file = run(&["--records", path.to_str().unwrap(), "--queries", queries]);
        let from_stdin = run_with_stdin(&["--records", "-", "--queries", queries], &text);
        for (out, named) in [
            (from_file, path.to_str().unwrap()),
            (from_stdin, "standard input"),
        ] {
            assert_eq!(out.status.code(), Some(1), "{file}");
            assert!(out.stdout.is_empty(), "{file}");
            let err = String::from_utf8(out.stderr).unwrap();
            assert!(err.contains(named), "{file}: {err}");
            for part in says {
                assert!(err.contains(part), "{file}: {err}");
            }
        }
    }
}

#[test]
fn an_empty_records_file_exits_1_with_queries_too() {
    let path = temp_file("empty-for-queries.json", " \n");
    let queries = temp_file("empty-queries.txt", "limit=1\n");
    let out = run(&[
        "--records",
        path.to_str().unwrap(),
        "--queries",
        queries.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("empty") && err.contains("empty-for-queries.json"),
        "{err}"
    );
    let path = temp_file("no-records.json", "[]");
    let out = run(&[
        "--records",
        path.to_str().unwrap(),
        "--queries",
        queries.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
}

/// The lines of a `--queries` run, and what the library answers for each
/// line (the page, or the error body).
fn queries_run(records: &PathBuf, queries: &[&str], name: &str) -> (Output, Vec<String>) {
    let text = std::fs::read_to_string(records).unwrap();
    let versions = parse_records(&text).unwrap();
    let want = queries
        .iter()
        .map(|q| match GroupQuery::from_query_string(q) {
            Ok(q) => serde_json::to_string(&group_images(&versions, &q)).unwrap(),
            Err(e) => serde_json::to_string(&e).unwrap(),
        })
        .collect();
    let path = temp_file(name, &(queries.join("\n") + "\n"));
    let out = run(&[
        "--records",
        records.to_str().unwrap(),
        "--queries",
        path.to_str().unwrap(),
    ]);
    (out, want)
}

#[test]
fn valid_and_invalid_query_lines_over_a_records_file_answer_in_order() {
    let ndjson = long_ndjson(5000);
    let array = format!("[{}]", ndjson.trim_end().replace('\n', ",\n"));
    // Lines sharing a filter, lines with filters of their own, and
    // invalid lines between them.
    let queries = [
        "limit=0",
        "",
        "sort_key=name&sort_dir=asc&limit=2",
        "sort_key=foo",
        "name=torch",
        "name=torch&offset=1&limit=1",
        "namespace=ml&sort_key=version_count",
        "",
        "namespace=UPPER",
        "name=mxnet&name_fuzzy_match=false&sort_dir=asc",
    ];
    for (file, text) in [("mixed.ndjson", &ndjson), ("mixed.json", &array)] {
        let path = temp_file(file, text);
        let (out, want) = queries_run(&path, &queries, "mixed-queries.txt");
        assert_eq!(out.status.code(), Some(0), "{file}");
        let got: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
        assert_eq!(got, want, "{file}");
        assert!(got[0].contains("ModelArts.0104") && got[3].contains("ModelArts.6303"));
        assert!(got[8].contains("ModelArts.0104"));
    }
}

#[test]
fn more_distinct_filters_than_streamed_answer_alike() {
    let path = temp_file("many-filters.ndjson", &long_ndjson(3000));
    let filters: Vec<String> = (0..=image_groups::MAX_STREAMED_FILTERS)
        .map(|i| format!("name=t{}&sort_key=name", "o".repeat(i % 3)) + &"&offset=0".repeat(i % 2))
        .chain((0..=image_groups::MAX_STREAMED_FILTERS).map(|i| format!("workspace_id=w{i}")))
        .chain(["limit=0".to_string(), "".to_string()])
        .collect();
    let queries: Vec<&str> = filters.iter().map(String::as_str).collect();
    let (out, want) = queries_run(&path, &queries, "many-filters.txt");
    assert_eq!(out.status.code(), Some(0));
    let got: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    assert_eq!(got, want);
}

#[test]
fn bad_records_are_named_before_an_unreadable_queries_file() {
    let records = temp_file("bad-before-queries.json", r#"[{"id":"1"}]"#);
    let missing = std::env::temp_dir().join("image-groups-no-such-queries.txt");
    let out = run(&[
        "--records",
        records.to_str().unwrap(),
        "--queries",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad-before-queries.json"), "{err}");
    let good = temp_file("good-before-queries.json", &records_json());
    let out = run(&[
        "--records",
        good.to_str().unwrap(),
        "--queries",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot read queries file") && err.contains("no-such-queries"),
        "{err}"
    );
}

/// A records path that cannot be read twice (a pipe, as `/dev/stdin`, a
/// FIFO or `<(...)` is) is read whole, as `-` is: the streaming readers
/// seek back where only their exact path can answer.
#[test]
fn a_records_path_that_is_a_pipe_answers_as_a_file_does() {
    // Long enough to stream, with an error deep in it: a path that tried
    // to stream would have to read it again.
    let ndjson = long_ndjson(5000);
    let broken = ndjson.replacen("\"create_at\":1600000004000", "\"create_at\":1.5", 1);
    assert!(broken != ndjson, "the record to break is in the text");
    let queries_path = temp_file("pipe-queries.txt", "limit=1\nname=torch\n");
    for text in [&ndjson, &broken] {
        let path = temp_file("pipe-records.ndjson", text);
        let path = path.to_str().unwrap();
        for args in [
            vec!["limit=1"],
            vec!["limit=0"],
            vec!["--queries", queries_path.to_str().unwrap()],
        ] {
            let from_file = run(&[&["--records", path][..], &args].concat());
            let from_pipe =
                run_with_stdin(&[&["--records", "/dev/stdin"][..], &args].concat(), text);
            assert_eq!(from_pipe.status.code(), from_file.status.code(), "{args:?}");
            assert_eq!(stdout(&from_pipe), stdout(&from_file), "{args:?}");
            let message =
                |out: &Output| String::from_utf8_lossy(&out.stderr).replace(path, "/dev/stdin");
            assert_eq!(message(&from_pipe), message(&from_file), "{args:?}");
        }
    }
}
