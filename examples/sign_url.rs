//! Sign one URL with a canned policy using the library, without the CLI:
//! the key is loaded once, then each URL is one call.
//!
//! cargo run --example sign_url -- tests/fixtures/keys/rsa2048-pkcs8.pem K2JCJMDEHXQW5F https://d111111abcdef8.cloudfront.net/image.jpg

use std::time::Duration;

use cfsign::sign::{PrivateKey, Signer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(key_path), Some(key_id), Some(url)) = (args.next(), args.next(), args.next()) else {
        eprintln!("usage: sign_url KEY.pem KEY_PAIR_ID URL");
        std::process::exit(2);
    };
    let key = PrivateKey::from_bytes(&std::fs::read(key_path)?, None)?;
    let signer = Signer::new(key, key_id.parse()?, None);
    let signed = signer.sign_url(&url, Duration::from_secs(3600))?;
    println!("{signed}");
    Ok(())
}
