//! The origin's GET and HEAD: one object, whole or one byte range
//! (honoured only while `If-Range` still matches), with the headers its PUT
//! stored. The body is streamed from the open file, so a reader sees the
//! version it opened even if a PUT replaces it meanwhile.

use std::io::{Seek, SeekFrom};
use std::sync::Arc;

use futures_util::TryStreamExt;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Request, Response, StatusCode};
use tokio::io::AsyncReadExt;

use super::server::{Body, empty, join_error};
use super::store::Object;
use super::xml::ErrorResponse;
use super::{ObjectKey, RangeRequest, Server, if_range_matches, parse_range};

/// The largest piece of a file read at once for an answer.
const READ_CHUNK: usize = 256 * 1024;

impl Server {
    pub(super) async fn get(
        self: &Arc<Self>,
        req: Request<Incoming>,
        head: bool,
    ) -> Result<Response<Body>, ErrorResponse> {
        let key = ObjectKey::from_request_path(req.uri().path())?;
        let server = self.clone();
        let lookup = key.clone();
        let object = tokio::task::spawn_blocking(move || server.store.open(&lookup))
            .await
            .map_err(join_error)??;
        let Some(mut object) = object else {
            return Err(ErrorResponse::no_such_key(key.as_str()));
        };

        let headers = req.headers();
        let range = requested_range(headers, &object);
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

        let (status, start, len) = match range {
            RangeRequest::Whole => (StatusCode::OK, 0, object.len),
            RangeRequest::Part(r) => {
                response = response.header(header::CONTENT_RANGE, r.content_range(object.len));
                (StatusCode::PARTIAL_CONTENT, r.start, r.length())
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
            empty()
        } else {
            object
                .file
                .seek(SeekFrom::Start(start))
                .map_err(|e| ErrorResponse::internal(e.to_string()))?;
            let file = tokio::fs::File::from_std(object.file).take(len);
            let stream = tokio_util::io::ReaderStream::with_capacity(file, READ_CHUNK);
            StreamBody::new(stream.map_ok(Frame::data)).boxed()
        };
        response
            .status(status)
            .header(header::CONTENT_LENGTH, len)
            .body(body)
            .map_err(|e| ErrorResponse::internal(e.to_string()))
    }
}

/// The part of the object to send: the `Range` asked for, unless an
/// `If-Range` says the client holds another version.
fn requested_range(headers: &HeaderMap, object: &Object) -> RangeRequest {
    let Some(value) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return RangeRequest::Whole;
    };
    let still_valid = headers
        .get(header::IF_RANGE)
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
