//! The one HTTP client: connect and read timeouts (never a total deadline,
//! which would kill long transfers), a user agent with our version, a few
//! redirects, the proxies it is given (the command line reads them from
//! `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`; none otherwise),
//! rustls, and no transparent decompression (bytes on disk must be the bytes
//! of the object).
//!
//! Trust: the system's certificate store (on Linux the files OpenSSL would
//! read, or those `SSL_CERT_FILE` / `SSL_CERT_DIR` name instead: the store's
//! loader reads those two itself, and has no way to be told them; the
//! Keychain on macOS; the Windows store), plus the authorities of
//! `--cacert`. There is no way to turn verification off: a certificate that
//! does not verify is a one-line error naming the problem and the fix.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{CertificateError, RootCertStore};

use crate::error::Error;
use crate::escape;

/// How the client connects, and whom it trusts. The defaults: 10 s to
/// connect, 60 s of silence while reading, the system's authorities, no
/// proxy.
///
/// ```
/// use std::time::Duration;
/// use cfsign::transfer::ClientOptions;
///
/// let options = ClientOptions {
///     connect_timeout: Duration::from_secs(3),
///     ..ClientOptions::default()
/// };
/// let client = options.build()?;
/// # drop(client);
/// # Ok::<(), cfsign::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Longest wait for a connection.
    pub connect_timeout: Duration,
    /// Longest silence while reading a response before the attempt fails.
    pub read_timeout: Duration,
    /// `--cacert`: a PEM (or DER) file of authorities trusted besides the
    /// system's.
    pub cacert: Option<PathBuf>,
    /// The proxies to go through.
    pub proxies: Proxies,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            cacert: None,
            proxies: Proxies::default(),
        }
    }
}

/// Which requests go through a proxy, by curl's rules (those of
/// `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY`). Each proxy is a
/// URL such as `http://proxy.example:3128` or `proxy.example:3128`, and may
/// carry a password: `Debug` does not show them.
///
/// ```
/// use cfsign::transfer::{ClientOptions, Proxies};
///
/// let proxies = Proxies {
///     https: Some("http://user:secret@proxy.example:3128".into()),
///     no_proxy: Some("localhost,10.0.0.0/8".into()),
///     ..Proxies::default()
/// };
/// assert!(!format!("{proxies:?}").contains("secret"));
/// let client = ClientOptions { proxies, ..ClientOptions::default() }.build()?;
/// # drop(client);
/// # Ok::<(), cfsign::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Proxies {
    /// For https:// URLs: a tunnel opened with `CONNECT`.
    pub https: Option<String>,
    /// For http:// URLs.
    pub http: Option<String>,
    /// For URLs of either scheme that has no proxy of its own above.
    pub all: Option<String>,
    /// Hosts reached directly: comma-separated names (each with its
    /// subdomains), IP addresses or ranges (`10.0.0.0/8`), or `*` for all.
    pub no_proxy: Option<String>,
}

impl std::fmt::Debug for Proxies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |v: &Option<String>| if v.is_some() { "set" } else { "none" };
        f.debug_struct("Proxies")
            .field("https", &set(&self.https))
            .field("http", &set(&self.http))
            .field("all", &set(&self.all))
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

/// The `User-Agent` of every request.
const USER_AGENT: &str = concat!("cfsign/", env!("CARGO_PKG_VERSION"));

impl ClientOptions {
    /// The client every transfer uses. A `--cacert` file is read and checked
    /// here, so that a wrong one is named before any request.
    ///
    /// ```
    /// use cfsign::transfer::ClientOptions;
    ///
    /// let client = ClientOptions::default().build()?;
    /// # drop(client);
    ///
    /// let missing = ClientOptions {
    ///     cacert: Some("/nonexistent/ca.pem".into()),
    ///     ..ClientOptions::default()
    /// };
    /// let err = missing.build().unwrap_err();
    /// assert!(err.to_string().contains("--cacert"));
    /// # Ok::<(), cfsign::Error>(())
    /// ```
    pub fn build(&self) -> Result<reqwest::Client, Error> {
        let mut builder = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(self.connect_timeout)
            .read_timeout(self.read_timeout)
            .redirect(redirects())
            // A Referer would hand the signed URL, signature and all, to
            // whatever host a redirect names.
            .referer(false)
            // Only the proxies given: none read from the environment here.
            .no_proxy();
        builder = with_proxies(builder, &self.proxies)?;
        if let Some(path) = &self.cacert {
            for der in authorities(path)? {
                let cert = reqwest::Certificate::from_der(&der).map_err(|e| {
                    Error::usage(format!("--cacert {}: {e}", escape::shown_path(path)))
                })?;
                builder = builder.add_root_certificate(cert);
            }
        }
        builder
            .build()
            .map_err(|e| Error::Runtime(format!("cannot set up the HTTP client: {e}")))
    }
}

