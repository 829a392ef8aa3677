//! Uploads through CloudFront to S3: one object per PUT (CloudFront cannot
//! carry S3's multipart POSTs, so 5 GiB is the ceiling).
//!
//! Each object takes two passes over its file. The first only computes the
//! SHA-256 that `x-amz-content-sha256` must carry, so it runs as fast as the
//! disk and the SHA extensions allow. The second streams the file with an
//! exact `Content-Length` (never chunked). The same SHA-256 goes in base64
//! as `x-amz-checksum-sha256`, which S3 checks and echoes: an echo of ours
//! verifies the upload, and no MD5 is computed. An answer without the echo
//! (an older S3-compatible server, a proxy that drops it) is checked by its
//! MD5 ETag instead, the MD5 read from the file in a third pass then; once a
//! server is known not to echo (`PutOptions::checksum_echo`), the MD5 of
//! the next objects is computed beside their two passes, on CPU time nothing
//! else wants (`background_md5.rs`). MD5 is one serial chain, slower than
//! the whole rest of an upload over a fast link, so it is paid only when
//! nothing better is offered. Memory stays flat: a few chunks in flight,
//! whatever the size. Every attempt reopens the file and, when we hold the
//! key, signs the URL afresh.
//!
//! S3 recomputes the SHA-256 and answers 400 `XAmzContentSHA256Mismatch` (or
//! `BadDigest`, for our `x-amz-checksum-sha256`) when the bytes differ from
//! the first pass: that is a file that changed while it was being uploaded,
//! and it is reported as such, never as a success.
//!
//! The rooms: `plan.rs` (what to upload), `headers.rs`, `hash.rs` (the first
//! pass), `body.rs` (the second, and its stall watch), `etag.rs` (the check
//! of the answer), `attempt.rs` (one attempt and what its answer means);
//! here, the options, the result and the loop of attempts.
//!
//! A folder uploaded under a prefix, as `cfsign put -r site/ URL/` does:
//!
//! ```
//! use std::sync::Arc;
//! use cfsign::transfer::put::{self, PlanOptions, PutOptions, Source};
//! use cfsign::transfer::{ClientOptions, NoProgress, Progress, UrlSigner};
//!
//! # #[cfg(feature = "serve")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # use cfsign::serve::{self, Access, Config};
//! # let root = tempfile::tempdir()?;
//! # let config = Config { access: Access::Open, ..Config::new(root.path(), Default::default()) };
//! # let edge = serve::spawn(std::net::TcpListener::bind("127.0.0.1:0")?, config)?;
//! let site = tempfile::tempdir()?;
//! std::fs::create_dir(site.path().join("css"))?;
//! std::fs::write(site.path().join("index.html"), "<h1>hi</h1>")?;
//! std::fs::write(site.path().join("css/main.css"), "h1 { color: teal }")?;
//!
//! // `edge` is a local `cfsign::serve` standing in for CloudFront.
//! let dest = format!("{}/site/", edge.url());
//! let sources = [Source::Path(site.path().to_path_buf())];
//! let plan = put::plan(&sources, &dest, PlanOptions { recursive: true, ..PlanOptions::default() })?;
//! assert_eq!(plan.uploads.len(), 2);
//!
//! let client = ClientOptions::default().build()?;
//! let progress: Arc<dyn Progress> = Arc::new(NoProgress);
//! for upload in &plan.uploads {
//!     let done = put::put(&client, &UrlSigner::none(), upload, &PutOptions::default(), &progress).await?;
//!     // `serve` echoes the checksum, as S3 does: verified without an MD5.
//!     assert!(done.checksum_sha256.is_some() && done.md5.is_none());
//! }
//! # let top = site.path().file_name().unwrap();
//! # assert!(root.path().join("site").join(top).join("css/main.css").is_file());
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "serve"))]
//! # fn main() {}
//! ```

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
mod skip;
mod upload;

