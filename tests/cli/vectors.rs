//! Conformance: cfsign signs exactly as independent implementations do.
//!
//! - `openssl-vectors.json`: policies written by hand and signed by openssl;
//!   run through the library and through the binary.
//! - `awscli/`: the AWS CLI's shared CloudFront signing vectors, run through
//!   the binary with the field → flag mapping of `awscli/README.md`.
//! - `awscli-sign.json`: recorded `aws cloudfront sign` runs, replayed with
//!   only the program name changed.
//!
//! Expected values come from the fixtures, openssl (`openssl dgst -verify`) and
//! policies rebuilt here with `format!`; cfsign's own code only produces the
//! output under test.

use std::path::PathBuf;
use std::process::Output;

use cfsign::sign::{
    CannedPolicy, CustomPolicy, HashAlgorithm, KeyPairId, Passphrase, Policy, PrivateKey,
    PublicKey, Signer,
};
use serde::Deserialize;

use crate::support::*;

fn openssl_hash(hash: HashAlgorithm) -> &'static str {
    match hash {
        HashAlgorithm::Sha1 => "sha1",
        HashAlgorithm::Sha256 => "sha256",
    }
}

/// The value of the one query parameter `name`; panics if absent or repeated.
fn param(url: &str, name: &str) -> String {
    let values: Vec<String> = query_pairs(url)
        .into_iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v)
        .collect();
    assert_eq!(values.len(), 1, "exactly one {name} in {url}");
    values.into_iter().next().unwrap()
}

/// The single output line of a successful run (without its newline).
#[track_caller]
fn one_line(out: &Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{what}: exit code; stderr: {stderr}"
    );
    let stdout = stdout_of(out);
    assert!(
        stdout.ends_with('\n'),
        "{what}: no final newline: {stdout:?}"
    );
    assert_eq!(stdout.lines().count(), 1, "{what}: one line: {stdout:?}");
    stdout.trim_end_matches('\n').to_string()
}

// ---------------------------------------------------------------------------
// openssl-vectors.json

#[derive(Debug, Deserialize)]
struct OpensslVector {
    id: String,
    key: String,
    algorithm: String,
    url: String,
    policy: String,
    kind: String,
    expires: i64,
    date_greater_than: Option<i64>,
    ip: Option<String>,
    resource: String,
    signature: String,
    policy_encoded: Option<String>,
    key_pair_id: String,
    signed_url: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    Rsa,
    Ecdsa,
}

impl OpensslVector {
    fn family_and_hash(&self) -> (Family, HashAlgorithm) {
        match self.algorithm.as_str() {
            "RSA-SHA1" => (Family::Rsa, HashAlgorithm::Sha1),
            "RSA-SHA256" => (Family::Rsa, HashAlgorithm::Sha256),
            "ECDSA-SHA1" => (Family::Ecdsa, HashAlgorithm::Sha1),
            "ECDSA-SHA256" => (Family::Ecdsa, HashAlgorithm::Sha256),
            other => panic!("{}: unknown algorithm {other}", self.id),
        }
    }

    fn family(&self) -> Family {
        self.family_and_hash().0
    }

    fn hash(&self) -> HashAlgorithm {
        self.family_and_hash().1
    }

    fn is_custom(&self) -> bool {
        match self.kind.as_str() {
            "canned" => false,
            "custom" => true,
            other => panic!("{}: unknown kind {other}", self.id),
        }
    }

    /// `rsa2048-pkcs8.pem` → `rsa2048-public.pem` and so on.
    fn public_key_file(&self) -> PathBuf {
        let name = self
            .key
            .strip_suffix("-pkcs8.pem")
            .unwrap_or_else(|| panic!("{}: unexpected key name {}", self.id, self.key));
        key(&format!("{name}-public.pem"))
    }

