//! URL normalisation: never panics; the wire form is ASCII, carries no
//! refused characters, is stable (normalising it again changes nothing) and
//! splits back after signing parameters are appended.
#![no_main]

use cfsign::sign::url;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = url::split_signed(text);
    if let Ok(wire) = url::to_wire(text) {
        assert!(wire.is_ascii());
        assert!(!wire.contains(['"', '\\', '#', ' ']));
        assert_eq!(url::to_wire(&wire).as_deref(), Ok(wire.as_str()));
        let signed = url::append_query(&wire, "Expires=1&Signature=S&Key-Pair-Id=K");
        assert_eq!(url::split_signed(&signed).0, wire);
    }
});
