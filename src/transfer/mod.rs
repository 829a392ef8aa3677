//! Moving private objects through CloudFront: one HTTP client, one retry
//! policy, one way of reading CloudFront/S3 errors, shared by `get` and `put`.
//!
//! Everything here takes typed values: no flags, no environment variables,
//! no terminal. Progress and warnings go to a [`Progress`] the caller gives.

#![warn(unreachable_pub)]

mod background_md5;
mod client;
pub mod doctor;
pub mod get;
pub mod probe;
mod progress;
pub mod put;
mod refusal;
mod response;
mod retry;
mod signing;

pub use client::{ClientOptions, Proxies};
pub use progress::{NoProgress, Progress};
pub use retry::RetryPolicy;
pub use signing::{PolicySource, UrlSigner};
