//! Loading private keys (for signing) and public keys (for verifying) in every
//! format CloudFront users meet, and refusing the rest with a message that says
//! what was found and how to convert it.
//!
//! Key material never reaches an error message, a `Debug` line or a log: errors
//! name formats and algorithms only, and the key types print `(redacted)`.

use std::fmt;

use p256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, RsaPrivateKey, RsaPublicKey};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::HashAlgorithm;

#[cfg(feature = "aws-lc")]
mod aws_lc;
mod encrypted;
mod load;

use load::{pem_blocks, private_from_der, private_from_pem_block, private_from_pkcs8};

/// The RSA modulus size CloudFront accepts for public keys.
///
/// ```
/// use cfsign::sign::{PrivateKey, key::CLOUDFRONT_RSA_BITS};
/// let key = PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem"), None)?;
/// assert_eq!(key.rsa_bits(), Some(CLOUDFRONT_RSA_BITS));
/// # Ok::<(), cfsign::sign::KeyError>(())
/// ```
pub const CLOUDFRONT_RSA_BITS: usize = 2048;

/// The RSA modulus sizes cfsign signs with. Below 512 bits a PKCS#1 v1.5
/// signature cannot hold a SHA-256 DigestInfo (OpenSSL: "digest too big for
/// rsa key"); above 16384 bits (OpenSSL's `OPENSSL_RSA_MAX_MODULUS_BITS`)
/// one signature takes seconds to hours, so a hostile key file could hang
/// a run. Both are checked before the key's numbers are worked on.
pub(crate) const RSA_BITS_SIGNED: std::ops::RangeInclusive<usize> = 512..=16384;

/// Why a key could not be loaded. Messages are one line, name what was found,
/// and say how to fix it; they never contain key bytes.
///
/// ```
/// use cfsign::sign::{KeyError, PrivateKey};
/// assert_eq!(PrivateKey::from_bytes(b"hello", None).unwrap_err(), KeyError::NotAKey);
/// let public = include_bytes!("../../tests/fixtures/keys/rsa2048-public.pem");
/// let err = PrivateKey::from_bytes(public, None).unwrap_err();
/// assert!(matches!(err, KeyError::PublicKey(_)));
/// assert!(err.to_string().contains("not a private key"));
/// ```
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// Neither PEM nor DER.
    #[error(
        "the key is neither PEM nor DER (expected a PEM block such as `-----BEGIN PRIVATE KEY-----`)"
    )]
    NotAKey,
    /// A block or structure (named) that does not decode.
    #[error("the {0} PEM block could not be decoded: the file is damaged or not a key")]
    Malformed(String),
    /// A `-----BEGIN` line that is damaged (with the label it meant, if known).
    #[error("{}", damaged_header(*.0))]
    DamagedHeader(Option<&'static str>),
    /// A block (named) whose `-----END` line is missing or damaged.
    #[error(
        "the {0} PEM block could not be decoded: its `-----END {0}-----` line is missing or damaged (the key is cut short or damaged)"
    )]
    DamagedFooter(String),
    /// A public key or certificate where a private key goes.
    #[error(
        "this is a {0}, not a private key; signing needs the private key (the public key goes to CloudFront)"
    )]
    PublicKey(&'static str),
    /// An algorithm CloudFront does not take (DSA, Ed25519, …).
    #[error(
        "{0} keys are not supported by CloudFront: use RSA-2048 or ECDSA P-256 (`cfsign keygen` makes one)"
    )]
    Unsupported(String),
    /// An EC key on another curve than P-256.
    #[error(
        "the EC key is on curve {0}; CloudFront accepts only P-256 (prime256v1): make one with `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`"
    )]
    WrongCurve(String),
    /// OpenSSL's legacy encrypted PKCS#1 (`Proc-Type: 4,ENCRYPTED`).
    #[error(
        "the key is in the legacy OpenSSL-encrypted PKCS#1 format (Proc-Type: 4,ENCRYPTED): convert it with `openssl pkcs8 -topk8 -v2 aes-256-cbc -in OLD.pem -out NEW.pem`"
    )]
    LegacyEncrypted,
    /// An encrypted key, and no passphrase.
    #[error(
        "the key is encrypted: set CLOUDFRONT_PRIVATE_KEY_PASSPHRASE or run on a terminal to be asked"
    )]
    PassphraseRequired,
    /// A passphrase that does not decrypt the key.
    #[error(
        "wrong passphrase: the passphrase does not decrypt the key (its cipher is supported; check $CLOUDFRONT_PRIVATE_KEY_PASSPHRASE, or what was typed at the prompt)"
    )]
    WrongPassphrase,
    /// An encryption scheme not decrypted here (named; `legacy` when
    /// OpenSSL 3 needs its legacy provider for it).
    #[error("{}", unsupported_encryption(scheme, *legacy))]
    UnsupportedEncryption {
        /// The scheme, or its parts.
        scheme: String,
        /// Whether OpenSSL 3 reads it only with its legacy provider.
        legacy: bool,
    },
    /// An RSA key outside 512 to 16384 bits.
    #[error(
        "the key is RSA-{0}, which cfsign does not sign with (RSA keys of 512 to 16384 bits only; CloudFront accepts RSA-2048): make one with `cfsign keygen`"
    )]
    RsaSize(usize),
    /// Anything else, said in the message.
    #[error("{0}")]
    Invalid(String),
}

