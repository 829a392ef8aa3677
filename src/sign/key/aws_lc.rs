//! RSA PKCS#1 v1.5 signing through AWS-LC (the `aws-lc` feature): its
//! assembly bignum code signs about seven times faster than the pure-Rust
//! `rsa` crate, with the same bytes (the scheme is deterministic).
//!
//! AWS-LC rather than the system's OpenSSL: it is linked statically and does
//! no global set-up (OpenSSL 3 reads its config file and fills its name
//! tables before the first signature), which was most of the time of a
//! one-URL `cfsign sign`; its batch speed is the same. Its only entry points
//! here are building a key from its numbers, `RSA_sign` and freeing: the
//! digest is computed by the same code as for the other signers.

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
    /// AWS-LC's copy of a key the `rsa` crate has parsed and checked, from its
    /// numbers (big-endian): the modulus, both exponents, the two primes and
    /// the CRT values the `rsa` crate computed from them. Not from the key's
    /// DER: `RSA_private_key_from_bytes` runs `RSA_check_key` again (a GCD
    /// and divisions, ~10 % of a one-URL `cfsign sign`) on a key whose
    /// consistency (p·q = n, d·e ≡ 1 mod p−1 and q−1) the `rsa` crate has
    /// just established, and the CRT values come from those checked numbers,
    /// not from the file. `None` if AWS-LC cannot allocate.
    pub(super) fn from_parts(parts: [&[u8]; 8]) -> Option<Self> {
        // SAFETY: `RSA_new` returns a new key or null.
        let rsa = NonNull::new(unsafe { ffi::RSA_new() }).map(Rsa)?;
        let mut bn = [std::ptr::null_mut(); 8];
        for (slot, bytes) in bn.iter_mut().zip(parts) {
            // SAFETY: the pointer and length describe `bytes`; AWS-LC copies them.
            *slot = unsafe { ffi::BN_bin2bn(bytes.as_ptr(), bytes.len(), std::ptr::null_mut()) };
        }
        if bn.iter().any(|b| b.is_null()) {
            for b in bn {
                // SAFETY: no key owns these yet; `BN_clear_free` accepts null.
                unsafe { ffi::BN_clear_free(b) };
            }
            return None;
        }
        let [n, e, d, p, q, dmp1, dmq1, iqmp] = bn;
        // SAFETY: `rsa.0` is live; each `set0` call takes ownership of its
        // numbers, which are non-null (the only case in which they refuse).
        let ok = unsafe {
            ffi::RSA_set0_key(rsa.0.as_ptr(), n, e, d)
                + ffi::RSA_set0_factors(rsa.0.as_ptr(), p, q)
                + ffi::RSA_set0_crt_params(rsa.0.as_ptr(), dmp1, dmq1, iqmp)
        };
        assert_eq!(ok, 3, "RSA_set0_* take any non-null numbers");
        Some(rsa)
    }

    /// The signature of `digest` (the hash of the message, `hash` naming it);
    /// `None` when AWS-LC refuses the key at its first use (its limits differ
    /// from the `rsa` crate's at the edges, e.g. public exponents): the
    /// caller then signs with `rsa`, which gives the same bytes.
    pub(super) fn sign(&self, digest: &[u8], hash: HashAlgorithm) -> Option<Vec<u8>> {
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
        if ok != 1 {
            return None;
        }
        signature.truncate(len as usize);
        Some(signature)
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
        // SAFETY: every `Rsa` holds one reference, taken in `from_parts` or `clone`.
        unsafe { ffi::RSA_free(self.0.as_ptr()) }
    }
}
