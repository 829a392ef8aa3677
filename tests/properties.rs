//! Property tests of the signing core: round trips through the verifier for
//! arbitrary URLs, times, IP ranges, hashes and key types; the policy builder
//! never yields more than one statement or another resource than asked; and
//! CloudFront base64 round-trips.

use std::net::Ipv4Addr;
use std::sync::OnceLock;

use cfsign::sign::{
    CustomPolicy, HashAlgorithm, IpRange, Policy, PrivateKey, ResourcePattern, Signer, encode, url,
};
use cfsign::verify::{self, KeyRing, Request};
use proptest::prelude::*;

fn key(name: &str) -> PrivateKey {
    let path = format!("{}/tests/fixtures/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    PrivateKey::from_bytes(&std::fs::read(path).unwrap(), None).unwrap()
}

fn keys() -> &'static [(PrivateKey, KeyRing); 2] {
    static KEYS: OnceLock<[(PrivateKey, KeyRing); 2]> = OnceLock::new();
    KEYS.get_or_init(|| {
        ["rsa2048-pkcs8.pem", "ec-p256-pkcs8.pem"].map(|name| {
            let k = key(name);
            let mut ring = KeyRing::new();
            ring.insert("K2JCJMDEHXQW5F", k.public_key());
            (k, ring)
        })
    })
}

/// URL-ish strings: a host, then path and query text with anything a user
/// might paste — spaces, non-ASCII, reserved characters.
fn arb_url() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["https", "http"]),
        "[a-z0-9]{1,12}(\\.[a-z0-9]{1,8}){0,2}(:[0-9]{2,5})?",
        prop::collection::vec("[a-zA-Z0-9 ._~!$&'()*+,;=:@%<>{}^`|éü中-]{0,12}", 0..4),
        prop::option::of("[a-zA-Z0-9 =&._~%é-]{0,20}"),
    )
        .prop_map(|(scheme, host, segments, query)| {
            let mut u = format!("{scheme}://{host}/{}", segments.join("/"));
            if let Some(q) = query {
                u.push('?');
                u.push_str(&q);
            }
            u
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn sign_then_verify_round_trips(
        raw in arb_url(),
        which_key in 0usize..2,
        sha256 in any::<bool>(),
        now in 1_700_000_000i64..1_900_000_000,
        lifetime in 1i64..10_000_000,
        started_ago in prop::option::of(0i64..1_000_000),
        ip in prop::option::of((any::<u32>(), 0u8..=32)),
        wildcard in any::<bool>(),
    ) {
        // Reserved names are refused by design; skip URLs that carry one.
        let Ok(wire) = url::to_wire(&raw) else {
            let query = raw.split_once('?').map(|(_, q)| q).unwrap_or("");
            prop_assert!(url::signing_param_in(query).is_some() || raw.contains('#') || raw.contains('"'));
            return Ok(());
        };
        let (private, ring) = &keys()[which_key];
        let hash = if sha256 { HashAlgorithm::Sha256 } else { HashAlgorithm::Sha1 };
        let signer = Signer::new(private.clone(), "K2JCJMDEHXQW5F".parse().unwrap(), Some(hash));
        let expires = now + lifetime;
        let range = ip.map(|(a, n)| IpRange::new(Ipv4Addr::from(a), n).unwrap());
        let policy = if started_ago.is_none() && range.is_none() && !wildcard {
            Policy::canned(&wire, expires).unwrap()
        } else {
            let resource = if wildcard {
                // Everything on the URL's host: `https://host[:port]*`.
                let host_start = wire.find("://").unwrap() + 3;
                let host_end = wire[host_start..].find(['/', '?']).map_or(wire.len(), |i| host_start + i);
                format!("{}*", &wire[..host_end])
            } else {
                wire.clone()
            };
            let resource: ResourcePattern = resource.parse().unwrap();
            Policy::Custom(CustomPolicy::new(resource, expires, started_ago.map(|a| now - a - 1), range).unwrap())
        };
        let signed = signer.sign(&policy).apply_to(&wire).unwrap();
        let client_ip = ip.map(|(a, _)| Ipv4Addr::from(a));
        let request = Request { url: signed.as_str(), cookie_header: None, client_ip, now };
        let accepted = verify::check(&request, ring);
        prop_assert!(accepted.is_ok(), "{}: {:?}", signed, accepted.err());
        // The same signature as cookies on the unsigned URL.
        let cookies = signer.sign(&policy).cookies().cookie_header_value();
        let request = Request { url: &wire, cookie_header: Some(&cookies), client_ip, now };
        prop_assert!(verify::check(&request, ring).is_ok());
        // And it is refused once expired.
        let late = Request { url: signed.as_str(), cookie_header: None, client_ip, now: expires };
        prop_assert_eq!(verify::check(&late, ring).unwrap_err().check, "expired");
    }

    #[test]
    fn policies_have_one_statement_and_the_resource_asked_for(
        resource in "\\PC{0,60}",
        ip in "\\PC{0,24}",
        expires in 0i64..4_000_000_000,
    ) {
        let Ok(pattern) = resource.parse::<ResourcePattern>() else { return Ok(()) };
        let range = ip.parse::<IpRange>().ok();
        let policy = CustomPolicy::new(pattern, expires, None, range).unwrap();
        let value: serde_json::Value = serde_json::from_str(policy.json()).unwrap();
        let statements = value["Statement"].as_array().unwrap();
        prop_assert_eq!(statements.len(), 1);
        prop_assert_eq!(value.as_object().unwrap().len(), 1);
        prop_assert_eq!(statements[0]["Resource"].as_str().unwrap(), resource.as_str());
        prop_assert_eq!(statements[0]["Condition"]["DateLessThan"]["AWS:EpochTime"].as_i64().unwrap(), expires);
        if let Some(r) = range {
            prop_assert_eq!(statements[0]["Condition"]["IpAddress"]["AWS:SourceIp"].as_str().unwrap(), r.to_string());
        }
        // And the verifier reads back exactly what was built.
        prop_assert_eq!(CustomPolicy::parse(policy.json()).unwrap(), policy);
    }

    #[test]
    fn canned_policies_have_one_statement_for_any_url(raw in "\\PC{0,80}", expires in 0i64..4_000_000_000) {
        let Ok(policy) = Policy::canned(&raw, expires) else { return Ok(()) };
        let json = policy.to_json();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(value["Statement"].as_array().unwrap().len(), 1);
        prop_assert_eq!(value["Statement"][0]["Resource"].as_str().unwrap(), url::to_wire(&raw).unwrap());
        prop_assert!(!json.contains(char::is_whitespace));
    }

    #[test]
    fn cloudfront_base64_round_trips(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let text = encode::encode(&bytes);
        prop_assert!(text.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_~".contains(&b)));
        prop_assert_eq!(encode::decode(&text).unwrap(), bytes);
    }

    #[test]
    fn decoding_anything_never_panics(text in "\\PC{0,200}") {
        let _ = encode::decode(&text);
        let _ = url::split_signed(&text);
        let _ = CustomPolicy::parse(&text);
    }
}