fn unsupported_encryption(scheme: &str, legacy: bool) -> String {
    let provider = if legacy {
        " (OpenSSL 3 reads it only with `-provider legacy -provider default` added)"
    } else {
        ""
    };
    format!(
        "unsupported cipher: the key is encrypted with {scheme}, which cfsign does not decrypt (no passphrase was tried); convert it with `openssl pkcs8 -topk8 -v2 aes-256-cbc -in OLD.pem -out NEW.pem`{provider}"
    )
}

fn damaged_header(meant: Option<&str>) -> String {
    match meant {
        Some(label) => format!(
            "the {label} PEM block could not be decoded: its header line is damaged (it must read `-----BEGIN {label}-----`, on a line of its own)"
        ),
        None => "the PEM block could not be decoded: its header line (`-----BEGIN …-----`) is damaged, or this is not a key".into(),
    }
}

/// A passphrase for an encrypted PKCS#8 key. Wiped from memory on drop and
/// never printed.
///
/// ```
/// use cfsign::sign::{KeyError, Passphrase, PrivateKey};
/// let pem = include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8-encrypted.pem");
/// assert_eq!(PrivateKey::from_bytes(pem, None).unwrap_err(), KeyError::PassphraseRequired);
/// let wrong = Passphrase::new("hunter2");
/// assert_eq!(format!("{wrong:?}"), "Passphrase(redacted)");
/// assert_eq!(PrivateKey::from_bytes(pem, Some(&wrong)).unwrap_err(), KeyError::WrongPassphrase);
/// ```
#[derive(Clone)]
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    /// The passphrase `text`.
    ///
    /// ```
    /// use cfsign::sign::{Passphrase, PrivateKey};
    /// let pem = include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8-encrypted.pem");
    /// let passphrase = Passphrase::new("correct horse battery staple");
    /// let key = PrivateKey::from_bytes(pem, Some(&passphrase))?;
    /// assert_eq!(key.describe(), "RSA-2048");
    /// # Ok::<(), cfsign::sign::KeyError>(())
    /// ```
    pub fn new(text: impl Into<String>) -> Self {
        Passphrase(Zeroizing::new(text.into()))
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(redacted)")
    }
}

/// A private key CloudFront can verify signatures of: RSA (PKCS#1 v1.5) or
/// ECDSA on P-256. The inner types wipe their secrets on drop, and `Debug`
/// shows only what the key is.
///
/// ```
/// use cfsign::sign::{HashAlgorithm, PrivateKey};
/// let key = PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem"), None)?;
/// assert_eq!((key.describe(), key.rsa_bits()), ("RSA-2048".to_string(), Some(2048)));
/// assert_eq!(format!("{key:?}"), "PrivateKey(RSA-2048, redacted)");
/// let signature = key.sign(b"policy", HashAlgorithm::Sha1);
/// assert!(key.public_key().verify(b"policy", HashAlgorithm::Sha1, &signature));
/// # Ok::<(), cfsign::sign::KeyError>(())
/// ```
#[derive(Clone)]
pub struct PrivateKey(Private);

