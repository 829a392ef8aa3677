//! The origin's GET and HEAD: one object, whole or one byte range
//! (honoured only while `If-Range` still matches), with the headers its PUT
//! stored. The body is streamed from the open file, so a reader sees the
//! version it opened even if a PUT replaces it meanwhile.
//!
//! The answer leaves the body as a part of the open file ([`FileBody`]), so
//! that each connection driver sends it its own way. `fast`, our HTTP/1.1
//! reader for plain GETs and HEADs, sends it with `sendfile` (no copy through
//! user space). hyper, which serves everything else, can only write the
//! `Bytes` a body yields: for it the first piece is read by the blocking task
//! that opens the file, so an object of up to [`READ_CHUNK`] bytes costs one
//! hand-off to a blocking thread, and each piece is read straight into the
//! buffer that goes to the socket.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};

use super::server::{Body, Reply, full, join_error};
use super::store::Object;
use super::xml::ErrorResponse;
use super::{ObjectKey, RangeRequest, Server, if_range_matches, parse_range};

/// The largest piece of a file read at once for an answer: what one
/// connection holds in memory while its client reads.
const READ_CHUNK: u64 = 256 * 1024;

impl Server {
    /// `prefetch`: read the first piece now (for hyper, see above).
    pub(super) async fn get<B>(
        self: &Arc<Self>,
        req: &Request<B>,
        head: bool,
        prefetch: bool,
    ) -> Result<Response<Reply>, ErrorResponse> {
        let key = ObjectKey::from_request_path(req.uri().path())?;
        let server = self.clone();
        let lookup = key.clone();
        let headers = req.headers();
        let asked = headers.get(header::RANGE).cloned();
        let if_range = headers.get(header::IF_RANGE).cloned();
        let opened = tokio::task::spawn_blocking(move || {
            let Some(mut object) = server.store.open(&lookup)? else {
                return Ok(None);
            };
            let range = requested_range(asked.as_ref(), if_range.as_ref(), &object);
            let (start, len) = match &range {
                _ if head => (0, 0),
                RangeRequest::Whole => (0, object.len),
                RangeRequest::Part(r) => (r.start, r.length()),
                RangeRequest::Unsatisfiable => (0, 0),
            };
            // Without a first piece, `sendfile` reads from `start` itself.
            let first = if len == 0 || !prefetch {
                Bytes::new()
            } else {
                let file = &mut object.file;
                file.seek(SeekFrom::Start(start))
                    .and_then(|_| read_piece(file, len.min(READ_CHUNK)))
                    .map_err(|e| ErrorResponse::internal(e.to_string()))?
            };
            Ok::<_, ErrorResponse>(Some((object, range, start, first)))
        })
        .await
        .map_err(join_error)??;
        let Some((object, range, start, first)) = opened else {
            return Err(ErrorResponse::no_such_key(key.as_str()));
        };
        let mut response = Response::builder()
            .header(header::ETAG, format!("\"{}\"", object.etag))
            .header(
                header::LAST_MODIFIED,
                crate::time::format_http_date(object.modified),
            )
            .header(header::ACCEPT_RANGES, "bytes");
        let mut content_type = None;
        for (name, value) in &object.headers {
            let name = match name.as_str() {
                "content-type" => {
                    content_type = Some(value.clone());
                    continue;
                }
                "x-amz-acl" => "x-cfsign-acl",
                "x-amz-content-sha256" => "x-cfsign-content-sha256",
                other => other,
            };
            if let Ok(value) = HeaderValue::from_str(value) {
                response = response.header(name, value);
            }
        }
        let content_type = content_type.unwrap_or_else(|| {
            mime_guess::from_path(key.as_str())
                .first_or_octet_stream()
                .to_string()
        });
        response = response.header(header::CONTENT_TYPE, content_type);

        let (status, len) = match range {
            RangeRequest::Whole => (StatusCode::OK, object.len),
            RangeRequest::Part(r) => {
                response = response.header(header::CONTENT_RANGE, r.content_range(object.len));
                (StatusCode::PARTIAL_CONTENT, r.length())
            }
            RangeRequest::Unsatisfiable => {
                let requested = headers
                    .get(header::RANGE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                return Err(ErrorResponse::invalid_range(requested, object.len));
            }
        };
        let body = if head || len == 0 {
            Reply::empty()
        } else {
            let read = first.len() as u64;
            Reply::File(FileBody {
                file: object.file,
                first,
                offset: start + read,
                rest: len - read,
            })
        };
        response
            .status(status)
            .header(header::CONTENT_LENGTH, len)
            .body(body)
            .map_err(|e| ErrorResponse::internal(e.to_string()))
    }
}

/// A body still in its file: `first` (already read), then `rest` bytes
/// from `offset`.
pub(super) struct FileBody {
    pub(super) file: File,
    pub(super) first: Bytes,
    pub(super) offset: u64,
    pub(super) rest: u64,
}

impl FileBody {
    #[cfg(target_os = "linux")]
    pub(super) fn len(&self) -> u64 {
        self.first.len() as u64 + self.rest
    }

    /// For hyper: the first piece, then the rest in pieces.
    pub(super) fn into_body(self) -> Body {
        if self.rest == 0 {
            return full(self.first);
        }
        let first = (!self.first.is_empty()).then(|| Ok::<_, io::Error>(Frame::data(self.first)));
        let stream = futures_util::StreamExt::chain(
            futures_util::stream::iter(first),
            pieces(self.file, self.offset, self.rest),
        );
        StreamBody::new(stream).boxed()
    }
}

/// The rest of a body after its first piece: `len` bytes of `file` from
/// `offset`, one piece per blocking task.
pub(super) fn pieces(
    file: File,
    offset: u64,
    len: u64,
) -> impl futures_util::Stream<Item = io::Result<Frame<Bytes>>> + Send {
    let state = (file, offset, len);
    futures_util::stream::try_unfold(state, |(mut file, at, left)| async move {
        if left == 0 {
            return Ok(None);
        }
        let size = left.min(READ_CHUNK);
        let (file, piece) = tokio::task::spawn_blocking(move || {
            file.seek(SeekFrom::Start(at))
                .and_then(|_| read_piece(&mut file, size))
                .map(|piece| (file, piece))
        })
        .await
        .map_err(io::Error::other)??;
        Ok(Some((Frame::data(piece), (file, at + size, left - size))))
    })
}

/// Exactly `size` bytes from where `file` stands, read into the buffer that
/// is sent. A file cut short meanwhile is an error: the client must not take
/// a short body for the object (hyper then drops the connection).
fn read_piece(file: &mut File, size: u64) -> io::Result<Bytes> {
    let mut piece = Vec::with_capacity(size as usize);
    file.take(size).read_to_end(&mut piece)?;
    if (piece.len() as u64) < size {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the file is shorter than when it was opened",
        ));
    }
    Ok(piece.into())
}

/// The part of the object to send: the `Range` asked for, unless an
/// `If-Range` says the client holds another version.
fn requested_range(
    range: Option<&HeaderValue>,
    if_range: Option<&HeaderValue>,
    object: &Object,
) -> RangeRequest {
    let Some(value) = range.and_then(|v| v.to_str().ok()) else {
        return RangeRequest::Whole;
    };
    let still_valid = if_range
        .map(|v| {
            v.to_str()
                .is_ok_and(|v| if_range_matches(v, &object.etag, object.modified))
        })
        .unwrap_or(true);
    if still_valid {
        parse_range(value, object.len)
    } else {
        RangeRequest::Whole
    }
}
