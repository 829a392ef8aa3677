//! Uploads through CloudFront to S3: one object per PUT (CloudFront cannot
//! carry S3's multipart POSTs, so 5 GiB is the ceiling).
//!
//! Each object takes two passes over its file. The first only computes the
//! SHA-256 that `x-amz-content-sha256` must carry, so it runs as fast as the
//! disk and the SHA extensions allow. The second streams the file with an
//! exact `Content-Length` (never chunked). The MD5 that checks S3's ETag is
//! computed beside both, on CPU time nothing else wants (see [`BackgroundMd5`]).
//! Memory stays flat: a few chunks in flight, whatever the size. Every
//! attempt reopens the file and, when we hold the key, signs the URL afresh.
//!
//! S3 recomputes the SHA-256 and answers 400 `XAmzContentSHA256Mismatch` when
//! the bytes differ from the first pass: that is a file that changed while it
//! was being uploaded, and it is reported as such, never as a success.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use indicatif::ProgressBar;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::background_md5::{BackgroundMd5, Md5Error};
use super::response;
use super::retry::{self, RetryPolicy};
use super::signing::UrlSigner;
use crate::error::Error;
use crate::error::io_reason;
use crate::sign::url;

mod plan;
pub use plan::{FileId, Plan, PlanOptions, SkipReason, Skipped, Source, Upload, plan};

/// S3's limit for one PUT: 5 GiB.
pub const MAX_OBJECT_SIZE: u64 = 5 << 30;

/// The first pass reads this much at a time (large, so that the hashing,
/// not the system calls, sets the pace).
const HASH_BUFFER: usize = 1 << 20;
/// The second pass sends chunks of this size, at most `SEND_QUEUE` of them
/// waiting for the connection.
const SEND_CHUNK: usize = 512 << 10;
const SEND_QUEUE: usize = 4;

/// The canned ACL sent unless told otherwise: with an origin access identity
/// the object belongs to the identity, and this gives the bucket owner control.
pub const DEFAULT_ACL: &str = "bucket-owner-full-control";

/// S3's canned ACLs, the values `x-amz-acl` accepts.
pub const CANNED_ACLS: [&str; 7] = [
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "aws-exec-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
];

const X_AMZ_CONTENT_SHA256: &str = "x-amz-content-sha256";
const X_AMZ_ACL: &str = "x-amz-acl";

/// Headers that cfsign computes itself and a caller may not set.
const RESERVED_HEADERS: [&str; 5] = [
    "content-length",
    "transfer-encoding",
    "host",
    "x-amz-content-sha256",
    "expect",
];

