//! Uploads through CloudFront to S3: one object per PUT (CloudFront cannot
//! carry S3's multipart POSTs, so 5 GiB is the ceiling).
//!
//! Each object takes two passes over its file. The first only computes the
//! SHA-256 that `x-amz-content-sha256` must carry, so it runs as fast as the
//! disk and the SHA extensions allow. The second streams the file with an
//! exact `Content-Length` (never chunked). The MD5 that checks S3's ETag is
//! computed beside both, on CPU time nothing else wants (`background_md5.rs`).
//! Memory stays flat: a few chunks in flight, whatever the size. Every
//! attempt reopens the file and, when we hold the key, signs the URL afresh.
//!
//! S3 recomputes the SHA-256 and answers 400 `XAmzContentSHA256Mismatch` when
//! the bytes differ from the first pass: that is a file that changed while it
//! was being uploaded, and it is reported as such, never as a success.
//!
//! The rooms: `plan.rs` (what to upload), `headers.rs`, `hash.rs` (the first
//! pass), `body.rs` (the second, and its stall watch), `etag.rs` (the check
//! of the answer), `attempt.rs` (one attempt and what its answer means);
//! here, the options, the result and the loop of attempts.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};

use self::attempt::Hashed;
use super::progress::Progress;
use super::retry::{Outcome, RetryPolicy};
use super::signing::UrlSigner;
use crate::digest::MAX_OBJECT_SIZE;
use crate::error::Error;
use crate::sign::url;

mod attempt;
mod body;
mod etag;
mod hash;
mod headers;
mod plan;

pub use headers::{CANNED_ACLS, DEFAULT_ACL, extra_header};
pub use plan::{FileId, Plan, PlanOptions, SkipReason, Skipped, Source, Upload, plan};

/// What to send with every object besides its bytes.
#[derive(Clone, Debug)]
pub struct PutOptions {
    /// `x-amz-acl`; `None` sends none.
    pub acl: Option<HeaderValue>,
    /// `Content-Type`; `None` guesses it from the object's name.
    pub content_type: Option<HeaderValue>,
    /// Further headers (`Cache-Control`, `x-amz-meta-*`, any other that
    /// [`extra_header`] accepts). They replace the ones above of the same name.
    pub headers: HeaderMap,
    /// How many attempts, and the pauses between them.
    pub retry: RetryPolicy,
    /// Longest time without upload progress, or waiting for the answer after
    /// the last byte, before the attempt is given up (and retried).
    pub stall_timeout: Duration,
}

impl Default for PutOptions {
    fn default() -> Self {
        PutOptions {
            acl: Some(HeaderValue::from_static(DEFAULT_ACL)),
            content_type: None,
            headers: HeaderMap::new(),
            retry: RetryPolicy::default(),
            stall_timeout: Duration::from_secs(60),
        }
    }
}

/// What was uploaded.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Uploaded {
    /// The file as the user named it (`-` for stdin).
    pub source: String,
    /// The object's URL, without signing parameters.
    pub url: String,
    /// The object's size.
    pub bytes: u64,
    /// Lowercase hex, as sent in `x-amz-content-sha256`.
    pub sha256: String,
    /// Lowercase hex MD5 of the file, as S3's ETag should be.
    pub md5: String,
    /// The ETag the server answered with, as given (quotes included).
    pub etag: Option<String>,
    /// Whether the ETag was an MD5 and was checked against `md5`.
    pub etag_checked: bool,
    /// The `Content-Type` sent.
    pub content_type: String,
    /// The attempts it took, the successful one included.
    pub attempts: u32,
}

/// Uploads one file to one URL, retrying as [`RetryPolicy`] says.
/// `progress` counts the first pass, then the bytes sent (afresh for every
/// attempt), and is finished when the upload ends.
pub async fn put(
    client: &reqwest::Client,
    signer: &UrlSigner,
    upload: &Upload,
    options: &PutOptions,
    progress: &Arc<dyn Progress>,
) -> Result<Uploaded, Error> {
    let result = hash_and_send(client, signer, upload, options, progress).await;
    progress.finish();
    result
}

/// The first pass, then the attempts.
async fn hash_and_send(
    client: &reqwest::Client,
    signer: &UrlSigner,
    upload: &Upload,
    options: &PutOptions,
    progress: &Arc<dyn Progress>,
) -> Result<Uploaded, Error> {
    let object = Hashed::first_pass(upload, options, progress).await?;
    let outcome = options
        .retry
        .run(async |attempt| {
            object
                .send(client, signer, options, progress, attempt)
                .await
        })
        .await?;
    match outcome {
        Outcome::Done(done) => Ok(done),
        Outcome::GaveUp { last, attempts } => Err(last.refused.unwrap_or_else(|| {
            Error::Network(format!(
                "PUT {} failed after {attempts} attempts: {}",
                object.shown_url, last.reason
            ))
        })),
    }
}

/// The error for a file over [`MAX_OBJECT_SIZE`].
pub(super) fn too_big(path: &Path, len: u64) -> Error {
    Error::usage(format!(
        "{} is {len} bytes, over S3's single-PUT limit of 5 GiB ({MAX_OBJECT_SIZE} bytes); CloudFront cannot carry multipart uploads",
        crate::escape::shown_path(path)
    ))
}

/// `dest` with the percent-encoded `segments` appended to its path (before
/// any query, so a URL signed for a wildcard prefix stays valid), in wire form.
pub fn object_url(dest: &str, segments: &[String]) -> Result<String, Error> {
    let (path, query) = match dest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (dest, None),
    };
    let mut joined = path.to_string();
    for (i, segment) in segments.iter().enumerate() {
        if i > 0 {
            joined.push('/');
        }
        joined.push_str(&url::path_segment(segment));
    }
    if let Some(q) = query {
        joined.push('?');
        joined.push_str(q);
    }
    if UrlSigner::is_signed(&joined) {
        url::to_wire(&url::split_signed(&joined).0)?;
        Ok(joined)
    } else {
        Ok(url::to_wire(&joined)?)
    }
}

/// A URL without its signing parameters, for messages and results.
pub(crate) fn display_url(wire: &str) -> String {
    url::split_signed(wire).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_urls() {
        let seg = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        for (dest, segments, expected) in [
            ("https://h/p/", seg(&["a.txt"]), "https://h/p/a.txt"),
            (
                "https://h/p/",
                seg(&["my dir", "é.txt"]),
                "https://h/p/my%20dir/%C3%A9.txt",
            ),
            (
                "https://h/p/",
                seg(&["50%?.txt"]),
                "https://h/p/50%25%3F.txt",
            ),
            ("https://h/p/?x=1", seg(&["a"]), "https://h/p/a?x=1"),
            ("https://h/a b", seg(&[]), "https://h/a%20b"),
            (
                "https://h/p/?Policy=P&Signature=S&Key-Pair-Id=K",
                seg(&["a b"]),
                "https://h/p/a%20b?Policy=P&Signature=S&Key-Pair-Id=K",
            ),
        ] {
            assert_eq!(
                object_url(dest, &segments).unwrap(),
                expected,
                "{dest} {segments:?}"
            );
        }
        assert!(object_url("h/p/", &seg(&["a"])).is_err());
    }
}
