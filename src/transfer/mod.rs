//! Moving private objects through CloudFront: one HTTP client, one retry
//! policy, one way of reading CloudFront/S3 errors, shared by `get` and `put`.
//!
//! Everything here takes typed values: no flags, no environment variables,
//! no terminal. Progress and warnings go to a [`progress::Progress`] the
//! caller gives.

mod background_md5;
pub mod client;
pub mod get;
pub mod progress;
pub mod put;
mod response;
pub mod retry;
pub mod signing;