/// `reqwest::Proxy::https` and its siblings.
type ProxyFor = fn(&str) -> reqwest::Result<reqwest::Proxy>;

/// A URL the HTTP client can send to. The signing layer's wire form checks
/// the scheme and the characters, not the host: an unclosed IPv6 bracket or
/// a port over 65535 would otherwise surface as a network failure (exit 4)
/// instead of the input error it is.
pub(crate) fn check_parses(url: &str) -> Result<reqwest::Url, Error> {
    reqwest::Url::parse(url).map_err(|e| {
        Error::usage(format!(
            "`{}` is not a URL ({e}): give the full URL, such as https://d111111abcdef8.cloudfront.net/path",
            escape::shown_url(url)
        ))
    })
}

/// A few redirects, and none that takes a signed URL to another origin:
/// its signature is good only for the URL it was made for, so whatever
/// answers elsewhere says nothing about the distribution (`doctor` and
/// `sign --check` would count a stranger's 200 as CloudFront's), and a PUT
/// would hand the body to a host the user never named. The 3xx itself is
/// the answer then.
fn redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let elsewhere = attempt.previous().first().is_some_and(|first| {
            super::signing::UrlSigner::is_signed(first.as_str())
                && first.origin() != attempt.url().origin()
        });
        if attempt.previous().len() > 5 {
            attempt.error("too many redirects")
        } else if elsewhere {
            attempt.stop()
        } else {
            attempt.follow()
        }
    })
}

/// Adds the proxies, the one of a URL's scheme before the one for all.
fn with_proxies(
    mut builder: reqwest::ClientBuilder,
    proxies: &Proxies,
) -> Result<reqwest::ClientBuilder, Error> {
    let no_proxy = proxies
        .no_proxy
        .as_deref()
        .and_then(reqwest::NoProxy::from_string);
    let kinds: [(&Option<String>, &str, ProxyFor); 3] = [
        (&proxies.https, "https", |url| reqwest::Proxy::https(url)),
        (&proxies.http, "http", |url| reqwest::Proxy::http(url)),
        (&proxies.all, "all", |url| reqwest::Proxy::all(url)),
    ];
    for (url, kind, proxy) in kinds {
        let Some(url) = url else { continue };
        let proxy = proxy(url).map_err(|_| {
            Error::usage(format!(
                "the {kind} proxy is not a proxy URL (its value is not shown: it may hold a password)"
            ))
        })?;
        builder = builder.proxy(proxy.no_proxy(no_proxy.clone()));
    }
    Ok(builder)
}

/// The certificates of a `--cacert` file, each checked to be one that can
/// anchor trust (so that a wrong file is named here, not as "unknown issuer"
/// at the first request).
fn authorities(path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    // The whole system bundle is about 200 KiB: a bound keeps `/dev/zero`
    // or a wrong multi-gigabyte file from hanging the run.
    const MAX_CACERT: u64 = 16 << 20;
    let shown = escape::shown_path(path);
    let unreadable = |e: std::io::Error| {
        Error::usage(format!("--cacert {shown}: {}", crate::error::io_reason(&e)))
    };
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(
            std::fs::File::open(path).map_err(unreadable)?,
            MAX_CACERT + 1,
        ),
        &mut bytes,
    )
    .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_CACERT {
        return Err(Error::usage(format!(
            "--cacert {shown}: larger than 16 MiB, so not a file of certificate authorities"
        )));
    }
    let mut certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| {
            Error::usage(format!(
                "--cacert {shown}: a certificate in it is not valid PEM"
            ))
        })?;
    // A lone DER certificate (`.cer`, `.der`) is a SEQUENCE: 0x30.
    if certs.is_empty() && bytes.first() == Some(&0x30) {
        certs.push(CertificateDer::from(bytes));
    }
    if certs.is_empty() {
        return Err(Error::usage(format!(
            "--cacert {shown}: no certificate in it (give the authority's certificate, PEM with -----BEGIN CERTIFICATE-----)"
        )));
    }
    let mut store = RootCertStore::empty();
    for cert in &certs {
        store.add(cert.clone()).map_err(|e| {
            Error::usage(format!(
                "--cacert {shown}: not a usable certificate ({})",
                e.to_string().to_lowercase()
            ))
        })?;
    }
    Ok(certs.into_iter().map(CertificateDer::into_owned).collect())
}