pub(crate) use etag::Answer;
pub use etag::ChecksumEcho;
pub use headers::{CANNED_ACLS, DEFAULT_ACL, extra_header};
pub(crate) use headers::{X_AMZ_ACL, insert_digests};
pub use plan::{Plan, PlanOptions, Source, plan};
pub use skip::{SkipReason, Skipped};
pub use upload::{FileId, Upload};

/// What to send with every object besides its bytes. The default: the ACL
/// [`DEFAULT_ACL`], a `Content-Type` guessed from the name, no other
/// header, [`RetryPolicy::default`], 60 s without progress before an attempt
/// is given up, nothing learnt yet about the server's checksum echo.
///
/// ```
/// use reqwest::header::{CACHE_CONTROL, HeaderMap, HeaderValue};
/// use cfsign::transfer::put::{PutOptions, extra_header};
///
/// let mut headers = HeaderMap::new();
/// headers.insert(CACHE_CONTROL, HeaderValue::from_static("max-age=3600"));
/// let (name, value) = extra_header("x-amz-meta-build", "1234")?;
/// headers.insert(name, value);
/// let options = PutOptions {
///     acl: None, // the bucket's own rules decide
///     content_type: Some(HeaderValue::from_static("text/csv")),
///     headers,
///     ..PutOptions::default()
/// };
/// assert_eq!(options.headers.len(), 2);
/// # Ok::<(), cfsign::Error>(())
/// ```
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
    /// Whether the server echoes `x-amz-checksum-sha256`, learnt from the
    /// answers of uploads that share it (clones do).
    pub checksum_echo: ChecksumEcho,
}

impl Default for PutOptions {
    fn default() -> Self {
        PutOptions {
            acl: Some(HeaderValue::from_static(DEFAULT_ACL)),
            content_type: None,
            headers: HeaderMap::new(),
            retry: RetryPolicy::default(),
            stall_timeout: Duration::from_secs(60),
            checksum_echo: ChecksumEcho::default(),
        }
    }
}

/// What was uploaded. It serialises as the JSON of `cfsign put --format
/// json`.
///
/// ```
/// use std::sync::Arc;
/// use cfsign::transfer::put::{self, PutOptions, Upload};
/// use cfsign::transfer::{ClientOptions, NoProgress, UrlSigner};
///
/// # #[cfg(feature = "serve")]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use cfsign::serve::{self, Access, Config};
/// # let root = tempfile::tempdir()?;
/// # let config = Config { access: Access::Open, ..Config::new(root.path(), Default::default()) };
/// # let edge = serve::spawn(std::net::TcpListener::bind("127.0.0.1:0")?, config)?;
/// let dir = tempfile::tempdir()?;
/// std::fs::write(dir.path().join("empty.txt"), "")?;
/// let upload = Upload {
///     name: "empty.txt".into(),
///     path: dir.path().join("empty.txt"),
///     url: format!("{}/empty.txt", edge.url()),
///     file_id: None,
/// };
/// let client = ClientOptions::default().build()?;
/// let done = put::put(&client, &UrlSigner::none(), &upload, &PutOptions::default(), &(Arc::new(NoProgress) as _)).await?;
/// // Verified by the checksum `serve` echoes, as S3 does: no MD5 computed.
/// assert_eq!(done.checksum_sha256.as_deref(), Some("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="));
/// assert_eq!(done.md5, None);
/// assert_eq!(done.etag.as_deref(), Some("\"d41d8cd98f00b204e9800998ecf8427e\""));
/// assert!(!done.etag_checked);
/// assert_eq!(done.content_type, "text/plain");
/// assert_eq!(done.attempts, 1);
/// let json = serde_json::to_value(&done)?;
/// assert_eq!(json["sha256"], "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
/// # Ok(())
/// # }
/// # #[cfg(not(feature = "serve"))]
/// # fn main() {}
/// ```
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
    /// The `x-amz-checksum-sha256` the server echoed: the same SHA-256 in
    /// base64, which verified the upload. `None` when the answer carried
    /// none (then the ETag is the check), or when a caller's own
    /// `x-amz-checksum-*` header was sent instead of ours.
    pub checksum_sha256: Option<String>,
    /// Lowercase hex MD5 of the file, as S3's ETag should be: computed only
    /// when the answer did not echo the checksum, else `None` (JSON `null`).
    pub md5: Option<String>,
    /// The ETag the server answered with, as given (quotes included).
    pub etag: Option<String>,
    /// Whether the ETag was an MD5 and was checked against `md5` (so
    /// `false` when the echoed checksum verified the upload instead).
    pub etag_checked: bool,
    /// The `Content-Type` sent.
    pub content_type: String,
    /// The attempts it took, the successful one included.
    pub attempts: u32,
}

