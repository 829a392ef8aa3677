//! Reading keys: PEM blocks and DER structures in every format CloudFront
//! users meet, and the refusals that say what was found.

use pkcs8::der::Decode;
use pkcs8::der::asn1::ObjectIdentifier as Oid;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::{RsaPrivateKey, RsaPublicKey};

use super::{KeyError, Passphrase, PrivateKey, PublicKey, RSA_BITS_SIGNED, encrypted};
use crate::sign::pem;

const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
const RSASSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
const PRIME256V1: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
const DSA: Oid = Oid::new_unwrap("1.2.840.10040.4.1");
const ED25519: Oid = Oid::new_unwrap("1.3.101.112");
const ED448: Oid = Oid::new_unwrap("1.3.101.113");

/// A public key, or a private key's public half.
pub(super) fn public_from_bytes(bytes: &[u8]) -> Result<PublicKey, KeyError> {
    if let Some(blocks) = pem_blocks(bytes)? {
        for block in &blocks {
            match block.label() {
                "PUBLIC KEY" => return public_from_spki(block.der()),
                "RSA PUBLIC KEY" => {
                    return RsaPublicKey::from_pkcs1_der(block.der())
                        .map(PublicKey::rsa)
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

/// `Ok(None)` when the bytes are not PEM at all (then they may be DER).
pub(super) fn pem_blocks(bytes: &[u8]) -> Result<Option<Vec<pem::Block>>, KeyError> {
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

pub(super) fn private_from_pem_block(
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

pub(super) fn private_from_der(
    der: &[u8],
    passphrase: Option<&Passphrase>,
) -> Result<PrivateKey, KeyError> {
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

pub(super) fn private_from_pkcs8(der: &[u8]) -> Result<PrivateKey, KeyError> {
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
            .map(PrivateKey::ecdsa)
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
        .map(|k| PrivateKey::ecdsa(k.into()))
        .map_err(|_| KeyError::Malformed("EC PRIVATE KEY".into()))
}

pub(super) fn public_from_spki(der: &[u8]) -> Result<PublicKey, KeyError> {
    let info = spki::SubjectPublicKeyInfoRef::from_der(der)
        .map_err(|_| KeyError::Malformed("PUBLIC KEY".into()))?;
    let oid = info.algorithm.oid;
    if oid == RSA_ENCRYPTION {
        RsaPublicKey::from_public_key_der(der)
            .map(PublicKey::rsa)
            .map_err(|_| KeyError::Malformed("PUBLIC KEY (RSA)".into()))
    } else if oid == EC_PUBLIC_KEY {
        let curve = info
            .algorithm
            .parameters_oid()
            .map_err(|_| KeyError::Malformed("PUBLIC KEY (EC)".into()))?;
        check_curve(curve)?;
        p256::ecdsa::VerifyingKey::from_public_key_der(der)
            .map(PublicKey::ecdsa)
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
