//! One object's upload: the first pass, then attempts until one is
//! accepted (a 2xx whose checksum or ETag and file check out), one fails
//! for good, or the attempts run out. Every attempt reopens the file and,
//! when we hold the key, signs the URL afresh.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{self, HeaderMap};

use super::body::{Activity, ReadEnd, Reader, stream_file, watch};
use super::etag::Answer;
use super::hash::{Snapshot, file_changed, sha256_file, unreadable};
use super::headers::{request_headers, sends_checksum};
use super::{PutOptions, Upload, Uploaded, display_url, too_big};
use crate::digest::{self, MAX_OBJECT_SIZE};
use crate::error::Error;
use crate::transfer::background_md5::{BackgroundMd5, Md5Error};
use crate::transfer::progress::Progress;
use crate::transfer::refusal::{Asked, Refusal};
use crate::transfer::response;
use crate::transfer::retry::{self, Attempt, Pause};
use crate::transfer::signing::UrlSigner;

/// An attempt that failed in a way worth another.
pub(super) struct Failure {
    /// What went wrong, for the message once attempts run out.
    pub reason: String,
    retry_after: Option<Duration>,
    /// A retryable 4xx (408, 429) becomes this refusal once attempts run out.
    pub refused: Option<Error>,
}

impl retry::Failure for Failure {
    fn pause(&self) -> Pause {
        Pause::Backoff(self.retry_after)
    }
}

/// A file after the first pass: everything every attempt sends alike.
pub(super) struct Hashed<'a> {
    upload: &'a Upload,
    /// The file before the first pass, to notice a change by the end.
    before: Snapshot,
    len: u64,
    sha256: String,
    /// The `x-amz-checksum-sha256` sent, when cfsign sends its own.
    checksum: Option<String>,
    /// The MD5 of the file, for the ETag when the checksum is not echoed.
    md5: BackgroundMd5,
    headers: HeaderMap,
    /// The URL without its signature, for messages.
    pub shown_url: String,
}

