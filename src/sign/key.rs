//! Loading private keys (for signing) and public keys (for verifying) in every
//! format CloudFront users meet, and refusing the rest with a message that says
//! what was found and how to convert it.
//!
//! Key material never reaches an error message, a `Debug` line or a log: errors
//! name formats and algorithms only, and the key types print `(redacted)`.

use std::fmt;

use p256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use pkcs8::der::Decode;
use pkcs8::der::asn1::ObjectIdentifier as Oid;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, RsaPrivateKey, RsaPublicKey};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{HashAlgorithm, pem};

mod encrypted;

const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
const RSASSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
const PRIME256V1: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
const DSA: Oid = Oid::new_unwrap("1.2.840.10040.4.1");
const ED25519: Oid = Oid::new_unwrap("1.3.101.112");
const ED448: Oid = Oid::new_unwrap("1.3.101.113");

/// The RSA modulus size CloudFront accepts for public keys.
pub const CLOUDFRONT_RSA_BITS: usize = 2048;

/// The RSA modulus sizes cfsign signs with. Below 512 bits a PKCS#1 v1.5
/// signature cannot hold a SHA-256 DigestInfo (OpenSSL: "digest too big for
/// rsa key"); above 16384 bits (OpenSSL's `OPENSSL_RSA_MAX_MODULUS_BITS`)
/// one signature takes seconds to hours, so a hostile key file could hang
/// a run. Both are checked before the key's numbers are worked on.
pub const RSA_BITS_SIGNED: std::ops::RangeInclusive<usize> = 512..=16384;

/// Why a key could not be loaded. Messages are one line, name what was found,
/// and say how to fix it; they never contain key bytes.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error(
        "the key is neither PEM nor DER (expected a PEM block such as `-----BEGIN PRIVATE KEY-----`)"
    )]
    NotAKey,
    #[error("the {0} PEM block could not be decoded: the file is damaged or not a key")]
    Malformed(String),
    #[error("{}", damaged_header(*.0))]
    DamagedHeader(Option<&'static str>),
    #[error(
        "the {0} PEM block could not be decoded: its `-----END {0}-----` line is missing or damaged (the key is cut short or damaged)"
    )]
    DamagedFooter(String),
    #[error(
        "this is a {0}, not a private key; signing needs the private key (the public key goes to CloudFront)"
    )]
    PublicKey(&'static str),
    #[error(
        "{0} keys are not supported by CloudFront: use RSA-2048 or ECDSA P-256 (`cfsign keygen` makes one)"
    )]
    Unsupported(String),
    #[error(
        "the EC key is on curve {0}; CloudFront accepts only P-256 (prime256v1): make one with `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`"
    )]
    WrongCurve(String),
    #[error(
        "the key is in the legacy OpenSSL-encrypted PKCS#1 format (Proc-Type: 4,ENCRYPTED): convert it with `openssl pkcs8 -topk8 -v2 aes-256-cbc -in OLD.pem -out NEW.pem`"
    )]
    LegacyEncrypted,
    #[error(
        "the key is encrypted: set CLOUDFRONT_PRIVATE_KEY_PASSPHRASE or run on a terminal to be asked"
    )]
    PassphraseRequired,
    #[error(
        "wrong passphrase: the passphrase does not decrypt the key (its cipher is supported; check $CLOUDFRONT_PRIVATE_KEY_PASSPHRASE, or what was typed at the prompt)"
    )]
    WrongPassphrase,
    #[error("{}", unsupported_encryption(scheme, *legacy))]
    UnsupportedEncryption { scheme: String, legacy: bool },
    #[error(
        "the key is RSA-{0}, which cfsign does not sign with (RSA keys of 512 to 16384 bits only; CloudFront accepts RSA-2048): make one with `cfsign keygen`"
    )]
    RsaSize(usize),
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
#[derive(Clone)]
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
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
/// ECDSA on P-256. The inner types wipe their secrets on drop.
#[derive(Clone)]
pub enum PrivateKey {
    Rsa(Box<RsaKey>),
    EcdsaP256(p256::ecdsa::SigningKey),
}

