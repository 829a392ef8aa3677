//! Signed requests assembled by hand from the openssl-made signatures in
//! `tests/fixtures/openssl-vectors.json` — never by cfsign's signer — with the
//! verdict CloudFront would give. `verify` and `serve` are both tested with it.

use serde_json::Value;

use super::{cf_b64, fixtures};

/// The public keys a distribution trusts in these rows (`--public-key` values).
pub fn trusted_keys() -> Vec<String> {
    vec![
        format!(
            "K2JCJMDEHXQW5F={}",
            fixtures().join("keys/rsa2048-public.pem").display()
        ),
        format!(
            "K3ECDSAP256KEY={}",
            fixtures().join("keys/ec-p256-public.pem").display()
        ),
    ]
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    Accept,
    /// CloudFront's error code, the verifier's check name, and words the
    /// explanation must contain.
    Reject {
        code: &'static str,
        check: &'static str,
        needles: Vec<&'static str>,
    },
}

#[derive(Clone, Debug)]
pub struct Row {
    pub name: String,
    pub url: String,
    pub cookie: Option<String>,
    /// The viewer's address, for rows with an IpAddress condition.
    pub client_ip: Option<&'static str>,
    pub expect: Expect,
}

pub struct Vector(Value);

impl Vector {
    pub fn by_id(id: &str) -> Vector {
        Vector::in_file("openssl-vectors.json", id)
    }