/// What to send with every object besides its bytes.
#[derive(Clone, Debug)]
pub struct PutOptions {
    /// `x-amz-acl`; `None` sends none.
    pub acl: Option<HeaderValue>,
    /// `Content-Type`; `None` guesses it from the object's name.
    pub content_type: Option<HeaderValue>,
    /// Further headers (`Cache-Control`, `x-amz-meta-*`, `--header`). They
    /// replace the ones above of the same name.
    pub headers: HeaderMap,
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

/// Checks a header a caller wants to add: a valid name and value, and not
/// one cfsign computes (`Content-Length`, `x-amz-content-sha256`, …).
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

/// `name: value` from `--header`.
pub fn parse_header_line(line: &str) -> Result<(HeaderName, HeaderValue), Error> {
    let (name, value) = line
        .split_once(':')
        .ok_or_else(|| Error::usage(format!("--header `{line}`: expected `Name: value`")))?;
    extra_header(name, value)
}

/// `key=value` from `--meta`, as `x-amz-meta-key: value`.
pub fn parse_meta(pair: &str) -> Result<(HeaderName, HeaderValue), Error> {
    let (key, value) = pair
        .split_once('=')
        .ok_or_else(|| Error::usage(format!("--meta `{pair}`: expected `key=value`")))?;
    if key.is_empty() {
        return Err(Error::usage(format!("--meta `{pair}`: the key is empty")));
    }
    extra_header(&format!("x-amz-meta-{key}"), value)
}

fn too_big(path: &Path, len: u64) -> Error {
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
pub fn display_url(wire: &str) -> String {
    url::split_signed(wire).0
}

/// The first pass: length and SHA-256 of a file. A second thread reads
/// ahead into a few recycled buffers, so that copying from the page cache
/// overlaps the hashing and the pace is SHA-NI's or the disk's (a fifth
/// faster than reading and hashing in turn on one thread, for a cached file).
pub fn sha256_file(mut file: File, progress: &ProgressBar) -> io::Result<(u64, [u8; 32])> {
    use std::sync::mpsc::sync_channel;
    // Three buffers: one being read, one being hashed, one waiting.
    let (filled, to_hash) = sync_channel::<(Vec<u8>, usize)>(2);
    let (emptied, to_fill) = sync_channel::<Vec<u8>>(3);
    for _ in 0..3 {
        emptied
            .send(vec![0u8; HASH_BUFFER])
            .expect("the channel has room for three");
    }
    std::thread::scope(|scope| {
        // Owned here, so that a panic below drops it and frees the reader.
        let emptied = emptied;
        let reader = scope.spawn(move || -> io::Result<()> {
            // Ends when the file does (or the hasher is gone): dropping
            // `filled` tells the hasher.
            while let Ok(mut buf) = to_fill.recv() {
                let n = loop {
                    match file.read(&mut buf) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        other => break other?,
                    }
                };
                if n == 0 || filled.send((buf, n)).is_err() {
                    break;
                }
            }
            Ok(())
        });
        let mut hasher = Sha256::new();
        let mut len = 0u64;
        for (buf, n) in to_hash {
            hasher.update(&buf[..n]);
            len += n as u64;
            progress.inc(n as u64);
            let _ = emptied.send(buf);
        }
        reader.join().expect("the reader does not panic")?;
        Ok((len, hasher.finalize().into()))
    })
}

/// What was uploaded.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Uploaded {
    /// The file as the user named it (`-` for stdin).
    pub source: String,
    /// The object's URL, without signing parameters.
    pub url: String,
    pub bytes: u64,
    /// Lowercase hex, as sent in `x-amz-content-sha256`.
    pub sha256: String,
    /// Lowercase hex MD5 of the file, as S3's ETag should be.
    pub md5: String,
    /// The ETag the server answered with, as given (quotes included).
    pub etag: Option<String>,
    /// Whether the ETag was an MD5 and was checked against `md5`.
    pub etag_checked: bool,
    pub content_type: String,
    pub attempts: u32,
}

/// The file as it was before the first pass, to notice a change afterwards.
#[derive(PartialEq, Eq, Debug)]
struct Snapshot {
    len: u64,
    modified: Option<SystemTime>,
}

impl Snapshot {
    fn of(file: &File) -> io::Result<Self> {
        let meta = file.metadata()?;
        Ok(Snapshot {
            len: meta.len(),
            modified: meta.modified().ok(),
        })
    }
}

fn file_changed(name: &str, how: &str) -> Error {
    Error::Integrity(format!(
        "file changed while uploading: {name} {how}; upload it again once it is complete"
    ))
}

/// Uploads one file to one URL, retrying as [`RetryPolicy`] says. The bar
/// counts the first pass, then the bytes sent.
pub async fn put(
    client: &reqwest::Client,
    signer: &UrlSigner,
    upload: &Upload,
    options: &PutOptions,
    progress: &ProgressBar,
) -> Result<Uploaded, Error> {
    let object = Hashed::first_pass(upload, options, progress).await?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        match object
            .send(client, signer, options, progress, attempt)
            .await?
        {
            Ok(done) => return Ok(done),
            Err(failure) if attempt < options.retry.attempts => {
                tokio::time::sleep(options.retry.delay(attempt, failure.retry_after)).await;
            }
            Err(failure) => {
                return Err(failure.refused.unwrap_or_else(|| {
                    Error::Network(format!(
                        "PUT {} failed after {attempt} attempts: {}",
                        object.shown_url, failure.reason
                    ))
                }));
            }
        }
    }
}

