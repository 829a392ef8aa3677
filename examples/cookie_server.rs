//! A small web service that hands out CloudFront signed cookies, with the
//! standard library's `TcpListener` only: `GET /cookies/PATH/` answers with
//! the `Set-Cookie` lines that let a browser fetch everything under
//! `https://DOMAIN/PATH/` for an hour. Where a real service would check a
//! login first, this one signs for anyone who asks: run it on loopback.
//!
//! The key is loaded once; each request signs one custom policy (a few
//! hundred microseconds with RSA-2048). One request per connection.
//!
//! Run it (ADDR defaults to 127.0.0.1:8080; port 0 picks a free one):
//!
//! ```text
//! cargo run --example cookie_server -- tests/fixtures/keys/rsa2048-pkcs8.pem K2JCJMDEHXQW5F d111111abcdef8.cloudfront.net 127.0.0.1:8080
//! ```
//!
//! and try it from another terminal:
//!
//! ```text
//! curl -i http://127.0.0.1:8080/cookies/members/
//! ```
//!
//! The answer is `200 OK` with `Set-Cookie: CloudFront-Policy=…`,
//! `CloudFront-Signature=…` and `CloudFront-Key-Pair-Id=…`, each with
//! `Domain=d111111abcdef8.cloudfront.net; Path=/members/; Expires=…; Secure;
//! HttpOnly; SameSite=Lax`. A path outside `/cookies/` is `404`; a path
//! with other characters than letters, digits and `/_.-` is `400`.
//! `cfsign verify URL --cookie "NAME=VALUE; …" --public-key ID=PUBLIC.pem`
//! checks the cookies as CloudFront would.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use cfsign::sign::{CookieAttributes, CustomPolicy, PrivateKey, SameSite, Signer};

/// How long the cookies are accepted.
const LIFETIME: Duration = Duration::from_secs(3600);
/// The longest request line or header line read; a longer one is refused.
const MAX_LINE: usize = 8192;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(key_path), Some(key_id), Some(domain)) = (args.next(), args.next(), args.next())
    else {
        eprintln!("usage: cookie_server KEY.pem KEY_PAIR_ID DOMAIN [ADDR]");
        std::process::exit(2);
    };
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8080".to_string());
    let key = PrivateKey::from_bytes(&std::fs::read(key_path)?, None)?;
    let signer = Signer::new(key, key_id.parse()?, None);
    let listener = TcpListener::bind(&addr)?;
    println!("listening on http://{}", listener.local_addr()?);
    for stream in listener.incoming() {
        let mut stream = stream?;
        // A client that stalls must not hold the (single-threaded) server.
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        let response = match request_path(&stream) {
            Some(path) => respond(&signer, &domain, &path),
            None => status_only("400 Bad Request"),
        };
        // The client may be gone already; the next one is served anyway.
        let _ = stream.write_all(response.as_bytes());
    }
    Ok(())
}

/// The path of a `GET` request, once its header has been read.
fn request_path(stream: &TcpStream) -> Option<String> {
    let mut reader = BufReader::new(stream.take(64 * 1024));
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (Some("GET"), Some(target), Some(_version)) = (parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let path = target.split('?').next().unwrap_or(target).to_string();
    // Read the rest of the header, up to its blank line.
    loop {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 || line.len() > MAX_LINE {
            return None;
        }
        if line == "\r\n" || line == "\n" {
            return Some(path);
        }
    }
}

/// The answer to `GET path`: signed cookies for `/cookies/PREFIX/`.
fn respond(signer: &Signer, domain: &str, path: &str) -> String {
    let Some(prefix) = path.strip_prefix("/cookies") else {
        return status_only("404 Not Found");
    };
    // What goes into the policy and the Path attribute: a plain path only,
    // so that nothing from the request can add an attribute (`;`) or a
    // wildcard of its own.
    let plain = |c: char| c.is_ascii_alphanumeric() || "/_.-".contains(c);
    if !prefix.starts_with('/') || !prefix.chars().all(plain) {
        return status_only("400 Bad Request");
    }
    let policy = CustomPolicy::builder(format!("https://{domain}{prefix}*"))
        .expires(LIFETIME)
        .build();
    let cookies = match policy
        .map_err(Into::into)
        .and_then(|p| signer.sign_cookies(&p.into()))
    {
        Ok(cookies) => cookies,
        Err(e) => {
            eprintln!("cannot sign for {prefix}: {e}");
            return status_only("500 Internal Server Error");
        }
    };
    // The prefix holds only letters, digits and `/_.-` (checked above).
    let attributes = match CookieAttributes::default()
        .with_domain(domain)
        .and_then(|a| a.with_path(prefix))
    {
        Ok(attributes) => attributes.with_same_site(SameSite::Lax),
        Err(e) => {
            eprintln!("cannot set cookies for {prefix}: {e}");
            return status_only("500 Internal Server Error");
        }
    };
    let mut response = String::from("HTTP/1.1 200 OK\r\n");
    for value in cookies.set_cookie_values(&attributes) {
        response.push_str(&format!("Set-Cookie: {value}\r\n"));
    }
    let body = format!("signed cookies for https://{domain}{prefix}*\n");
    response.push_str(&format!(
        "Content-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    response
}

fn status_only(status: &str) -> String {
    format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
}
