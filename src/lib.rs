//! cfsign: Amazon CloudFront signed URLs and cookies, and transfers of private
//! objects through CloudFront.
//!
//! The library signs without the command line: load a [`sign::PrivateKey`],
//! build a [`sign::Policy`], sign it with a [`sign::Signer`], then apply the
//! [`sign::SignedPolicy`] to URLs or turn it into cookies.

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
