//! Records text (`parse_records`) in its three shapes, and errors that name the
//! record and the field.

use image_groups::{
    parse_records, parse_records_bytes, parse_records_reader, ImageType, ServiceType,
};

const R1: &str =
    r#"{"id":"1","name":"torch","namespace":"ns","type":"DEDICATED","create_at":1,"update_at":2}"#;
const R2: &str = r#"{"id":"2","name":"tf","namespace":"ns","type":"BUILD_IN","create_at":-3,"update_at":4,"service_type":"TRAIN","workspace_id":"w","tag":"v1","size":12,"dev_services":["SSH"],"extra":{"nested":[1,2]}}"#;

#[test]
fn the_three_shapes_give_the_same_records() {
    let array = parse_records(&format!("[{R1},\n{R2}]")).unwrap();
    let page = parse_records(&format!(
        "{{\"total\":2,\"data\":[{R1},{R2}],\"current\":1}}"
    ))
    .unwrap();
    let ndjson = parse_records(&format!("{R1}\n\n{R2}\r\n")).unwrap();
    assert_eq!(array.len(), 2);
    assert_eq!(array, page);
    assert_eq!(array, ndjson);
    assert_eq!(array[1].image_type, ImageType::BuildIn);
    assert_eq!(array[1].service_type, ServiceType::Train);
    assert_eq!(array[1].workspace_id, "w");
    assert_eq!(array[1].tag.as_deref(), Some("v1"));
    assert_eq!(array[1].create_at, -3);
    assert_eq!(array[0].workspace_id, "0");
    assert_eq!(array[0].service_type, ServiceType::Unknown);
}