    /// The policy built through the public library API, checked against the
    /// vector's bytes.
    fn library_policy(&self) -> Policy {
        let id = &self.id;
        let policy = if self.is_custom() {
            let ip = self
                .ip
                .as_deref()
                .map(|ip| ip.parse().unwrap_or_else(|e| panic!("{id}: ip: {e}")));
            let resource = self
                .resource
                .parse()
                .unwrap_or_else(|e| panic!("{id}: resource: {e}"));
            let custom = CustomPolicy::new(resource, self.expires, self.date_greater_than, ip)
                .unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_eq!(custom.json(), self.policy, "{id}: custom policy bytes");
            assert_eq!(
                CustomPolicy::parse(&self.policy).as_ref(),
                Ok(&custom),
                "{id}: the openssl policy parses to the same values"
            );
            Policy::Custom(custom)
        } else {
            assert_eq!(self.resource, self.url, "{id}: canned resource is the URL");
            assert!(
                self.date_greater_than.is_none() && self.ip.is_none(),
                "{id}"
            );
            let canned = CannedPolicy {
                url: self.url.clone(),
                expires: self.expires,
            };
            assert_eq!(canned.to_json(), self.policy, "{id}: canned policy bytes");
            let policy = Policy::Canned(canned);
            assert_eq!(
                Policy::canned(&self.url, self.expires).as_ref(),
                Ok(&policy),
                "{id}: the vector URL is already in wire form"
            );
            policy
        };
        assert_eq!(policy.to_json(), self.policy, "{id}: policy bytes");
        policy
    }

    fn signer(&self, key_file: &str, passphrase: Option<&Passphrase>) -> Signer {
        let bytes = std::fs::read(key(key_file)).unwrap();
        let private = PrivateKey::from_bytes(&bytes, passphrase)
            .unwrap_or_else(|e| panic!("{}: {key_file}: {e}", self.id));
        let id: KeyPairId = self.key_pair_id.parse().unwrap();
        Signer::new(private, id, Some(self.hash()))
    }

    /// `cfsign sign` arguments for this vector, signing with `key_file`.
    fn cli_args(&self, key_file: &str, with_resource: bool) -> Vec<String> {
        let mut args: Vec<String> = vec![
            "sign".into(),
            self.url.clone(),
            "--key-pair-id".into(),
            self.key_pair_id.clone(),
            "--private-key".into(),
            key_arg(key_file),
            "--date-less-than".into(),
            self.expires.to_string(),
        ];
        if let Some(start) = self.date_greater_than {
            args.extend(["--date-greater-than".into(), start.to_string()]);
        }
        if let Some(ip) = &self.ip {
            args.extend(["--ip-address".into(), ip.clone()]);
        }
        if with_resource {
            args.extend(["--resource".into(), self.resource.clone()]);
        }
        match self.family_and_hash() {
            (_, HashAlgorithm::Sha256) => args.extend(["--hash-algorithm".into(), "SHA256".into()]),
            (Family::Ecdsa, HashAlgorithm::Sha1) => {
                args.extend(["--hash-algorithm".into(), "SHA1".into()])
            }
            (Family::Rsa, HashAlgorithm::Sha1) => {}
        }
        args.push("--allow-past".into());
        args
    }

    /// The CLI invocations for this vector: custom policies always with
    /// `--resource`, and, where the resource is the URL itself and a start
    /// time or IP makes the policy custom anyway, also without it.
    fn cli_variants(&self) -> Vec<Vec<String>> {
        if !self.is_custom() {
            return vec![self.cli_args(&self.key, false)];
        }
        let mut variants = vec![self.cli_args(&self.key, true)];
        if self.resource == self.url && (self.date_greater_than.is_some() || self.ip.is_some()) {
            variants.push(self.cli_args(&self.key, false));
        }
        variants
    }

    /// `signed_url` with the vector's (random, ECDSA) signature replaced.
    fn signed_url_with(&self, signature: &str) -> String {
        let needle = format!("Signature={}&", self.signature);
        assert_eq!(
            self.signed_url.matches(&needle).count(),
            1,
            "{}: signature in signed_url",
            self.id
        );
        self.signed_url
            .replace(&needle, &format!("Signature={signature}&"))
    }
}

fn openssl_vectors() -> Vec<OpensslVector> {
    let vectors: Vec<OpensslVector> = fixture_json("openssl-vectors.json");
    assert!(!vectors.is_empty());
    vectors
}

