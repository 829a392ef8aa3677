//! Encrypted PKCS#8 (`ENCRYPTED PRIVATE KEY`): decrypting what OpenSSL and
//! the SDKs' key loaders decrypt, and telling apart the three ways it can
//! fail — a scheme cfsign cannot decrypt, a damaged file, a wrong passphrase.
//!
//! The scheme is read from the DER before any passphrase is asked for or
//! tried, so an unsupported one is named as such instead of being taken for
//! a wrong passphrase. Decryption happens in a buffer wiped on drop.

use pkcs8::der::asn1::{AnyRef, ObjectIdentifier as Oid, OctetStringRef};
use pkcs8::der::{Decode, Reader, Tag};
use pkcs8::pkcs5::{self, pbes2};
use spki::AlgorithmIdentifierRef;
use zeroize::Zeroizing;

use super::{KeyError, Passphrase, PrivateKey};

const PBES2: Oid = Oid::new_unwrap("1.2.840.113549.1.5.13");

/// What cfsign does with an algorithm an encrypted key may name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Support {
    Decrypts,
    Refused,
    /// Refused, and OpenSSL 3 reads it only with its legacy provider.
    Legacy,
}

use Support::{Decrypts, Legacy, Refused};

/// The algorithms encrypted keys name (schemes, key derivations, PBKDF2's
/// PRFs, ciphers), by OID, with the names OpenSSL gives them. PBES2 with
/// PBKDF2 (any SHA-1/SHA-2 PRF) or scrypt, and AES-CBC or DES-EDE3-CBC, is
/// what OpenSSL, Python's cryptography, Go and Java write and read today.
const ALGORITHMS: &[(&str, &str, Support)] = &[
    ("1.2.840.113549.1.5.12", "PBKDF2", Decrypts),
    ("1.3.6.1.4.1.11591.4.11", "scrypt", Decrypts),
    ("1.2.840.113549.2.7", "HMAC-SHA1", Decrypts),
    ("1.2.840.113549.2.8", "HMAC-SHA224", Decrypts),
    ("1.2.840.113549.2.9", "HMAC-SHA256", Decrypts),
    ("1.2.840.113549.2.10", "HMAC-SHA384", Decrypts),
    ("1.2.840.113549.2.11", "HMAC-SHA512", Decrypts),
    ("1.2.840.113549.2.12", "HMAC-SHA512-224", Refused),
    ("1.2.840.113549.2.13", "HMAC-SHA512-256", Refused),
    ("2.16.840.1.101.3.4.2.13", "HMAC-SHA3-224", Refused),
    ("2.16.840.1.101.3.4.2.14", "HMAC-SHA3-256", Refused),
    ("2.16.840.1.101.3.4.2.15", "HMAC-SHA3-384", Refused),
    ("2.16.840.1.101.3.4.2.16", "HMAC-SHA3-512", Refused),
    ("2.16.840.1.101.3.4.1.2", "AES-128-CBC", Decrypts),
    ("2.16.840.1.101.3.4.1.22", "AES-192-CBC", Decrypts),
    ("2.16.840.1.101.3.4.1.42", "AES-256-CBC", Decrypts),
    ("1.2.840.113549.3.7", "DES-EDE3-CBC", Decrypts),
    ("2.16.840.1.101.3.4.1.6", "AES-128-GCM", Refused),
    ("2.16.840.1.101.3.4.1.26", "AES-192-GCM", Refused),
    ("2.16.840.1.101.3.4.1.46", "AES-256-GCM", Refused),
    ("1.3.14.3.2.7", "DES-CBC", Legacy),
    ("1.2.840.113549.3.2", "RC2-CBC", Legacy),
    ("1.2.392.200011.61.1.1.1.2", "CAMELLIA-128-CBC", Refused),
    ("1.2.392.200011.61.1.1.1.3", "CAMELLIA-192-CBC", Refused),
    ("1.2.392.200011.61.1.1.1.4", "CAMELLIA-256-CBC", Refused),
    ("1.2.410.200046.1.1.2", "ARIA-128-CBC", Refused),
    ("1.2.410.200046.1.1.7", "ARIA-192-CBC", Refused),
    ("1.2.410.200046.1.1.12", "ARIA-256-CBC", Refused),
    ("1.2.156.10197.1.104.2", "SM4-CBC", Refused),
    // PBES1 (PKCS#5 v1.5) and PKCS#12 schemes: 56-bit DES, RC2, RC4, or a
    // KDF of their own. `openssl pkcs8 -topk8` wrote pbeWithMD5AndDES-CBC
    // by default before OpenSSL 1.1.
    ("1.2.840.113549.1.5.1", "PBES1 pbeWithMD2AndDES-CBC", Legacy),
    ("1.2.840.113549.1.5.4", "PBES1 pbeWithMD2AndRC2-CBC", Legacy),
    ("1.2.840.113549.1.5.3", "PBES1 pbeWithMD5AndDES-CBC", Legacy),
    ("1.2.840.113549.1.5.6", "PBES1 pbeWithMD5AndRC2-CBC", Legacy),
    (
        "1.2.840.113549.1.5.10",
        "PBES1 pbeWithSHA1AndDES-CBC",
        Legacy,
    ),
    (
        "1.2.840.113549.1.5.11",
        "PBES1 pbeWithSHA1AndRC2-CBC",
        Legacy,
    ),
    (
        "1.2.840.113549.1.12.1.1",
        "PKCS#12 pbeWithSHA1And128BitRC4",
        Legacy,
    ),
    (
        "1.2.840.113549.1.12.1.2",
        "PKCS#12 pbeWithSHA1And40BitRC4",
        Legacy,
    ),
    (
        "1.2.840.113549.1.12.1.3",
        "PKCS#12 pbeWithSHA1And3-KeyTripleDES-CBC",
        Refused,
    ),
    (
        "1.2.840.113549.1.12.1.4",
        "PKCS#12 pbeWithSHA1And2-KeyTripleDES-CBC",
        Refused,
    ),
    (
        "1.2.840.113549.1.12.1.5",
        "PKCS#12 pbeWithSHA1And128BitRC2-CBC",
        Legacy,
    ),
    (
        "1.2.840.113549.1.12.1.6",
        "PKCS#12 pbeWithSHA1And40BitRC2-CBC",
        Legacy,
    ),
];

