//! The error bodies `serve` answers with: CloudFront's for refused signatures,
//! S3's for everything the origin refuses. Same shape for both:
//! `<?xml …?><Error><Code>…</Code><Message>…</Message>…</Error>`, with every
//! value XML-escaped.

use hyper::StatusCode;

use crate::verify::{ErrorCode, Rejection};

/// An error answer: status, `<Code>`, `<Message>`, extra elements, and the
/// reason written to the request log (never sent to the client).
#[derive(Debug, Clone)]
pub struct ErrorResponse {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub fields: Vec<(&'static str, String)>,
    pub headers: Vec<(&'static str, String)>,
    pub reason: Option<String>,
    /// CloudFront's own refusals are `text/xml`; S3's `application/xml`.
    pub from_cloudfront: bool,
}

impl ErrorResponse {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ErrorResponse {
            status,
            code,
            message: message.into(),
            fields: Vec::new(),
            headers: Vec::new(),
            reason: None,
            from_cloudfront: false,
        }
    }

    pub fn field(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.fields.push((name, value.into()));
        self
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// CloudFront's 403 for a refused signature; the log gets the why.
    pub fn refused(rejection: &Rejection) -> Self {
        ErrorResponse::cloudfront(rejection.code).reason(rejection.to_string())
    }

    pub fn cloudfront(code: ErrorCode) -> Self {
        ErrorResponse {
            from_cloudfront: true,
            ..ErrorResponse::new(StatusCode::FORBIDDEN, code.as_str(), code.message())
        }
    }

    /// S3's 403 (note the capital D: S3 and CloudFront differ here).
    pub fn s3_access_denied() -> Self {
        ErrorResponse::new(StatusCode::FORBIDDEN, "AccessDenied", "Access Denied")
    }

    pub fn no_such_key(key: &str) -> Self {
        ErrorResponse::new(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        )
        .field("Key", key)
    }

    pub fn invalid_uri(reason: impl Into<String>) -> Self {
        ErrorResponse::new(
            StatusCode::BAD_REQUEST,
            "InvalidURI",
            "Couldn't parse the specified URI.",
        )
        .reason(reason)
    }

    pub fn internal(reason: impl Into<String>) -> Self {
        ErrorResponse::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "We encountered an internal error. Please try again.",
        )
        .reason(reason)
    }

    /// One line for the request log: `Code: reason` or `Code: message`.
    pub fn log_text(&self) -> String {
        match &self.reason {
            // A CloudFront rejection's Display already starts with the code.
            Some(r) if r.starts_with(self.code) => r.clone(),
            Some(r) => format!("{}: {r}", self.code),
            None => format!("{}: {}", self.code, self.message),
        }
    }

    pub fn body(&self) -> String {
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
pub fn escape_into(out: &mut String, text: &str) {
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
}
