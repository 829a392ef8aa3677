//! The origin's PUT: what S3 asks of a single-PUT upload (a length, the
//! body's SHA-256, optionally its MD5 and an `x-amz-checksum-sha256`),
//! checked before the body is read, and
//! the body handed to a writer thread that commits it atomically
//! ([`super::store`]). At most [`Config::max_uploads`](super::Config::max_uploads)
//! PUTs hold a temp file and a writer thread at once; a client that pauses
//! in its body for the idle timeout is cut off and its upload removed.

use std::io;
use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap};
use hyper::{Request, Response, StatusCode};
use tokio::sync::{OwnedSemaphorePermit, mpsc};

use super::server::{Reply, join_error};
use super::store::{Expected, PutError, Upload};
use super::xml::ErrorResponse;
use super::{ObjectKey, Server};
use crate::digest::{self, MAX_OBJECT_SIZE};

/// The request headers S3 stores with an object and returns on GET and HEAD
/// (`x-amz-acl` and `x-amz-content-sha256` come back as `x-cfsign-*`).
const STORED_HEADERS: [&str; 8] = [
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "content-type",
    "expires",
    "x-amz-acl",
    "x-amz-content-sha256",
];

impl Server {
    pub(super) async fn put(
        self: &Arc<Self>,
        req: Request<Incoming>,
    ) -> Result<Response<Reply>, ErrorResponse> {
        if self.read_only {
            return Err(ErrorResponse::s3_access_denied().reason("the server is --read-only"));
        }
        let key = ObjectKey::from_request_path(req.uri().path())?;
        if key.is_folder() {
            return Err(ErrorResponse::folder_not_writable());
        }
        let expected = announced(req.headers())?;
        let len = expected.len;
        let stored = stored_headers(req.headers());
        let permit = self
            .uploads
            .clone()
            .try_acquire_owned()
            .map_err(|_| ErrorResponse::slow_down(self.max_uploads))?;

        // The key is resolved and the temp file created before the body is
        // read: a conflict is answered before a client that sent `Expect:
        // 100-continue` sends a byte.
        let server = self.clone();
        let target = key.clone();
        let upload = tokio::task::spawn_blocking(move || server.store.begin_put(&target, stored))
            .await
            .map_err(join_error)??;
        // Pieces of up to hyper's read buffer; with two queued, one on its
        // way in and one being written, a PUT holds about four of them.
        let (chunks, receiver) = mpsc::channel(2);
        let writer =
            tokio::task::spawn_blocking(move || write_upload(upload, receiver, expected, permit));

        // If this future is dropped (the connection closed, the server
        // stopped), `chunks` goes with it and the writer removes the upload.
        let mut body = req.into_body();
        let mut received = 0u64;
        loop {
            let Ok(frame) = tokio::time::timeout(self.idle_timeout, body.frame()).await else {
                drop(chunks);
                let _ = writer.await;
                return Err(ErrorResponse::request_timeout(format!(
                    "no body byte for {:?} after {received} of {len} bytes",
                    self.idle_timeout
                )));
            };
            match frame {
                None => break,
                Some(Ok(frame)) => {
                    let Ok(data) = frame.into_data() else {
                        continue;
                    };
                    received += data.len() as u64;
                    if chunks.send(Chunk::Data(data)).await.is_err() {
                        break; // the writer failed; its result says why
                    }
                }
                Some(Err(e)) => {
                    drop(chunks);
                    let _ = writer.await;
                    return Err(ErrorResponse::incomplete_body(format!(
                        "the body stopped after {received} of {len} bytes: {e}"
                    )));
                }
            }
        }
        let _ = chunks.send(Chunk::End).await;
        drop(chunks);
        let (etag, checksum) = writer.await.map_err(join_error)??;
        let mut answer = Response::builder()
            .status(StatusCode::OK)
            .header(header::ETAG, format!("\"{etag}\""));
        // S3 echoes a checksum it checked (PutObject's response elements):
        // the client's proof that the object stored is the file it hashed.
        if let Some(checksum) = checksum {
            answer = answer.header(digest::CHECKSUM_SHA256, checksum);
        }
        answer
            .header(header::CONTENT_LENGTH, 0)
            .body(Reply::empty())
            .map_err(|e| ErrorResponse::internal(e.to_string()))
    }
}

/// What the client announced for its body: `Content-Length` (at most S3's
/// single-PUT limit), `x-amz-content-sha256` (required, hex only),
/// `Content-MD5` and `x-amz-checksum-sha256` (optional).
fn announced(headers: &HeaderMap) -> Result<Expected, ErrorResponse> {
    let len = match headers.get(header::CONTENT_LENGTH) {
        None => return Err(ErrorResponse::missing_content_length()),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(ErrorResponse::bad_content_length)?,
    };
    if len > MAX_OBJECT_SIZE {
        return Err(ErrorResponse::entity_too_large(len, MAX_OBJECT_SIZE));
    }
    let sha256 = match headers.get("x-amz-content-sha256") {
        None => return Err(ErrorResponse::missing_content_sha256()),
        Some(v) => v
            .to_str()
            .ok()
            .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(str::to_ascii_lowercase)
            .ok_or_else(|| ErrorResponse::bad_content_sha256(v.to_str().unwrap_or_default()))?,
    };
    let md5 = headers
        .get("content-md5")
        .map(|v| {
            base64::engine::general_purpose::STANDARD
                .decode(v.as_bytes())
                .ok()
                .and_then(|d| <[u8; 16]>::try_from(d).ok())
                .ok_or_else(ErrorResponse::bad_content_md5)
        })
        .transpose()?;
    let checksum_sha256 = headers
        .get(digest::CHECKSUM_SHA256)
        .map(|v| {
            v.to_str()
                .ok()
                .filter(|v| digest::is_checksum_sha256(v))
                .map(str::to_string)
                .ok_or_else(ErrorResponse::bad_checksum_sha256)
        })
        .transpose()?;
    Ok(Expected {
        len,
        sha256,
        md5,
        checksum_sha256,
    })
}

fn stored_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(name, _)| {
            STORED_HEADERS.contains(&name.as_str()) || name.as_str().starts_with("x-amz-meta-")
        })
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_string())))
        .collect()
}

/// What the writer thread of a PUT receives.
enum Chunk {
    Data(Bytes),
    /// The body ended where Content-Length said: commit.
    End,
}

/// The blocking half of a PUT: writes what arrives and commits at the end:
/// the ETag and the `x-amz-checksum-sha256` to echo (see [`Upload::commit`]).
/// A closed channel without [`Chunk::End`] drops the upload, which removes it.
/// The upload's permit is released only then, with its temp file gone.
fn write_upload(
    mut upload: Upload,
    mut chunks: mpsc::Receiver<Chunk>,
    expected: Expected,
    _permit: OwnedSemaphorePermit,
) -> Result<(String, Option<String>), PutError> {
    while let Some(chunk) = chunks.blocking_recv() {
        match chunk {
            Chunk::Data(data) => upload.write(&data)?,
            Chunk::End => return upload.commit(&expected),
        }
    }
    Err(PutError::Io(io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "the request was dropped",
    )))
}