/// An algorithm's name and support; an OID not in the table is shown as
/// the OID (it is public structure, never key material) and refused.
fn algorithm(oid: Oid) -> (String, Support) {
    let dotted = oid.to_string();
    ALGORITHMS
        .iter()
        .find(|(o, _, _)| *o == dotted)
        .map_or((format!("algorithm {dotted}"), Refused), |(_, name, s)| {
            (name.to_string(), *s)
        })
}

/// OpenSSL's ceiling on the memory scrypt may use to decrypt a key (its
/// `SCRYPT_MAX_MEM`): a key asking for more is refused before any
/// allocation, as OpenSSL and so Python's cryptography refuse it.
const SCRYPT_MAX_MEM: u64 = 32 * 1024 * 1024;

/// The most work a key's derivation may ask for, so that a hostile or
/// damaged key file cannot keep a run busy for minutes: PBKDF2 iterations
/// (OpenSSL writes 2048, current advice is under 1.5 million; ten million
/// take a few seconds), and scrypt's N·r·p (OpenSSL writes 2^14·8·1 = 2^17;
/// 2^22 is 32 times that, about a second).
const PBKDF2_MAX_ITERATIONS: u32 = 10_000_000;
const SCRYPT_MAX_WORK: u64 = 1 << 22;

fn damaged() -> KeyError {
    KeyError::Malformed("ENCRYPTED PRIVATE KEY".into())
}

/// Decrypts an `EncryptedPrivateKeyInfo` and loads the key inside.
pub(super) fn decrypt(der: &[u8], passphrase: Option<&Passphrase>) -> Result<PrivateKey, KeyError> {
    check_scheme(der)?;
    let info = pkcs8::EncryptedPrivateKeyInfo::from_der(der).map_err(|_| damaged())?;
    check_kdf_cost(&info.encryption_algorithm)?;
    check_ciphertext(&info)?;
    let passphrase = passphrase.ok_or(KeyError::PassphraseRequired)?;
    let mut buffer = Zeroizing::new(info.encrypted_data.to_vec());
    let plain = info
        .encryption_algorithm
        .decrypt_in_place(passphrase.0.as_bytes(), &mut buffer)
        .map_err(|e| match e {
            // CBC padding that does not check out: the derived key is wrong.
            // (pkcs5 reports a failed unpadding as `EncryptFailed`.)
            pkcs5::Error::DecryptFailed | pkcs5::Error::EncryptFailed => KeyError::WrongPassphrase,
            _ => damaged(),
        })?;
    // A wrong key passes the padding check about once in 256 tries; what it
    // decrypts to is then noise, not a PKCS#8 structure.
    if pkcs8::PrivateKeyInfo::from_der(plain).is_err() {
        return Err(KeyError::WrongPassphrase);
    }
    super::private_from_pkcs8(plain)
}

/// Whether DER bytes have the shape of an `EncryptedPrivateKeyInfo`
/// (an algorithm and an octet string), whatever algorithm it names.
pub(super) fn is_encrypted_pkcs8(der: &[u8]) -> bool {
    outer_scheme(der).is_ok()
}