/// Uploads one file to one URL, retrying as [`RetryPolicy`] says.
/// `progress` counts the first pass, then the bytes sent (afresh for every
/// attempt), and is finished when the upload ends.
///
/// ```
/// use std::sync::Arc;
/// use reqwest::header::HeaderValue;
/// use cfsign::transfer::put::{self, PlanOptions, PutOptions, Source};
/// use cfsign::transfer::{ClientOptions, NoProgress, Progress, UrlSigner};
///
/// # #[cfg(feature = "serve")]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use cfsign::serve::{self, Access, Config};
/// # let root = tempfile::tempdir()?;
/// # let config = Config { access: Access::Open, ..Config::new(root.path(), Default::default()) };
/// # let edge = serve::spawn(std::net::TcpListener::bind("127.0.0.1:0")?, config)?;
/// let dir = tempfile::tempdir()?;
/// let file = dir.path().join("prices.csv");
/// std::fs::write(&file, "item,price\ntea,3\n")?;
/// let url = format!("{}/data/prices.csv", edge.url());
/// let plan = put::plan(&[Source::Path(file)], &url, PlanOptions::default())?;
///
/// let options = PutOptions {
///     content_type: Some(HeaderValue::from_static("text/csv; charset=utf-8")),
///     ..PutOptions::default()
/// };
/// let client = ClientOptions::default().build()?;
/// let progress: Arc<dyn Progress> = Arc::new(NoProgress);
/// let done = put::put(&client, &UrlSigner::none(), &plan.uploads[0], &options, &progress).await?;
/// assert_eq!((done.bytes, done.url.as_str()), (17, url.as_str()));
///
/// // The edge stored it, and answers with its type.
/// let head = client.head(&url).send().await?;
/// assert_eq!(head.headers()["content-type"], "text/csv; charset=utf-8");
/// # assert_eq!(std::fs::read(root.path().join("data/prices.csv"))?, b"item,price\ntea,3\n");
/// # Ok(())
/// # }
/// # #[cfg(not(feature = "serve"))]
/// # fn main() {}
/// ```
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
        Outcome::Done(done) => {
            // Exit 0 all the same (the server said it stored the bytes), but
            // a CI log should show that nothing confirmed which bytes.
            if done.checksum_sha256.is_none() && !done.etag_checked {
                progress.warn(&format!(
                    "{}: stored, but not verified: the answer carried neither S3's x-amz-checksum-sha256 echo nor an MD5 ETag",
                    crate::escape::shown(&upload.name)
                ));
            }
            Ok(done)
        }
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
///
/// ```
/// use cfsign::transfer::put::object_url;
///
/// let segments = ["my dir".to_string(), "é?.txt".to_string()];
/// assert_eq!(
///     object_url("https://d111111abcdef8.cloudfront.net/up/", &segments)?,
///     "https://d111111abcdef8.cloudfront.net/up/my%20dir/%C3%A9%3F.txt"
/// );
/// // A URL signed for `up/*` keeps its signature after the path.
/// assert_eq!(
///     object_url("https://h.net/up/?Policy=P&Signature=S&Key-Pair-Id=K", &["a".into()])?,
///     "https://h.net/up/a?Policy=P&Signature=S&Key-Pair-Id=K"
/// );
/// assert!(object_url("h.net/up/", &[]).is_err());
/// # Ok::<(), cfsign::Error>(())
/// ```
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