fn openssl_vector(id: &str) -> OpensslVector {
    openssl_vectors()
        .into_iter()
        .find(|v| v.id == id)
        .unwrap_or_else(|| panic!("no vector {id}"))
}

/// Library: policy bytes, signature and signed URL equal openssl's, byte for
/// byte, for every RSA vector (RSA PKCS#1 v1.5 is deterministic).
#[test]
fn openssl_rsa_vectors_through_the_library() {
    let mut checked = 0;
    for v in openssl_vectors()
        .iter()
        .filter(|v| v.family() == Family::Rsa)
    {
        let id = &v.id;
        let policy = v.library_policy();
        let signed = v.signer(&v.key, None).sign(&policy);
        assert_eq!(signed.signature, v.signature, "{id}: signature");
        assert_eq!(
            signed.encoded_policy, v.policy_encoded,
            "{id}: Policy value"
        );
        assert_eq!(signed.hash, v.hash(), "{id}: hash");
        let url = signed
            .apply_to(&v.url)
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(url.as_str(), v.signed_url, "{id}: signed URL");

        let public = PublicKey::from_bytes(&std::fs::read(v.public_key_file()).unwrap()).unwrap();
        let raw = cf_b64decode(&v.signature);
        assert!(
            public.verify(v.policy.as_bytes(), v.hash(), &raw),
            "{id}: verifies with its public key"
        );
        if v.key == "rsa2048-other-pkcs8.pem" {
            // Right key ID, wrong key: the main public key must refuse it.
            let main =
                PublicKey::from_bytes(&std::fs::read(key("rsa2048-public.pem")).unwrap()).unwrap();
            assert!(!main.verify(v.policy.as_bytes(), v.hash(), &raw), "{id}");
            assert!(
                !openssl_verifies(
                    &key("rsa2048-public.pem"),
                    openssl_hash(v.hash()),
                    v.policy.as_bytes(),
                    &raw
                ),
                "{id}: openssl must refuse the other key's signature"
            );
        }
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} RSA vectors");
}

/// CLI: `cfsign sign` prints exactly `signed_url` and a newline for every RSA
/// vector (custom policies via --resource, and per URL where that applies).
#[test]
fn openssl_rsa_vectors_through_the_cli() {
    let mut runs = 0;
    for v in openssl_vectors()
        .iter()
        .filter(|v| v.family() == Family::Rsa)
    {
        for args in v.cli_variants() {
            let out = cfsign().args(&args).output().unwrap();
            let what = format!("{}: cfsign {}", v.id, args.join(" "));
            let line = one_line(&out, &what);
            assert_eq!(line, v.signed_url, "{what}");
            let stderr = String::from_utf8_lossy(&out.stderr);
            if v.key.starts_with("rsa3072") {
                assert_eq!(stderr.lines().count(), 1, "{what}: {stderr}");
                assert!(stderr.contains("RSA-3072"), "{what}: {stderr}");
            } else {
                assert!(stderr.is_empty(), "{what}: {stderr}");
            }
            runs += 1;
        }
    }
    assert!(runs >= 30, "only {runs} runs");
}