/// An attempt that failed in a way worth another.
struct Failure {
    reason: String,
    retry_after: Option<Duration>,
    /// A retryable 4xx (408, 429) becomes this refusal once attempts run out.
    refused: Option<Error>,
}

/// A file after the first pass: everything every attempt sends alike.
struct Hashed<'a> {
    upload: &'a Upload,
    /// The file before the first pass, to notice a change by the end.
    before: Snapshot,
    len: u64,
    sha256: String,
    /// The MD5 of the file, for the ETag.
    md5: BackgroundMd5,
    headers: HeaderMap,
    shown_url: String,
}

impl<'a> Hashed<'a> {
    async fn first_pass(
        upload: &'a Upload,
        options: &PutOptions,
        progress: &ProgressBar,
    ) -> Result<Hashed<'a>, Error> {
        let name = upload.name.as_str();
        let runtime_err =
            |e: io::Error| Error::Runtime(format!("cannot read {name}: {}", io_reason(&e)));
        let file = upload.open().map_err(runtime_err)?;
        let before = Snapshot::of(&file).map_err(runtime_err)?;
        if before.len > MAX_OBJECT_SIZE {
            return Err(too_big(Path::new(name), before.len));
        }
        progress.set_length(before.len);
        progress.set_message(format!("hashing {}", crate::escape::shown(name)));
        // The MD5 reads with `pread`, so sharing the offset is harmless.
        let md5 = BackgroundMd5::start(file.try_clone().ok(), before.len);
        let (len, sha256) = {
            let bar = progress.clone();
            tokio::task::spawn_blocking(move || sha256_file(file, &bar))
                .await
                .map_err(|e| Error::Runtime(format!("hashing {name} failed: {e}")))?
                .map_err(runtime_err)?
        };
        if len > MAX_OBJECT_SIZE {
            return Err(too_big(Path::new(name), len));
        }
        let sha256 = hex::encode(sha256);
        Ok(Hashed {
            upload,
            before,
            len,
            // A file that grew or shrank since `before` is caught at the end.
            md5,
            headers: request_headers(upload, options, len, &sha256),
            sha256,
            shown_url: display_url(&upload.url),
        })
    }

    /// One attempt: a freshly signed URL, the file reopened and streamed.
    /// `Err` is final; `Ok(Err)` is worth another attempt.
    async fn send(
        &self,
        client: &reqwest::Client,
        signer: &UrlSigner,
        options: &PutOptions,
        progress: &ProgressBar,
        attempt: u32,
    ) -> Result<Result<Uploaded, Failure>, Error> {
        let url = signer.sign(&self.upload.url)?;
        progress.reset(); // position, elapsed time and rate: the upload starts afresh
        progress.set_length(self.len);
        progress.set_message(format!(
            "uploading {}",
            crate::escape::shown(&self.upload.name)
        ));

        let activity = Activity::new();
        let (body, reader) = stream_file(self.upload, self.len, progress.clone(), activity.clone());
        let request = client
            .put(&url)
            .headers(self.headers.clone())
            .body(reqwest::Body::wrap(body));
        match watch(request.send(), &activity, options.stall_timeout).await {
            Ok(response) if response.status().is_success() => self
                .accepted(response, reader, options, attempt)
                .await
                .map(Ok),
            Ok(response) => self.refused(response, reader, signer, options).await,
            Err(e) => {
                // Our own side failing (the file shrank, a read error) is
                // not the network's fault and is not retried.
                if let Some(e) = reader.failure() {
                    return Err(e);
                }
                if !e.retryable() {
                    return Err(Error::Network(format!("PUT {}: {e}", self.shown_url)));
                }
                Ok(Err(Failure {
                    reason: e.to_string(),
                    retry_after: None,
                    refused: None,
                }))
            }
        }
    }

    /// A 2xx: the ETag and the file are checked before it counts.
    async fn accepted(
        &self,
        response: reqwest::Response,
        mut reader: Reader,
        options: &PutOptions,
        attempt: u32,
    ) -> Result<Uploaded, Error> {
        let status = response.status();
        let answer = Answer::of(&response);
        // The answer to a PUT is empty; read it so the connection can be reused.
        let _ = tokio::time::timeout(options.stall_timeout, response.bytes()).await;
        // A server that answers before reading the whole body may leave the
        // reader waiting: do not wait for ever.
        match tokio::time::timeout(options.stall_timeout, &mut reader.handle).await {
            Ok(Ok(ReadEnd::Done)) => {}
            _ => {
                return Err(reader.failure().unwrap_or_else(|| {
                    Error::Network(format!(
                        "PUT {}: the server answered {status} before the whole body was sent",
                        self.shown_url
                    ))
                }));
            }
        }
        let md5 = self.md5.finish().await;
        // A file changed (or deleted, or replaced) under us is reported as
        // such before anything else, whatever the MD5 or the ETag say.
        let now = self.upload.open().and_then(|file| Snapshot::of(&file));
        if now.ok().as_ref() != Some(&self.before) {
            return Err(file_changed(
                &self.upload.name,
                "was modified during the upload, so the object may be a mix of old and new bytes",
            ));
        }
        let md5 = match md5 {
            Ok(md5) => hex::encode(md5),
            Err(Md5Error::Shorter) => {
                return Err(file_changed(&self.upload.name, "became shorter"));
            }
            Err(Md5Error::Io(e)) => {
                let name = &self.upload.name;
                return Err(Error::Runtime(format!(
                    "cannot read {name}: {}",
                    io_reason(&e)
                )));
            }
        };
        let etag_checked = answer.check_etag(&md5, &self.shown_url)?;
        let content_type = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        Ok(Uploaded {
            source: self.upload.name.clone(),
            url: self.shown_url.clone(),
            bytes: self.len,
            sha256: self.sha256.clone(),
            md5,
            etag: answer.etag,
            etag_checked,
            content_type,
            attempts: attempt,
        })
    }

    /// Not a 2xx: a file that changed, a refusal, or a failure to retry.
    async fn refused(
        &self,
        response: reqwest::Response,
        reader: Reader,
        signer: &UrlSigner,
        options: &PutOptions,
    ) -> Result<Result<Uploaded, Failure>, Error> {
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry::parse_retry_after(v, chrono::Utc::now()));
        let body = read_bounded(response, options.stall_timeout).await;
        if let Some(e) = reader.failure() {
            return Err(e);
        }
        let code = response::error_code_and_message(&body);
        if status == 400
            && code
                .as_ref()
                .is_some_and(|(c, _)| c == "XAmzContentSHA256Mismatch")
        {
            return Err(file_changed(
                &self.upload.name,
                "no longer has the SHA-256 of the first pass (S3 answered 400 XAmzContentSHA256Mismatch)",
            ));
        }
        let refusal = || response::refused(status, &body, signer.holds_key());
        if !retry::retryable_status(status) {
            return Err(refusal());
        }
        let reason = match code {
            Some((c, m)) if m.is_empty() => format!("{status} {c}"),
            Some((c, m)) => format!("{status} {c}: {m}"),
            None => status.to_string(),
        };
        Ok(Err(Failure {
            reason,
            retry_after,
            refused: (400..500).contains(&status).then(refusal),
        }))
    }
}

