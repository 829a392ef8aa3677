//! The checks of S3's answer to a PUT. S3 echoes the `x-amz-checksum-sha256`
//! it was sent once it has checked it against the body (S3 API Reference,
//! "PutObject": <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html>;
//! User Guide, "Checking object integrity":
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html>),
//! so an echo of ours verifies the upload with the SHA-256 already computed.
//! Without one (an older S3-compatible server, a proxy that drops the
//! header), the ETag is the check: a plain object's ETag is the MD5 of its
//! bytes, so an ETag that is an MD5 and not the file's means the server
//! stored something else. Either mismatch is an integrity failure.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use reqwest::header;

use crate::digest::CHECKSUM_SHA256;
use crate::error::Error;

/// Whether the server echoes `x-amz-checksum-sha256`, as learnt from its
/// answers so far. Clones share what is learnt: the uploads of one run that
/// share one [`PutOptions`](super::PutOptions) learn it from the first
/// answer, and later ones compute the MD5 beside the upload (as before the
/// checksum) instead of in a pass of its own after it when the server is
/// known not to echo.
///
/// ```
/// use cfsign::transfer::put::PutOptions;
///
/// let options = PutOptions::default();
/// assert_eq!(options.checksum_echo.learnt(), None); // no answer yet
/// let shared = options.clone(); // learns along with `options`
/// assert_eq!(shared.checksum_echo.learnt(), None);
/// ```
#[derive(Clone, Debug, Default)]
pub struct ChecksumEcho(Arc<AtomicU8>);

const UNKNOWN: u8 = 0;
const ECHOES: u8 = 1;
const SILENT: u8 = 2;

impl ChecksumEcho {
    /// `Some(true)` once an answer echoed the checksum, `Some(false)` once
    /// one did not (the latest answer counts), `None` before any.
    ///
    /// ```
    /// let echo = cfsign::transfer::put::ChecksumEcho::default();
    /// assert_eq!(echo.learnt(), None);
    /// ```
    pub fn learnt(&self) -> Option<bool> {
        match self.0.load(Ordering::Relaxed) {
            UNKNOWN => None,
            ECHOES => Some(true),
            _ => Some(false),
        }
    }

    pub(super) fn learn(&self, echoes: bool) {
        self.0
            .store(if echoes { ECHOES } else { SILENT }, Ordering::Relaxed);
    }
}

/// The parts of a success answer that matter.
pub(crate) struct Answer {
    pub etag: Option<String>,
    /// The `x-amz-checksum-sha256` echoed, as given.
    pub checksum_sha256: Option<String>,
    /// SSE-KMS and SSE-C objects have ETags that are not the MD5 of the body.
    encrypted: bool,
}

impl Answer {
    pub(super) fn of(response: &reqwest::Response) -> Self {
        Self::from_headers(response.headers())
    }

    pub(crate) fn from_headers(h: &header::HeaderMap) -> Self {
        let etag = h
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let kms = h
            .get("x-amz-server-side-encryption")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("aws:kms"));
        let sse_c = h.contains_key("x-amz-server-side-encryption-customer-algorithm");
        // Repeated, the header is one comma-separated list (RFC 9110,
        // section 5.3), which is ours only if it is ours alone: the first
        // of two echoes would hide the other.
        let checksum_sha256 = h
            .get_all(CHECKSUM_SHA256)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .reduce(|all, next| format!("{all}, {next}"));
        Answer {
            etag,
            checksum_sha256,
            encrypted: kms || sse_c,
        }
    }

    /// Checks an echoed `x-amz-checksum-sha256` against `ours` (the file's,
    /// as sent): `Ok(false)` when the answer has none.
    pub(crate) fn check_checksum(&self, ours: &str, url: &str) -> Result<bool, Error> {
        let Some(theirs) = &self.checksum_sha256 else {
            return Ok(false);
        };
        if theirs != ours {
            return Err(Error::Integrity(format!(
                "the server stored something else at {url}: its {CHECKSUM_SHA256} {} is not the SHA-256 of the file ({ours}); upload again",
                crate::escape::shown(theirs)
            )));
        }
        Ok(true)
    }

    /// Checks an ETag that is an MD5 (`"` + 32 hex digits + `"`); others
    /// (multipart-style `…-N`, weak, encrypted objects) are taken as they are.
    pub(crate) fn check_etag(&self, md5: &str, url: &str) -> Result<bool, Error> {
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
fn md5_etag(etag: &str) -> Option<&str> {
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
            checksum_sha256: None,
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
            checksum_sha256: None,
            encrypted: false,
        };
        assert!(!none.check_etag(empty, url).unwrap());
    }

    #[test]
    fn checksum_check() {
        let empty = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
        let answer = |checksum: Option<&str>| Answer {
            etag: None,
            checksum_sha256: checksum.map(str::to_string),
            encrypted: false,
        };
        let url = "https://h/a";
        assert!(answer(Some(empty)).check_checksum(empty, url).unwrap());
        assert!(!answer(None).check_checksum(empty, url).unwrap());
        let other = "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=";
        let err = answer(Some(other)).check_checksum(empty, url).unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::INTEGRITY);
        assert!(err.to_string().contains(other), "{err}");

        let echo = ChecksumEcho::default();
        let shared = echo.clone();
        assert_eq!(shared.learnt(), None);
        echo.learn(false);
        assert_eq!(shared.learnt(), Some(false));
        echo.learn(true);
        assert_eq!(shared.learnt(), Some(true));
    }
}
