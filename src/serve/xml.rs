//! The error answers `serve` gives, in one catalogue: CloudFront's for
//! refused signatures, S3's for everything the origin refuses. Every status,
//! `<Code>` and `<Message>` the server sends is written here and nowhere else
//! ([`ErrorResponse::new`] is private to this module), so the catalogue can be
//! read against S3's and CloudFront's documentation in one place (with
//! `xml/upload.rs`, the answers to a PUT's headers and body).
//!
//! Same shape for both: `<?xml …?><Error><Code>…</Code><Message>…</Message>…</Error>`,
//! with every value XML-escaped.

use hyper::{Method, StatusCode};

use super::path::{MAX_SEGMENT_BYTES, PathError, ResolveError};
use super::range::unsatisfied_content_range;
use super::rehearse::AllowedMethods;
use crate::verify::{ErrorCode, INVALID_METHOD_MESSAGE, Rejection};

mod upload;

/// An error answer: status, `<Code>`, `<Message>`, extra elements, and the
/// reason written to the request log (never sent to the client).
#[derive(Debug, Clone)]
pub(super) struct ErrorResponse {
    pub(super) status: StatusCode,
    code: &'static str,
    message: String,
    fields: Vec<(&'static str, String)>,
    pub(super) headers: Vec<(&'static str, String)>,
    reason: Option<String>,
    shape: Shape,
}

/// Who answers, and so the body's form and content type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// S3: `application/xml`.
    S3,
    /// CloudFront's refused signatures: `text/xml`.
    CloudFrontXml,
    /// CloudFront's HTML error page ("The request could not be
    /// satisfied"), whose text is the message.
    CloudFrontHtml,
}

impl ErrorResponse {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ErrorResponse {
            status,
            code,
            message: message.into(),
            fields: Vec::new(),
            headers: Vec::new(),
            reason: None,
            shape: Shape::S3,
        }
    }

    fn field(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.fields.push((name, value.into()));
        self
    }

    fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Adds the why for the log.
    pub(super) fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    // CloudFront's answers.

    /// CloudFront's 403 for a refused signature; the log gets the why.
    pub(super) fn refused(rejection: &Rejection) -> Self {
        ErrorResponse::cloudfront(rejection.code).reason(rejection.to_string())
    }

    fn cloudfront(code: ErrorCode) -> Self {
        ErrorResponse {
            shape: Shape::CloudFrontXml,
            ..ErrorResponse::new(StatusCode::FORBIDDEN, code.as_str(), code.message())
        }
    }

    /// CloudFront's refusal of a method the cache behaviour does not allow
    /// (`serve --methods`): a 403 HTML page from the edge itself.
    ///
    /// Follows "HTTP 403 status code (Invalid method)", Amazon CloudFront
    /// Developer Guide,
    /// <https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/http-403-invalid-method.html>
    /// (the status and cause; the `<Code>`-less page has no code, so the
    /// log says `InvalidMethod`, the page's title). The page's markup and
    /// headers (`Server: CloudFront`, `X-Cache: Error from cloudfront`,
    /// `Via`, `X-Amz-Cf-Id`) are those of CloudFront's error pages as
    /// quoted in "CloudFront custom origin distribution returns 502 error
    /// the request could not be satisfied",
    /// <https://stackoverflow.com/questions/20664018>, and the sentence is
    /// the one CloudFront prints for this refusal (quoted in
    /// DFE-Digital/teaching-vacancies pull request 750).
    pub(super) fn method_refused(method: &Method, allowed: &AllowedMethods) -> Self {
        let cf_id = cloudfront_id();
        ErrorResponse {
            shape: Shape::CloudFrontHtml,
            ..ErrorResponse::new(
                StatusCode::FORBIDDEN,
                "InvalidMethod",
                format!(
                    "{INVALID_METHOD_MESSAGE} The distribution supports only cachable requests."
                ),
            )
        }
        .header("server", "CloudFront")
        .cloudfront_headers(&cf_id)
        .field("Request ID", cf_id)
        .reason(format!(
            "the cache behaviour allows {allowed}, not {method} (--methods)"
        ))
    }

