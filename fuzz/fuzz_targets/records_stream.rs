//! Records text straight to a page (the streaming path, whose parser reads
//! a record by the layout of the one before): any bytes give what parsing
//! them and grouping the records gives, the same page or the same error.
#![no_main]

use image_groups::{group_images, group_records_text, parse_records_bytes, GroupQuery};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let query = GroupQuery::default();
    let exact = parse_records_bytes(data).map(|records| group_images(&records, &query));
    assert_eq!(group_records_text(data, &query), exact);
});
