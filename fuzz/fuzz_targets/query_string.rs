//! Query-string parsing: any bytes give a valid query that round-trips through
//! `Display`, or a ModelArts error with a short, escaped message.
#![no_main]

use image_groups::GroupQuery;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match GroupQuery::from_query_string(&text) {
        Ok(query) => {
            let canonical = query.to_string();
            assert_eq!(
                canonical.parse::<GroupQuery>().as_ref(),
                Ok(&query),
                "{canonical}"
            );
        }
        Err(err) => {
            assert!(["ModelArts.0104", "ModelArts.6303"].contains(&err.error_code()));
            assert_eq!(err.http_status(), 400);
            let msg = err.to_string();
            // 64 value characters escaped to at most 6 bytes each, plus the rule.
            assert!(msg.len() <= 1024, "{} bytes", msg.len());
            assert!(!msg.chars().any(char::is_control), "{msg:?}");
            let body = serde_json::to_value(&err).unwrap();
            assert_eq!(body["error_msg"], msg.as_str());
        }
    }
});
