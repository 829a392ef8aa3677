//! Check a signed URL the way CloudFront would, with the library.
//!
//! cargo run --example verify_url -- "$SIGNED_URL" K2JCJMDEHXQW5F tests/fixtures/keys/rsa2048-public.pem

use cfsign::sign::PublicKey;
use cfsign::verify::{self, KeyRing, Request};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(key_id), Some(public_path)) = (args.next(), args.next(), args.next())
    else {
        eprintln!("usage: verify_url SIGNED_URL KEY_PAIR_ID PUBLIC_KEY.pem");
        std::process::exit(2);
    };
    let mut keys = KeyRing::new();
    keys.insert(key_id, PublicKey::from_bytes(&std::fs::read(public_path)?)?);
    let request = Request {
        url: &url,
        cookie_header: None,
        client_ip: None,
        now: cfsign::time::now(),
    };
    match verify::check(&request, &keys) {
        Ok(accepted) => println!(
            "accepted: expires at {}",
            cfsign::time::format_time(accepted.policy.expires())
        ),
        Err(rejection) => {
            println!("rejected: {rejection}");
            std::process::exit(3);
        }
    }
    Ok(())
}
