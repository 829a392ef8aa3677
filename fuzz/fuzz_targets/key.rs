//! Key parsing (PEM and DER, private and public): never panics, whatever the
//! bytes; errors never contain the input.
#![no_main]

use cfsign::sign::{Passphrase, PrivateKey, PublicKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let passphrase = Passphrase::new("fuzz");
    if let Err(e) = PrivateKey::from_bytes(data, Some(&passphrase)) {
        let message = e.to_string();
        if data.len() >= 16 {
            if let Ok(text) = std::str::from_utf8(data) {
                assert!(!message.contains(text), "error echoes the input");
            }
        }
    }
    let _ = PublicKey::from_bytes(data);
});
