//! Refusals read from the shapes the documentation gives.

use super::*;

/// A recorded answer: status, headers, body.
type Answer = (u16, HeaderMap, Vec<u8>);

/// An answer from `tests/fixtures/refusals/` (its README names the source
/// of each): status line, headers, blank line, body, lines ending in LF.
/// Read at run time, so that the fixtures stay files a reader can check
/// against the documentation.
fn fixture(name: &str) -> Answer {
    let path = format!(
        "{}/tests/fixtures/refusals/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let split = raw
        .windows(2)
        .position(|w| w == b"\n\n")
        .unwrap_or_else(|| panic!("{path}: no blank line after the headers"));
    let head = std::str::from_utf8(&raw[..split]).unwrap();
    assert!(!head.contains('\r'), "{path}: lines end in LF alone");
    let body = raw[split + 2..].to_vec();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap();
    let mut headers = HeaderMap::new();
    for line in lines {
        let (name, value) = line.split_once(": ").unwrap();
        headers.append(
            reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    // The body is exactly what the server sent: no newline slipped in.
    if let Some(len) = headers.get(reqwest::header::CONTENT_LENGTH) {
        assert_eq!(len.to_str().unwrap(), body.len().to_string(), "{path}");
    }
    (status.parse().unwrap(), headers, body)
}

const MISSING_KEY: &str = "cloudfront-missing-key.http";
const UNKNOWN_KEY: &str = "cloudfront-invalid-key.http";
const MALFORMED_POLICY: &str = "cloudfront-malformed-policy.http";
const INVALID_METHOD_PAGE: &str = "cloudfront-invalid-method.http";
const ORIGIN_DENIED: &str = "s3-access-denied.http";
const SHA256_MISMATCH: &str = "s3-xamz-content-sha256-mismatch.http";
const TOO_LARGE: &str = "s3-entity-too-large.http";

/// CloudFront's AccessDenied (expired or a bad signature: it does not say
/// which) with its `Date` set to `date`.
fn access_denied(date: &str) -> Answer {
    let (status, mut headers, body) = fixture("cloudfront-access-denied.http");
    headers.insert(DATE, date.parse().unwrap());
    (status, headers, body)
}

/// 2030-01-01T00:00:00Z, the fixture URL's expiry.
const EXPIRES: Epoch = 1_893_456_000;
const URL: &str = "https://d111111abcdef8.cloudfront.net/a.txt?Expires=1893456000&Signature=AAAA&Key-Pair-Id=K2JCJMDEHXQW5F";
const UNSIGNED: &str = "https://d111111abcdef8.cloudfront.net/a.txt";

fn classify_answer(answer: &Answer, method: Method, now: Epoch) -> Refusal {
    let (status, headers, body) = answer;
    let asked = Asked {
        method,
        url: URL,
        our_key: Some(test_key()),
        now,
    };
    Refusal::classify(*status, headers, body, &asked)
}

fn classify(name: &str, method: Method, now: Epoch) -> Refusal {
    classify_answer(&fixture(name), method, now)
}

fn line(name: &str, method: Method, now: Epoch) -> String {
    Error::from(classify(name, method, now)).to_string()
}

const ON_TIME: Epoch = EXPIRES - 3600;

/// The fixture key pair; the URLs above carry no signature it made.
fn test_signer() -> crate::sign::Signer {
    let pem = include_bytes!("../../../tests/fixtures/keys/rsa2048-pkcs8.pem");
    let key = crate::sign::PrivateKey::from_bytes(pem, None).unwrap();
    crate::sign::Signer::new(key, "K2JCJMDEHXQW5F".parse().unwrap(), None)
}

fn test_key() -> PublicKey {
    test_signer().key().public_key()
}

#[test]
fn access_denied_on_a_signature_that_checks_names_the_key_group() {
    let signer = test_signer();
    let url = "https://d111111abcdef8.cloudfront.net/a.txt";
    let expires = std::time::UNIX_EPOCH + std::time::Duration::from_secs(EXPIRES as u64);
    let signed = signer.sign_url(url, expires).unwrap();
    let (status, headers, body) = access_denied("Mon, 31 Dec 2029 23:00:00 GMT");
    let asked = |url, our_key| Asked {
        method: Method::GET,
        url,
        our_key,
        now: ON_TIME,
    };
    let r = Refusal::classify(
        status,
        &headers,
        &body,
        &asked(signed.as_str(), Some(test_key())),
    );
    assert_eq!(
        Error::from(r).to_string(),
        "403 AccessDenied: Access denied (refused by CloudFront: the signature checks with the public half of the key it was made with, so the public key CloudFront holds as `K2JCJMDEHXQW5F` is another one, or is not in a key group the cache behaviour trusts: upload this key's public half and add it to a trusted key group)"
    );
    // Not our signature (or no key to check it with): the verify hint.
    let r = Refusal::classify(status, &headers, &body, &asked(URL, Some(test_key())));
    assert!(r.fix.unwrap().starts_with("check the key pair ID and key"));
    let r = Refusal::classify(status, &headers, &body, &asked(signed.as_str(), None));
    assert_eq!(
        r.fix.as_deref(),
        Some("find out why with `cfsign verify URL`")
    );
}

#[test]
fn cloudfronts_signature_refusals_name_the_key_step() {
    let (status, headers, body) = fixture(MISSING_KEY);
    let asked = |url| Asked {
        method: Method::GET,
        url,
        our_key: None,
        now: ON_TIME,
    };
    let r = Refusal::classify(status, &headers, &body, &asked(UNSIGNED));
    assert_eq!((r.side, r.code.as_str()), (Side::CloudFront, "MissingKey"));
    assert_eq!(
        Error::from(r).to_string(),
        "403 MissingKey: Missing Key-Pair-Id query parameter or cookie value (refused by CloudFront: the request was not signed, and the cache behaviour restricts viewer access: sign it with a key from a key group the behaviour trusts)"
    );
    // Sent signed: the query string was lost on the way.
    let r = Refusal::classify(status, &headers, &body, &asked(URL));
    assert!(
        r.fix
            .as_deref()
            .unwrap()
            .starts_with("the URL was sent signed, but CloudFront saw no Key-Pair-Id"),
        "{r:?}"
    );
    assert_eq!(
        line(UNKNOWN_KEY, Method::PUT, ON_TIME),
        "403 InvalidKey: Unknown Key (refused by CloudFront: it knows no public key `K2JCJMDEHXQW5F` in a key group the cache behaviour trusts: upload the public key to CloudFront and add it to a trusted key group)"
    );
}

#[test]
fn access_denied_compares_the_clocks() {
    // CloudFront's clock 5 minutes ahead: expired there, not here.
    let ahead = access_denied("Tue, 01 Jan 2030 00:04:00 GMT");
    let e = Error::from(classify_answer(&ahead, Method::GET, EXPIRES - 60)).to_string();
    assert!(
        e.starts_with("403 AccessDenied: Access denied (refused by CloudFront: its clock is 5m ahead of this machine's (2030-01-01T00:04:00Z), and by its clock the signature expired at 2030-01-01T00:00:00Z (4m ago): set this machine's clock right (NTP))"),
        "{e}"
    );
    // Behind: a URL that is expired here is expired, whatever its clock.
    let e = Error::from(classify_answer(&ahead, Method::GET, EXPIRES + 3600)).to_string();
    assert!(e.contains("refused by CloudFront: the signature expired at 2030-01-01T00:00:00Z (1h ago): sign a new URL"), "{e}");
    // A few seconds apart, on time on both: the signature itself.
    let agreed = access_denied("Mon, 31 Dec 2029 23:00:03 GMT");
    let e = Error::from(classify_answer(&agreed, Method::PUT, ON_TIME)).to_string();
    assert!(e.ends_with("(refused by CloudFront: check the key pair ID and key with `cfsign verify URL --public-key ID=PUBLIC.pem`)"), "{e}");
    // No Date at all: the same.
    let (status, mut headers, body) = agreed;
    headers.remove(DATE);
    let asked = Asked {
        method: Method::GET,
        url: URL,
        our_key: None,
        now: ON_TIME,
    };
    let r = Refusal::classify(status, &headers, &body, &asked);
    assert_eq!(
        r.fix.as_deref(),
        Some("find out why with `cfsign verify URL`")
    );
}

#[test]
fn cloudfronts_page_names_the_allowed_methods() {
    let r = classify(INVALID_METHOD_PAGE, Method::PUT, ON_TIME);
    assert_eq!(
        (r.side, r.code.as_str()),
        (Side::CloudFront, "InvalidMethod")
    );
    assert_eq!(
        Error::from(r).to_string(),
        "403 InvalidMethod: This distribution is not configured to allow the HTTP request method that was used for this request. (refused by CloudFront: the cache behaviour does not allow PUT: allow GET, HEAD, OPTIONS, PUT, POST, PATCH, DELETE in its allowed methods)"
    );
}

#[test]
fn the_origins_refusals_name_the_bucket_policy() {
    let r = classify(ORIGIN_DENIED, Method::GET, ON_TIME);
    assert_eq!(
        (r.side, r.code.as_str(), r.message.as_str()),
        (Side::Origin, "AccessDenied", "Access Denied")
    );
    let e = Error::from(r).to_string();
    assert!(e.starts_with("403 AccessDenied: Access Denied (refused by the origin (S3): the bucket policy does not grant the distribution's origin access control (or identity) s3:GetObject, or another account owns the object"), "{e}");
    let e = line(ORIGIN_DENIED, Method::PUT, ON_TIME);
    assert!(e.contains("(S3): the bucket policy does not grant the distribution's origin access control (or identity) s3:PutObject: grant it (and send x-amz-acl: bucket-owner-full-control"), "{e}");
    // The ID headers alone, or the body alone, are S3's.
    let (status, mut headers, body) = fixture(ORIGIN_DENIED);
    headers.remove(SERVER);
    let asked = Asked {
        method: Method::GET,
        url: URL,
        our_key: Some(test_key()),
        now: ON_TIME,
    };
    assert_eq!(
        Refusal::classify(status, &headers, &body, &asked).side,
        Side::Origin
    );
    let headers = HeaderMap::new();
    assert_eq!(
        Refusal::classify(status, &headers, &body, &asked).side,
        Side::Origin
    );
}

#[test]
fn the_origins_upload_refusals() {
    let r = classify(SHA256_MISMATCH, Method::PUT, ON_TIME);
    assert!(r.is_content_changed(false));
    assert_eq!(r.side, Side::Origin);
    assert!(
        r.fix
            .as_deref()
            .unwrap()
            .starts_with("the file changed while it was being uploaded")
    );
    let e = line(TOO_LARGE, Method::PUT, ON_TIME);
    assert_eq!(
        e,
        "400 EntityTooLarge: Your proposed upload exceeds the maximum allowed object size. (refused by the origin (S3): it takes at most 5368709120 bytes in one PUT: upload a smaller file)"
    );
}

#[test]
fn the_origins_other_refusals_do_not_blame_the_key() {
    // S3's 403 for an archived object: CloudFront accepted the signature
    // to ask the origin, so the key is not what to check.
    let body = b"<Error><Code>InvalidObjectState</Code><Message>The operation is not valid for the object's storage class</Message><RequestId>4442587FB7D0A2F9</RequestId><HostId>h</HostId></Error>";
    let mut headers = HeaderMap::new();
    headers.insert(SERVER, "AmazonS3".parse().unwrap());
    let asked = Asked {
        method: Method::GET,
        url: URL,
        our_key: Some(test_key()),
        now: ON_TIME,
    };
    let r = Refusal::classify(403, &headers, body, &asked);
    assert_eq!(
        Error::from(r).to_string(),
        "403 InvalidObjectState: The operation is not valid for the object's storage class (refused by the origin (S3))"
    );
}

#[test]
fn bare_answers_keep_their_old_words() {
    let asked = Asked {
        method: Method::GET,
        url: "https://h/a",
        our_key: None,
        now: ON_TIME,
    };
    let bare =
        |status| Error::from(Refusal::classify(status, &HeaderMap::new(), b"", &asked)).to_string();
    assert_eq!(bare(404), "404 NotFound (no object at that URL)");
    assert_eq!(
        bare(403),
        "403 Forbidden (find out why with `cfsign verify URL`)"
    );
    assert_eq!(bare(410), "410 Gone");
    // S3's words without its IDs or headers: still S3's.
    let s3 = b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>";
    assert_eq!(
        Refusal::classify(403, &HeaderMap::new(), s3, &asked).side,
        Side::Origin
    );
    // CloudFront's body without its headers: still CloudFront's.
    let cf = br#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access denied</Message></Error>"#;
    let r = Refusal::classify(403, &HeaderMap::new(), cf, &asked);
    assert_eq!(
        Error::from(r).to_string(),
        "403 AccessDenied: Access denied (refused by CloudFront: find out why with `cfsign verify URL`)"
    );
    // Text from the server is the server's: escaped by the one who prints.
    let s3 = b"<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>";
    let r = Refusal::classify(404, &HeaderMap::new(), s3, &asked);
    assert_eq!(
        (r.side, Error::from(r).to_string().as_str()),
        (
            Side::Origin,
            "404 NoSuchKey: The specified key does not exist. (no object at that URL)"
        )
    );
}

/// A URL for `a.txt` signed with the fixture key, valid from `starts` (if
/// given) to `expires`.
fn signed_url(expires: Epoch, starts: Option<Epoch>) -> String {
    let resource = "https://d111111abcdef8.cloudfront.net/a.txt";
    let policy = crate::sign::CustomPolicy::new(resource.parse().unwrap(), expires, starts, None);
    let signed = test_signer().sign(&crate::sign::Policy::Custom(policy.unwrap()));
    signed.apply_to(resource).unwrap().as_str().to_string()
}

/// Acceptance: one row per refusal the documentation gives, read from its
/// recorded answer: the one line `get`/`put` print, naming who refused and
/// the setup step that fixes it, at `ON_TIME` by this machine's clock. An
/// expected line ending in `…` is a prefix (the malformed policy's line ends
/// in the JSON parser's words).
#[test]
fn every_documented_refusal_names_who_and_the_fix() {
    let cloudfront_ahead = access_denied("Mon, 31 Dec 2029 23:04:00 GMT");
    let malformed = "https://d111111abcdef8.cloudfront.net/a.txt?Policy=bm90IGpzb24_&Signature=AAAA&Key-Pair-Id=K2JCJMDEHXQW5F";
    let rows: &[(&str, Answer, Method, String, &str)] = &[
        (
            "unsigned",
            fixture(MISSING_KEY),
            Method::GET,
            UNSIGNED.into(),
            "403 MissingKey: Missing Key-Pair-Id query parameter or cookie value (refused by CloudFront: the request was not signed, and the cache behaviour restricts viewer access: sign it with a key from a key group the behaviour trusts)",
        ),
        (
            "key not in a trusted key group",
            fixture(UNKNOWN_KEY),
            Method::PUT,
            URL.into(),
            "403 InvalidKey: Unknown Key (refused by CloudFront: it knows no public key `K2JCJMDEHXQW5F` in a key group the cache behaviour trusts: upload the public key to CloudFront and add it to a trusted key group)",
        ),
        (
            "expired",
            access_denied("Mon, 31 Dec 2029 23:00:00 GMT"),
            Method::GET,
            signed_url(ON_TIME - 3600, None),
            "403 AccessDenied: Access denied (refused by CloudFront: the signature expired at 2029-12-31T22:00:00Z (1h ago): sign a new URL)",
        ),
        (
            "not yet valid",
            access_denied("Mon, 31 Dec 2029 23:00:00 GMT"),
            Method::GET,
            signed_url(EXPIRES, Some(ON_TIME + 600)),
            "403 AccessDenied: Access denied (refused by CloudFront: the signature is not valid before 2029-12-31T23:10:00Z (in 10m): wait until then, or sign it with an earlier start (--date-greater-than))",
        ),
        (
            "clock skew",
            cloudfront_ahead,
            Method::GET,
            signed_url(ON_TIME + 60, None),
            "403 AccessDenied: Access denied (refused by CloudFront: its clock is 4m ahead of this machine's (2029-12-31T23:04:00Z), and by its clock the signature expired at 2029-12-31T23:01:00Z (3m ago): set this machine's clock right (NTP))",
        ),
        (
            "signature checks with our key",
            access_denied("Mon, 31 Dec 2029 23:00:00 GMT"),
            Method::PUT,
            signed_url(EXPIRES, None),
            "403 AccessDenied: Access denied (refused by CloudFront: the signature checks with the public half of the key it was made with, so the public key CloudFront holds as `K2JCJMDEHXQW5F` is another one, or is not in a key group the cache behaviour trusts: upload this key's public half and add it to a trusted key group)",
        ),
        (
            "malformed policy",
            fixture(MALFORMED_POLICY),
            Method::GET,
            malformed.into(),
            "403 MalformedPolicy: Malformed Policy (refused by CloudFront: the policy is not valid JSON…",
        ),
        (
            "method not allowed",
            fixture(INVALID_METHOD_PAGE),
            Method::PUT,
            URL.into(),
            "403 InvalidMethod: This distribution is not configured to allow the HTTP request method that was used for this request. (refused by CloudFront: the cache behaviour does not allow PUT: allow GET, HEAD, OPTIONS, PUT, POST, PATCH, DELETE in its allowed methods)",
        ),
        (
            "origin denies GET",
            fixture(ORIGIN_DENIED),
            Method::GET,
            URL.into(),
            "403 AccessDenied: Access Denied (refused by the origin (S3): the bucket policy does not grant the distribution's origin access control (or identity) s3:GetObject, or another account owns the object: grant it, or upload the object again with x-amz-acl: bucket-owner-full-control)",
        ),
        (
            "origin denies PUT",
            fixture(ORIGIN_DENIED),
            Method::PUT,
            URL.into(),
            "403 AccessDenied: Access Denied (refused by the origin (S3): the bucket policy does not grant the distribution's origin access control (or identity) s3:PutObject: grant it (and send x-amz-acl: bucket-owner-full-control if the policy requires it))",
        ),
        (
            "SHA-256 mismatch",
            fixture(SHA256_MISMATCH),
            Method::PUT,
            URL.into(),
            "400 XAmzContentSHA256Mismatch: The provided 'x-amz-content-sha256' header does not match what was computed. (refused by the origin (S3): the file changed while it was being uploaded: upload it again once it is complete)",
        ),
        (
            "over 5 GiB",
            fixture(TOO_LARGE),
            Method::PUT,
            URL.into(),
            "400 EntityTooLarge: Your proposed upload exceeds the maximum allowed object size. (refused by the origin (S3): it takes at most 5368709120 bytes in one PUT: upload a smaller file)",
        ),
    ];
    let mut failed = Vec::new();
    for (what, (status, headers, body), method, url, expected) in rows {
        let asked = Asked {
            method: method.clone(),
            url,
            our_key: Some(test_key()),
            now: ON_TIME,
        };
        let got = Error::from(Refusal::classify(*status, headers, body, &asked)).to_string();
        let matches = match expected.strip_suffix('…') {
            Some(prefix) => got.starts_with(prefix),
            None => got == *expected,
        };
        if !matches {
            failed.push(format!("{what}:\n  got      {got}\n  expected {expected}"));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
