//! The verifier's policy parsing and the whole check on hostile requests:
//! never panics, and a policy it accepts has exactly one statement.
#![no_main]

use cfsign::sign::CustomPolicy;
use cfsign::verify::{self, KeyRing, Request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(policy) = CustomPolicy::parse(text) {
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(value["Statement"].as_array().map(Vec::len), Some(1));
        assert_eq!(policy.json(), text);
    }
    // The same bytes as a URL, and split in two as URL + cookie header.
    let mid = (text.len() / 2..=text.len()).find(|&i| text.is_char_boundary(i)).unwrap_or(0);
    let (a, b) = text.split_at(mid);
    let ring = KeyRing::new();
    for (url, cookie) in [(text, None), (a, Some(b))] {
        let request = Request { url, cookie_header: cookie, client_ip: None, now: 1_800_000_000 };
        let _ = verify::check(&request, &ring);
    }
});
