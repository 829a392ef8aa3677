//! The network side of the environment, read once: the proxy variables and
//! `SSL_CERT_FILE`, checked and turned into the [`ClientOptions`] of `get`
//! and `put`.

use std::path::{Path, PathBuf};

use cfsign::error::Error;
use cfsign::escape;
use cfsign::transfer::{ClientOptions, Proxies};

/// The client's options: `--cacert`, the proxies of the environment, and
/// the default timeouts. `SSL_CERT_FILE` and the proxy variables are checked
/// first (the client's trust store reads `SSL_CERT_FILE` itself).
pub fn client_options(cacert: Option<PathBuf>) -> Result<ClientOptions, Error> {
    check_ssl_cert_file()?;
    check_proxy_variables()?;
    Ok(ClientOptions {
        cacert,
        proxies: proxies(),
        ..ClientOptions::default()
    })
}

/// The proxies as curl (and reqwest, by default) read them: the upper-case
/// variable wins when it is set, even empty; an empty value names no proxy.
/// Under CGI (`REQUEST_METHOD` set) none is used, since a request's `Proxy:`
/// header arrives as `HTTP_PROXY` there ("httpoxy").
fn proxies() -> Proxies {
    if std::env::var_os("REQUEST_METHOD").is_some() {
        return Proxies::default();
    }
    let first = |names: [&str; 2]| {
        names
            .into_iter()
            .find_map(|name| std::env::var(name).ok())
            .filter(|v| !v.is_empty())
    };
    Proxies {
        https: first(["HTTPS_PROXY", "https_proxy"]),
        http: first(["HTTP_PROXY", "http_proxy"]),
        all: first(["ALL_PROXY", "all_proxy"]),
        no_proxy: first(["NO_PROXY", "no_proxy"]),
    }
}

/// The proxy variables. A value the client cannot use it would ignore
/// without a word, and the request would then go straight past the proxy
/// the user meant, so such a value is refused here. It is named by its variable
/// only: a proxy URL may carry a password.
fn check_proxy_variables() -> Result<(), Error> {
    const HINT: &str = "name an HTTP proxy, such as http://proxy.example:3128";
    for name in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        let Some(value) = std::env::var_os(name).filter(|v| !v.is_empty()) else {
            continue;
        };
        let value = value.to_string_lossy();
        // reqwest reads `HOST:PORT` as `http://HOST:PORT`, and so does this.
        let url = match value.contains("://") {
            true => reqwest::Url::parse(&value),
            false => reqwest::Url::parse(&format!("http://{value}")),
        };
        match url {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => {}
            Ok(url) if url.host_str().is_some() => {
                return Err(Error::usage(format!(
                    "{name}: a {} proxy is not supported: {HINT}",
                    escape::shown(url.scheme())
                )));
            }
            _ => {
                return Err(Error::usage(format!(
                    "{name} is not a proxy URL (its value is not shown: it may hold a password): {HINT}"
                )));
            }
        }
    }
    Ok(())
}

/// `SSL_CERT_FILE` replaces the system's store: a name that points nowhere
/// would leave no authority at all, and every request would fail as "unknown
/// issuer" with the real cause hidden.
fn check_ssl_cert_file() -> Result<(), Error> {
    let Some(value) = std::env::var_os("SSL_CERT_FILE").filter(|v| !v.is_empty()) else {
        return Ok(());
    };
    let path = Path::new(&value);
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => Ok(()),
        Ok(_) => Err(Error::usage(format!(
            "SSL_CERT_FILE={}: not a file (name a PEM file of certificate authorities, or unset it)",
            escape::shown_path(path)
        ))),
        Err(e) => Err(Error::usage(format!(
            "SSL_CERT_FILE={}: {} (name a PEM file of certificate authorities, or unset it)",
            escape::shown_path(path),
            cfsign::error::io_reason(&e)
        ))),
    }
}