impl<'a> Hashed<'a> {
    /// Checks the file's size, then reads it once for its SHA-256 (the MD5
    /// starts beside it only when the server is known not to echo the
    /// checksum).
    pub(super) async fn first_pass(
        upload: &'a Upload,
        options: &PutOptions,
        progress: &Arc<dyn Progress>,
    ) -> Result<Hashed<'a>, Error> {
        let name = upload.name.as_str();
        let runtime_err = |e: io::Error| unreadable(name, &e);
        let file = upload.open().map_err(runtime_err)?;
        let before = Snapshot::of(&file).map_err(runtime_err)?;
        if before.len > MAX_OBJECT_SIZE {
            return Err(too_big(Path::new(name), before.len));
        }
        let label = format!("hashing {}", crate::escape::shown(name));
        progress.start(&label, Some(before.len));
        // The MD5 reads with `pread`, so sharing the offset is harmless. It
        // is left for a third pass, needed only if the answer does not echo
        // the checksum, unless an earlier answer showed that it will not.
        let sends_checksum = sends_checksum(options);
        let md5 = if sends_checksum && options.checksum_echo.learnt() != Some(false) {
            BackgroundMd5::later(file.try_clone().ok(), before.len)
        } else {
            BackgroundMd5::start(file.try_clone().ok(), before.len)
        };
        let (len, sha256) = {
            let progress = Arc::clone(progress);
            tokio::task::spawn_blocking(move || sha256_file(file, progress.as_ref()))
                .await
                .map_err(|e| Error::Runtime(format!("hashing {name} failed: {e}")))?
                .map_err(runtime_err)?
        };
        if len > MAX_OBJECT_SIZE {
            return Err(too_big(Path::new(name), len));
        }
        Ok(Hashed {
            upload,
            before,
            len,
            // A file that grew or shrank since `before` is caught at the end.
            md5,
            headers: request_headers(upload, options, len, &sha256),
            checksum: sends_checksum.then(|| digest::checksum_sha256(&sha256)),
            sha256: hex::encode(sha256),
            shown_url: display_url(&upload.url),
        })
    }

    /// One attempt: a freshly signed URL, the file reopened and streamed.
    /// `Err` is final; `Attempt::Failed` is worth another attempt.
    pub(super) async fn send(
        &self,
        client: &reqwest::Client,
        signer: &UrlSigner,
        options: &PutOptions,
        progress: &Arc<dyn Progress>,
        attempt: u32,
    ) -> Result<Attempt<Uploaded, Failure>, Error> {
        let url = signer.sign(&self.upload.url)?;
        let label = format!("uploading {}", crate::escape::shown(&self.upload.name));
        progress.start(&label, Some(self.len));

        let activity = Activity::new();
        let (body, reader) = stream_file(
            self.upload,
            self.len,
            Arc::clone(progress),
            activity.clone(),
        );
        let request = client
            .put(&url)
            .headers(self.headers.clone())
            .body(reqwest::Body::wrap(body));
        match watch(request.send(), &activity, options.stall_timeout).await {
            Ok(response) if redirected(&response, &url) => Err(self.redirected(&response)),
            Ok(response) if response.status().is_success() => self
                .accepted(response, reader, options, attempt)
                .await
                .map(Attempt::Done),
            Ok(response) => self.refused(response, reader, &url, signer, options).await,
            Err(e) => {
                // Our own side failing (the file shrank, a read error) is
                // not the network's fault and is not retried.
                if let Some(e) = reader.failure() {
                    return Err(e);
                }
                if !e.retryable() {
                    return Err(Error::Network(format!("PUT {}: {e}", self.shown_url)));
                }
                Ok(Attempt::Failed(Failure {
                    reason: e.to_string(),
                    retry_after: None,
                    refused: None,
                }))
            }
        }
    }

    /// The error for an answer from another URL than the PUT's: the body
    /// cannot be sent twice, so the only redirect followed is a 303, which
    /// a client follows with a GET, and what that answers says nothing
    /// about an upload (a login page's 200 would pass for a success).
    fn redirected(&self, response: &reqwest::Response) -> Error {
        Error::Refused {
            status: 303,
            code: "See Other".into(),
            message: format!(
                "PUT {} was redirected to {}, which is asked with a GET: nothing was uploaded",
                self.shown_url,
                display_url(response.url().as_str())
            ),
            hint: None,
        }
    }

    /// A 2xx: the echoed checksum (else the ETag) and the file are checked
    /// before it counts.
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
        // Our checksum, when the answer echoes one: then it is the check and
        // no MD5 is computed. Only an answer to our own checksum teaches
        // anything about echoes.
        let echoed = self
            .checksum
            .as_deref()
            .filter(|_| answer.checksum_sha256.is_some());
        if self.checksum.is_some() {
            options.checksum_echo.learn(echoed.is_some());
        }
        let md5 = match echoed {
            Some(_) => Ok(None),
            None => self.md5.finish().await.map(Some),
        };
        // A file changed (or deleted, or replaced) under us is reported as
        // such before anything else, whatever the checksum, the MD5 or the
        // ETag say.
        let now = self.upload.open().and_then(|file| Snapshot::of(&file));
        if now.ok().as_ref() != Some(&self.before) {
            return Err(file_changed(
                &self.upload.name,
                "was modified during the upload, so the object may be a mix of old and new bytes",
            ));
        }
        let md5 = match md5 {
            Ok(md5) => md5.map(hex::encode),
            Err(Md5Error::Shorter) => {
                return Err(file_changed(&self.upload.name, "became shorter"));
            }
            Err(Md5Error::Io(e)) => {
                return Err(unreadable(&self.upload.name, &e));
            }
        };
        let (checksum_sha256, etag_checked) = match (echoed, &md5) {
            (Some(ours), _) => {
                answer.check_checksum(ours, &self.shown_url)?;
                (answer.checksum_sha256.clone(), false)
            }
            (None, Some(md5)) => (None, answer.check_etag(md5, &self.shown_url)?),
            (None, None) => (None, false),
        };
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
            checksum_sha256,
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
        url: &str,
        signer: &UrlSigner,
        options: &PutOptions,
    ) -> Result<Attempt<Uploaded, Failure>, Error> {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let retry_after = retry::retry_after(&headers);
        let body = response::error_body(response, Some(options.stall_timeout)).await;
        if let Some(e) = reader.failure() {
            return Err(e);
        }
        let asked = Asked {
            method: reqwest::Method::PUT,
            url,
            our_key: signer.public_key(),
            now: crate::time::now(),
        };
        let refusal = Refusal::classify(status, &headers, &body, &asked);
        let checksum_is_ours = self.checksum.is_some() && !self.headers.contains_key("content-md5");
        if refusal.is_content_changed(checksum_is_ours) {
            return Err(file_changed(
                &self.upload.name,
                &format!(
                    "no longer has the SHA-256 of the first pass (S3 answered 400 {})",
                    refusal.code
                ),
            ));
        }
        if !retry::retryable_status(status) {
            return Err(refusal.into());
        }
        Ok(Attempt::Failed(Failure {
            reason: response::status_line(status, &body),
            retry_after,
            refused: (400..500).contains(&status).then(|| refusal.into()),
        }))
    }
}

/// Whether `response` answers another URL than `sent` (a followed redirect).
fn redirected(response: &reqwest::Response, sent: &str) -> bool {
    reqwest::Url::parse(sent).is_ok_and(|sent| *response.url() != sent)
}
