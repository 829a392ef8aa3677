//! `serve`'s request path → object key mapping: never panics, and every key
//! it accepts is made of plain names that cannot leave the root.
#![no_main]

use std::path::Component;

use cfsign::serve::ObjectKey;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(path) = std::str::from_utf8(data) else { return };
    let Ok(key) = ObjectKey::from_request_path(path) else { return };
    for component in key.relative_path().components() {
        assert!(matches!(component, Component::Normal(_)), "{path:?} -> {component:?}");
    }
    for segment in key.parents().iter().map(String::as_str).chain(key.file_name()) {
        assert!(!segment.is_empty() && segment != "." && segment != "..");
        assert!(!segment.contains(['/', '\\', '\0']));
        assert!(!segment.starts_with(".cfsign"));
    }
});