#[derive(Clone)]
enum Private {
    Rsa(Box<RsaKey>),
    EcdsaP256(p256::ecdsa::SigningKey),
}

/// An RSA private key, with AWS-LC's copy of it when that backend is built
/// in and takes the key (it signs about seven times faster; both give
/// identical bytes).
#[derive(Clone)]
struct RsaKey {
    key: RsaPrivateKey,
    #[cfg(feature = "aws-lc")]
    fast: Option<aws_lc::Rsa>,
}

impl RsaKey {
    fn new(key: RsaPrivateKey) -> Result<Self, KeyError> {
        #[cfg(feature = "aws-lc")]
        {
            use rsa::traits::PrivateKeyParts;
            // Two-prime keys only (AWS-LC has no multi-prime RSA); the CRT
            // values are the ones `rsa` computed when it loaded the key.
            let fast = match (key.primes(), key.dp(), key.dq(), key.qinv()) {
                ([p, q], Some(dp), Some(dq), Some(qinv)) => {
                    let qinv = qinv.to_biguint().map(Zeroizing::new);
                    let numbers = [key.n(), key.e(), key.d(), p, q, dp, dq];
                    let bytes: Vec<Zeroizing<Vec<u8>>> = numbers
                        .iter()
                        .map(|n| n.to_bytes_be())
                        .chain(qinv.map(|q| q.to_bytes_be()))
                        .map(Zeroizing::new)
                        .collect();
                    <[&[u8]; 8]>::try_from(bytes.iter().map(|b| b.as_slice()).collect::<Vec<_>>())
                        .ok()
                        .and_then(aws_lc::Rsa::from_parts)
                }
                _ => None,
            };
            Ok(RsaKey { key, fast })
        }
        #[cfg(not(feature = "aws-lc"))]
        Ok(RsaKey { key })
    }

    fn sign(&self, message: &[u8], hash: HashAlgorithm) -> Vec<u8> {
        #[cfg(feature = "aws-lc")]
        if let Some(signature) = self
            .fast
            .as_ref()
            .and_then(|k| k.sign(&digest(message, hash), hash))
        {
            return signature;
        }
        self.sign_pure(message, hash)
    }

    /// The pure-Rust signer (with blinding); the reference for the fast path.
    fn sign_pure(&self, message: &[u8], hash: HashAlgorithm) -> Vec<u8> {
        let (scheme, digest) = rsa_scheme(message, hash);
        self.key
            .sign_with_rng(&mut rand::thread_rng(), scheme, &digest)
            .expect("PKCS#1 v1.5 signing with a loaded key and a SHA digest cannot fail")
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({}, redacted)", self.describe())
    }
}

impl PrivateKey {
    /// Loads a private key from PEM (PKCS#1, PKCS#8, encrypted PKCS#8, SEC1)
    /// or DER bytes. `passphrase` is only used for an encrypted PKCS#8 key.
    ///
    /// ```
    /// let pem = include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem");
    /// let key = cfsign::sign::PrivateKey::from_bytes(pem, None).unwrap();
    /// assert_eq!(key.describe(), "RSA-2048");
    /// ```
    pub fn from_bytes(bytes: &[u8], passphrase: Option<&Passphrase>) -> Result<Self, KeyError> {
        if let Some(blocks) = pem_blocks(bytes)? {
            let mut last = None;
            for block in &blocks {
                match private_from_pem_block(block, passphrase) {
                    // OpenSSL writes `EC PARAMETERS` before an `EC PRIVATE KEY`: skip such blocks.
                    Err(KeyError::Invalid(_)) => last = Some(block.label().to_string()),
                    other => return other,
                }
            }
            return Err(KeyError::Invalid(format!(
                "the PEM file holds no private key (found a `{}` block)",
                last.unwrap_or_default()
            )));
        }
        private_from_der(bytes, passphrase)
    }

