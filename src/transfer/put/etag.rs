//! The check of S3's answer to a PUT: a plain object's ETag is the MD5 of
//! its bytes, so an ETag that is an MD5 and not the file's means the server
//! stored something else.

use reqwest::header;

use crate::error::Error;

/// The parts of a success answer that matter.
pub(super) struct Answer {
    pub etag: Option<String>,
    /// SSE-KMS and SSE-C objects have ETags that are not the MD5 of the body.
    encrypted: bool,
}

impl Answer {
    pub(super) fn of(response: &reqwest::Response) -> Self {
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
    pub(super) fn check_etag(&self, md5: &str, url: &str) -> Result<bool, Error> {
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
pub(crate) fn md5_etag(etag: &str) -> Option<&str> {
    let hex = etag.strip_prefix('"')?.strip_suffix('"')?;
    (hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hex)
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
}