/// An RSA private key, with OpenSSL's copy of it when that backend is built
/// in (OpenSSL signs about seven times faster; both give identical bytes).
#[derive(Clone)]
pub struct RsaKey {
    key: RsaPrivateKey,
    #[cfg(feature = "openssl")]
    fast: openssl::pkey::PKey<openssl::pkey::Private>,
}

impl RsaKey {
    fn new(key: RsaPrivateKey) -> Result<Self, KeyError> {
        #[cfg(feature = "openssl")]
        {
            use rsa::pkcs1::EncodeRsaPrivateKey;
            let der = key
                .to_pkcs1_der()
                .map_err(|_| KeyError::Malformed("RSA PRIVATE KEY".into()))?;
            let fast = openssl::rsa::Rsa::private_key_from_der(der.as_bytes())
                .and_then(openssl::pkey::PKey::from_rsa)
                .map_err(|_| KeyError::Malformed("RSA PRIVATE KEY".into()))?;
            Ok(RsaKey { key, fast })
        }
        #[cfg(not(feature = "openssl"))]
        Ok(RsaKey { key })
    }

    fn sign(&self, message: &[u8], hash: HashAlgorithm) -> Vec<u8> {
        #[cfg(feature = "openssl")]
        {
            use openssl::hash::MessageDigest;
            let md = match hash {
                HashAlgorithm::Sha1 => MessageDigest::sha1(),
                HashAlgorithm::Sha256 => MessageDigest::sha256(),
            };
            let mut signer = openssl::sign::Signer::new(md, &self.fast)
                .expect("OpenSSL accepts an RSA key with SHA-1 or SHA-256");
            signer
                .sign_oneshot_to_vec(message)
                .expect("PKCS#1 v1.5 signing with a loaded key cannot fail")
        }
        #[cfg(not(feature = "openssl"))]
        self.sign_pure(message, hash)
    }

