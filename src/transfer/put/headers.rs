//! The headers of an upload: those cfsign computes (`Content-Length`,
//! `x-amz-content-sha256`, `x-amz-checksum-sha256`), the ACL and content
//! type, and the caller's own, checked once so that S3 never mangles or
//! refuses one mid-run.

use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};

use super::{PutOptions, Upload, display_url};
use crate::digest::{self, CHECKSUM_SHA256};
use crate::error::Error;

/// The canned ACL sent unless told otherwise: with an origin access identity
/// the object belongs to the identity, and this gives the bucket owner control.
///
/// ```
/// use cfsign::transfer::put::{DEFAULT_ACL, PutOptions};
///
/// assert_eq!(PutOptions::default().acl.unwrap(), DEFAULT_ACL);
/// ```
pub const DEFAULT_ACL: &str = "bucket-owner-full-control";

/// S3's canned ACLs, the values `x-amz-acl` accepts.
///
/// ```
/// use reqwest::header::HeaderValue;
/// use cfsign::transfer::put::{CANNED_ACLS, PutOptions};
///
/// let acl = "public-read";
/// assert!(CANNED_ACLS.contains(&acl));
/// let options = PutOptions { acl: Some(HeaderValue::from_static(acl)), ..PutOptions::default() };
/// # drop(options);
/// ```
pub const CANNED_ACLS: [&str; 7] = [
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "aws-exec-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
];

pub(crate) const X_AMZ_CONTENT_SHA256: &str = "x-amz-content-sha256";
pub(crate) const X_AMZ_ACL: &str = "x-amz-acl";

/// Headers that cfsign computes itself and a caller may not set.
const RESERVED_HEADERS: [&str; 5] = [
    "content-length",
    "transfer-encoding",
    "host",
    "x-amz-content-sha256",
    "expect",
];

/// Checks a header a caller wants to add: a valid name and value, and not
/// one cfsign computes (`Content-Length`, `x-amz-content-sha256`, …).
/// Surrounding spaces are trimmed from both.
///
/// ```
/// use cfsign::transfer::put::extra_header;
///
/// let (name, value) = extra_header(" Cache-Control ", " no-cache ")?;
/// assert_eq!((name.as_str(), value.to_str().unwrap()), ("cache-control", "no-cache"));
///
/// assert!(extra_header("Content-Length", "5").is_err()); // cfsign computes it
/// assert!(extra_header("x-amz-meta-city", "Zürich").is_err()); // S3 would mangle it
/// assert!(extra_header("bad name", "x").is_err());
/// # Ok::<(), cfsign::Error>(())
/// ```
pub fn extra_header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), Error> {
    let name = name.trim();
    let header_name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| Error::usage(format!("`{name}` is not a valid header name")))?;
    if RESERVED_HEADERS.contains(&header_name.as_str()) {
        return Err(Error::usage(format!(
            "the {name} header is set by cfsign and cannot be given"
        )));
    }
    let value = value.trim();
    if !value
        .bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
    {
        return Err(Error::usage(format!(
            "the value of {name} must be printable ASCII (S3 mangles other bytes): encode it first, e.g. as RFC 2047"
        )));
    }
    let header_value = HeaderValue::from_str(value).expect("printable ASCII is a valid value");
    Ok((header_name, header_value))
}

/// Whether cfsign sends its own `x-amz-checksum-sha256`: S3 takes one
/// checksum per PUT, so a caller's own `x-amz-checksum-*` (or
/// `x-amz-sdk-checksum-algorithm`, which names one) replaces it, as the
/// caller's headers replace the others, and the ETag is the check then.
pub(super) fn sends_checksum(options: &PutOptions) -> bool {
    !options.headers.keys().any(|name| {
        name.as_str().starts_with("x-amz-checksum-") || name == "x-amz-sdk-checksum-algorithm"
    })
}

/// A body's SHA-256 as S3 takes it: in hex for the signature
/// (`x-amz-content-sha256`), and with `checksum` in base64 as well, for S3 to
/// check against the body and echo (`x-amz-checksum-sha256`).
pub(crate) fn insert_digests(headers: &mut HeaderMap, sha256: &[u8; 32], checksum: bool) {
    headers.insert(
        X_AMZ_CONTENT_SHA256,
        HeaderValue::from_str(&hex::encode(sha256)).expect("hex is a valid header value"),
    );
    if checksum {
        headers.insert(
            CHECKSUM_SHA256,
            HeaderValue::from_str(&digest::checksum_sha256(sha256))
                .expect("base64 is a valid header value"),
        );
    }
}

/// The headers of every attempt.
pub(super) fn request_headers(
    upload: &Upload,
    options: &PutOptions,
    len: u64,
    sha256: &[u8; 32],
) -> HeaderMap {
    let mut headers = HeaderMap::new();
    // Explicit, so that even an empty body carries `Content-Length: 0` and
    // nothing is ever sent chunked.
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    insert_digests(&mut headers, sha256, sends_checksum(options));
    if let Some(acl) = &options.acl {
        headers.insert(X_AMZ_ACL, acl.clone());
    }
    let content_type = options
        .content_type
        .clone()
        .unwrap_or_else(|| guess_content_type(upload));
    headers.insert(header::CONTENT_TYPE, content_type);
    for name in options.headers.keys() {
        headers.remove(name);
    }
    for (name, value) in &options.headers {
        headers.append(name.clone(), value.clone());
    }
    headers
}

/// From the object's name, else the file's, else `application/octet-stream`.
fn guess_content_type(upload: &Upload) -> HeaderValue {
    let unsigned = display_url(&upload.url);
    let path = unsigned.split('?').next().unwrap_or_default();
    let object_name = path.rsplit('/').next().unwrap_or_default();
    let guess = mime_guess::from_path(object_name)
        .first()
        .or_else(|| mime_guess::from_path(&upload.name).first())
        .unwrap_or(mime_guess::mime::APPLICATION_OCTET_STREAM);
    HeaderValue::from_str(guess.as_ref()).expect("MIME types are valid header values")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_headers() {
        let (n, v) = extra_header(" Cache-Control", " max-age=60 ").unwrap();
        assert_eq!(
            (n.as_str(), v.to_str().unwrap()),
            ("cache-control", "max-age=60")
        );
        for (name, value) in [
            ("Content-Length", "3"),
            ("x-amz-content-sha256", "a"),
            ("Bad Name", "v"),
            ("X", "é"),
        ] {
            let e = extra_header(name, value).unwrap_err();
            assert_eq!(e.exit_code(), crate::error::exit::USAGE, "{name}");
        }
    }
}