/// The headers of every attempt.
fn request_headers(upload: &Upload, options: &PutOptions, len: u64, sha256: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    // Explicit, so that even an empty body carries `Content-Length: 0` and
    // nothing is ever sent chunked.
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    headers.insert(
        X_AMZ_CONTENT_SHA256,
        HeaderValue::from_str(sha256).expect("hex is a valid header value"),
    );
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

/// The parts of a success answer that matter.
struct Answer {
    etag: Option<String>,
    /// SSE-KMS and SSE-C objects have ETags that are not the MD5 of the body.
    encrypted: bool,
}

impl Answer {
    fn of(response: &reqwest::Response) -> Self {
        let h = response.headers();
        let etag = h
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let kms = h
            .get("x-amz-server-side-encryption")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("aws:kms"));
        let sse_c = h.contains_key("x-amz-server-side-encryption-customer-algorithm");
        Answer {
            etag,
            encrypted: kms || sse_c,
        }
    }

    /// Checks an ETag that is an MD5 (`"` + 32 hex digits + `"`); others
    /// (multipart-style `…-N`, weak, encrypted objects) are taken as they are.
    fn check_etag(&self, md5: &str, url: &str) -> Result<bool, Error> {
        let Some(etag) = &self.etag else {
            return Ok(false);
        };
        let Some(hex) = md5_etag(etag) else {
            return Ok(false);
        };
        if self.encrypted {
            return Ok(false);
        }
        if !hex.eq_ignore_ascii_case(md5) {
            return Err(Error::Integrity(format!(
                "the server stored something else at {url}: its ETag {etag} is not the MD5 of the file ({md5}); upload again"
            )));
        }
        Ok(true)
    }
}