    /// The pure-Rust signer (with blinding); the reference for the fast path.
    #[cfg(any(test, not(feature = "openssl")))]
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
    /// let pem = std::fs::read("tests/fixtures/keys/rsa2048-pkcs8.pem").unwrap();
    /// let key = cfsign::sign::PrivateKey::from_bytes(&pem, None).unwrap();
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
        Ok(PrivateKey::Rsa(Box::new(RsaKey::new(key)?)))
    }

    /// "RSA-2048", "ECDSA P-256": what the key is, for messages.
    pub fn describe(&self) -> String {
        match self {
            PrivateKey::Rsa(k) => format!("RSA-{}", k.key.n().bits()),
            PrivateKey::EcdsaP256(_) => "ECDSA P-256".to_string(),
        }
    }

    /// The RSA modulus size in bits, `None` for ECDSA keys.
    pub fn rsa_bits(&self) -> Option<usize> {
        match self {
            PrivateKey::Rsa(k) => Some(k.key.n().bits()),
            PrivateKey::EcdsaP256(_) => None,
        }
    }

    /// The hash CloudFront assumes when no `Hash-Algorithm` is sent is SHA-1;
    /// ECDSA keys default to SHA-256, which every current SDK uses for them.
    pub fn default_hash(&self) -> HashAlgorithm {
        match self {
            PrivateKey::Rsa(_) => HashAlgorithm::Sha1,
            PrivateKey::EcdsaP256(_) => HashAlgorithm::Sha256,
        }
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        match self {
            PrivateKey::Rsa(k) => PublicKey::Rsa(k.key.to_public_key()),
            PrivateKey::EcdsaP256(k) => PublicKey::EcdsaP256(*k.verifying_key()),
        }
    }

    /// Signs `message`: RSA PKCS#1 v1.5 (deterministic, with blinding), or
    /// ECDSA with a DER-encoded signature (RFC 6979 nonces).
    pub fn sign(&self, message: &[u8], hash: HashAlgorithm) -> Vec<u8> {
        match self {
            PrivateKey::Rsa(k) => k.sign(message, hash),
            PrivateKey::EcdsaP256(k) => {
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
#[derive(Clone, Debug, PartialEq)]
pub enum PublicKey {
    Rsa(RsaPublicKey),
    EcdsaP256(p256::ecdsa::VerifyingKey),
}

impl PublicKey {
    /// Loads a public key from PEM (`BEGIN PUBLIC KEY`, `BEGIN RSA PUBLIC KEY`)
    /// or SPKI DER. A private key is accepted too (its public half is used),
    /// unless it is encrypted: no passphrase is asked for a public key.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        Self::read(bytes).map_err(|e| match e {
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

    fn read(bytes: &[u8]) -> Result<Self, KeyError> {
        if let Some(blocks) = pem_blocks(bytes)? {
            for block in &blocks {
                match block.label() {
                    "PUBLIC KEY" => return public_from_spki(block.der()),
                    "RSA PUBLIC KEY" => {
                        return RsaPublicKey::from_pkcs1_der(block.der())
                            .map(PublicKey::Rsa)
                            .map_err(|_| KeyError::Malformed("RSA PUBLIC KEY".into()));
                    }
                    "CERTIFICATE" => {
                        return Err(KeyError::Invalid(
                            "a certificate is not a public key: extract it with `openssl x509 -pubkey -noout -in CERT.pem`".into(),
                        ));
                    }
                    _ => {}
                }
            }
            return PrivateKey::from_bytes(bytes, None).map(|k| k.public_key());
        }
        public_from_spki(bytes).or_else(|_| {
            PrivateKey::from_bytes(bytes, None)
                .map(|k| k.public_key())
                .map_err(|_| KeyError::NotAKey)
        })
    }

    /// "RSA-2048", "ECDSA P-256".
    pub fn describe(&self) -> String {
        match self {
            PublicKey::Rsa(k) => format!("RSA-{}", k.n().bits()),
            PublicKey::EcdsaP256(_) => "ECDSA P-256".to_string(),
        }
    }

    /// Checks a raw (decoded) signature over `message`.
    pub fn verify(&self, message: &[u8], hash: HashAlgorithm, signature: &[u8]) -> bool {
        match self {
            PublicKey::Rsa(k) => {
                let (scheme, digest) = rsa_scheme(message, hash);
                k.verify(scheme, &digest, signature).is_ok()
            }
            PublicKey::EcdsaP256(k) => {
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

/// `Ok(None)` when the bytes are not PEM at all (then they may be DER).
fn pem_blocks(bytes: &[u8]) -> Result<Option<Vec<pem::Block>>, KeyError> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Ok(None);
    };
    if !text.contains("-----BEGIN") {
        return if text.trim().is_empty() || text.bytes().all(|b| b.is_ascii()) {
            Err(KeyError::NotAKey)
        } else {
            Ok(None)
        };
    }
    // A legacy encrypted PKCS#1 key has RFC 1421 headers that we must see
    // before decoding, since the body is ciphertext.
    if text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(KeyError::LegacyEncrypted);
    }
    let blocks = pem::parse(text)?;
    if blocks.is_empty() {
        return Err(KeyError::DamagedHeader(None));
    }
    Ok(Some(blocks))
}

fn private_from_pem_block(
    block: &pem::Block,
    passphrase: Option<&Passphrase>,
) -> Result<PrivateKey, KeyError> {
    let der = block.der();
    let label = block.label();
    match label {
        "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" => private_from_unencrypted(der, label),
        "ENCRYPTED PRIVATE KEY" => encrypted::decrypt(der, passphrase),
        "PUBLIC KEY" | "RSA PUBLIC KEY" => Err(KeyError::PublicKey("public key")),
        "CERTIFICATE" => Err(KeyError::PublicKey("certificate")),
        "DSA PRIVATE KEY" => Err(KeyError::Unsupported("DSA".into())),
        "OPENSSH PRIVATE KEY" => Err(KeyError::Invalid(
            "this is an OpenSSH key: CloudFront needs RSA-2048 or ECDSA P-256 in PEM; convert an RSA one with `ssh-keygen -p -m PEM -f KEY`".into(),
        )),
        other => Err(KeyError::Invalid(other.to_string())),
    }
}

/// An unencrypted private key under one of its three labels. The body is
/// read as the structure it holds, as OpenSSL 3 reads it: PKCS#8 under any
/// of the labels (tools write a PKCS#8 body under `RSA PRIVATE KEY`, and
/// OpenSSL and Go read it), and PKCS#1 or SEC1 under their own label or
/// the generic `PRIVATE KEY`. A body that is none of these is damaged.
fn private_from_unencrypted(der: &[u8], label: &str) -> Result<PrivateKey, KeyError> {
    let rsa_allowed = label != "EC PRIVATE KEY";
    let ec_allowed = label != "RSA PRIVATE KEY";
    if pkcs8::PrivateKeyInfo::from_der(der).is_ok() {
        return private_from_pkcs8(der);
    }
    if rsa_allowed && rsa::pkcs1::RsaPrivateKey::from_der(der).is_ok() {
        check_rsa_size(der)?;
        return RsaPrivateKey::from_pkcs1_der(der)
            .map_err(|_| KeyError::Malformed(label.into()))
            .and_then(PrivateKey::rsa);
    }
    if ec_allowed && sec1::EcPrivateKey::from_der(der).is_ok() {
        return private_from_sec1(der);
    }
    Err(KeyError::Malformed(label.into()))
}

fn private_from_der(der: &[u8], passphrase: Option<&Passphrase>) -> Result<PrivateKey, KeyError> {
    if pkcs8::PrivateKeyInfo::from_der(der).is_ok() {
        return private_from_pkcs8(der);
    }
    if encrypted::is_encrypted_pkcs8(der) {
        return encrypted::decrypt(der, passphrase);
    }
    if rsa::pkcs1::RsaPrivateKey::from_der(der).is_ok() {
        check_rsa_size(der)?;
    }
    if let Ok(k) = RsaPrivateKey::from_pkcs1_der(der) {
        return PrivateKey::rsa(k);
    }
    if sec1::EcPrivateKey::from_der(der).is_ok() {
        return private_from_sec1(der);
    }
    if spki::SubjectPublicKeyInfoRef::from_der(der).is_ok() {
        return Err(KeyError::PublicKey("public key"));
    }
    Err(KeyError::NotAKey)
}

fn private_from_pkcs8(der: &[u8]) -> Result<PrivateKey, KeyError> {
    let info = pkcs8::PrivateKeyInfo::from_der(der)
        .map_err(|_| KeyError::Malformed("PRIVATE KEY".into()))?;
    let oid = info.algorithm.oid;
    if oid == RSA_ENCRYPTION {
        check_rsa_size(info.private_key)?;
        RsaPrivateKey::from_pkcs8_der(der)
            .map_err(|_| KeyError::Malformed("PRIVATE KEY (RSA)".into()))
            .and_then(PrivateKey::rsa)
    } else if oid == EC_PUBLIC_KEY {
        let curve = info
            .algorithm
            .parameters_oid()
            .map_err(|_| KeyError::Malformed("PRIVATE KEY (EC)".into()))?;
        check_curve(curve)?;
        p256::ecdsa::SigningKey::from_pkcs8_der(der)
            .map(PrivateKey::EcdsaP256)
            .map_err(|_| KeyError::Malformed("PRIVATE KEY (EC)".into()))
    } else {
        Err(KeyError::Unsupported(algorithm_name(oid)))
    }
}

/// Refuses a PKCS#1 `RSAPrivateKey` whose modulus is outside
/// [`RSA_BITS_SIGNED`], from its encoding alone (a body that does not parse
/// is left to the loader, which calls it damaged).
fn check_rsa_size(pkcs1: &[u8]) -> Result<(), KeyError> {
    let Ok(key) = rsa::pkcs1::RsaPrivateKey::from_der(pkcs1) else {
        return Ok(());
    };
    let n = key.modulus.as_bytes();
    let bits = n
        .iter()
        .position(|&b| b != 0)
        .map_or(0, |i| (n.len() - i) * 8 - n[i].leading_zeros() as usize);
    if RSA_BITS_SIGNED.contains(&bits) {
        Ok(())
    } else {
        Err(KeyError::RsaSize(bits))
    }
}

fn private_from_sec1(der: &[u8]) -> Result<PrivateKey, KeyError> {
    let key = sec1::EcPrivateKey::from_der(der)
        .map_err(|_| KeyError::Malformed("EC PRIVATE KEY".into()))?;
    if let Some(curve) = key.parameters.and_then(|p| p.named_curve()) {
        check_curve(curve)?;
    }
    p256::SecretKey::from_sec1_der(der)
        .map(|k| PrivateKey::EcdsaP256(k.into()))
        .map_err(|_| KeyError::Malformed("EC PRIVATE KEY".into()))
}

fn public_from_spki(der: &[u8]) -> Result<PublicKey, KeyError> {
    let info = spki::SubjectPublicKeyInfoRef::from_der(der)
        .map_err(|_| KeyError::Malformed("PUBLIC KEY".into()))?;
    let oid = info.algorithm.oid;
    if oid == RSA_ENCRYPTION {
        RsaPublicKey::from_public_key_der(der)
            .map(PublicKey::Rsa)
            .map_err(|_| KeyError::Malformed("PUBLIC KEY (RSA)".into()))
    } else if oid == EC_PUBLIC_KEY {
        let curve = info
            .algorithm
            .parameters_oid()
            .map_err(|_| KeyError::Malformed("PUBLIC KEY (EC)".into()))?;
        check_curve(curve)?;
        p256::ecdsa::VerifyingKey::from_public_key_der(der)
            .map(PublicKey::EcdsaP256)
            .map_err(|_| KeyError::Malformed("PUBLIC KEY (EC)".into()))
    } else {
        Err(KeyError::Unsupported(algorithm_name(oid)))
    }
}

fn check_curve(curve: Oid) -> Result<(), KeyError> {
    if curve == PRIME256V1 {
        return Ok(());
    }
    let name = match curve.to_string().as_str() {
        "1.3.132.0.34" => "P-384 (secp384r1)".to_string(),
        "1.3.132.0.35" => "P-521 (secp521r1)".to_string(),
        "1.3.132.0.10" => "secp256k1".to_string(),
        other => other.to_string(),
    };
    Err(KeyError::WrongCurve(name))
}

fn algorithm_name(oid: Oid) -> String {
    match oid {
        o if o == DSA => "DSA".into(),
        o if o == ED25519 => "Ed25519".into(),
        o if o == ED448 => "Ed448".into(),
        o if o == RSASSA_PSS => "RSA-PSS".into(),
        o => format!("algorithm {o}"),
    }
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

    /// The fast (OpenSSL) and pure-Rust RSA signers give the same bytes, and
    /// every signature verifies with the public key.
    #[test]
    fn rsa_backends_agree() {
        for name in ["rsa2048-pkcs8.pem", "rsa3072-pkcs8.pem"] {
            let PrivateKey::Rsa(key) = PrivateKey::from_bytes(&fixture(name), None).unwrap() else {
                panic!("{name} is RSA");
            };
            let public = PublicKey::Rsa(key.key.to_public_key());
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