    fn rsa(key: RsaPrivateKey) -> Result<Self, KeyError> {
        Ok(PrivateKey(Private::Rsa(Box::new(RsaKey::new(key)?))))
    }

    fn ecdsa(key: p256::ecdsa::SigningKey) -> Self {
        PrivateKey(Private::EcdsaP256(key))
    }

    /// "RSA-2048", "ECDSA P-256": what the key is, for messages.
    ///
    /// ```
    /// use cfsign::sign::PrivateKey;
    /// assert_eq!(PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/ec-p256-pkcs8.pem"), None)?.describe(), "ECDSA P-256");
    /// assert_eq!(PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem"), None)?.describe(), "RSA-2048");
    /// # Ok::<(), cfsign::sign::KeyError>(())
    /// ```
    pub fn describe(&self) -> String {
        match &self.0 {
            Private::Rsa(k) => format!("RSA-{}", k.key.n().bits()),
            Private::EcdsaP256(_) => "ECDSA P-256".to_string(),
        }
    }

    /// The RSA modulus size in bits, `None` for ECDSA keys.
    ///
    /// ```
    /// use cfsign::sign::PrivateKey;
    /// assert_eq!(PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem"), None)?.rsa_bits(), Some(2048));
    /// assert_eq!(PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/ec-p256-pkcs8.pem"), None)?.rsa_bits(), None);
    /// # Ok::<(), cfsign::sign::KeyError>(())
    /// ```
    pub fn rsa_bits(&self) -> Option<usize> {
        match &self.0 {
            Private::Rsa(k) => Some(k.key.n().bits()),
            Private::EcdsaP256(_) => None,
        }
    }

    /// The hash CloudFront assumes when no `Hash-Algorithm` is sent is SHA-1;
    /// ECDSA keys default to SHA-256, which every current SDK uses for them.
    ///
    /// ```
    /// use cfsign::sign::{HashAlgorithm, PrivateKey};
    /// assert_eq!(PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem"), None)?.default_hash(), HashAlgorithm::Sha1);
    /// assert_eq!(PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/ec-p256-pkcs8.pem"), None)?.default_hash(), HashAlgorithm::Sha256);
    /// # Ok::<(), cfsign::sign::KeyError>(())
    /// ```
    pub fn default_hash(&self) -> HashAlgorithm {
        match &self.0 {
            Private::Rsa(_) => HashAlgorithm::Sha1,
            Private::EcdsaP256(_) => HashAlgorithm::Sha256,
        }
    }

    /// The matching public key.
    ///
    /// ```
    /// use cfsign::sign::{PrivateKey, PublicKey};
    /// let key = PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem"), None)?;
    /// let public = PublicKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-public.pem"))?;
    /// assert_eq!(key.public_key(), public);
    /// # Ok::<(), cfsign::sign::KeyError>(())
    /// ```
    pub fn public_key(&self) -> PublicKey {
        match &self.0 {
            Private::Rsa(k) => PublicKey::rsa(k.key.to_public_key()),
            Private::EcdsaP256(k) => PublicKey::ecdsa(*k.verifying_key()),
        }
    }

    /// Signs `message`: RSA PKCS#1 v1.5 (deterministic, with blinding), or
    /// ECDSA with a DER-encoded signature (RFC 6979 nonces).
    ///
    /// ```
    /// use cfsign::sign::{HashAlgorithm, PrivateKey};
    /// let rsa = PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem"), None)?;
    /// let signature = rsa.sign(b"policy", HashAlgorithm::Sha1);
    /// assert_eq!(signature.len(), 256); // one RSA-2048 block
    /// assert_eq!(signature, rsa.sign(b"policy", HashAlgorithm::Sha1)); // deterministic
    /// let ec = PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/ec-p256-pkcs8.pem"), None)?;
    /// let signature = ec.sign(b"policy", HashAlgorithm::Sha256);
    /// assert_eq!(signature[0], 0x30); // a DER SEQUENCE
    /// assert!(ec.public_key().verify(b"policy", HashAlgorithm::Sha256, &signature));
    /// # Ok::<(), cfsign::sign::KeyError>(())
    /// ```
    pub fn sign(&self, message: &[u8], hash: HashAlgorithm) -> Vec<u8> {
        match &self.0 {
            Private::Rsa(k) => k.sign(message, hash),
            Private::EcdsaP256(k) => {
                let digest = digest(message, hash);
                let sig: p256::ecdsa::Signature = k
                    .sign_prehash(&digest)
                    .expect("ECDSA signing of a SHA digest cannot fail");
                sig.to_der().as_bytes().to_vec()
            }
        }
    }
}

