//! The checks themselves: one question each, asked with [`Probe`], and what
//! its answer means for the one setup step it is about.

use reqwest::Method;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderMap, HeaderValue, RANGE};

use super::{Check, DoctorOptions, Skip, Step, Verdict};
use crate::error::Error;
use crate::escape;
use crate::sign::{PolicySpec, PublicKey, Signer, url};
use crate::time::{self, format_time};
use crate::transfer::RetryPolicy;
use crate::transfer::probe::{Probe, Probed, Refused};
use crate::transfer::put::{self, Answer, DEFAULT_ACL, X_AMZ_ACL};
use crate::transfer::refusal::{CLOCK_TOLERANCE_SECS, Side, clock_skew};
use crate::transfer::signing::UrlSigner;

/// How long each signed URL is valid, from CloudFront's clock: long enough
/// for a slow answer, short enough that a leaked one soon expires.
const LIFETIME_SECS: i64 = 300;

/// The bytes a signed `GET` asks for when it reads an existing object: a
/// check, not a download.
const READ_RANGE: &str = "bytes=0-15";

/// The fix when an unsigned request gets through.
const RESTRICT_VIEWER_ACCESS: &str = "restrict viewer access in the cache behaviour (Trusted key groups), with a key group that holds this key's public half";

/// One run: the URLs, the signer, and CloudFront's clock once it is known.
pub(super) struct Run<'a> {
    client: &'a reqwest::Client,
    retry: &'a RetryPolicy,
    signer: UrlSigner,
    our_key: PublicKey,
    prefix: String,
    object: Option<String>,
    write: Option<String>,
    /// The probe's bytes: different on every run, so that an old copy
    /// served from a cache is told from this one.
    probe: Vec<u8>,
    /// CloudFront's clock minus this machine's, in seconds.
    skew: i64,
}

impl<'a> Run<'a> {
    pub(super) fn new(
        client: &'a reqwest::Client,
        signer: Signer,
        prefix: &str,
        options: &'a DoctorOptions,
    ) -> Result<Self, Error> {
        let scheme = prefix.split_once("://").map(|(s, _)| s);
        if !scheme
            .is_some_and(|s| s.eq_ignore_ascii_case("https") || s.eq_ignore_ascii_case("http"))
        {
            return Err(Error::usage(format!(
                "`{}` is not an http:// or https:// URL prefix",
                escape::shown_url(prefix)
            )));
        }
        if UrlSigner::is_signed(prefix) {
            return Err(Error::usage(
                "the prefix carries signing parameters: give it unsigned (each check is signed afresh)",
            ));
        }
        let prefix = url::to_wire(prefix)?;
        crate::transfer::client::check_parses(&prefix)?;
        let under = |name: &Option<String>, what: &str| {
            name.as_deref()
                .map(|name| object_url(&prefix, name, what))
                .transpose()
        };
        let our_key = signer.key().public_key();
        let probe = format!(
            "cfsign doctor probe, {}, {:016x}\n",
            format_time(time::now()),
            rand::random::<u64>()
        );
        Ok(Run {
            client,
            retry: &options.retry,
            signer: UrlSigner::new(
                Some(signer),
                Box::new(|now| Ok(PolicySpec::canned(now + LIFETIME_SECS)?)),
            ),
            our_key,
            object: under(&options.object, "the object")?,
            write: under(&options.write, "the name to write")?,
            prefix,
            probe: probe.into_bytes(),
            skew: 0,
        })
    }

    /// What the first checks ask about: the object, else the prefix.
    fn target(&self) -> &str {
        self.object.as_deref().unwrap_or(&self.prefix)
    }

    /// Sends `method` for `raw` signed by CloudFront's clock.
    async fn signed(&self, method: Method, raw: &str, headers: HeaderMap) -> Result<Probed, Error> {
        let url = self.signer.sign_at(raw, time::now() + self.skew)?;
        let probe = Probe {
            signed_with: Some(self.our_key.clone()),
            headers,
            body: match method {
                Method::PUT => self.probe.clone(),
                _ => Vec::new(),
            },
            ..Probe::new(method, &url)
        };
        probe.send(self.client, self.retry).await
    }

