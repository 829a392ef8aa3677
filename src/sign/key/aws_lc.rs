//! RSA PKCS#1 v1.5 signing through AWS-LC (the `aws-lc` feature): its
//! assembly bignum code signs about seven times faster than the pure-Rust
//! `rsa` crate, with the same bytes (the scheme is deterministic).
//!
//! AWS-LC rather than the system's OpenSSL: it is linked statically and does
//! no global set-up (OpenSSL 3 reads its config file and fills its name
//! tables before the first signature), which was most of the time of a
//! one-URL `cfsign sign`; its batch speed is the same. Its only entry points
//! here are parsing a PKCS#1 DER key, `RSA_sign` and freeing: the digest is
//! computed by the same code as for the other signers.

use std::ffi::{c_int, c_uint};
use std::ptr::NonNull;

use aws_lc_sys as ffi;

use super::super::HashAlgorithm;

/// An AWS-LC `RSA` private key. The C object is reference-counted and
/// immutable once parsed (its blinding state has a lock of its own), so
/// clones share it and threads sign with it at once.
pub(super) struct Rsa(NonNull<ffi::RSA>);

// SAFETY: AWS-LC documents `RSA` objects as safe to use from several threads
// for signing (`RSA_sign` takes only a const view apart from the internally
// locked blinding cache), and `RSA_free` only drops one reference.
unsafe impl Send for Rsa {}
unsafe impl Sync for Rsa {}

impl Rsa {
    /// `None` when AWS-LC refuses a key the `rsa` crate accepted (its limits
    /// differ at the edges, e.g. public exponents); the caller then signs
    /// with `rsa`, which gives the same bytes.
    pub(super) fn from_pkcs1_der(der: &[u8]) -> Option<Self> {
        // SAFETY: the pointer and length describe `der`, which outlives the call;
        // AWS-LC copies what it keeps.
        NonNull::new(unsafe { ffi::RSA_private_key_from_bytes(der.as_ptr(), der.len()) }).map(Rsa)
    }

    /// The signature of `digest` (the hash of the message, `hash` naming it).
    pub(super) fn sign(&self, digest: &[u8], hash: HashAlgorithm) -> Vec<u8> {
        let nid = match hash {
            HashAlgorithm::Sha1 => ffi::NID_sha1,
            HashAlgorithm::Sha256 => ffi::NID_sha256,
        } as c_int;
        // SAFETY: `self.0` is a live key (freed only in `drop`).
        let size = unsafe { ffi::RSA_size(self.0.as_ptr()) } as usize;
        let mut signature = vec![0u8; size];
        let mut len: c_uint = 0;
        // SAFETY: `signature` has room for `RSA_size` bytes, as `RSA_sign`
        // requires; `digest` is read for its length only.
        let ok = unsafe {
            ffi::RSA_sign(
                nid,
                digest.as_ptr(),
                digest.len(),
                signature.as_mut_ptr(),
                &mut len,
                self.0.as_ptr(),
            )
        };
        assert_eq!(
            ok, 1,
            "PKCS#1 v1.5 signing with a loaded key and a SHA digest cannot fail"
        );
        signature.truncate(len as usize);
        signature
    }
}

impl Clone for Rsa {
    fn clone(&self) -> Self {
        // SAFETY: `self.0` is live; the new reference is dropped by `drop`.
        unsafe { ffi::RSA_up_ref(self.0.as_ptr()) };
        Rsa(self.0)
    }
}

impl Drop for Rsa {
    fn drop(&mut self) {
        // SAFETY: every `Rsa` holds one reference, taken in `from_pkcs1_der` or `clone`.
        unsafe { ffi::RSA_free(self.0.as_ptr()) }
    }
}