/// A public key that CloudFront would hold in a key group.
///
/// ```
/// use cfsign::sign::{HashAlgorithm, PublicKey};
/// let key = PublicKey::from_bytes(include_bytes!("../../tests/fixtures/keys/ec-p256-public.pem"))?;
/// assert_eq!(key.describe(), "ECDSA P-256");
/// assert!(!key.verify(b"policy", HashAlgorithm::Sha256, b"not a signature"));
/// # Ok::<(), cfsign::sign::KeyError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct PublicKey(Public);

#[derive(Clone, Debug, PartialEq)]
enum Public {
    Rsa(RsaPublicKey),
    EcdsaP256(p256::ecdsa::VerifyingKey),
}

impl PublicKey {
    fn rsa(key: RsaPublicKey) -> Self {
        PublicKey(Public::Rsa(key))
    }

    fn ecdsa(key: p256::ecdsa::VerifyingKey) -> Self {
        PublicKey(Public::EcdsaP256(key))
    }

    /// Loads a public key from PEM (`BEGIN PUBLIC KEY`, `BEGIN RSA PUBLIC KEY`)
    /// or SPKI DER. A private key is accepted too (its public half is used),
    /// unless it is encrypted: no passphrase is asked for a public key.
    ///
    /// ```
    /// use cfsign::sign::{KeyError, PublicKey};
    /// let key = PublicKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-public.pem"))?;
    /// assert_eq!(key.describe(), "RSA-2048");
    /// // A private key gives its public half.
    /// let private = include_bytes!("../../tests/fixtures/keys/ec-p256-pkcs8.pem");
    /// assert_eq!(PublicKey::from_bytes(private)?.describe(), "ECDSA P-256");
    /// let encrypted = include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8-encrypted.pem");
    /// assert!(matches!(PublicKey::from_bytes(encrypted), Err(KeyError::Invalid(_))));
    /// # Ok::<(), KeyError>(())
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        load::public_from_bytes(bytes).map_err(|e| match e {
            // The private-key wording would point at the wrong fix here.
            KeyError::NotAKey => KeyError::Invalid(
                "the key is neither PEM nor DER (expected a PEM block such as `-----BEGIN PUBLIC KEY-----`)".into(),
            ),
            KeyError::PassphraseRequired
            | KeyError::WrongPassphrase
            | KeyError::UnsupportedEncryption { .. }
            | KeyError::LegacyEncrypted => KeyError::Invalid(
                "this is an encrypted private key: give its public key instead (`openssl pkey -pubout -in KEY.pem` prints it)".into(),
            ),
            e => e,
        })
    }

    /// "RSA-2048", "ECDSA P-256".
    ///
    /// ```
    /// use cfsign::sign::PublicKey;
    /// let key = PublicKey::from_bytes(include_bytes!("../../tests/fixtures/keys/ec-p256-public.pem"))?;
    /// assert_eq!(key.describe(), "ECDSA P-256");
    /// # Ok::<(), cfsign::sign::KeyError>(())
    /// ```
    pub fn describe(&self) -> String {
        match &self.0 {
            Public::Rsa(k) => format!("RSA-{}", k.n().bits()),
            Public::EcdsaP256(_) => "ECDSA P-256".to_string(),
        }
    }

    /// Checks a raw (decoded) signature over `message`.
    ///
    /// ```
    /// use cfsign::sign::{HashAlgorithm, PrivateKey, PublicKey};
    /// let key = PrivateKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem"), None)?;
    /// let public = PublicKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-public.pem"))?;
    /// let signature = key.sign(b"policy", HashAlgorithm::Sha256);
    /// assert!(public.verify(b"policy", HashAlgorithm::Sha256, &signature));
    /// assert!(!public.verify(b"policy", HashAlgorithm::Sha1, &signature)); // another hash
    /// assert!(!public.verify(b"policy!", HashAlgorithm::Sha256, &signature)); // another message
    /// # Ok::<(), cfsign::sign::KeyError>(())
    /// ```
    pub fn verify(&self, message: &[u8], hash: HashAlgorithm, signature: &[u8]) -> bool {
        match &self.0 {
            Public::Rsa(k) => {
                let (scheme, digest) = rsa_scheme(message, hash);
                k.verify(scheme, &digest, signature).is_ok()
            }
            Public::EcdsaP256(k) => {
                let Ok(sig) = p256::ecdsa::Signature::from_der(signature) else {
                    return false;
                };
                k.verify_prehash(&digest(message, hash), &sig).is_ok()
            }
        }
    }
}

