//! MD5, the digest S3 answers as a plain object's ETag: `put` computes it to
//! check the answer when nothing better is echoed, `serve` to give it. Beside
//! it, the other rules of S3's objects that both sides keep: the size one PUT
//! may carry, and the `x-amz-checksum-sha256` header's form.
//!
//! MD5 is the costliest step of moving a body (about twice SHA-256 with the
//! SHA extensions), so it runs on AWS-LC's assembly when built with the
//! `aws-lc` feature (as OpenSSL's, which it replaced, a quarter less CPU than
//! the `md-5` crate) and on the `md-5` crate without it.

use std::fmt;

#[cfg(not(feature = "aws-lc"))]
use md5::Digest;

/// S3's limit for one PUT, 5 GiB: `put` refuses a larger file (CloudFront
/// cannot carry multipart uploads) and `serve` a larger body.
///
/// ```
/// assert_eq!(cfsign::digest::MAX_OBJECT_SIZE, 5 * 1024 * 1024 * 1024);
/// ```
pub const MAX_OBJECT_SIZE: u64 = 5 << 30;

/// The header in which a PUT announces its body's SHA-256 for S3 to check
/// and store, and in which S3's answer echoes it (S3 API Reference,
/// "PutObject", and User Guide, "Checking object integrity":
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html>,
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html>).
/// Its value is [`checksum_sha256`]'s.
///
/// ```
/// assert_eq!(cfsign::digest::CHECKSUM_SHA256, "x-amz-checksum-sha256");
/// ```
pub const CHECKSUM_SHA256: &str = "x-amz-checksum-sha256";

/// The value of [`CHECKSUM_SHA256`] for a SHA-256: standard base64 with
/// padding (S3's "Base64 encoded, 256-bit SHA256 digest"), where
/// `x-amz-content-sha256` carries the same digest in hex.
///
/// ```
/// use sha2::{Digest, Sha256};
/// let digest: [u8; 32] = Sha256::digest(b"").into();
/// assert_eq!(
///     cfsign::digest::checksum_sha256(&digest),
///     "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
/// );
/// ```
pub fn checksum_sha256(digest: &[u8; 32]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(digest)
}

/// Whether `value` has the form of a [`CHECKSUM_SHA256`] value: the
/// canonical base64 of 32 bytes. S3 refuses any other with 400
/// `InvalidRequest`.
///
/// ```
/// use cfsign::digest::is_checksum_sha256;
/// assert!(is_checksum_sha256("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="));
/// assert!(!is_checksum_sha256("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU")); // no padding
/// assert!(!is_checksum_sha256("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")); // hex
/// ```
pub fn is_checksum_sha256(value: &str) -> bool {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(value)
        .is_ok_and(|bytes| bytes.len() == 32)
}

/// A running MD5.
///
/// ```
/// let mut md5 = cfsign::digest::Md5::new();
/// md5.update(b"a");
/// md5.update(b"bc");
/// assert_eq!(md5.finish()[..4], [0x90, 0x01, 0x50, 0x98]); // 900150983cd24fb0…
/// ```
#[derive(Clone)]
pub struct Md5(Inner);

#[derive(Clone)]
enum Inner {
    // A plain C struct: cloned by copying.
    #[cfg(feature = "aws-lc")]
    AwsLc(aws_lc_sys::MD5_CTX),
    #[cfg(not(feature = "aws-lc"))]
    RustCrypto(md5::Md5),
}

impl Md5 {
    /// An MD5 of nothing yet.
    ///
    /// ```
    /// let empty = cfsign::digest::Md5::new().finish();
    /// assert_eq!(empty[..4], [0xd4, 0x1d, 0x8c, 0xd9]); // d41d8cd98f00b204…
    /// ```
    pub fn new() -> Self {
        #[cfg(feature = "aws-lc")]
        {
            let mut ctx = std::mem::MaybeUninit::<aws_lc_sys::MD5_CTX>::uninit();
            // SAFETY: MD5_Init fills the whole struct (and always returns 1).
            unsafe {
                aws_lc_sys::MD5_Init(ctx.as_mut_ptr());
                Md5(Inner::AwsLc(ctx.assume_init()))
            }
        }
        #[cfg(not(feature = "aws-lc"))]
        Md5(Inner::RustCrypto(md5::Md5::new()))
    }

    /// Adds `bytes`: adding in pieces gives the digest of the whole.
    ///
    /// ```
    /// use cfsign::digest::Md5;
    /// let mut pieces = Md5::new();
    /// pieces.update(b"hello ");
    /// pieces.update(b"world");
    /// let mut whole = Md5::new();
    /// whole.update(b"hello world");
    /// assert_eq!(pieces.finish(), whole.finish());
    /// ```
    pub fn update(&mut self, bytes: &[u8]) {
        match &mut self.0 {
            #[cfg(feature = "aws-lc")]
            // SAFETY: `h` was initialised by MD5_Init; `bytes` is read for its length.
            Inner::AwsLc(h) => unsafe {
                aws_lc_sys::MD5_Update(h, bytes.as_ptr().cast(), bytes.len());
            },
            #[cfg(not(feature = "aws-lc"))]
            Inner::RustCrypto(h) => h.update(bytes),
        }
    }

    /// The digest of everything added.
    ///
    /// ```
    /// let mut md5 = cfsign::digest::Md5::new();
    /// md5.update(b"abc");
    /// let digest = md5.finish();
    /// assert_eq!(digest.len(), 16);
    /// assert_eq!(digest[12..], [0x28, 0xe1, 0x7f, 0x72]); // …28e17f72
    /// ```
    pub fn finish(self) -> [u8; 16] {
        match self.0 {
            #[cfg(feature = "aws-lc")]
            Inner::AwsLc(mut h) => {
                let mut out = [0u8; 16];
                // SAFETY: `out` has the 16 bytes MD5_Final writes.
                unsafe { aws_lc_sys::MD5_Final(out.as_mut_ptr(), &mut h) };
                out
            }
            #[cfg(not(feature = "aws-lc"))]
            Inner::RustCrypto(h) => h.finalize().into(),
        }
    }
}

impl Default for Md5 {
    fn default() -> Self {
        Md5::new()
    }
}

impl fmt::Debug for Md5 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Md5")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests_in_pieces_and_after_a_clone() {
        // RFC 1321's test suite.
        let empty = Md5::new().finish();
        assert_eq!(hex::encode(empty), "d41d8cd98f00b204e9800998ecf8427e");
        let mut md5 = Md5::new();
        md5.update(b"message ");
        let copy = md5.clone();
        md5.update(b"digest");
        assert_eq!(
            hex::encode(md5.finish()),
            "f96b697d7cb7938d525a2f31aaf161d0"
        );
        let mut copy = copy;
        copy.update(b"digest");
        assert_eq!(
            hex::encode(copy.finish()),
            "f96b697d7cb7938d525a2f31aaf161d0"
        );
        let rust: [u8; 16] = <md5::Md5 as md5::Digest>::digest(b"abc").into();
        let mut ours = Md5::new();
        ours.update(b"abc");
        assert_eq!(ours.finish(), rust);
        assert_eq!(hex::encode(rust), "900150983cd24fb0d6963f7d28e17f72");
    }
}
