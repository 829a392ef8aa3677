//! Reading what went wrong, for `get` and `put` alike: what CloudFront and
//! S3 say when they refuse (a bounded read of the body, a small, defensive
//! extraction of `<Code>` and `<Message>`, no entity expansion beyond the
//! five predefined ones), and a transport error in one line. Who refused,
//! and why, is [`super::refusal`]'s to say.

use std::time::Duration;

use super::client;

/// The most of an error body that is read to find CloudFront's `<Code>`.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// At most [`ERROR_BODY_LIMIT`] bytes of an error answer; with `patience`,
/// giving up when a chunk takes longer than that.
pub(crate) async fn error_body(
    mut response: reqwest::Response,
    patience: Option<Duration>,
) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let chunk = match patience {
            Some(patience) => tokio::time::timeout(patience, response.chunk()).await,
            None => Ok(response.chunk().await),
        };
        let Ok(Ok(Some(chunk))) = chunk else { break };
        body.extend_from_slice(&chunk[..chunk.len().min(ERROR_BODY_LIMIT - body.len())]);
        if body.len() >= ERROR_BODY_LIMIT {
            break;
        }
    }
    body
}

/// CloudFront's or S3's error code and message, if the body has them.
pub(crate) fn error_code_and_message(body: &[u8]) -> Option<(String, String)> {
    let text = String::from_utf8_lossy(&body[..body.len().min(ERROR_BODY_LIMIT)]);
    let code = element(&text, "Code")?;
    let message = element(&text, "Message").unwrap_or_default();
    Some((code, message))
}

/// The text of the first `<name>` element, entities decoded, controls
/// dropped, at most 300 characters.
pub(crate) fn element(text: &str, name: &str) -> Option<String> {
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

/// The status's reason phrase without spaces (`Forbidden`): the code
/// shown when the body has none.
pub(crate) fn reason_phrase(status: u16) -> String {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
        .replace(' ', "")
}

/// `503 ServiceUnavailable: message`, for the statuses that are not
/// refusals (a refusal is read by [`super::refusal::Refusal`]).
pub(crate) fn status_line(status: u16, body: &[u8]) -> String {
    match error_code_and_message(body) {
        Some((code, message)) if !message.is_empty() => format!("{status} {code}: {message}"),
        Some((code, _)) => format!("{status} {code}"),
        None => format!("{status} {}", reason_phrase(status)),
    }
}

/// A transport error in one line, naming the host but never the (signed)
/// URL: a TLS failure or a proxy's refusal with its fix, a timeout, a
/// connection that failed, or the innermost cause.
pub(crate) fn describe(e: &reqwest::Error) -> String {
    let mut root: &dyn std::error::Error = e;
    while let Some(source) = root.source() {
        root = source;
    }
    // reqwest's own message holds the URL, signature and all.
    let cause = match std::ptr::addr_eq(root, e as &dyn std::error::Error) && e.url().is_some() {
        true => "the request failed".to_string(),
        false => root.to_string(),
    };
    let cause = match cause.find(" (os error") {
        Some(i) => cause[..i].to_string(),
        None => cause,
    };
    let host = e
        .url()
        .map(|u| {
            let host = u.host_str().unwrap_or_default();
            u.port()
                .map_or_else(|| host.to_string(), |p| format!("{host}:{p}"))
        })
        .unwrap_or_default();
    if let Some(tls) = client::tls_failure(e) {
        format!("{host}: {tls}")
    } else if let Some(proxy) = client::proxy_refusal(e) {
        format!("{host}: {proxy}")
    } else if e.is_timeout() {
        format!("{host} did not answer in time")
    } else if e.is_connect() {
        format!("cannot connect to {host}: {}", cause.to_lowercase())
    } else if e.is_redirect() {
        format!("{host}: too many redirects")
    } else {
        format!("{host}: {cause}")
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
        assert_eq!(status_line(503, b""), "503 ServiceUnavailable");
        assert_eq!(status_line(503, cf), "503 AccessDenied: Access denied");
    }
}
