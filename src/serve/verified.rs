//! Signatures that verified, remembered until their policy expires, so that
//! a client reusing one signed URL or one set of signed cookies (the usual
//! case: a wildcard policy for a whole session) costs one RSA verification,
//! not one per request. Only the cryptographic check is remembered: the
//! resource, the time window and the IP address are checked on every request
//! by [`verify::check_with`](crate::verify::check_with).
//!
//! An entry is the SHA-256 of everything the signature covers or depends on
//! (key pair ID, hash algorithm, the policy's exact bytes, the signature), so
//! it answers for that policy under that key and nothing else. Only
//! signatures that verified are inserted, so a client without the private
//! key cannot add entries; the size is bounded anyway (oldest out first).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::sign::{HashAlgorithm, PublicKey};
use crate::time::Epoch;
use crate::verify::SignatureCheck;

/// How many signatures are remembered: a few hundred KiB at most.
const CAPACITY: usize = 4096;

type Id = [u8; 32];

/// The cache of one server (one key ring: the key pair ID names the key).
#[derive(Debug)]
pub(super) struct VerifiedSignatures {
    capacity: usize,
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    /// ID → the policy's expiry.
    expires: HashMap<Id, Epoch>,
    /// Insertion order, for eviction.
    order: VecDeque<Id>,
}

impl VerifiedSignatures {
    pub(super) fn new() -> Self {
        Self::with_capacity(CAPACITY)
    }

    fn with_capacity(capacity: usize) -> Self {
        VerifiedSignatures {
            capacity: capacity.max(1),
            inner: Mutex::new(Entries::default()),
        }
    }

    /// Whether `check` holds under `key` at `now`: remembered, else verified
    /// (and remembered if it holds).
    pub(super) fn verify(&self, key: &PublicKey, check: &SignatureCheck<'_>, now: Epoch) -> bool {
        if now >= check.expires {
            // Refused later anyway; nothing worth remembering.
            return key.verify(check.message, check.hash, check.signature);
        }
        let id = id(check);
        if self.lock().expires.get(&id).is_some_and(|&e| now < e) {
            return true;
        }
        // Outside the lock: the RSA operation is the slow part.
        let valid = key.verify(check.message, check.hash, check.signature);
        if valid {
            self.insert(id, check.expires);
        }
        valid
    }