    /// What CloudFront adds to an error it sends, its own or the origin's.
    fn cloudfront_headers(self, cf_id: &str) -> Self {
        let via = format!(
            "1.1 {:032x}.cloudfront.net (CloudFront)",
            rand::random::<u128>()
        );
        self.header("x-cache", "Error from cloudfront")
            .header("via", via)
            .header("x-amz-cf-id", cf_id)
    }

    /// CloudFront's limit on the request URL.
    pub(super) fn uri_too_long(max: usize) -> Self {
        ErrorResponse::new(
            StatusCode::URI_TOO_LONG,
            "RequestURITooLong",
            format!("The request URL is longer than {max} bytes."),
        )
    }

    /// CloudFront's limit on the request line and headers together.
    pub(super) fn header_too_large(max: usize) -> Self {
        ErrorResponse::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "RequestHeaderSectionTooLarge",
            format!("Your request header section exceeds the maximum allowed size of {max} bytes."),
        )
    }

    // S3's answers.

    /// S3's 403 (note the capital D: S3 and CloudFront differ here).
    pub(super) fn s3_access_denied() -> Self {
        ErrorResponse::new(StatusCode::FORBIDDEN, "AccessDenied", "Access Denied")
    }

    /// S3's 403 when the bucket policy does not grant the distribution's
    /// origin access identity (or control) `permission`
    /// (`serve --origin-deny`), passed on by CloudFront: S3's body and
    /// headers, then CloudFront's own.
    ///
    /// Follows "Error responses", Amazon S3 API Reference,
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html>
    /// (`application/xml`, `<RequestId>`/`<HostId>`, the `x-amz-request-id`
    /// and `x-amz-id-2` headers; `AccessDenied` / "Access Denied" / 403 in
    /// its list of error codes).
    pub(super) fn origin_access_denied(permission: &str) -> Self {
        let request_id = format!("{:016X}", rand::random::<u64>());
        let host_id = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            random_bytes::<57>(),
        );
        ErrorResponse::s3_access_denied()
            .field("RequestId", request_id.clone())
            .field("HostId", host_id.clone())
            .header("server", "AmazonS3")
            .header("x-amz-request-id", request_id)
            .header("x-amz-id-2", host_id)
            .cloudfront_headers(&cloudfront_id())
            .reason(format!(
                "the origin refused: the bucket policy does not grant {permission} (--origin-deny)"
            ))
    }

    pub(super) fn no_such_key(key: &str) -> Self {
        ErrorResponse::new(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        )
        .field("Key", key)
    }

    pub(super) fn internal(reason: impl Into<String>) -> Self {
        ErrorResponse::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "We encountered an internal error. Please try again.",
        )
        .reason(reason)
    }

    /// A method other than GET, HEAD and PUT.
    pub(super) fn method_not_allowed(method: &Method) -> Self {
        ErrorResponse::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
        )
        .field("Method", method.as_str())
        .field("ResourceType", "OBJECT")
        .header("allow", "GET, HEAD, PUT")
    }

    /// A range that starts past the end of the object.
    pub(super) fn invalid_range(requested: &str, size: u64) -> Self {
        ErrorResponse::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "InvalidRange",
            "The requested range is not satisfiable",
        )
        .field("RangeRequested", requested)
        .field("ActualObjectSize", size.to_string())
        .header("content-range", unsatisfied_content_range(size))
    }

    pub(super) fn folder_not_writable() -> Self {
        ErrorResponse::new(
            StatusCode::BAD_REQUEST,
            "InvalidRequest",
            "cfsign serve stores objects as files: a key ending in / cannot be written.",
        )
    }

    /// One line for the request log: `Code: reason` or `Code: message`.
    pub(super) fn log_text(&self) -> String {
        match &self.reason {
            // A CloudFront rejection's Display already starts with the code.
            Some(r) if r.starts_with(self.code) => r.clone(),
            Some(r) => format!("{}: {r}", self.code),
            None => format!("{}: {}", self.code, self.message),
        }
    }

    /// CloudFront's own refusals are `text/xml` (its page `text/html`);
    /// S3's `application/xml`.
    pub(super) fn content_type(&self) -> &'static str {
        match self.shape {
            Shape::S3 => "application/xml",
            Shape::CloudFrontXml => "text/xml",
            Shape::CloudFrontHtml => "text/html",
        }
    }

    /// The body: XML, or CloudFront's HTML page.
    pub(super) fn body(&self) -> String {
        if self.shape == Shape::CloudFrontHtml {
            return self.html_page();
        }
        let mut out = String::from(r#"<?xml version="1.0" encoding="UTF-8"?><Error>"#);
        element(&mut out, "Code", self.code);
        element(&mut out, "Message", &self.message);
        for (name, value) in &self.fields {
            element(&mut out, name, value);
        }
        out.push_str("</Error>");
        out
    }
}

