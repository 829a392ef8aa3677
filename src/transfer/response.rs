//! Reading what CloudFront and S3 say when they refuse: a small, defensive
//! extraction of `<Code>` and `<Message>` from an XML error body (bounded,
//! no entity expansion beyond the five predefined ones).

use crate::error::Error;

/// CloudFront's or S3's error code and message, if the body has them.
pub fn error_code_and_message(body: &[u8]) -> Option<(String, String)> {
    let text = String::from_utf8_lossy(&body[..body.len().min(64 * 1024)]);
    let code = element(&text, "Code")?;
    let message = element(&text, "Message").unwrap_or_default();
    Some((code, message))
}

fn element(text: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = text.find(&open)? + open.len();
    let end = start + text[start..].find(&close)?;
    let raw = &text[start..end];
    let value = raw
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&");
    Some(
        value
            .chars()
            .filter(|c| !c.is_control())
            .take(300)
            .collect(),
    )
}

/// The error for a refused request (4xx): `403 AccessDenied: Access denied`
/// with a hint where one is known.
pub fn refused(status: u16, body: &[u8], signed_by_us: bool) -> Error {
    let (code, message) = error_code_and_message(body).unwrap_or_else(|| {
        (
            reqwest::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("Error")
                .replace(' ', ""),
            String::new(),
        )
    });
    let hint = match (status, code.as_str()) {
        (403, _) if signed_by_us => Some(
            "check the key pair ID and key with `cfsign verify URL --public-key ID=PUBLIC.pem`"
                .to_string(),
        ),
        (403, _) => Some("find out why with `cfsign verify URL`".to_string()),
        (404, _) => Some("no object at that URL".to_string()),
        _ => None,
    };
    Error::Refused {
        status,
        code,
        message,
        hint,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cloudfront_and_s3_bodies() {
        let cf = br#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access denied</Message></Error>"#;
        assert_eq!(
            error_code_and_message(cf),
            Some(("AccessDenied".into(), "Access denied".into()))
        );
        let s3 = b"<Error><Code>XAmzContentSHA256Mismatch</Code><Message>a &amp; b &lt;c&gt;</Message></Error>";
        assert_eq!(error_code_and_message(s3).unwrap().1, "a & b <c>");
        assert_eq!(error_code_and_message(b"<html>nope</html>"), None);
        assert_eq!(error_code_and_message(b"<Code>unterminated"), None);
        let e = refused(403, cf, false).to_string();
        assert_eq!(
            e,
            "403 AccessDenied: Access denied (find out why with `cfsign verify URL`)"
        );
        assert_eq!(
            refused(404, b"", false).to_string(),
            "404 NotFound (no object at that URL)"
        );
    }
}
