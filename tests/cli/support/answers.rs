//! The error answers the tests expect, written once: CloudFront's as
//! recorded in `tests/fixtures/refusals/` (its README names their sources),
//! which `cfsign serve` must send byte for byte, and S3's `<Error>` in the
//! shape `cfsign serve` writes it.

use super::fixtures;
use super::serve::{Response, parse_response};

/// A recorded answer from `tests/fixtures/refusals/`. The files end their
/// head lines in LF; the wire's CRLF is put back before parsing.
pub fn recorded(name: &str) -> Response {
    let path = fixtures().join("refusals").join(name);
    let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let split = raw
        .windows(2)
        .position(|w| w == b"\n\n")
        .unwrap_or_else(|| panic!("{}: no blank line after the head", path.display()));
    let head = std::str::from_utf8(&raw[..split]).unwrap();
    let mut wire = format!("{}\r\n\r\n", head.replace('\n', "\r\n")).into_bytes();
    wire.extend_from_slice(&raw[split + 2..]);
    parse_response(&wire)
}

/// CloudFront's recorded answer to a refused signature with `code`.
pub fn cloudfront_refusal(code: &str) -> Response {
    recorded(match code {
        "MissingKey" => "cloudfront-missing-key.http",
        "InvalidKey" => "cloudfront-invalid-key.http",
        "MalformedPolicy" => "cloudfront-malformed-policy.http",
        "AccessDenied" => "cloudfront-access-denied.http",
        other => panic!("not a CloudFront code: {other}"),
    })
}

/// CloudFront's body for a refused signature with `code`, as recorded.
pub fn cloudfront_xml(code: &str) -> String {
    cloudfront_refusal(code).text()
}

/// S3's `<Error>` as `cfsign serve` writes it: the declaration (without the
/// line break S3 puts after it), `<Code>`, `<Message>`, then `fields` in
/// order.
pub fn s3_xml(code: &str, message: &str, fields: &[(&str, &str)]) -> String {
    let mut out = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message>"#
    );
    for (name, value) in fields {
        out.push_str(&format!("<{name}>{value}</{name}>"));
    }
    out + "</Error>"
}