fn outer_scheme(der: &[u8]) -> Result<AlgorithmIdentifierRef<'_>, KeyError> {
    AnyRef::from_der(der)
        .and_then(|outer| {
            outer.sequence(|r| {
                let scheme: AlgorithmIdentifierRef<'_> = r.decode()?;
                r.decode::<OctetStringRef<'_>>()?;
                Ok(scheme)
            })
        })
        .map_err(|_| damaged())
}

/// Names every algorithm the key's encryption uses, and refuses the key
/// (without trying any passphrase) when one of them is not decrypted here.
fn check_scheme(der: &[u8]) -> Result<(), KeyError> {
    let scheme = outer_scheme(der)?;
    if scheme.oid != PBES2 {
        let (name, support) = algorithm(scheme.oid);
        return Err(KeyError::UnsupportedEncryption {
            scheme: name,
            legacy: support == Legacy,
        });
    }
    let (kdf, cipher) = scheme
        .parameters
        .ok_or_else(damaged)?
        .sequence(|r| {
            let kdf: AlgorithmIdentifierRef<'_> = r.decode()?;
            let cipher: AlgorithmIdentifierRef<'_> = r.decode()?;
            Ok((kdf, cipher))
        })
        .map_err(|_| damaged())?;
    let mut parts = vec![algorithm(kdf.oid)];
    if kdf.oid == pbes2::PBKDF2_OID {
        parts.push(algorithm(pbkdf2_prf(kdf)?));
    }
    parts.push(algorithm(cipher.oid));
    if parts.iter().all(|(_, s)| *s == Decrypts) {
        return Ok(());
    }
    let names: Vec<&str> = parts.iter().map(|(n, _)| n.as_str()).collect();
    Err(KeyError::UnsupportedEncryption {
        scheme: format!("PBES2 ({})", names.join(", ")),
        legacy: parts.iter().any(|(_, s)| *s == Legacy),
    })
}

