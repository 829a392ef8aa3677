//! Signed cookies for everything under a path, as a web app would set them
//! after logging a user in.
//!
//! cargo run --example signed_cookies -- tests/fixtures/keys/rsa2048-pkcs8.pem K2JCJMDEHXQW5F d111111abcdef8.cloudfront.net

use std::time::Duration;

use cfsign::sign::{CookieAttributes, CustomPolicy, PrivateKey, SameSite, Signer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(key_path), Some(key_id), Some(domain)) = (args.next(), args.next(), args.next())
    else {
        eprintln!("usage: signed_cookies KEY.pem KEY_PAIR_ID DOMAIN");
        std::process::exit(2);
    };
    let key = PrivateKey::from_bytes(&std::fs::read(key_path)?, None)?;
    let signer = Signer::new(key, key_id.parse()?, None);
    // One custom policy with a wildcard covers every object under /members/.
    let policy = CustomPolicy::builder(format!("https://{domain}/members/*"))
        .expires(Duration::from_secs(12 * 3600))
        .build()?;
    let cookies = signer.sign_cookies(&policy.into())?;
    let attributes = CookieAttributes::default()
        .with_domain(domain)?
        .with_path("/members/")?
        .with_same_site(SameSite::Lax);
    for value in cookies.set_cookie_values(&attributes) {
        println!("Set-Cookie: {value}");
    }
    Ok(())
}