impl ErrorResponse {
    /// CloudFront's error page: the message, then its fields as `Name: value`.
    fn html_page(&self) -> String {
        let mut out = String::from(concat!(
            r#"<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" "http://www.w3.org/TR/html4/loose.dtd">"#,
            "\n",
            r#"<HTML><HEAD><META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=iso-8859-1">"#,
            "\n<TITLE>ERROR: The request could not be satisfied</TITLE>\n</HEAD><BODY>\n<H1>",
        ));
        out.push_str(self.status.as_str());
        out.push_str(" ERROR</H1>\n<H2>The request could not be satisfied.</H2>\n");
        out.push_str("<HR noshade size=\"1px\">\n");
        escape_into(&mut out, &self.message);
        out.push_str("\n<BR clear=\"all\">\n<HR noshade size=\"1px\">\n<PRE>\nGenerated by cloudfront (CloudFront)\n");
        for (name, value) in &self.fields {
            out.push_str(name);
            out.push_str(": ");
            escape_into(&mut out, value);
            out.push('\n');
        }
        out.push_str("</PRE>\n<ADDRESS>\n</ADDRESS>\n</BODY></HTML>");
        out
    }
}

/// An `X-Amz-Cf-Id`: URL-safe base64, as CloudFront's.
fn cloudfront_id() -> String {
    // 40 bytes: 56 characters, the last two padding, as in theirs.
    base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE,
        random_bytes::<40>(),
    )
}

/// Random bytes for the IDs CloudFront and S3 put in an answer (only
/// their look matters).
fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0; N];
    rand::Rng::fill(&mut rand::thread_rng(), &mut bytes[..]);
    bytes
}

/// A request path that is no usable key: 400.
impl From<PathError> for ErrorResponse {
    fn from(e: PathError) -> Self {
        match e {
            PathError::TooLong => ErrorResponse::new(
                StatusCode::BAD_REQUEST,
                "KeyTooLongError",
                "Your key is too long",
            ),
            // S3 takes any segment; the file system here takes 255 bytes.
            // S3's word for a value it cannot take is InvalidArgument.
            PathError::SegmentTooLong => ErrorResponse::new(
                StatusCode::BAD_REQUEST,
                "InvalidArgument",
                format!("cfsign serve stores objects as files: a part of the key between slashes cannot be longer than {MAX_SEGMENT_BYTES} bytes."),
            )
            .reason(e.to_string()),
            e => ErrorResponse::new(
                StatusCode::BAD_REQUEST,
                "InvalidURI",
                "Couldn't parse the specified URI.",
            )
            .reason(format!("refused path: {e}")),
        }
    }
}

/// A key that the file system under the root cannot hold.
impl From<ResolveError> for ErrorResponse {
    fn from(e: ResolveError) -> Self {
        match e {
            ResolveError::Escapes(_) => ErrorResponse::s3_access_denied().reason(e.to_string()),
            ResolveError::Conflict(_) => ErrorResponse::new(
                StatusCode::CONFLICT,
                "KeyConflict",
                "cfsign serve stores objects as files: this key needs a folder where a file is, or a file where a folder is.",
            )
            .reason(e.to_string()),
            // The OS cannot hold the name: the client's key, not a server fault.
            ResolveError::TooLong(_) => ErrorResponse::new(
                StatusCode::BAD_REQUEST,
                "InvalidArgument",
                "cfsign serve stores objects as files: this key makes a path longer than the operating system allows.",
            )
            .reason(e.to_string()),
            ResolveError::Io(e) => ErrorResponse::internal(e.to_string()),
        }
    }
}