/// The TLS failure behind a transport error, in words, with the fix; `None`
/// when the error is not one of TLS. These failures are final: trying again
/// gets the same certificate.
pub(crate) fn tls_failure(e: &reqwest::Error) -> Option<String> {
    let tls = rustls_error(e)?;
    const TRUST: &str =
        "pass --cacert CA.pem or set SSL_CERT_FILE if a private or corporate authority signs it";
    const CLOCK: &str = "or this machine's clock is wrong";
    Some(match tls {
        rustls::Error::InvalidCertificate(cert) => match cert {
            CertificateError::UnknownIssuer => {
                format!("certificate is not trusted: unknown issuer ({TRUST})")
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                format!("certificate is not trusted: it has expired ({CLOCK})")
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                format!("certificate is not trusted: it is not valid yet ({CLOCK})")
            }
            CertificateError::NotValidForNameContext { presented, .. } => format!(
                "certificate is not trusted: it is not valid for this host name (it names {})",
                escape::shown(&presented.join(", "))
            ),
            CertificateError::NotValidForName => {
                "certificate is not trusted: it is not valid for this host name".to_string()
            }
            other => format!(
                "certificate is not trusted: {}",
                other.to_string().to_lowercase()
            ),
        },
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
            "TLS handshake failed: the server does not speak TLS (an http:// URL?)".to_string()
        }
        other => format!("TLS handshake failed: {other}"),
    })
}

/// A proxy that would not open a tunnel (`HTTPS_PROXY`: it answered
/// `CONNECT` with something other than 200), in words with the fix; `None`
/// for other errors. Final: the proxy answers the same way again. hyper-util
/// keeps its tunnel error private, so it is recognised by its message.
pub(crate) fn proxy_refusal(e: &reqwest::Error) -> Option<String> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        let text = err.to_string();
        if let Some(reason) = text.strip_prefix("tunnel error: ") {
            return match reason {
                "proxy authorization required" => Some(
                    "the proxy asks for credentials (407) before it opens a tunnel: give them in HTTPS_PROXY as http://USER:PASSWORD@HOST:PORT".to_string(),
                ),
                "unsuccessful" | "proxy response headers too long" => Some(
                    "the proxy refused to open a tunnel (its answer to CONNECT was not 200): check HTTPS_PROXY, or list the host in NO_PROXY".to_string(),
                ),
                _ => None,
            };
        }
        next = err.source();
    }
    None
}

/// Whether a transport error is a TLS failure (see [`tls_failure`]).
pub(crate) fn is_tls_failure(e: &reqwest::Error) -> bool {
    rustls_error(e).is_some()
}

/// rustls's error, wherever reqwest and hyper nest it.
fn rustls_error(e: &reqwest::Error) -> Option<&rustls::Error> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        // An io::Error's source() skips the error it wraps: look inside.
        next = match err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner),
            None => err.source(),
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cacert_files_that_hold_no_authority_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let cases: [(&str, &[u8], &str); 4] = [
            ("missing.pem", b"", "no such file"),
            ("empty.pem", b"", "no certificate in it"),
            (
                "key.pem",
                b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
                "no certificate in it",
            ),
            (
                "garbage.pem",
                b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                "not a usable certificate",
            ),
        ];
        for (name, contents, needle) in cases {
            let path = dir.path().join(name);
            if name != "missing.pem" {
                std::fs::write(&path, contents).unwrap();
            }
            let options = ClientOptions {
                cacert: Some(path),
                ..ClientOptions::default()
            };
            let err = options.build().unwrap_err();
            assert_eq!(err.exit_code(), crate::error::exit::USAGE, "{name}");
            let text = err.to_string();
            assert!(
                text.contains("--cacert") && text.contains(needle),
                "{name}: {text}"
            );
            // Nothing of the file's contents is echoed (it might be a key).
            assert!(!text.contains("AAAA"), "{name}: {text}");
        }
    }
}