/// The hex digits of an ETag that is a plain MD5.
fn md5_etag(etag: &str) -> Option<&str> {
    let hex = etag.strip_prefix('"')?.strip_suffix('"')?;
    (hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hex)
}

/// At most 64 KiB of an error answer, giving up after `patience`.
async fn read_bounded(mut response: reqwest::Response, patience: Duration) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Ok(Some(chunk))) = tokio::time::timeout(patience, response.chunk()).await {
        body.extend_from_slice(&chunk[..chunk.len().min(65536 - body.len())]);
        if body.len() >= 65536 {
            break;
        }
    }
    body
}

/// When the body last made progress, to tell a slow upload from a stalled one.
#[derive(Clone)]
struct Activity {
    start: Instant,
    last_ms: Arc<AtomicU64>,
}

impl Activity {
    fn new() -> Self {
        Activity {
            start: Instant::now(),
            last_ms: Arc::new(AtomicU64::new(0)),
        }
    }

    fn touch(&self) {
        let ms = self.start.elapsed().as_millis() as u64;
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn idle(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }
}

/// Why an attempt ended without an answer.
#[derive(Debug)]
enum SendError {
    Http(reqwest::Error),
    Stalled(Duration),
}

impl SendError {
    fn retryable(&self) -> bool {
        match self {
            SendError::Http(e) => retry::retryable_error(e),
            SendError::Stalled(_) => true,
        }
    }
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // The error and its causes; the URL (with its signature) was removed.
            SendError::Http(e) => {
                if let Some(tls) = super::client::tls_failure(e) {
                    return write!(f, "{tls}");
                }
                if let Some(proxy) = super::client::proxy_refusal(e) {
                    return write!(f, "{proxy}");
                }
                write!(f, "{e}")?;
                let mut source = std::error::Error::source(e);
                while let Some(s) = source {
                    write!(f, ": {s}")?;
                    source = s.source();
                }
                Ok(())
            }
            SendError::Stalled(d) => write!(f, "no progress for {} s", d.as_secs()),
        }
    }
}

