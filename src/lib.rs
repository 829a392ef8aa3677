//! cfsign: Amazon CloudFront signed URLs and cookies, and transfers of private
//! objects through CloudFront.
//!
//! The signing library builds alone (`default-features = false`): [`sign`]
//! (keys, policies, signed URLs and cookies), [`time`], [`verify`] (the
//! mirror image of the signer), [`escape`] and [`error`].
//!
//! A web service loads its key once and signs per request:
//!
//! ```
//! use std::time::Duration;
//! use cfsign::sign::{PrivateKey, Signer};
//!
//! let key = PrivateKey::from_bytes(include_bytes!("../tests/fixtures/keys/rsa2048-pkcs8.pem"), None)?;
//! let signer = Signer::new(key, "K2JCJMDEHXQW5F".parse()?, None);
//! let url = signer.sign_url("https://d111111abcdef8.cloudfront.net/image.jpg", Duration::from_secs(300))?;
//! assert!(url.as_str().contains("&Key-Pair-Id=K2JCJMDEHXQW5F"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! For everything under a path, sign a [`sign::CustomPolicy`] once and hand
//! out [`sign::SignedCookies`]; `examples/cookie_server.rs` serves them.

#![deny(missing_docs)]

pub mod error;
pub mod escape;
pub mod sign;
pub mod time;
pub mod verify;

#[cfg(any(feature = "transfer", feature = "serve"))]
pub mod digest;
#[cfg(feature = "serve")]
pub mod serve;
#[cfg(feature = "transfer")]
pub mod transfer;

pub use error::Error;
