//! Records text streamed to a page (`group_records_reader`,
//! `group_records_text`): the page and the errors of `parse_records` then
//! `group_images`, for small texts and for texts of many chunks, read from
//! memory and from a file.

use std::io::{Cursor, Seek, SeekFrom, Write};

use image_groups::{
    group_images, group_records_reader, group_records_text, parse_records_bytes, GroupQuery,
    ImageGroupPage, RecordsError,
};

const R1: &str =
    r#"{"id":"1","name":"torch","namespace":"ns","type":"DEDICATED","create_at":1,"update_at":2}"#;
const R2: &str = r#"{"id":"2","name":"tf","namespace":"ns","type":"BUILD_IN","create_at":-3,"update_at":4,"service_type":"TRAIN","workspace_id":"0","tag":"v1","size":12,"dev_services":["SSH"],"extra":{"nested":[1,2]}}"#;

fn exact(text: &[u8], query: &GroupQuery) -> Result<ImageGroupPage, RecordsError> {
    parse_records_bytes(text).map(|records| group_images(&records, query))
}

/// The streamed answer, from memory and from a file (read from an offset,
/// to check that the reader is sought back to where it was), equals the
/// exact one.
#[track_caller]
fn same(text: &[u8], query: &str) -> Result<ImageGroupPage, RecordsError> {
    let query: GroupQuery = query.parse().unwrap();
    let want = exact(text, &query);
    assert_eq!(group_records_text(text, &query), want);
    let mut file = tempfile();
    file.write_all(b"skipped").unwrap();
    file.write_all(text).unwrap();
    file.seek(SeekFrom::Start(7)).unwrap();
    assert_eq!(group_records_reader(&mut file, &query).unwrap(), want);
    let mut cursor = Cursor::new(text);
    assert_eq!(group_records_reader(&mut cursor, &query).unwrap(), want);
    want
}

fn tempfile() -> std::fs::File {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "image-groups-stream-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    file
}

#[test]
fn small_texts_in_every_shape() {
    for text in [
        format!("[{R1},\n{R2}]"),
        format!("{{\"total\":2,\"data\":[{R1},{R2}],\"current\":1}}"),
        format!("{R1}\n\n{R2}\r\n"),
        format!("\u{feff}[{R1}]"),
        R1.to_string(),
        String::new(),
        " \n".to_string(),
        "[]".to_string(),
    ] {
        let page = same(text.as_bytes(), "").unwrap();
        assert!(page.total <= 2);
    }
}

#[test]
fn errors_are_those_of_parse_records() {
    let broken = [
        format!("[{R1},{}]", R2.replace("-3", "-3.5")),
        format!("[{R1},{}]", R2.replace(r#""type":"BUILD_IN","#, "")),
        format!("[{R1},{}]", R2.replace("BUILD_IN", "GOLDEN")),
        format!("[{R1},{R2},]"),
        format!("[{R1} {R2}]"),
        format!("[{R1},{R2}"),
        format!("[{R1},{R2}] x"),
        format!("{R1}\n{}\n", R2.replace("TRAIN", "train")),
        format!("{R1}\n{R2} {R1}\n"),
        format!("{R1}\n{}\n", R2.replace("\"tag\":\"v1\"", "\"tag\":5")),
        format!(
            "{{\"data\":[{R1},{}]}}",
            R2.replace("\"id\":\"2\"", "\"id\":2")
        ),
        format!("[{R1},{}]", R2.replace("\"id\":\"2\"", "\"id\":\"1\"")),
        format!("{R1}\n\n{}\n", R2.replace("\"id\":\"2\"", "\"id\":\"1\"")),
        "[\u{ff}]".to_string(),
        "nope".to_string(),
    ];
    for text in &broken {
        let err = same(text.as_bytes(), "").unwrap_err();
        assert!(
            err.record_index().is_some() || err.ndjson_line().is_some() || err.field().is_none()
        );
    }
    let bytes = format!("[{R1},{R2}]").into_bytes();
    let mut not_utf8 = bytes.clone();
    not_utf8[30] = 0xff;
    assert!(same(&not_utf8, "")
        .unwrap_err()
        .to_string()
        .contains("not UTF-8"));
}

/// A record of a text of many chunks.
fn record(i: usize) -> String {
    format!(
        r#"{{"id":"id-{i}","name":"{}","namespace":"ns{}","type":"{}","workspace_id":"{}","create_at":{},"update_at":{},"description":"a \"quoted\" }},{{\"x\": line\n"}}"#,
        ["torch", "tf", "Pytörch", "mind\\u0073pore"][i % 4],
        i % 97,
        ["DEDICATED", "BUILD_IN"][i % 2],
        i % 3,
        i % 1000,
        i % 777,
    )
}

#[derive(Clone, Copy, PartialEq)]
enum Shape {
    Array,
    Ndjson,
    Page,
}

const SHAPES: [Shape; 3] = [Shape::Array, Shape::Ndjson, Shape::Page];

fn big(records: usize, shape: Shape, edit: impl Fn(usize, String) -> String) -> Vec<u8> {
    let lines: Vec<String> = (0..records).map(|i| edit(i, record(i))).collect();
    match shape {
        Shape::Ndjson => lines.join("\n").into_bytes(),
        Shape::Array => format!("[{}]", lines.join(",\n")).into_bytes(),
        Shape::Page => format!(
            "{{\"total\": {records}, \"data\": [{}], \"current\": 1}}\n",
            lines.join(",")
        )
        .into_bytes(),
    }
}

#[test]
fn texts_of_many_chunks_give_the_exact_page() {
    for shape in SHAPES {
        let text = big(15_000, shape, |_, r| r);
        assert!(text.len() > 2 << 20, "more than one chunk");
        for query in [
            "",
            "name=torch&sort_key=name",
            "namespace=ns5&limit=3",
            "name=mindspore",
        ] {
            let page = same(&text, query).unwrap();
            assert!(page.total > 0, "{query}");
        }
    }
}

#[test]
fn errors_deep_in_a_text_of_many_chunks_name_the_record() {
    for shape in SHAPES {
        let text = big(15_000, shape, |i, r| {
            if i == 11_321 {
                r.replace("\"create_at\":321", "\"create_at\":\"321\"")
            } else {
                r
            }
        });
        let err = same(&text, "").unwrap_err();
        assert_eq!(err.field(), Some("create_at"));
        if shape == Shape::Ndjson {
            assert_eq!(err.ndjson_line(), Some(11_322));
        } else {
            assert_eq!(err.record_index(), Some(11_321));
        }
        let text = big(15_000, shape, |i, r| {
            if i == 11_900 {
                r.replace("\"id-11900\"", "\"id-1234\"")
            } else {
                r
            }
        });
        let err = same(&text, "").unwrap_err();
        assert_eq!(err.field(), Some("id"));
        assert!(err.to_string().contains("1234"), "{err}");
    }
}
