//! Moving private objects through CloudFront: one HTTP client, one retry
//! policy, one way of reading CloudFront/S3 errors, shared by `get` and `put`.

mod background_md5;
pub mod client;
pub mod get;
pub mod progress;
pub mod put;
pub mod response;
pub mod retry;
pub mod signing;
