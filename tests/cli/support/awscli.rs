//! The AWS CLI's fixtures, read the same way by every test that uses them:
//! its shared CloudFront signing vectors (`tests/fixtures/awscli/`) and the
//! recorded `aws cloudfront sign` runs (`tests/fixtures/awscli-sign.json`).
//! Unknown fields are refused, so a fixture update that adds one is noticed
//! rather than silently left unchecked.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::fixture_json;

/// The vectors for signed URLs (`aws cloudfront sign`).
pub const URL_CASES: &str = "awscli/sign-test-cases.json";
/// The vectors for signed cookies (`aws cloudfront sign-cookies`).
pub const COOKIE_CASES: &str = "awscli/sign-cookies-test-cases.json";

/// One shared vector: what the upstream runner passes and what it expects.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub id: String,
    pub documentation: String,
    pub input: Input,
    pub expected: Expected,
}

/// A vector's input; `awscli/README.md` maps each field to a flag.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Input {
    pub resource: String,
    pub key_pair_id: String,
    pub private_key_file: String,
    pub expiration_date: Option<i64>,
    pub active_date: Option<i64>,
    pub ip_range: Option<String>,
    pub hash_algorithm: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Expected {
    pub policy_json: Option<String>,
    pub query_params: Option<BTreeMap<String, String>>,
    pub cookies: Option<BTreeMap<String, String>>,
    pub apply_to: Option<String>,
    pub signature: Option<String>,
    pub signature_algorithm: Option<String>,
    pub verify_cryptographically: Option<bool>,
    pub error: Option<bool>,
    pub error_contains: Option<Vec<String>>,
    pub return_code: Option<i32>,
}

/// Every case of `file` ([`URL_CASES`] or [`COOKIE_CASES`]).
pub fn cases(file: &str) -> Vec<Case> {
    fixture_json(file)
}

/// One recorded AWS CLI run: its arguments after `aws cloudfront sign` and
/// what it printed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recorded {
    pub args: Vec<String>,
    pub stdout: String,
    pub exit_code: i32,
    pub awscli_version: String,
}

pub fn recorded() -> Vec<Recorded> {
    fixture_json("awscli-sign.json")
}
