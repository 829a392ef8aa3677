//! The integration tests: the real binary, driven as a user would, against
//! fixtures made by other implementations (openssl, the AWS CLI).

mod bad_input;
mod compat;
mod doctor;
mod escaping;
mod examples;
mod get;
mod hostile;
mod keygen;
mod keys;
mod network;
mod profile;
mod put;
mod put_checksum;
mod readme;
mod refusals;
mod secrets;
mod serve;
mod serve_rehearse;
mod sign;
mod sign_check;
mod usage;
mod vectors;
mod verify;

// The shared helpers: servers, fixtures, the binary in a scrubbed
// environment.
mod support;
