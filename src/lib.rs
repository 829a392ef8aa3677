//! cfsign: Amazon CloudFront signed URLs and cookies, and transfers of private
//! objects through CloudFront.
//!
//! The library signs without the command line: load a [`sign::PrivateKey`],
//! build a [`sign::Policy`], sign it with a [`sign::Signer`], then apply the
//! [`sign::SignedPolicy`] to URLs or turn it into cookies.

pub mod digest;
pub mod error;
pub mod escape;
pub mod profile;
pub mod serve;
pub mod sign;
pub mod time;
pub mod transfer;
pub mod verify;

pub use error::Error;
pub mod cli;
pub mod commands;
pub mod config;
pub mod progress;