    /// Check 1: an unsigned `GET` gets CloudFront's own 403 `MissingKey`.
    pub(super) async fn viewer_access(&self) -> Result<(Step, Probed), Error> {
        let probed = Probe::new(Method::GET, self.target())
            .send(self.client, self.retry)
            .await?;
        let step = match &probed {
            Probed::Refused(r) if r.code() == "MissingKey" && r.by_cloudfront() => pass(
                Check::ViewerAccess,
                "an unsigned GET is refused with CloudFront's 403 MissingKey",
            ),
            other => fail(
                Check::ViewerAccess,
                format!(
                    "an unsigned GET got {}, not CloudFront's 403 MissingKey",
                    answer(other)
                ),
                RESTRICT_VIEWER_ACCESS.to_string(),
            ),
        };
        Ok((step, probed))
    }

    /// Check 2: CloudFront's `Date` against this machine's clock; from here on,
    /// URLs are signed by CloudFront's.
    pub(super) fn clock(&mut self, first: &Probed) -> Step {
        let Some(date) = first.date() else {
            return skip(Check::Clock, Skip::NoDate);
        };
        self.skew = date - first.local_time();
        let Some(skew) = clock_skew(date, first.local_time()) else {
            return pass(
                Check::Clock,
                format!(
                    "CloudFront's Date is within {CLOCK_TOLERANCE_SECS}s of this machine's clock"
                ),
            );
        };
        fail(
            Check::Clock,
            format!(
                "CloudFront's clock ({}) is {skew}; the later checks are signed by CloudFront's",
                format_time(date),
            ),
            "set this machine's clock right (NTP): CloudFront judges a signed URL's times by its own clock".to_string(),
        )
    }

    /// Check 3: a signed `HEAD` is not refused by CloudFront: whatever the origin
    /// answers, CloudFront accepted the signature to ask it. Unless viewer
    /// access is open: then CloudFront checks no key, and passing proves
    /// nothing (the HEAD is still made, for check 4).
    pub(super) async fn key_trusted(&self, viewer: Verdict) -> Result<(Step, Probed), Error> {
        let head = self
            .signed(Method::HEAD, self.target(), HeaderMap::new())
            .await?;
        let step = match &head {
            Probed::Refused(r) if r.by_cloudfront() => {
                refused(Check::KeyTrusted, "a signed HEAD", r)
            }
            _ if viewer == Verdict::Fail => skip(Check::KeyTrusted, Skip::Unrestricted),
            other => pass(
                Check::KeyTrusted,
                format!(
                    "CloudFront accepted a signed HEAD (answer: {})",
                    answer(other)
                ),
            ),
        };
        Ok((step, head))
    }

    /// Check 4: with an object: its signed `HEAD` (the one of check 3) and a
    /// signed `GET` of its first bytes succeed.
    pub(super) async fn signed_reads(&self, trusted: Verdict, head: Probed) -> Result<Step, Error> {
        let Some(object) = &self.object else {
            return Ok(skip(Check::SignedReads, Skip::NoObject));
        };
        if trusted == Verdict::Fail {
            return Ok(skip(Check::SignedReads, Skip::Failed(Check::KeyTrusted)));
        }
        if let Probed::Refused(r) = &head {
            return Ok(refused(
                Check::SignedReads,
                "a signed HEAD of the object",
                r,
            ));
        }
        let mut range = HeaderMap::new();
        range.insert(RANGE, HeaderValue::from_static(READ_RANGE));
        Ok(match self.signed(Method::GET, object, range).await? {
            // An empty object has no first bytes to send: read, all the same.
            Probed::Refused(r) if r.status() == 416 => pass(
                Check::SignedReads,
                "a signed HEAD and a signed GET of the object succeeded (it is empty: 416 for its first bytes)",
            ),
            Probed::Refused(r) => refused(Check::SignedReads, "a signed GET of the object", &r),
            Probed::Accepted(a) => pass(
                Check::SignedReads,
                format!(
                    "a signed HEAD and a signed GET of the object's first bytes succeeded ({})",
                    a.status
                ),
            ),
        })
    }

