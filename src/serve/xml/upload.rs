//! S3's answers to a PUT whose headers or body it refuses: what a
//! single-PUT upload must announce (length, SHA-256, optional MD5 and
//! checksum), a body that falls short or stops, too many at once, and a
//! write that was not committed. Part of the one catalogue in `xml.rs`.

use hyper::StatusCode;

use super::ErrorResponse;
use crate::serve::store::PutError;

impl ErrorResponse {
    pub(in crate::serve) fn missing_content_length() -> Self {
        ErrorResponse::new(
            StatusCode::LENGTH_REQUIRED,
            "MissingContentLength",
            "You must provide the Content-Length HTTP header.",
        )
    }

    pub(in crate::serve) fn bad_content_length() -> Self {
        ErrorResponse::new(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "Content-Length is not a number.",
        )
    }

    pub(in crate::serve) fn entity_too_large(len: u64, max: u64) -> Self {
        ErrorResponse::new(
            StatusCode::BAD_REQUEST,
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed object size.",
        )
        .field("ProposedSize", len.to_string())
        .field("MaxSizeAllowed", max.to_string())
    }

    pub(in crate::serve) fn missing_content_sha256() -> Self {
        ErrorResponse::new(
            StatusCode::BAD_REQUEST,
            "InvalidRequest",
            "Missing required header for this request: x-amz-content-sha256",
        )
    }

    /// S3 also takes `UNSIGNED-PAYLOAD` and streaming signatures; a local
    /// edge that checks every body takes only the digest.
    pub(in crate::serve) fn bad_content_sha256(value: &str) -> Self {
        ErrorResponse::new(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or a valid sha256 value.",
        )
        .field("ArgumentName", "x-amz-content-sha256")
        .field("ArgumentValue", value)
        .reason("cfsign serve accepts only the hex SHA-256 of the body")
    }

    pub(in crate::serve) fn bad_content_md5() -> Self {
        ErrorResponse::new(
            StatusCode::BAD_REQUEST,
            "InvalidDigest",
            "The Content-MD5 you specified was invalid.",
        )
    }

    /// S3's answer to an `x-amz-checksum-sha256` that is not the base64 of
    /// 32 bytes (as quoted from S3 in public S3-compatible servers' tests;
    /// the "Checking object integrity" page gives no text).
    pub(in crate::serve) fn bad_checksum_sha256() -> Self {
        ErrorResponse::new(
            StatusCode::BAD_REQUEST,
            "InvalidRequest",
            "Value for x-amz-checksum-sha256 header is invalid.",
        )
    }

    pub(in crate::serve) fn incomplete_body(reason: String) -> Self {
        ErrorResponse::new(
            StatusCode::BAD_REQUEST,
            "IncompleteBody",
            "You did not provide the number of bytes specified by the Content-Length HTTP header.",
        )
        .reason(reason)
    }

    /// S3's answer to a client that stopped sending. The connection is
    /// closed: the rest of the body is never read.
    pub(in crate::serve) fn request_timeout(reason: String) -> Self {
        ErrorResponse::new(
            StatusCode::BAD_REQUEST,
            "RequestTimeout",
            "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.",
        )
        .header("connection", "close")
        .reason(reason)
    }

    /// S3's answer when it is too busy; the body is not read.
    pub(in crate::serve) fn slow_down(max: usize) -> Self {
        ErrorResponse::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "SlowDown",
            "Please reduce your request rate.",
        )
        .header("connection", "close")
        .reason(format!("{max} uploads are already being received"))
    }
}

/// A write that was not committed.
impl From<PutError> for ErrorResponse {
    fn from(e: PutError) -> Self {
        match e {
            PutError::Sha256Mismatch { client, computed } => ErrorResponse::new(
                StatusCode::BAD_REQUEST,
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            )
            .field("ClientComputedContentSHA256", client)
            .field("S3ComputedContentSHA256", computed),
            PutError::BadDigest => ErrorResponse::new(
                StatusCode::BAD_REQUEST,
                "BadDigest",
                "The Content-MD5 you specified did not match what we received.",
            ),
            // S3's words for a checked `x-amz-checksum-*` that differs (its
            // "Checking object integrity" page names the check, not the
            // text; this is S3's answer as SDK and S3-compatible servers'
            // tests quote it).
            e @ PutError::ChecksumSha256Mismatch { .. } => ErrorResponse::new(
                StatusCode::BAD_REQUEST,
                "BadDigest",
                "The SHA256 you specified did not match the calculated checksum.",
            )
            .reason(e.to_string()),
            e @ PutError::Length { .. } => ErrorResponse::incomplete_body(e.to_string()),
            PutError::Resolve(e) => e.into(),
            PutError::Io(e) => ErrorResponse::internal(e.to_string()),
        }
    }
}
