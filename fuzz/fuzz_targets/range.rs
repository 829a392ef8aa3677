//! Byte ranges on both sides: the server's `Range`/`If-Range` parsing and the
//! client's strict `Content-Range` check. Never panics; a satisfiable range
//! lies inside the object, and an accepted 206 starts at the asked offset.
#![no_main]

use cfsign::serve::{RangeRequest, if_range_matches, parse_range};
use cfsign::transfer::get::{ContentRange, check_partial};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, u64, u64)| {
    let (header, total, offset) = input;
    let total = total % (1 << 40);
    if let RangeRequest::Part(r) = parse_range(header, total) {
        assert!(r.start <= r.end && r.end < total);
        assert!(r.length() >= 1 && r.length() <= total);
        let shown = r.content_range(total);
        assert!(shown.starts_with("bytes ") && shown.ends_with(&format!("/{total}")));
        // What the server writes, the client reads back.
        assert_eq!(check_partial(Some(&shown), r.start, Some(total)), Ok(total));
    }
    let _ = if_range_matches(header, "d41d8cd98f00b204e9800998ecf8427e", 1_800_000_000);
    if let Ok(ContentRange::Bytes { first, last, total: Some(t) }) = header.parse::<ContentRange>() {
        assert!(first <= last && last < t, "{header:?}");
    }
    if let Ok(t) = check_partial(Some(header), offset, None) {
        let parsed = header.parse::<ContentRange>();
        assert!(
            matches!(parsed, Ok(ContentRange::Bytes { first, total: Some(total), .. }) if first == offset && total == t),
            "{header:?}"
        );
    }
});
