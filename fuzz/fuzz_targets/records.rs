//! Records parsing, all three shapes: any bytes give records that survive a
//! JSON round trip, or an error; never a panic.
#![no_main]

use image_groups::parse_records_bytes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match parse_records_bytes(data) {
        Ok(records) => {
            let text = serde_json::to_string(&records).unwrap();
            assert_eq!(image_groups::parse_records(&text).unwrap(), records);
        }
        Err(err) => {
            assert!(!err.to_string().is_empty());
        }
    }
});
