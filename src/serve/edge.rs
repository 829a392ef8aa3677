//! What CloudFront checks before a request reaches the origin: its size
//! limits on the URL and the head, then the signature. The signature check
//! itself is [`verify::check`], the one validation core shared with
//! `cfsign verify`; this file only rebuilds what CloudFront would see (the
//! URL the client asked for, its cookies, its IPv4 address), and keeps the
//! signatures that verified ([`VerifiedSignatures`]) so that the RSA
//! operation runs once per signature, not once per request.

use std::net::{IpAddr, SocketAddr};

use hyper::Request;
use hyper::header;

use super::Access;
use super::rehearse::AllowedMethods;
use super::verified::VerifiedSignatures;
use super::xml::ErrorResponse;
use crate::verify;

/// CloudFront's limit on the request URL.
const MAX_URL_BYTES: usize = 8192;
/// CloudFront's limit on the request line and headers together.
const MAX_HEAD_BYTES: usize = 20480;

/// The edge's settings: who may pass, and the URL signatures name.
#[derive(Debug)]
pub(super) struct Edge {
    access: Access,
    /// Validated scheme and host, without a trailing slash.
    base_url: Option<String>,
    /// The cache behaviour's allowed methods; `None`: all.
    methods: Option<AllowedMethods>,
    /// Seconds the edge's clock is ahead of the machine's (negative: behind).
    clock_skew: i64,
    verified: VerifiedSignatures,
}

impl Edge {
    pub(super) fn new(
        access: Access,
        base_url: Option<String>,
        methods: Option<AllowedMethods>,
        clock_skew: i64,
    ) -> Self {
        Edge {
            access,
            base_url,
            methods,
            clock_skew,
            verified: VerifiedSignatures::new(),
        }
    }

    /// CloudFront's checks, in its order: limits, the cache behaviour's
    /// methods, then signature.
    pub(super) fn check<B>(
        &self,
        req: &Request<B>,
        peer: SocketAddr,
        local: SocketAddr,
    ) -> Result<(), ErrorResponse> {
        check_limits(req)?;
        if let Some(allowed) = &self.methods {
            if !allowed.allows(req.method()) {
                return Err(ErrorResponse::method_refused(req.method(), allowed));
            }
        }
        self.authorize(req, peer, local)
    }

    /// CloudFront's check: a signed URL, else signed cookies.
    fn authorize<B>(
        &self,
        req: &Request<B>,
        peer: SocketAddr,
        local: SocketAddr,
    ) -> Result<(), ErrorResponse> {
        let Access::Signed(keys) = &self.access else {
            return Ok(());
        };
        let target = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
        let url = match &self.base_url {
            Some(base) => format!("{base}{target}"),
            None => {
                let host = req
                    .headers()
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .filter(|h| !h.is_empty());
                match host {
                    Some(host) => format!("http://{host}{target}"),
                    None => format!("http://{local}{target}"),
                }
            }
        };
        let cookies = req
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join("; ");
        let client_ip = match peer.ip() {
            IpAddr::V4(ip) => Some(ip),
            IpAddr::V6(ip) => ip.to_ipv4_mapped(),
        };
        let now = crate::time::now().saturating_add(self.clock_skew);
        let request = verify::Request {
            url: &url,
            cookie_header: (!cookies.is_empty()).then_some(cookies.as_str()),
            client_ip,
            now,
        };
        verify::check_with(&request, keys, |key, s| self.verified.verify(key, s, now))
            .map(|_| ())
            .map_err(|rejection| ErrorResponse::refused(&rejection))
    }
}

/// CloudFront's size limits on the URL and on the request head.
fn check_limits<B>(req: &Request<B>) -> Result<(), ErrorResponse> {
    let target = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if target > MAX_URL_BYTES {
        return Err(ErrorResponse::uri_too_long(MAX_URL_BYTES));
    }
    // `METHOD SP target SP HTTP/1.1 CRLF`, then `name: value CRLF` each.
    let head = req.method().as_str().len()
        + target
        + 12
        + req
            .headers()
            .iter()
            .map(|(n, v)| n.as_str().len() + v.len() + 4)
            .sum::<usize>();
    if head > MAX_HEAD_BYTES {
        return Err(ErrorResponse::header_too_large(MAX_HEAD_BYTES));
    }
    Ok(())
}
