//! The integration tests: the real binary, driven as a user would, against
//! fixtures made by other implementations (openssl, the AWS CLI).

mod support;

#[path = "cli/sign.rs"]
mod sign;

#[path = "cli/vectors.rs"]
mod vectors;

#[path = "cli/verify.rs"]
mod verify;

#[path = "cli/get.rs"]
mod get;

#[path = "cli/keygen.rs"]
mod keygen;

#[path = "cli/profile.rs"]
mod profile;

#[path = "cli/examples.rs"]
mod examples;

#[path = "cli/serve.rs"]
mod serve;

#[path = "cli/secrets.rs"]
mod secrets;

#[path = "cli/put.rs"]
mod put;

#[path = "cli/readme.rs"]
mod readme;

#[path = "cli/bad_input.rs"]
mod bad_input;

#[path = "cli/compat.rs"]
mod compat;

#[path = "cli/escaping.rs"]
mod escaping;

#[path = "cli/keys.rs"]
mod keys;

#[path = "cli/network.rs"]
mod network;

#[path = "cli/usage.rs"]
mod usage;

#[path = "cli/hostile.rs"]
mod hostile;