    /// Check 5: a signed `PUT` of the probe is passed on to the origin (not
    /// refused by the cache behaviour's allowed methods).
    pub(super) async fn put_allowed(
        &self,
        trusted: Verdict,
    ) -> Result<(Step, Option<Probed>), Error> {
        let Some(write) = &self.write else {
            return Ok((skip(Check::PutAllowed, Skip::NoWrite), None));
        };
        if trusted == Verdict::Fail {
            let step = skip(Check::PutAllowed, Skip::Failed(Check::KeyTrusted));
            return Ok((step, None));
        }
        let put = self
            .signed(Method::PUT, write, self.probe_headers())
            .await?;
        let step = match &put {
            Probed::Refused(r) if r.by_cloudfront() => {
                refused(Check::PutAllowed, "a signed PUT", r)
            }
            _ => pass(
                Check::PutAllowed,
                "CloudFront passed a signed PUT on to the origin",
            ),
        };
        Ok((step, Some(put)))
    }

    /// Check 6: that `PUT` was stored: a 2xx whose ETag is the probe's MD5.
    pub(super) fn signed_writes(&self, allowed: Verdict, put: Option<Probed>) -> Step {
        let put = match (allowed, put) {
            (Verdict::Skip(why), _) => return skip(Check::SignedWrites, why),
            (Verdict::Pass, Some(put)) => put,
            _ => return skip(Check::SignedWrites, Skip::Failed(Check::PutAllowed)),
        };
        let stored = match put {
            Probed::Refused(r) => return refused(Check::SignedWrites, "a signed PUT", &r),
            Probed::Accepted(a) => a,
        };
        // Checked as `put` checks its uploads: S3's echo of the SHA-256
        // checksum first, the MD5 ETag without one.
        let answer = Answer::from_headers(&stored.headers);
        let sha256 = self.probe_sha256();
        let md5 = {
            let mut md5 = crate::digest::Md5::new();
            md5.update(&self.probe);
            hex::encode(md5.finish())
        };
        let bytes = self.probe.len();
        let status = stored.status;
        let stored_as = |how: &str| {
            pass(
                Check::SignedWrites,
                format!("the origin stored the {bytes}-byte probe ({status}, {how})"),
            )
        };
        let changed = |what: String| {
            fail(
                Check::SignedWrites,
                format!("the origin answered {status} with {what}, which is not the probe's"),
                "something between CloudFront and the bucket changes uploads: check the behaviour's Lambda@Edge or CloudFront Functions".to_string(),
            )
        };
        let ours = crate::digest::checksum_sha256(&sha256);
        match answer.check_checksum(&ours, "") {
            Err(_) => changed(format!(
                "the {} {}",
                crate::digest::CHECKSUM_SHA256,
                escape::shown(answer.checksum_sha256.as_deref().unwrap_or_default())
            )),
            Ok(true) => stored_as("S3 echoed its SHA-256 checksum"),
            Ok(false) => match answer.check_etag(&md5, "") {
                Err(_) => changed(format!(
                    "the ETag {}",
                    escape::shown(answer.etag.as_deref().unwrap_or_default())
                )),
                Ok(true) => stored_as("its ETag is the probe's MD5"),
                // SSE-KMS and SSE-C objects, say, whose ETag is no MD5.
                Ok(false) => stored_as(
                    "no checksum echo, and its ETag is not the MD5 of the bytes, so nothing was compared",
                ),
            },
        }
    }

    /// Check 7: a signed `GET` of the probe returns the bytes just written.
    pub(super) async fn read_back(&self, written: Verdict, reads: Verdict) -> Result<Step, Error> {
        let Some(write) = &self.write else {
            return Ok(skip(Check::ReadBack, Skip::NoWrite));
        };
        match (written, reads) {
            (Verdict::Skip(why), _) => return Ok(skip(Check::ReadBack, why)),
            (Verdict::Fail, _) => {
                return Ok(skip(Check::ReadBack, Skip::Failed(Check::SignedWrites)));
            }
            // Reads are refused: the probe's GET would only say so again.
            (_, Verdict::Fail) => {
                return Ok(skip(Check::ReadBack, Skip::Failed(Check::SignedReads)));
            }
            _ => {}
        }
        Ok(match self.signed(Method::GET, write, HeaderMap::new()).await? {
            Probed::Refused(r) => refused(Check::ReadBack, "a signed GET of the probe", &r),
            Probed::Accepted(a) if a.body == self.probe => pass(
                Check::ReadBack,
                format!("a signed GET returned the probe's {} bytes", self.probe.len()),
            ),
            Probed::Accepted(a) => fail(
                Check::ReadBack,
                format!(
                    "a signed GET returned {} bytes that are not this run's probe",
                    a.body.len()
                ),
                "CloudFront served an older copy from its cache: let the behaviour's cache policy honour the origin's Cache-Control (the probe is sent with no-store), or invalidate the probe's path".to_string(),
            ),
        })
    }