/// PBKDF2's PRF: the last field of its parameters, which RFC 8018 defaults
/// to HMAC-SHA1 when absent (and OpenSSL before 1.1 always left it out).
fn pbkdf2_prf(kdf: AlgorithmIdentifierRef<'_>) -> Result<Oid, KeyError> {
    kdf.parameters
        .ok_or_else(damaged)?
        .sequence(|r| {
            r.decode::<AnyRef<'_>>()?; // salt
            r.decode::<AnyRef<'_>>()?; // iteration count
            if !r.is_finished() && r.peek_tag()? == Tag::Integer {
                r.decode::<AnyRef<'_>>()?; // key length
            }
            if r.is_finished() {
                return Ok(pbes2::HMAC_WITH_SHA1_OID);
            }
            Ok(r.decode::<AlgorithmIdentifierRef<'_>>()?.oid)
        })
        .map_err(|_| damaged())
}

/// Refuses derivation parameters that are invalid (scrypt's N not a power
/// of two above 1, no PBKDF2 iteration) as damaged, and those that would
/// need more memory than OpenSSL allows or more work than
/// [`PBKDF2_MAX_ITERATIONS`] / [`SCRYPT_MAX_WORK`] as unsupported — all
/// before any passphrase is tried or memory allocated. scrypt's memory is
/// computed as OpenSSL does (`128·r·(N+2) + 128·r·p` bytes).
fn check_kdf_cost(scheme: &pkcs5::EncryptionScheme<'_>) -> Result<(), KeyError> {
    let pkcs5::EncryptionScheme::Pbes2(params) = scheme else {
        return Ok(());
    };
    let too_costly = |what: String| KeyError::UnsupportedEncryption {
        scheme: what,
        legacy: false,
    };
    match &params.kdf {
        pbes2::Kdf::Pbkdf2(p) => match p.iteration_count {
            0 => Err(damaged()),
            n if n > PBKDF2_MAX_ITERATIONS => Err(too_costly(format!(
                "PBKDF2 with {n} iterations, more than the {PBKDF2_MAX_ITERATIONS} cfsign runs (a key file that would take minutes to open)"
            ))),
            _ => Ok(()),
        },
        pbes2::Kdf::Scrypt(s) => {
            let (n, r, p) = (
                s.cost_parameter,
                u64::from(s.block_size),
                u64::from(s.parallelization),
            );
            if n < 2 || !n.is_power_of_two() || r == 0 || p == 0 {
                return Err(damaged());
            }
            let needed = n
                .checked_add(2)
                .and_then(|n2| n2.checked_mul(128 * r))
                .and_then(|v| v.checked_add(128 * r * p));
            if needed.is_none_or(|bytes| bytes > SCRYPT_MAX_MEM) {
                return Err(too_costly(format!(
                    "scrypt with N={n}, r={r}, p={p}, which needs more than the 32 MiB of memory OpenSSL allows"
                )));
            }
            if n.saturating_mul(r).saturating_mul(p) > SCRYPT_MAX_WORK {
                return Err(too_costly(format!(
                    "scrypt with N={n}, r={r}, p={p}, more work (N·r·p) than the 2^22 cfsign runs (a key file that would take minutes to open)"
                )));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// CBC ciphertext is whole blocks, at least one: anything else is a damaged
/// file, not a wrong passphrase.
fn check_ciphertext(info: &pkcs8::EncryptedPrivateKeyInfo<'_>) -> Result<(), KeyError> {
    let block = match &info.encryption_algorithm {
        pkcs5::EncryptionScheme::Pbes2(p) if p.encryption.oid() == pbes2::DES_EDE3_CBC_OID => 8,
        _ => 16,
    };
    let len = info.encrypted_data.len();
    if len == 0 || len % block != 0 {
        return Err(damaged());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_entry_is_a_valid_oid_and_listed_once() {
        let mut seen = std::collections::HashSet::new();
        for (oid, name, _) in ALGORITHMS {
            let parsed = Oid::new(oid).unwrap_or_else(|_| panic!("{name}: {oid}"));
            assert_eq!(parsed.to_string(), *oid);
            assert!(seen.insert(*oid), "{oid} listed twice");
        }
        // Some that pkcs5 decrypts with the features enabled in Cargo.toml
        // (the fixtures cover every PRF and cipher).
        for oid in [
            pbes2::HMAC_WITH_SHA1_OID,
            pbes2::HMAC_WITH_SHA256_OID,
            pbes2::AES_128_CBC_OID,
            pbes2::AES_192_CBC_OID,
            pbes2::AES_256_CBC_OID,
            pbes2::DES_EDE3_CBC_OID,
            pbes2::SCRYPT_OID,
            pbes2::PBKDF2_OID,
        ] {
            assert!(algorithm(oid).1 == Decrypts, "{oid}");
        }
        assert!(algorithm(Oid::new_unwrap("1.3.14.3.2.7")).1 == Legacy);
    }

    fn fixture_der(name: &str) -> Vec<u8> {
        let path = format!("{}/tests/fixtures/keys/{name}", env!("CARGO_MANIFEST_DIR"));
        let blocks = crate::sign::pem::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
        blocks[0].der().to_vec()
    }

    fn passphrase() -> Passphrase {
        Passphrase::new("correct horse battery staple")
    }

    /// As DER (no label to go by), an encrypted key in a scheme pkcs8 cannot
    /// even parse is still recognised, and named.
    #[test]
    fn der_of_an_unsupported_scheme_is_named() {
        let der = fixture_der("rsa2048-enc-pkcs12-3des.pem");
        assert!(is_encrypted_pkcs8(&der));
        let err = PrivateKey::from_bytes(&der, Some(&passphrase())).unwrap_err();
        assert_eq!(
            err,
            KeyError::UnsupportedEncryption {
                scheme: "PKCS#12 pbeWithSHA1And3-KeyTripleDES-CBC".into(),
                legacy: false
            }
        );
        let der = fixture_der("rsa2048-enc-sha384-des3.pem");
        let key = PrivateKey::from_bytes(&der, Some(&passphrase())).unwrap();
        assert_eq!(key.describe(), "RSA-2048");
        // Where a public key is wanted, the advice is to give the public key.
        let pem = std::fs::read(format!(
            "{}/tests/fixtures/keys/rsa2048-enc-camellia256.pem",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let e = super::super::PublicKey::from_bytes(&pem)
            .unwrap_err()
            .to_string();
        assert!(e.contains("openssl pkey -pubout"), "{e}");
    }

    /// scrypt parameters that would need more memory than OpenSSL allows
    /// are refused before anything is allocated (r raised from 8 to 127).
    #[test]
    fn scrypt_beyond_openssls_memory_limit_is_refused() {
        let mut der = fixture_der("rsa2048-enc-scrypt-aes256.pem");
        // N=16384, r=8, p=1: INTEGER 0x4000, INTEGER 8, INTEGER 1.
        let at = der
            .windows(10)
            .position(|w| w == [0x02, 0x02, 0x40, 0x00, 0x02, 0x01, 0x08, 0x02, 0x01, 0x01])
            .expect("openssl's default scrypt parameters");
        der[at + 6] = 127;
        let err = PrivateKey::from_bytes(&der, Some(&passphrase())).unwrap_err();
        let KeyError::UnsupportedEncryption { scheme, .. } = &err else {
            panic!("{err}");
        };
        assert!(scheme.contains("N=16384, r=127, p=1"), "{scheme}");
        assert!(err.to_string().starts_with("unsupported cipher: "), "{err}");
    }
}
