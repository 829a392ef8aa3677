//! `Range` and `If-Range` parsing on the server side: never panics, and a
//! satisfiable range always lies inside the object.
#![no_main]

use cfsign::serve::{RangeRequest, if_range_matches, parse_range};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, u64)| {
    let (header, total) = input;
    let total = total % (1 << 40);
    if let RangeRequest::Part(r) = parse_range(header, total) {
        assert!(r.start <= r.end && r.end < total);
        assert!(r.length() >= 1);
        assert!(r.length() <= total);
        let shown = r.content_range(total);
        assert!(shown.starts_with("bytes ") && shown.ends_with(&format!("/{total}")));
    }
    let _ = if_range_matches(header, "d41d8cd98f00b204e9800998ecf8427e", 1_800_000_000);
});
