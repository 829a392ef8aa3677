//! The public keys a distribution trusts, by the ID a request names them
//! with: what [`check`](super::check) verifies signatures against.

use std::collections::BTreeMap;

use crate::sign::PublicKey;

/// The public keys the distribution trusts, by ID.
///
/// ```
/// use cfsign::sign::PublicKey;
/// use cfsign::verify::KeyRing;
/// let mut keys = KeyRing::new();
/// assert!(keys.is_empty());
/// let pem = include_bytes!("../../tests/fixtures/keys/rsa2048-public.pem");
/// keys.insert("K2JCJMDEHXQW5F", PublicKey::from_bytes(pem)?);
/// assert_eq!(keys.ids().collect::<Vec<_>>(), ["K2JCJMDEHXQW5F"]);
/// assert!(keys.get("K2JCJMDEHXQW5F").is_some() && keys.get("KOTHER").is_none());
/// # Ok::<(), cfsign::sign::KeyError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct KeyRing {
    keys: BTreeMap<String, PublicKey>,
    /// A key was taken out ([`KeyRing::remove`]): signatures are checked
    /// even if none is left, so that every key ID is then unknown rather
    /// than every signature unchecked.
    removed: bool,
}

impl KeyRing {
    /// An empty ring: [`check`](super::check) then checks everything but the signature.
    ///
    /// ```
    /// use cfsign::verify::{self, KeyRing, Request};
    /// // A URL with a signature no key could have made is still accepted...
    /// let url = "https://h/a.jpg?Expires=1893456000&Signature=AAAA&Key-Pair-Id=K2JCJMDEHXQW5F";
    /// let request = Request { url, cookie_header: None, client_ip: None, now: 1_800_000_000 };
    /// let accepted = verify::check(&request, &KeyRing::new()).unwrap();
    /// // ...and says that its signature was not checked.
    /// assert_eq!(accepted.key, None);
    /// ```
    pub fn new() -> Self {
        KeyRing::default()
    }

    /// Trusts `key` under `id` (replacing a key of the same ID).
    ///
    /// ```
    /// use cfsign::sign::PublicKey;
    /// use cfsign::verify::KeyRing;
    /// let rsa = PublicKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-public.pem"))?;
    /// let ec = PublicKey::from_bytes(include_bytes!("../../tests/fixtures/keys/ec-p256-public.pem"))?;
    /// let mut keys = KeyRing::new();
    /// keys.insert("K2JCJMDEHXQW5F", rsa);
    /// keys.insert("K2JCJMDEHXQW5F", ec.clone());
    /// assert_eq!(keys.get("K2JCJMDEHXQW5F"), Some(&ec));
    /// assert_eq!(keys.ids().count(), 1);
    /// # Ok::<(), cfsign::sign::KeyError>(())
    /// ```
    pub fn insert(&mut self, id: impl Into<String>, key: PublicKey) {
        self.keys.insert(id.into(), key);
    }

    /// Stops trusting `id`, as when its public key is not in a key group
    /// the cache behaviour trusts: a signature made with it gets
    /// `InvalidKey`. Unlike a ring that never had keys, a ring emptied this
    /// way still checks signatures (and refuses every one).
    ///
    /// ```
    /// use cfsign::sign::PublicKey;
    /// use cfsign::verify::{self, ErrorCode, KeyRing, Request};
    /// let mut keys = KeyRing::new();
    /// keys.insert("K2JCJMDEHXQW5F", PublicKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-public.pem"))?);
    /// keys.remove("K2JCJMDEHXQW5F");
    /// assert!(keys.is_empty());
    /// let url = "https://h/a.jpg?Expires=1893456000&Signature=AAAA&Key-Pair-Id=K2JCJMDEHXQW5F";
    /// let request = Request { url, cookie_header: None, client_ip: None, now: 1_800_000_000 };
    /// assert_eq!(verify::check(&request, &keys).unwrap_err().code, ErrorCode::InvalidKey);
    /// # Ok::<(), cfsign::sign::KeyError>(())
    /// ```
    pub fn remove(&mut self, id: &str) {
        self.keys.remove(id);
        self.removed = true;
    }

    /// Whether [`check`](super::check) verifies signatures: some key is
    /// trusted, or one was removed.
    pub(crate) fn checks_signatures(&self) -> bool {
        !self.keys.is_empty() || self.removed
    }

    /// Whether no key is trusted.
    ///
    /// ```
    /// use cfsign::sign::PublicKey;
    /// use cfsign::verify::KeyRing;
    /// let mut keys = KeyRing::new();
    /// assert!(keys.is_empty());
    /// keys.insert("K1", PublicKey::from_bytes(include_bytes!("../../tests/fixtures/keys/ec-p256-public.pem"))?);
    /// assert!(!keys.is_empty());
    /// # Ok::<(), cfsign::sign::KeyError>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The trusted IDs, in order.
    ///
    /// ```
    /// use cfsign::sign::PublicKey;
    /// use cfsign::verify::KeyRing;
    /// let key = PublicKey::from_bytes(include_bytes!("../../tests/fixtures/keys/ec-p256-public.pem"))?;
    /// let mut keys = KeyRing::new();
    /// keys.insert("KZ", key.clone());
    /// keys.insert("KA", key);
    /// assert_eq!(keys.ids().collect::<Vec<_>>(), ["KA", "KZ"]);
    /// # Ok::<(), cfsign::sign::KeyError>(())
    /// ```
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    /// The key trusted under `id`.
    ///
    /// ```
    /// use cfsign::sign::PublicKey;
    /// use cfsign::verify::KeyRing;
    /// let key = PublicKey::from_bytes(include_bytes!("../../tests/fixtures/keys/rsa2048-public.pem"))?;
    /// let mut keys = KeyRing::new();
    /// keys.insert("K2JCJMDEHXQW5F", key);
    /// assert_eq!(keys.get("K2JCJMDEHXQW5F").map(|k| k.describe()).as_deref(), Some("RSA-2048"));
    /// assert!(keys.get("k2jcjmdehxqw5f").is_none()); // IDs are exact
    /// # Ok::<(), cfsign::sign::KeyError>(())
    /// ```
    pub fn get(&self, id: &str) -> Option<&PublicKey> {
        self.keys.get(id)
    }
}
