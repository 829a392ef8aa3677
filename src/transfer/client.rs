//! The one HTTP client: connect and read timeouts (never a total deadline,
//! which would kill long transfers), a user agent with our version, a few
//! redirects, system proxies, rustls, and no transparent decompression (bytes
//! on disk must be the bytes of the object).

use std::time::Duration;

use crate::error::Error;

#[derive(Clone, Debug)]
pub struct ClientOptions {
    pub connect_timeout: Duration,
    /// Longest silence while reading a response before the attempt fails.
    pub read_timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
        }
    }
}

pub const USER_AGENT: &str = concat!("cfsign/", env!("CARGO_PKG_VERSION"));

pub fn build(options: &ClientOptions) -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(options.connect_timeout)
        .read_timeout(options.read_timeout)
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()
        .map_err(|e| Error::Runtime(format!("cannot set up the HTTP client: {e}")))
}