fn digest(message: &[u8], hash: HashAlgorithm) -> Vec<u8> {
    match hash {
        HashAlgorithm::Sha1 => Sha1::digest(message).to_vec(),
        HashAlgorithm::Sha256 => Sha256::digest(message).to_vec(),
    }
}

fn rsa_scheme(message: &[u8], hash: HashAlgorithm) -> (Pkcs1v15Sign, Vec<u8>) {
    let scheme = match hash {
        HashAlgorithm::Sha1 => Pkcs1v15Sign::new::<Sha1>(),
        HashAlgorithm::Sha256 => Pkcs1v15Sign::new::<Sha256>(),
    };
    (scheme, digest(message, hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/tests/fixtures/keys/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    /// Errors met while reading a public key point at the public key.
    #[test]
    fn public_key_errors_speak_of_public_keys() {
        for name in [
            "rsa2048-pkcs8-encrypted.pem",
            "rsa2048-legacy-encrypted.pem",
        ] {
            let e = PublicKey::from_bytes(&fixture(name))
                .unwrap_err()
                .to_string();
            assert!(e.contains("encrypted private key"), "{name}: {e}");
            assert!(e.contains("openssl pkey -pubout"), "{name}: {e}");
            assert!(!e.contains("PASSPHRASE"), "{name}: {e}");
        }
        let e = PublicKey::from_bytes(&fixture("not-a-key.txt"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("BEGIN PUBLIC KEY"), "{e}");
        // A private key still gives its public half.
        assert!(PublicKey::from_bytes(&fixture("rsa2048-pkcs8.pem")).is_ok());
    }

    /// The fast (AWS-LC) and pure-Rust RSA signers give the same bytes, and
    /// every signature verifies with the public key.
    #[test]
    fn rsa_backends_agree() {
        for name in ["rsa2048-pkcs8.pem", "rsa3072-pkcs8.pem"] {
            let PrivateKey(Private::Rsa(key)) =
                PrivateKey::from_bytes(&fixture(name), None).unwrap()
            else {
                panic!("{name} is RSA");
            };
            #[cfg(feature = "aws-lc")]
            assert!(key.fast.is_some(), "{name}: AWS-LC takes the key");
            let public = PublicKey::rsa(key.key.to_public_key());
            for hash in [HashAlgorithm::Sha1, HashAlgorithm::Sha256] {
                for message in [&b""[..], b"{\"Statement\":[]}", &[0xff; 300]] {
                    let fast = key.sign(message, hash);
                    assert_eq!(fast, key.sign_pure(message, hash), "{name} {hash}");
                    assert!(public.verify(message, hash, &fast));
                }
            }
        }
    }

    #[test]
    fn debug_never_shows_key_material() {
        let key = PrivateKey::from_bytes(&fixture("rsa2048-pkcs8.pem"), None).unwrap();
        assert_eq!(format!("{key:?}"), "PrivateKey(RSA-2048, redacted)");
        let key = PrivateKey::from_bytes(&fixture("ec-p256-sec1.pem"), None).unwrap();
        assert_eq!(format!("{key:?}"), "PrivateKey(ECDSA P-256, redacted)");
        assert_eq!(
            format!("{:?}", Passphrase::new("hunter2")),
            "Passphrase(redacted)"
        );
    }
}