/// Sends the request, giving up when the body makes no progress (or, once
/// it is sent, no answer comes) for `stall` — reqwest's read timeout would
/// count the whole upload, so the client is built without a short one.
async fn watch(
    send: impl std::future::Future<Output = reqwest::Result<reqwest::Response>>,
    activity: &Activity,
    stall: Duration,
) -> Result<reqwest::Response, SendError> {
    tokio::pin!(send);
    let tick = (stall / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
    loop {
        tokio::select! {
            result = &mut send => return result.map_err(|e| SendError::Http(e.without_url())),
            _ = tokio::time::sleep(tick) => {
                if activity.idle() > stall {
                    return Err(SendError::Stalled(stall));
                }
            }
        }
    }
}

/// The second pass's reader: its outcome, and its failure as soon as it
/// happens (set before the body reports it, so a failed request can tell
/// our side's fault from the network's without waiting).
struct Reader {
    handle: tokio::task::JoinHandle<ReadEnd>,
    failure: Arc<std::sync::Mutex<Option<Error>>>,
}

impl Reader {
    fn failure(&self) -> Option<Error> {
        self.failure.lock().ok()?.take()
    }
}

/// How the second pass's reader ended.
enum ReadEnd {
    /// All `len` bytes went out.
    Done,
    /// The request ended first (the body was dropped).
    Cancelled,
    /// Reading failed, or the file is no longer `len` bytes (see [`Reader`]).
    Failed,
}

/// The second pass: a blocking reader streams `len` bytes of the file into
/// a bounded queue; the body drains the queue.
fn stream_file(
    upload: &Upload,
    len: u64,
    progress: ProgressBar,
    activity: Activity,
) -> (FileBody, Reader) {
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(SEND_QUEUE);
    let upload = upload.clone();
    let failure = Arc::new(std::sync::Mutex::new(None));
    let slot = Arc::clone(&failure);
    let handle = tokio::task::spawn_blocking(move || {
        let name = upload.name.as_str();
        let fail = |tx: &mpsc::Sender<io::Result<Bytes>>, e: Error| {
            let message = e.to_string();
            if let Ok(mut slot) = slot.lock() {
                *slot = Some(e);
            }
            let _ = tx.blocking_send(Err(io::Error::other(message)));
            ReadEnd::Failed
        };
        let mut file = match upload.open() {
            Ok(f) => f,
            Err(e) => {
                let e = Error::Runtime(format!("cannot read {name}: {}", io_reason(&e)));
                return fail(&tx, e);
            }
        };
        let mut sent = 0u64;
        while sent < len {
            let want = (len - sent).min(SEND_CHUNK as u64) as usize;
            // Read into fresh, uninitialised capacity: nothing to zero first.
            let mut chunk = Vec::with_capacity(want);
            match (&mut file).take(want as u64).read_to_end(&mut chunk) {
                Ok(n) if n == want => {}
                Ok(_) => return fail(&tx, file_changed(name, "became shorter")),
                Err(e) => {
                    let e = Error::Runtime(format!("cannot read {name}: {}", io_reason(&e)));
                    return fail(&tx, e);
                }
            }
            sent += want as u64;
            // Hold the last chunk back until the end is confirmed, so that a
            // file that grew never reaches S3 as a complete upload.
            if sent == len {
                let mut probe = [0u8; 1];
                if matches!(file.read(&mut probe), Ok(n) if n > 0) {
                    return fail(&tx, file_changed(name, "grew"));
                }
            }
            if tx.blocking_send(Ok(Bytes::from(chunk))).is_err() {
                return ReadEnd::Cancelled;
            }
            progress.inc(want as u64);
        }
        ReadEnd::Done
    });
    let body = FileBody {
        rx,
        remaining: len,
        activity,
    };
    (body, Reader { handle, failure })
}

/// A request body of exactly `remaining` bytes, fed by the reader.
struct FileBody {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    remaining: u64,
    activity: Activity,
}

impl HttpBody for FileBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        self.activity.touch();
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                self.remaining = self.remaining.saturating_sub(chunk.len() as u64);
                Poll::Ready(Some(Ok(Frame::data(chunk))))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => {
                Poll::Ready(Some(Err(io::Error::other("the file reader stopped early"))))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_etags() {
        for (etag, md5) in [
            ("\"d41d8cd98f00b204e9800998ecf8427e\"", true),
            ("\"D41D8CD98F00B204E9800998ECF8427E\"", true),
            ("d41d8cd98f00b204e9800998ecf8427e", false),
            ("\"d41d8cd98f00b204e9800998ecf8427e-2\"", false),
            ("W/\"d41d8cd98f00b204e9800998ecf8427e\"", false),
            ("\"d41d8cd98f00b204e9800998ecf8427\"", false),
            ("\"g41d8cd98f00b204e9800998ecf8427e\"", false),
        ] {
            assert_eq!(md5_etag(etag).is_some(), md5, "{etag}");
        }
    }

    #[test]
    fn etag_check() {
        let empty = "d41d8cd98f00b204e9800998ecf8427e";
        let answer = |etag: &str, encrypted| Answer {
            etag: Some(etag.to_string()),
            encrypted,
        };
        let url = "https://h/a";
        assert!(
            answer(&format!("\"{empty}\""), false)
                .check_etag(empty, url)
                .unwrap()
        );
        let other = "\"0123456789abcdef0123456789abcdef\"";
        let err = answer(other, false).check_etag(empty, url).unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::INTEGRITY);
        assert!(!answer(other, true).check_etag(empty, url).unwrap());
        assert!(!answer("\"abc-3\"", false).check_etag(empty, url).unwrap());
        let none = Answer {
            etag: None,
            encrypted: false,
        };
        assert!(!none.check_etag(empty, url).unwrap());
    }

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

    /// Drains a body fed by `stream_file`: the reader's failure, whether
    /// the body reported one, and the MD5 when all went well.
    async fn drain(path: &Path, len: u64) -> (Option<Error>, bool, Option<String>) {
        use http_body_util::BodyExt;
        let upload = Upload {
            name: "f".into(),
            path: path.to_path_buf(),
            url: String::new(),
            file_id: None,
        };
        let (body, reader) = stream_file(&upload, len, ProgressBar::hidden(), Activity::new());
        let body = body.collect().await;
        let body_failed = body.is_err();
        // The MD5 of the body, when it and the reader both ended well.
        let md5 = match (body, reader.handle.await) {
            (Ok(body), Ok(ReadEnd::Done)) => Some(hex::encode(md5::Md5::digest(body.to_bytes()))),
            _ => None,
        };
        (reader.failure.lock().unwrap().take(), body_failed, md5)
    }

    const EXPECTED_MD5: &str = "24c8b42e9f4d53ef58987e469baaad49";

    #[tokio::test]
    async fn a_file_that_shrinks_or_grows_fails_the_body() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, vec![7u8; 1 << 20]).unwrap();
        let (failure, body_failed, md5) = drain(&path, 1 << 20).await;
        assert!(failure.is_none() && !body_failed);
        // `head -c 1048576 /dev/zero | tr '\0' '\7' | md5sum`
        assert_eq!(md5.as_deref(), Some(EXPECTED_MD5));
        for (len, how) in [((1 << 20) + 1, "became shorter"), ((1 << 20) - 1, "grew")] {
            let (failure, body_failed, _) = drain(&path, len).await;
            let e = failure.expect("a failure");
            assert!(body_failed, "{how}");
            assert_eq!(e.exit_code(), crate::error::exit::INTEGRITY);
            assert!(
                e.to_string().contains("file changed while uploading"),
                "{e}"
            );
            assert!(e.to_string().contains(how), "{e}");
        }
    }

    #[test]
    fn header_arguments() {
        let (n, v) = parse_header_line("Cache-Control: max-age=60").unwrap();
        assert_eq!(
            (n.as_str(), v.to_str().unwrap()),
            ("cache-control", "max-age=60")
        );
        let (n, v) = parse_meta("build=42=x").unwrap();
        assert_eq!(
            (n.as_str(), v.to_str().unwrap()),
            ("x-amz-meta-build", "42=x")
        );
        for bad in [
            "nocolon",
            "Content-Length: 3",
            "x-amz-content-sha256: a",
            "Bad Name: v",
            "X: é",
        ] {
            let e = parse_header_line(bad).unwrap_err();
            assert_eq!(e.exit_code(), crate::error::exit::USAGE, "{bad}");
        }
        assert!(parse_meta("novalue").is_err());
        assert!(parse_meta("=v").is_err());
    }
}