/// ECDSA signatures are random: ours must verify with openssl, openssl's must
/// verify with our verifier, and ours must be DER (a SEQUENCE, 0x30).
#[test]
fn openssl_ecdsa_vectors_verify_both_ways() {
    let public_pem = key("ec-p256-public.pem");
    let public = PublicKey::from_bytes(&std::fs::read(&public_pem).unwrap()).unwrap();
    let mut algorithms = Vec::new();
    for v in openssl_vectors()
        .iter()
        .filter(|v| v.family() == Family::Ecdsa)
    {
        let id = &v.id;
        let hash = v.hash();
        assert_eq!(v.public_key_file(), public_pem, "{id}");

        // openssl's signature, our verifier.
        let theirs = cf_b64decode(&v.signature);
        assert!(public.verify(v.policy.as_bytes(), hash, &theirs), "{id}");
        assert!(
            !public.verify(b"another policy", hash, &theirs),
            "{id}: must not verify another message"
        );

        // Our signature (library), openssl's verifier.
        let signed = v.signer(&v.key, None).sign(&v.library_policy());
        assert_eq!(
            signed.encoded_policy, v.policy_encoded,
            "{id}: Policy value"
        );
        let ours = cf_b64decode(&signed.signature);
        assert_eq!(ours[0], 0x30, "{id}: DER SEQUENCE");
        assert!(public.verify(v.policy.as_bytes(), hash, &ours), "{id}");
        assert!(
            openssl_verifies(&public_pem, openssl_hash(hash), v.policy.as_bytes(), &ours),
            "{id}: openssl verifies the library's signature"
        );
        assert_eq!(
            signed.apply_to(&v.url).unwrap().as_str(),
            v.signed_url_with(&signed.signature),
            "{id}: signed URL"
        );

        // Our signature (CLI), openssl's verifier.
        for args in v.cli_variants() {
            let out = cfsign().args(&args).output().unwrap();
            let what = format!("{id}: cfsign {}", args.join(" "));
            let line = one_line(&out, &what);
            assert!(out.stderr.is_empty(), "{what}");
            let signature = param(&line, "Signature");
            assert_eq!(line, v.signed_url_with(&signature), "{what}");
            let raw = cf_b64decode(&signature);
            assert_eq!(raw[0], 0x30, "{what}: DER SEQUENCE");
            assert!(
                openssl_verifies(&public_pem, openssl_hash(hash), v.policy.as_bytes(), &raw),
                "{what}: openssl verifies the CLI's signature"
            );
        }
        algorithms.push(v.algorithm.clone());
    }
    algorithms.sort();
    algorithms.dedup();
    assert_eq!(algorithms, ["ECDSA-SHA1", "ECDSA-SHA256"]);
}

/// Every supported form of the RSA-2048 key gives the identical signature,
/// through the library and the binary (encrypted: passphrase from the env).
#[test]
fn every_rsa_key_format_signs_identically() {
    let v = openssl_vector("rsa-sha1-canned-plain");
    let passphrase_text = std::fs::read_to_string(key("passphrase.txt")).unwrap();
    let passphrase = Passphrase::new(passphrase_text.clone());
    for name in [
        "rsa2048-pkcs1.pem",
        "rsa2048-pkcs8.pem",
        "rsa2048-pkcs8.der",
        "rsa2048-pkcs1.der",
        "rsa2048-pkcs8-encrypted.pem",
    ] {
        let encrypted = name.contains("encrypted");
        let signed = v
            .signer(name, encrypted.then_some(&passphrase))
            .sign(&v.library_policy());
        assert_eq!(signed.signature, v.signature, "{name}: library");

        let mut cmd = cfsign();
        if encrypted {
            cmd.env("CLOUDFRONT_PRIVATE_KEY_PASSPHRASE", &passphrase_text);
        }
        let out = cmd.args(v.cli_args(name, false)).output().unwrap();
        let line = one_line(&out, name);
        assert_eq!(line, v.signed_url, "{name}: CLI");
        assert!(
            out.stderr.is_empty(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Every supported form of the P-256 key signs verifiably.
#[test]
fn every_ec_key_format_signs_verifiably() {
    let v = openssl_vector("ecdsa-sha256-canned-plain");
    let public_pem = key("ec-p256-public.pem");
    for name in ["ec-p256-sec1.pem", "ec-p256-pkcs8.der", "ec-p256-pkcs8.pem"] {
        let out = cfsign().args(v.cli_args(name, false)).output().unwrap();
        let line = one_line(&out, name);
        assert!(out.stderr.is_empty(), "{name}");
        let signature = param(&line, "Signature");
        assert_eq!(line, v.signed_url_with(&signature), "{name}");
        let raw = cf_b64decode(&signature);
        assert_eq!(raw[0], 0x30, "{name}: DER");
        assert!(
            openssl_verifies(&public_pem, "sha256", v.policy.as_bytes(), &raw),
            "{name}: openssl verifies"
        );
    }
}