fn element(out: &mut String, name: &str, value: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    escape_into(out, value);
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Escapes element text as S3 does (`&`, `<`, `>`; quotes stay). Keys never
/// hold control characters (the path mapper refuses them), so nothing else
/// needs care.
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudfront_body_is_byte_exact() {
        let body = ErrorResponse::cloudfront(ErrorCode::AccessDenied).body();
        assert_eq!(
            body,
            r#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access denied</Message></Error>"#
        );
    }

    #[test]
    fn values_are_escaped() {
        let body = ErrorResponse::no_such_key(r#"a&b<c>"d'.txt"#).body();
        assert!(
            body.ends_with("<Key>a&amp;b&lt;c&gt;\"d'.txt</Key></Error>"),
            "{body}"
        );
    }

    /// The value of the answer's header `name`.
    fn header_of<'e>(e: &'e ErrorResponse, name: &str) -> Option<&'e str> {
        e.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn method_refusal_is_cloudfronts_html_page() {
        let allowed: AllowedMethods = "GET,HEAD".parse().unwrap();
        let e = ErrorResponse::method_refused(&Method::PUT, &allowed);
        assert_eq!(
            (e.status, e.content_type()),
            (StatusCode::FORBIDDEN, "text/html")
        );
        let header = |name| header_of(&e, name);
        assert_eq!(header("server"), Some("CloudFront"));
        assert_eq!(header("x-cache"), Some("Error from cloudfront"));
        let cf_id = header("x-amz-cf-id").unwrap();
        assert!(cf_id.len() == 56 && cf_id.ends_with("=="), "{cf_id}");
        let page = e.body();
        assert!(page.starts_with("<!DOCTYPE HTML PUBLIC"), "{page}");
        assert!(page.contains("<H1>403 ERROR</H1>\n<H2>The request could not be satisfied.</H2>"));
        assert!(page.contains("This distribution is not configured to allow the HTTP request method that was used for this request. The distribution supports only cachable requests."));
        assert!(page.contains(&format!(
            "Generated by cloudfront (CloudFront)\nRequest ID: {cf_id}\n"
        )));
        assert!(page.ends_with("</BODY></HTML>"));
        assert_eq!(
            e.log_text(),
            "InvalidMethod: the cache behaviour allows GET, HEAD, not PUT (--methods)"
        );
    }

    #[test]
    fn origin_refusal_is_s3s_access_denied_through_cloudfront() {
        let e = ErrorResponse::origin_access_denied("s3:PutObject");
        assert_eq!(
            (e.status, e.content_type()),
            (StatusCode::FORBIDDEN, "application/xml")
        );
        let header = |name| header_of(&e, name);
        let request_id = header("x-amz-request-id").unwrap();
        let host_id = header("x-amz-id-2").unwrap();
        assert!(request_id.len() == 16 && request_id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(host_id.len(), 76);
        assert_eq!(header("server"), Some("AmazonS3"));
        assert_eq!(header("x-cache"), Some("Error from cloudfront"));
        assert!(header("via").is_some_and(|v| v.ends_with(".cloudfront.net (CloudFront)")));
        assert_eq!(
            e.body(),
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>{request_id}</RequestId><HostId>{host_id}</HostId></Error>"#
            )
        );
        assert!(
            e.log_text().starts_with("AccessDenied: the origin refused")
                && e.log_text().contains("s3:PutObject")
        );
    }

    #[test]
    fn content_types_by_who_answers() {
        assert_eq!(
            ErrorResponse::cloudfront(ErrorCode::InvalidKey).content_type(),
            "text/xml"
        );
        assert_eq!(
            ErrorResponse::s3_access_denied().content_type(),
            "application/xml"
        );
    }
}