    /// A vector of another fixture file of the same shape (`policy-forms.json`).
    pub fn in_file(file: &str, id: &str) -> Vector {
        let all: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(fixtures().join(file)).unwrap()).unwrap();
        Vector(
            all.into_iter()
                .find(|v| v["id"] == id)
                .unwrap_or_else(|| panic!("no vector {id}")),
        )
    }

    pub fn s(&self, field: &str) -> String {
        self.0[field]
            .as_str()
            .unwrap_or_else(|| panic!("{field} is not a string"))
            .to_string()
    }

    pub fn expires(&self) -> i64 {
        self.0["expires"].as_i64().unwrap()
    }

    fn sha256(&self) -> bool {
        self.s("algorithm").ends_with("SHA256")
    }

    /// The signing parameters written out by hand, in botocore's order.
    pub fn params(&self) -> Vec<(String, String)> {
        let mut p = vec![];
        if self.s("kind") == "canned" {
            p.push(("Expires".to_string(), self.expires().to_string()));
        } else {
            p.push(("Policy".to_string(), self.s("policy_encoded")));
        }
        p.push(("Signature".to_string(), self.s("signature")));
        p.push(("Key-Pair-Id".to_string(), self.s("key_pair_id")));
        if self.sha256() {
            p.push(("Hash-Algorithm".to_string(), "SHA256".to_string()));
        }
        p
    }

    /// The vector's URL with `params` appended as botocore does.
    pub fn url_with(&self, params: &[(String, String)]) -> String {
        join(&self.s("url"), params)
    }

    pub fn signed_url(&self) -> String {
        self.url_with(&self.params())
    }

    pub fn cookie_header(&self) -> String {
        self.params()
            .iter()
            .map(|(n, v)| format!("CloudFront-{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

pub fn join(url: &str, params: &[(String, String)]) -> String {
    let q = params
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{q}")
}

fn without(params: Vec<(String, String)>, name: &str) -> Vec<(String, String)> {
    params.into_iter().filter(|(n, _)| n != name).collect()
}

fn replaced(params: Vec<(String, String)>, name: &str, value: &str) -> Vec<(String, String)> {
    params
        .into_iter()
        .map(|(n, v)| {
            if n == name {
                (n, value.to_string())
            } else {
                (n, v)
            }
        })
        .collect()
}

fn reject(code: &'static str, check: &'static str, needles: &[&'static str]) -> Expect {
    Expect::Reject {
        code,
        check,
        needles: needles.to_vec(),
    }
}

fn row(name: &str, url: String, expect: Expect) -> Row {
    Row {
        name: name.to_string(),
        url,
        cookie: None,
        client_ip: None,
        expect,
    }
}

/// Every row: valid URLs and cookies, and one row per way to fail.
pub fn rows() -> Vec<Row> {
    let mut rows = Vec::new();
    for hash in ["sha1", "sha256"] {
        for case in [
            "canned-plain",
            "canned-query",
            "canned-bare-qmark",
            "canned-pct20",
            "custom-start",
            "custom-wildcard",
            "custom-qmark-wildcard",
            "custom-any-scheme",
            "custom-query-resource",
        ] {
            let id = format!("rsa-{hash}-{case}");
            rows.push(row(&id, Vector::by_id(&id).signed_url(), Expect::Accept));
        }
        let id = format!("rsa-{hash}-custom-ip-cidr");
        rows.push(Row {
            client_ip: Some("192.0.2.77"),
            ..row(&id, Vector::by_id(&id).signed_url(), Expect::Accept)
        });
        let id = format!("rsa-{hash}-custom-ip-single");
        rows.push(Row {
            client_ip: Some("203.0.113.7"),
            ..row(&id, Vector::by_id(&id).signed_url(), Expect::Accept)
        });
        let id = format!("rsa-{hash}-custom-all-conditions");
        rows.push(Row {
            client_ip: Some("192.0.2.1"),
            ..row(&id, Vector::by_id(&id).signed_url(), Expect::Accept)
        });
    }
    for id in [
        "ecdsa-sha256-canned-plain",
        "ecdsa-sha256-custom-wildcard",
        "ecdsa-sha1-canned-plain",
    ] {
        rows.push(row(id, Vector::by_id(id).signed_url(), Expect::Accept));
    }

    // `*://` matches http as well as https.
    let any = Vector::by_id("rsa-sha1-custom-any-scheme");
    rows.push(row(
        "any-scheme-over-http",
        any.signed_url().replacen("https://", "http://", 1),
        Expect::Accept,
    ));
    // A trailing `*` covers deeper paths and query strings.
    let wild = Vector::by_id("rsa-sha1-custom-wildcard");
    rows.push(row(
        "wildcard-deeper-path",
        join(
            "https://d111111abcdef8.cloudfront.net/images/2024/a/b.png?w=10",
            &wild.params(),
        ),
        Expect::Accept,
    ));

    let plain = Vector::by_id("rsa-sha1-canned-plain");
    rows.push(row(
        "path-altered",
        plain.signed_url().replace("/image.jpg", "/image.png"),
        reject("AccessDenied", "signature", &["changed after signing"]),
    ));
    let query = Vector::by_id("rsa-sha1-canned-query");
    rows.push(row(
        "query-altered",
        query.signed_url().replace("v=2", "v=3"),
        reject("AccessDenied", "signature", &["changed after signing"]),
    ));
    rows.push(row(
        "parameter-added-after-signing",
        format!("{}&utm_source=mail", plain.signed_url()),
        reject("AccessDenied", "signature", &["utm_source", "after"]),
    ));
    rows.push(row(
        "expired-canned",
        Vector::by_id("rsa-sha1-canned-past-expiry").signed_url(),
        reject(
            "AccessDenied",
            "expired",
            &["expired at 2010-01-01T00:00:00Z", "ago"],
        ),
    ));
    rows.push(row(
        "expired-custom",
        Vector::by_id("rsa-sha256-custom-past-expiry").signed_url(),
        reject("AccessDenied", "expired", &["2010-01-01"]),
    ));
    rows.push(row(
        "not-yet-valid",
        Vector::by_id("rsa-sha1-custom-not-yet-valid").signed_url(),
        reject(
            "AccessDenied",
            "not-yet-valid",
            &["not valid before 2029-12-26", "in "],
        ),
    ));
    let ip = Vector::by_id("rsa-sha1-custom-ip-cidr");
    rows.push(Row {
        client_ip: Some("198.51.100.1"),
        ..row(
            "ip-outside-range",
            ip.signed_url(),
            reject(
                "AccessDenied",
                "ip-address",
                &["198.51.100.1", "192.0.2.0/24"],
            ),
        )
    });
    rows.push(row(
        "unknown-key-id",
        plain.url_with(&replaced(plain.params(), "Key-Pair-Id", "KUNKNOWNKEY")),
        reject(
            "InvalidKey",
            "key-pair-id",
            &["KUNKNOWNKEY", "K2JCJMDEHXQW5F", "K3ECDSAP256KEY"],
        ),
    ));
    rows.push(row(
        "right-id-wrong-key",
        Vector::by_id("other-key-rsa-sha1-canned-plain").signed_url(),
        reject("AccessDenied", "signature", &["another private key"]),
    ));
    let sha256 = Vector::by_id("rsa-sha256-canned-plain");
    rows.push(row(
        "sha256-without-hash-algorithm",
        sha256.url_with(&without(sha256.params(), "Hash-Algorithm")),
        reject(
            "AccessDenied",
            "signature",
            &["SHA-256", "Hash-Algorithm=SHA256 is missing"],
        ),
    ));
    rows.push(row(
        "undecodable-policy",
        wild.url_with(&replaced(wild.params(), "Policy", "eyJTdGF0ZW1lbnQi%3D%3D")),
        reject("MalformedPolicy", "policy", &["not CloudFront base64"]),
    ));
    rows.push(row(
        "policy-not-json",
        wild.url_with(&replaced(
            wild.params(),
            "Policy",
            &cf_b64(b"{\"Statement\":[{\"Resource\""),
        )),
        reject("MalformedPolicy", "policy", &["not valid JSON"]),
    ));
    let two = r#"{"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/*","Condition":{"DateLessThan":{"AWS:EpochTime":1893456000}}},{"Resource":"https://x/*","Condition":{"DateLessThan":{"AWS:EpochTime":1893456000}}}]}"#;
    rows.push(row(
        "policy-two-statements",
        wild.url_with(&replaced(wild.params(), "Policy", &cf_b64(two.as_bytes()))),
        reject("MalformedPolicy", "policy", &["2 statements"]),
    ));
    rows.push(row(
        "missing-signature",
        plain.url_with(&without(plain.params(), "Signature")),
        reject("AccessDenied", "signature", &["Signature", "missing"]),
    ));
    rows.push(row(
        "missing-key-pair-id",
        plain.url_with(&without(plain.params(), "Key-Pair-Id")),
        reject("MissingKey", "key-pair-id", &["Key-Pair-Id", "missing"]),
    ));
    rows.push(row(
        "missing-expires-and-policy",
        plain.url_with(&without(plain.params(), "Expires")),
        reject("MalformedPolicy", "policy", &["neither"]),
    ));
    rows.push(row(
        "not-signed-at-all",
        plain.s("url"),
        reject("MissingKey", "key-pair-id", &["no signature"]),
    ));
    // The wildcard policy's signature sent with canned parameters: CloudFront
    // rebuilds a canned policy for this one URL, which was never signed.
    let canned_on_wildcard = vec![
        ("Expires".to_string(), wild.expires().to_string()),
        ("Signature".to_string(), wild.s("signature")),
        ("Key-Pair-Id".to_string(), wild.s("key_pair_id")),
    ];
    rows.push(row(
        "canned-parameters-on-wildcard-policy",
        wild.url_with(&canned_on_wildcard),
        reject("AccessDenied", "signature", &["wildcard", "custom policy"]),
    ));
    // Resource mismatch: a wildcard policy used for a URL outside it.
    rows.push(row(
        "outside-wildcard-resource",
        join(
            "https://d111111abcdef8.cloudfront.net/video/a.mp4",
            &wild.params(),
        ),
        reject("AccessDenied", "resource", &["images/*", "video/a.mp4"]),
    ));
    rows.push(row(
        "unknown-hash-algorithm",
        plain.url_with(
            &[
                plain.params(),
                vec![("Hash-Algorithm".into(), "MD5".into())],
            ]
            .concat(),
        ),
        reject("AccessDenied", "hash-algorithm", &["MD5"]),
    ));

    // The Resource forms of the Developer Guide (policy-forms.json). A signed
    // URL's Resource "must begin with http://, https://, or *" and may be
    // left out; a signed cookie's "must begin with http:// or https://" and
    // may be left out.
    let form = |id: &str| Vector::in_file("policy-forms.json", id);
    for id in [
        "rsa-sha1-star",
        "rsa-sha256-star",
        "rsa-sha1-star-host",
        "rsa-sha1-no-resource",
    ] {
        rows.push(row(
            &format!("form-url-{id}"),
            form(id).signed_url(),
            Expect::Accept,
        ));
    }
    for id in ["rsa-sha1-star", "rsa-sha1-no-resource"] {
        rows.push(row(
            &format!("form-url-{id}-any-path"),
            join(
                "https://d111111abcdef8.cloudfront.net/video/a.mp4?x=1",
                &form(id).params(),
            ),
            Expect::Accept,
        ));
    }
    let url_rule = &[
        "must begin with http://, https:// or *",
        "Create a signed URL using a custom policy",
    ];
    rows.push(row(
        "form-url-no-scheme",
        form("rsa-sha1-no-scheme").signed_url(),
        reject("MalformedPolicy", "policy", url_rule),
    ));
    rows.push(row(
        "form-url-resource-list",
        form("rsa-sha1-resource-list").signed_url(),
        reject(
            "MalformedPolicy",
            "policy",
            &["only one value for Resource"],
        ),
    ));
    let none = form("rsa-sha1-no-resource");
    rows.push(Row {
        cookie: Some(none.cookie_header()),
        ..row("form-cookies-no-resource", none.s("url"), Expect::Accept)
    });
    for (name, v) in [
        ("form-cookies-star", form("rsa-sha1-star")),
        ("form-cookies-star-host", form("rsa-sha1-star-host")),
        (
            "form-cookies-any-scheme",
            Vector::by_id("rsa-sha1-custom-any-scheme"),
        ),
    ] {
        rows.push(Row {
            cookie: Some(v.cookie_header()),
            ..row(
                name,
                v.s("url"),
                reject(
                    "MalformedPolicy",
                    "policy",
                    &[
                        "must begin with http:// or https://",
                        "Set signed cookies using a custom policy",
                    ],
                ),
            )
        });
    }

    // Signed cookies: canned and custom, with and without Hash-Algorithm.
    for (id, url) in [
        ("rsa-sha1-canned-plain", None),
        ("rsa-sha256-canned-plain", None),
        (
            "rsa-sha1-custom-wildcard",
            Some("https://d111111abcdef8.cloudfront.net/images/other.jpg"),
        ),
        ("rsa-sha256-custom-wildcard", None),
        ("ecdsa-sha256-custom-wildcard", None),
    ] {
        let v = Vector::by_id(id);
        rows.push(Row {
            cookie: Some(v.cookie_header()),
            ..row(
                &format!("cookies-{id}"),
                url.map_or_else(|| v.s("url"), str::to_string),
                Expect::Accept,
            )
        });
    }
    let v = Vector::by_id("rsa-sha256-custom-wildcard");
    rows.push(Row {
        cookie: Some(
            v.cookie_header()
                .replace("; CloudFront-Hash-Algorithm=SHA256", ""),
        ),
        ..row(
            "cookies-sha256-without-hash-algorithm",
            v.s("url"),
            reject(
                "AccessDenied",
                "signature",
                &["Hash-Algorithm=SHA256 is missing"],
            ),
        )
    });
    // A signed URL takes precedence over cookies, both ways.
    rows.push(Row {
        cookie: Some(
            "CloudFront-Expires=1; CloudFront-Signature=AAAA; CloudFront-Key-Pair-Id=KBAD".into(),
        ),
        ..row(
            "url-wins-over-bad-cookies",
            plain.signed_url(),
            Expect::Accept,
        )
    });
    rows.push(Row {
        cookie: Some(plain.cookie_header()),
        ..row(
            "bad-url-loses-despite-good-cookies",
            plain.url_with(&replaced(plain.params(), "Signature", "AAAA")),
            reject("AccessDenied", "signature", &[]),
        )
    });
    rows
}
