//! The signing values a request carries, gathered from its query or its
//! cookies, with the first one that came twice.

/// The signing values of a request, from its URL or its cookies.
#[derive(Debug, Default)]
pub(super) struct Params {
    pub(super) expires: Option<String>,
    pub(super) policy: Option<String>,
    pub(super) signature: Option<String>,
    pub(super) key_pair_id: Option<String>,
    pub(super) hash_algorithm: Option<String>,
    /// The first signing parameter that came twice. CloudFront documents no
    /// rule for a second `Signature=` or `Expires=`; taking the first (or the
    /// last) would let anyone append a value after signing that some other
    /// reader of the URL takes instead, so such a request is refused.
    pub(super) repeated: Option<&'static str>,
}

impl Params {
    pub(super) fn set(&mut self, name: &str, value: &str) {
        let (name, slot) = match name {
            "Expires" => ("Expires", &mut self.expires),
            "Policy" => ("Policy", &mut self.policy),
            "Signature" => ("Signature", &mut self.signature),
            "Key-Pair-Id" => ("Key-Pair-Id", &mut self.key_pair_id),
            "Hash-Algorithm" => ("Hash-Algorithm", &mut self.hash_algorithm),
            _ => return,
        };
        if slot.is_some() {
            self.repeated.get_or_insert(name);
        } else {
            *slot = Some(value.to_string());
        }
    }

    pub(super) fn from_cookies(header: &str) -> Self {
        let mut params = Params::default();
        for pair in header.split(';') {
            let (name, value) = pair.trim().split_once('=').unwrap_or((pair.trim(), ""));
            if let Some(name) = name.strip_prefix("CloudFront-") {
                params.set(name, value);
            }
        }
        params
    }

    pub(super) fn is_empty(&self) -> bool {
        self.expires.is_none()
            && self.policy.is_none()
            && self.signature.is_none()
            && self.key_pair_id.is_none()
            && self.hash_algorithm.is_none()
    }
}