    fn probe_sha256(&self) -> [u8; 32] {
        use sha2::Digest;
        sha2::Sha256::digest(&self.probe).into()
    }

    /// The probe's headers: the digests and ACL `put` sends, and no caching.
    fn probe_headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        put::insert_digests(&mut headers, &self.probe_sha256(), true);
        headers.insert(X_AMZ_ACL, HeaderValue::from_static(DEFAULT_ACL));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        // So that CloudFront never answers the read-back with an older probe.
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers
    }
}

/// `name` (a key relative to `prefix`, `/` between folders) as a URL.
fn object_url(prefix: &str, name: &str, what: &str) -> Result<String, Error> {
    let segments: Vec<String> = name.split('/').map(str::to_string).collect();
    if segments
        .iter()
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err(Error::usage(format!(
            "{what} `{}` is not a key relative to the prefix: give folder/name, without empty, `.` or `..` parts",
            escape::shown(name)
        )));
    }
    // The folder's `/` goes after the path, not after a query string
    // (`/p?v=1` would put the name beside `/p`, as `/pname?v=1/`).
    let (path, query) = prefix.split_once('?').unwrap_or((prefix, ""));
    let dir = match (path.ends_with('/'), prefix.contains('?')) {
        (true, _) => prefix.to_string(),
        (false, false) => format!("{path}/"),
        (false, true) => format!("{path}/?{query}"),
    };
    put::object_url(&dir, &segments)
}

/// An answer in a few words: `200`, `404 NoSuchKey from the origin`.
fn answer(probed: &Probed) -> String {
    match probed {
        Probed::Accepted(a) => a.status.to_string(),
        Probed::Refused(r) => format!("{} {} from {}", r.status(), escape::shown(r.code()), who(r)),
    }
}

/// Who refused, as the lines say it: a bare answer with neither's marks is
/// named by neither (the checks still count a bare 403 as CloudFront's,
/// `Refused::by_cloudfront`, since only CloudFront answers an edge's 403s
/// without S3's IDs).
fn who(r: &Refused) -> &'static str {
    match r.refusal.side {
        Side::CloudFront => "CloudFront",
        Side::Origin => "the origin",
        Side::Unknown => "the server",
    }
}

fn pass(check: Check, detail: impl Into<String>) -> Step {
    Step {
        check,
        verdict: Verdict::Pass,
        detail: detail.into(),
        fix: None,
    }
}

fn fail(check: Check, detail: String, fix: String) -> Step {
    Step {
        check,
        verdict: Verdict::Fail,
        detail,
        fix: Some(fix),
    }
}

fn skip(check: Check, why: Skip) -> Step {
    Step {
        check,
        verdict: Verdict::Skip(why),
        detail: String::new(),
        fix: None,
    }
}

/// A check failed by a refusal: what was refused, by whom, and its fix.
fn refused(check: Check, what: &str, r: &Refused) -> Step {
    let refusal = &r.refusal;
    let message = match refusal.message.is_empty() {
        true => String::new(),
        false => format!(" ({})", escape::shown(&refusal.message)),
    };
    fail(
        check,
        format!(
            "{what} got {} {} from {}{message}",
            refusal.status,
            escape::shown(&refusal.code),
            who(r)
        ),
        // refusal.rs has a fix for every 404 and every 403 but the
        // origin's unknown ones; another answer (one of S3's 400s, or its
        // 403 for an archived object, say) is shown as it came.
        refusal.fix.clone().unwrap_or_else(|| {
            "no setup step is known to cause this answer: see its code and message".to_string()
        }),
    )
}