    fn insert(&self, id: Id, expires: Epoch) {
        let mut entries = self.lock();
        if entries.expires.contains_key(&id) {
            return; // another request verified it meanwhile
        }
        while entries.order.len() >= self.capacity {
            if let Some(old) = entries.order.pop_front() {
                entries.expires.remove(&old);
            }
        }
        entries.expires.insert(id, expires);
        entries.order.push_back(id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // The entries stay consistent whatever panicked: keep using them.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().order.len()
    }
}

/// Every input of the signature check, each length-prefixed so that no two
/// different checks hash the same bytes.
fn id(check: &SignatureCheck<'_>) -> Id {
    let mut hasher = Sha256::new();
    for part in [check.key_pair_id.as_bytes(), check.message, check.signature] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hasher.update([match check.hash {
        HashAlgorithm::Sha1 => 1,
        HashAlgorithm::Sha256 => 2,
    }]);
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::{CustomPolicy, Policy, PrivateKey, Signer};
    use crate::verify::{self, KeyRing, Rejection, Request};

    const ID: &str = "K2JCJMDEHXQW5F";
    const NOW: Epoch = 1_900_000_000;

    fn private() -> PrivateKey {
        let pem = include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem");
        PrivateKey::from_bytes(pem, None).unwrap()
    }

    fn signer() -> Signer {
        Signer::new(private(), ID.parse().unwrap(), None)
    }

    fn ring() -> KeyRing {
        let mut keys = KeyRing::new();
        keys.insert(ID, private().public_key());
        keys
    }

    /// `serve`'s check: through the cache.
    fn check(
        cache: &VerifiedSignatures,
        keys: &KeyRing,
        url: &str,
        ip: &str,
        now: Epoch,
    ) -> Result<(), Rejection> {
        let request = Request {
            url,
            cookie_header: None,
            client_ip: Some(ip.parse().unwrap()),
            now,
        };
        verify::check_with(&request, keys, |key, s| cache.verify(key, s, now)).map(|_| ())
    }

    /// A wildcard policy with a time window and an IP range, applied to `path`.
    fn custom(signer: &Signer, path: &str) -> String {
        let policy = Policy::Custom(
            CustomPolicy::new(
                "https://d.example/a/*".parse().unwrap(),
                NOW + 600,
                Some(NOW - 600),
                Some("192.0.2.0/24".parse().unwrap()),
            )
            .unwrap(),
        );
        let signed = signer.sign(&policy);
        let url = format!("https://d.example{path}");
        signed.apply_to(&url).unwrap().as_str().to_string()
    }

    #[test]
    fn a_remembered_signature_still_meets_every_condition() {
        let signer = signer();
        let keys = ring();
        let cache = VerifiedSignatures::new();
        let url = custom(&signer, "/a/x.txt");
        check(&cache, &keys, &url, "192.0.2.7", NOW).unwrap();
        assert_eq!(cache.len(), 1);
        // The same signature again: remembered, not added twice.
        check(&cache, &keys, &url, "192.0.2.8", NOW + 1).unwrap();
        assert_eq!(cache.len(), 1);

        let refused =
            |url: &str, ip: &str, now: Epoch| check(&cache, &keys, url, ip, now).unwrap_err().check;
        // Another URL under the same policy: the resource is checked again.
        let outside = url.replace("/a/x.txt", "/b/x.txt");
        assert_eq!(refused(&outside, "192.0.2.7", NOW), "resource");
        // The time window and the IP address, on every request.
        assert_eq!(refused(&url, "192.0.2.7", NOW + 600), "expired");
        assert_eq!(refused(&url, "192.0.2.7", NOW - 601), "not-yet-valid");
        assert_eq!(refused(&url, "198.51.100.1", NOW), "ip-address");
    }

    #[test]
    fn a_remembered_signature_answers_for_its_own_policy_only() {
        let signer = signer();
        let keys = ring();
        let cache = VerifiedSignatures::new();
        let canned = signer
            .sign(&Policy::canned("https://d.example/a.txt", NOW + 60).unwrap())
            .apply_to("https://d.example/a.txt")
            .unwrap();
        check(&cache, &keys, canned.as_str(), "192.0.2.7", NOW).unwrap();
        assert_eq!(cache.len(), 1);

        let refused = |url: &str| check(&cache, &keys, url, "192.0.2.7", NOW).unwrap_err();
        // The cached signature with another URL, another expiry, or another
        // hash algorithm: other policy bytes, so verified again, and refused.
        let other_url = canned.as_str().replace("/a.txt", "/b.txt");
        assert_eq!(refused(&other_url).check, "signature");
        let later = canned.as_str().replace(
            &format!("Expires={}", NOW + 60),
            &format!("Expires={}", NOW + 61),
        );
        assert_ne!(later, canned.as_str());
        assert_eq!(refused(&later).check, "signature");
        assert_eq!(
            refused(&format!("{}&Hash-Algorithm=SHA256", canned.as_str())).check,
            "signature"
        );
        // A tampered signature after the valid one was remembered.
        let (_, signature) = canned.as_str().split_once("Signature=").unwrap();
        let signature = signature.split('&').next().unwrap();
        let flipped: String = signature
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if i == 10 {
                    if c == 'A' { 'B' } else { 'A' }
                } else {
                    c
                }
            })
            .collect();
        let tampered = canned.as_str().replace(signature, &flipped);
        assert_ne!(tampered, canned.as_str());
        assert_eq!(refused(&tampered).check, "signature");
        assert_eq!(cache.len(), 1, "nothing that failed is remembered");
    }

    #[test]
    fn entries_are_keyed_on_everything_and_expire_with_their_policy() {
        let key = private().public_key();
        let message = b"{\"Statement\":[]}";
        let signature = private().sign(message, HashAlgorithm::Sha1);
        let check = SignatureCheck {
            key_pair_id: ID,
            message,
            hash: HashAlgorithm::Sha1,
            signature: &signature,
            expires: NOW + 10,
        };
        let cache = VerifiedSignatures::with_capacity(2);
        assert!(cache.verify(&key, &check, NOW));
        // A key that could not verify it: answered from the entry, which is
        // what makes the key pair ID part of the entry's identity.
        let other = PublicKey::from_bytes(include_bytes!(
            "../../tests/fixtures/keys/ec-p256-public.pem"
        ))
        .unwrap();
        assert!(cache.verify(&other, &check, NOW));
        assert!(!cache.verify(
            &other,
            &SignatureCheck {
                key_pair_id: "KOTHER",
                ..check
            },
            NOW
        ));
        // Past the policy's expiry the entry no longer answers.
        assert!(!cache.verify(&other, &check, NOW + 10));
        // Bounded: a third signature pushes the oldest out.
        for (message, expires) in [(&b"b"[..], NOW + 20), (b"c", NOW + 30)] {
            let newer = SignatureCheck {
                message,
                expires,
                ..check
            };
            cache.insert(id(&newer), expires);
        }
        assert_eq!(cache.len(), 2);
        assert!(!cache.verify(&other, &check, NOW));
    }
}