#[test]
fn a_lone_object_is_a_page_with_data_or_else_one_record() {
    assert_eq!(parse_records(R1).unwrap().len(), 1);
    assert_eq!(parse_records(&format!("  {R1}  \n")).unwrap().len(), 1);
    assert!(parse_records(r#"{"data": []}"#).unwrap().is_empty());
    let pretty =
        serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(R2).unwrap())
            .unwrap();
    assert_eq!(parse_records(&pretty).unwrap().len(), 1);
}

#[test]
fn empty_text_and_byte_order_mark() {
    assert!(parse_records("").unwrap().is_empty());
    assert!(parse_records(" \n\t").unwrap().is_empty());
    assert!(parse_records("[]").unwrap().is_empty());
    assert_eq!(parse_records(&format!("\u{feff}[{R1}]")).unwrap().len(), 1);
}

#[test]
fn messy_record_strings_are_accepted_as_given() {
    let text = r#"[{"id":"","name":"PyTörch ☃","namespace":"","type":"DEDICATED","create_at":-9223372036854775808,"update_at":9223372036854775807,"workspace_id":""}]"#;
    let r = &parse_records(text).unwrap()[0];
    assert_eq!(r.name, "PyTörch ☃");
    assert_eq!(r.workspace_id, "");
    assert_eq!((r.create_at, r.update_at), (i64::MIN, i64::MAX));
}

/// Parses `text`, expecting an error at `index` (array) or `line` (NDJSON)
/// about `field`, whose message contains `says`.
#[track_caller]
fn fails(text: &str, index: Option<usize>, line: Option<usize>, field: Option<&str>, says: &str) {
    let err = parse_records(text).unwrap_err();
    assert_eq!(err.record_index(), index, "{err}");
    assert_eq!(err.ndjson_line(), line, "{err}");
    assert_eq!(err.field(), field, "{err}");
    let msg = err.to_string();
    assert!(msg.contains(says), "{msg}");
    if let Some(i) = index {
        assert!(msg.starts_with(&format!("record {i}")), "{msg}");
    }
    if let Some(l) = line {
        assert!(msg.starts_with(&format!("record on line {l}")), "{msg}");
    }
    if let Some(f) = field {
        assert!(msg.contains(&format!("field `{f}`")), "{msg}");
    }
}

fn with(field_json: &str) -> String {
    format!(
        r#"{{"id":"x","name":"n","namespace":"s","type":"DEDICATED","create_at":1,"update_at":2,{field_json}}}"#
    )
}

fn without(field: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(R1).unwrap();
    v.as_object_mut().unwrap().remove(field);
    v.to_string()
}

#[test]
fn missing_required_fields_are_named() {
    for field in ["id", "name", "namespace", "type", "create_at", "update_at"] {
        fails(
            &format!("[{R1},{}]", without(field)),
            Some(1),
            None,
            Some(field),
            "missing field",
        );
        fails(
            &format!("{R1}\n{}\n", without(field)),
            None,
            Some(2),
            Some(field),
            "missing field",
        );
    }
}

#[test]
fn wrong_json_types_are_named() {
    let cases = [
        (r#""id2":1,"tag":5"#, "tag", "invalid type"),
        (r#""workspace_id":0"#, "workspace_id", "invalid type"),
        (r#""service_type":1"#, "service_type", "expected value"),
    ];
    for (extra, field, says) in cases {
        fails(
            &format!("[{}]", with(extra)),
            Some(0),
            None,
            Some(field),
            says,
        );
    }
    let bad_values = [
        ("create_at", "1.5", "floating point"),
        ("create_at", "\"1\"", "invalid type: string"),
        ("update_at", "9223372036854775808", "9223372036854775808"),
        ("update_at", "-9223372036854775809", "floating point"),
        ("create_at", "1e3", "floating point"),
        ("name", "null", "invalid type: null"),
        ("namespace", "[]", "invalid type: sequence"),
        ("id", "7", "invalid type: integer"),
    ];
    for (field, value, says) in bad_values {
        let mut v: serde_json::Value = serde_json::from_str(R1).unwrap();
        v[field] = serde_json::from_str(value).unwrap_or(serde_json::Value::Null);
        let text = R1.replace(
            &format!(
                "\"{field}\":{}",
                serde_json::from_str::<serde_json::Value>(R1).unwrap()[field]
            ),
            &format!("\"{field}\":{value}"),
        );
        assert_ne!(text, R1, "{field}");
        fails(
            &format!("[{R1},{R1},{text}]"),
            Some(2),
            None,
            Some(field),
            says,
        );
        fails(
            &format!("{{\"data\":[{text}]}}"),
            Some(0),
            None,
            Some(field),
            says,
        );
        fails(
            &format!("{R1}\n{R1}\n\n{text}"),
            None,
            Some(4),
            Some(field),
            says,
        );
    }
}

#[test]
fn unknown_enum_values_are_named() {
    fails(
        &format!("[{}]", R1.replace("DEDICATED", "dedicated")),
        Some(0),
        None,
        Some("type"),
        "unknown variant `dedicated`",
    );
    fails(
        &format!("[{}]", with(r#""service_type":"TRAINING""#)),
        Some(0),
        None,
        Some("service_type"),
        "unknown variant `TRAINING`",
    );
}

#[test]
fn duplicate_fields_are_named() {
    fails(
        &format!("[{}]", with(r#""name":"again""#)),
        Some(0),
        None,
        Some("name"),
        "duplicate field",
    );
}

#[test]
fn truncated_and_broken_json_is_located() {
    let err = parse_records(&format!("[{R1},{}", &R1[..30])).unwrap_err();
    assert_eq!(err.record_index(), Some(1), "{err}");
    assert!(err.to_string().contains("EOF"), "{err}");
    let err = parse_records(&format!("{{\"data\":[{R1}")).unwrap_err();
    assert!(err.to_string().contains("(at line 1, column"), "{err}");
    let err = parse_records(&format!("{R1}\n{}", &R1[..40])).unwrap_err();
    assert_eq!(err.ndjson_line(), Some(2), "{err}");
    let err = parse_records(&format!("[{R1}] trailing")).unwrap_err();
    assert!(err.to_string().contains("trailing characters"), "{err}");
}

#[test]
fn data_of_the_wrong_type_is_named() {
    let err = parse_records(r#"{"data": 5}"#).unwrap_err();
    assert_eq!(err.field(), Some("data"), "{err}");
    assert_eq!(err.record_index(), None);
}

#[test]
fn other_shapes_are_rejected() {
    for text in ["5", "\"records\"", "null", "true", "x"] {
        let err = parse_records(text).unwrap_err();
        assert!(
            err.to_string().starts_with("records must be a JSON array"),
            "{err}"
        );
    }
    let err = parse_records("[1]").unwrap_err();
    assert_eq!(err.record_index(), Some(0), "{err}");
}

#[test]
fn bytes_must_be_utf8() {
    let err = parse_records_bytes(b"[\xff]").unwrap_err();
    assert!(err.to_string().contains("not UTF-8"), "{err}");
    // Where: the invalid byte's line and column (in bytes), and its offset.
    let mut ndjson = format!("{R1}\n{R2}").into_bytes();
    let at = R1.len() + 1 + 9;
    ndjson[at] = 0xff;
    let err = parse_records_bytes(&ndjson).unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("line 2, column 10 (offset {at})")),
        "{err}"
    );
    assert_eq!(
        parse_records_bytes(format!("[{R1}]").as_bytes())
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn records_round_trip_through_serde() {
    let records = parse_records(&format!("[{R1},{R2}]")).unwrap();
    let text = serde_json::to_string(&records).unwrap();
    assert!(text.contains("\"type\":\"BUILD_IN\""), "{text}");
    assert_eq!(parse_records(&text).unwrap(), records);
}

#[test]
fn a_repeated_id_names_both_records_in_every_shape() {
    let again = R2.replace(r#""id":"2""#, r#""id":"1""#);
    fails(
        &format!("[{R1},{R2},{again}]"),
        Some(2),
        None,
        Some("id"),
        r#"record 2, field `id`: the id "1" is already record 0's"#,
    );
    fails(
        &format!(r#"{{"data":[{R1},{again}]}}"#),
        Some(1),
        None,
        Some("id"),
        "is already record 0's",
    );
    fails(
        &format!("{R1}\n\n{R2}\n{again}\n"),
        None,
        Some(4),
        Some("id"),
        r#"record on line 4, field `id`: the id "1" is already the record on line 1's"#,
    );
    // Ids differ by a byte: no error.
    let other = R2.replace(r#""id":"2""#, r#""id":"1 ""#);
    assert_eq!(parse_records(&format!("[{R1},{other}]")).unwrap().len(), 2);
}

/// Records text long enough to be parsed on every core (more than a few
/// chunks): `n` records with unique ids, some with escapes, tags, `null`s,
/// and the other `ImageResponse` fields.
fn many(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| match i % 4 {
            0 => format!(
                r#"{{"id":"id-{i}","name":"torch-{}","namespace":"ns","type":"DEDICATED","create_at":{i},"update_at":{}}}"#,
                i % 50,
                i * 2
            ),
            1 => format!(
                r#"{{"id":"id-\u00e9-{i}","name":"tf","namespace":"n\"s","tag":"v{i}","type":"BUILD_IN","workspace_id":null,"swr_instance_id":"","create_at":-{i},"update_at":{i}}}"#
            ),
            2 => format!(
                r#"{{"arch":"x86_64","id":"id-{i}","name":"PyTörch","namespace":"ns","type":"DEDICATED","service_type":"TRAIN","swr_instance_id":"inst","workspace_id":"w","create_at":{i},"update_at":{i},"dev_services":["SSH","NOTEBOOK"],"size":1.5e9}}"#
            ),
            _ => format!(
                r#"{{"id":"id-{i}","name":"mx","namespace":"ns","type":"DEDICATED","create_at":{i},"update_at":{i},"extra":{{"nested":[1,{{"x":"]"}}]}}}}"#
            ),
        })
        .collect()
}

/// Each of the three shapes of `records`: (array, page, NDJSON with a
/// blank line after the first record, so that a record's line is its
/// index plus 2 from the second on).
fn shapes(records: &[String]) -> [String; 3] {
    let array = format!("[{}]", records.join(",\n"));
    let page = format!(r#"{{"total": 1, "data": {array}, "current": 1}}"#);
    let mut ndjson = String::new();
    for (i, r) in records.iter().enumerate() {
        ndjson.push_str(r);
        ndjson.push_str(if i == 0 { "\n\n" } else { "\r\n" });
    }
    [array, page, ndjson]
}

/// What serde alone makes of each record: the records a long text must
/// parse to.
fn each_by_serde(records: &[String]) -> Vec<image_groups::ImageVersion> {
    records
        .iter()
        .map(|r| serde_json::from_str(r).unwrap())
        .collect()
}

#[test]
fn a_long_text_gives_the_same_records_in_order_in_every_shape() {
    let records = many(10000);
    let want = each_by_serde(&records);
    for text in shapes(&records) {
        assert!(text.len() > 1 << 20, "long enough for several chunks");
        assert_eq!(parse_records(&text).unwrap(), want);
        assert_eq!(parse_records_bytes(text.as_bytes()).unwrap(), want);
        let from_reader = parse_records_reader(std::io::Cursor::new(&text)).unwrap();
        assert_eq!(from_reader.unwrap(), want);
        // A reader is read from where it stands, and sought back there.
        let mut after_junk = std::io::Cursor::new(format!("junk{text}"));
        after_junk.set_position(4);
        assert_eq!(parse_records_reader(after_junk).unwrap().unwrap(), want);
    }
}

/// Every way in to a long text: the bytes, the text, and a reader.
#[track_caller]
fn long_fails(text: &str, index: Option<usize>, line: Option<usize>, field: &str, says: &str) {
    fails(text, index, line, Some(field), says);
    let from_bytes = parse_records_bytes(text.as_bytes()).unwrap_err();
    assert_eq!(from_bytes, parse_records(text).unwrap_err());
    let from_reader = parse_records_reader(std::io::Cursor::new(text)).unwrap();
    assert_eq!(from_reader.unwrap_err(), from_bytes);
    let mut after_junk = std::io::Cursor::new(format!("junk{text}"));
    after_junk.set_position(4);
    assert_eq!(parse_records_reader(after_junk).unwrap(), Err(from_bytes));
}

#[test]
fn an_error_deep_in_a_long_text_names_the_record_line_and_field() {
    let mut records = many(10000);
    records[4320] = records[4320].replace(r#""create_at":4320"#, r#""create_at":4320.5"#);
    let [array, page, ndjson] = shapes(&records);
    let says = "invalid type: floating point `4320.5`, expected i64";
    long_fails(&array, Some(4320), None, "create_at", says);
    long_fails(&page, Some(4320), None, "create_at", says);
    long_fails(&ndjson, None, Some(4322), "create_at", says);

    let mut records = many(10000);
    records[5001] = records[5001].replace("BUILD_IN", "GOLDEN");
    let [array, _, ndjson] = shapes(&records);
    long_fails(&array, Some(5001), None, "type", "unknown variant `GOLDEN`");
    long_fails(
        &ndjson,
        None,
        Some(5003),
        "type",
        "unknown variant `GOLDEN`",
    );

    let mut records = many(10000);
    records[3000] = records[3000].replace(r#""namespace":"ns","#, "");
    let [array, _, ndjson] = shapes(&records);
    long_fails(&array, Some(3000), None, "namespace", "missing field");
    long_fails(&ndjson, None, Some(3002), "namespace", "missing field");
}

#[test]
fn a_repeated_id_in_a_long_text_names_both_records() {
    let mut records = many(10000);
    // Far apart, so in different chunks, and the second spelled with an
    // escape.
    records[9999] = records[9999].replace(r#""id":"id-9999""#, r#""id":"id-\u0034""#);
    let [array, page, ndjson] = shapes(&records);
    let says = r#"the id "id-4" is already record 4's"#;
    long_fails(&array, Some(9999), None, "id", says);
    long_fails(&page, Some(9999), None, "id", says);
    let says = r#"the id "id-4" is already the record on line 6's"#;
    long_fails(&ndjson, None, Some(10001), "id", says);
}

#[test]
fn a_long_text_that_is_not_utf8_says_where() {
    let [array, _, ndjson] = shapes(&many(10000));
    for text in [array, ndjson] {
        let mut bytes = text.into_bytes();
        let at = bytes.len() - 1000;
        bytes[at] = 0xff;
        let err = parse_records_bytes(&bytes).unwrap_err();
        assert!(err.to_string().contains(&format!("offset {at}")), "{err}");
        let from_reader = parse_records_reader(std::io::Cursor::new(&bytes)).unwrap();
        assert_eq!(from_reader.unwrap_err(), err);
    }
}

/// A record's own text reaches the message only escaped and cut: serde
/// quotes an unknown value or a wrong-typed string whole and raw, and a
/// message is meant to be safe to log (crate docs, "Records").
#[test]
fn an_error_message_escapes_and_cuts_the_record_s_own_text() {
    let record = |field: &str, value: &str| {
        format!(
            r#"[{{"id":"1","name":"n","namespace":"ns","type":"DEDICATED","create_at":1,"update_at":2,{field}:{value}}}]"#
        )
        .replacen(r#""type":"DEDICATED","#, "", usize::from(field == r#""type""#))
    };
    let long = "x".repeat(100_000);
    for text in [
        record(r#""type""#, r#""\u001b[31mRED\u001b[0m\nFAKE LOG LINE""#),
        record(r#""type""#, &format!("\"{long}\"")),
        record(r#""service_type""#, &format!("\"{long}\\n\"")),
        record(r#""create_at""#, &format!("\"{long}\"")).replacen(r#""create_at":1,"#, "", 1),
        record(r#""\u001b[2J\nFAKE""#, "01"),
        record(&format!("\"\\u202e{}\"", "k".repeat(300)), "01"),
    ] {
        let message = parse_records(&text).unwrap_err().to_string();
        assert!(!message.chars().any(char::is_control), "{message}");
        assert!(!message.contains('\u{202e}'), "{message}");
        // A key is cut as a value is.
        assert!(!message.contains(&"k".repeat(65)), "{message}");
        assert!(
            message.len() < 600,
            "{} bytes: {}",
            message.len(),
            &message[..200]
        );
    }
}

/// A broken first NDJSON record is named by its line, as one on any other
/// line is (it used to be read as a broken single record, naming none).
#[test]
fn a_broken_first_ndjson_line_is_named_by_its_line() {
    let good =
        r#"{"id":"2","name":"n","namespace":"ns","type":"DEDICATED","create_at":1,"update_at":2}"#;
    let cases = [
        (
            r#"{"id":"1","name":"n","namespace":"ns","type":"DEDICATED","create_at":01,"update_at":2}"#,
            Some("create_at"),
        ),
        (
            r#"{"id":"1","name":"n","namespace":"ns","type":"DEDICATED","create_at":1,}"#,
            None,
        ),
        (
            r#"{"id":"1","name":"n","namespace":"ns","type":"GPU","create_at":1,"update_at":2}"#,
            Some("type"),
        ),
    ];
    for (first, field) in cases {
        // Short, and long enough to be parsed in chunks.
        for copies in [1, 3000] {
            let rest: String = (0..copies)
                .map(|i| good.replace("\"2\"", &format!("\"{}\"", i + 2)) + "\n")
                .collect();
            let text = format!("{first}\n\n{rest}");
            let err = parse_records(&text).unwrap_err();
            assert_eq!(err.ndjson_line(), Some(1), "{err}");
            if field.is_some() {
                assert_eq!(err.field(), field, "{err}");
            }
            assert!(err.to_string().starts_with("record on line 1"), "{err}");
        }
    }
    // A page written a record per line, broken inside, is still a page:
    // the error names the record in `data`, not a line.
    let page = format!(
        "{{\"data\":[\n{},\n{},\n{}\n]}}",
        good,
        good.replace("\"2\"", "\"3\"").replace("\"ns\"", "\"ns\" x"),
        good.replace("\"2\"", "\"4\"")
    );
    let err = parse_records(&page).unwrap_err();
    assert_eq!(
        (err.ndjson_line(), err.record_index()),
        (None, Some(1)),
        "{err}"
    );
    // A broken single record, or one followed by no other, is still one.
    let alone = cases[0].0;
    for text in [
        alone.to_string(),
        format!("{alone}\n\n"),
        format!("{alone}\n\"x\""),
    ] {
        let err = parse_records(&text).unwrap_err();
        assert_eq!(err.ndjson_line(), None, "{err}");
    }
}
