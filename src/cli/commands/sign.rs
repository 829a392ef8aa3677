//! `cfsign sign`: URLs from arguments or stdin, signed on all cores, printed
//! in input order. Every URL is validated before anything is printed, so bad
//! input leaves stdout empty.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use serde::Serialize;

use crate::cli::config::{self, StdinData};
use crate::cli::{CookieArgs, SignArgs, SignFormat};
use cfsign::error::Error;
use cfsign::sign::PolicySpec;
use cfsign::sign::{Carrier, Policy, SignedPolicy, Signer, url};
use cfsign::time;

/// How many URLs one worker signs before its output is handed over.
const BLOCK: usize = 1024;

pub fn run(args: SignArgs) -> Result<ExitCode, Error> {
    let now = time::now();
    if matches!(args.format, SignFormat::Url | SignFormat::Header) {
        if let Some(flag) = args.cookie.first_given() {
            return Err(Error::usage(format!(
                "{flag} sets an attribute of Set-Cookie lines: use it with --format cookies or json (a {} carries no attributes)",
                if args.format == SignFormat::Url {
                    "signed URL"
                } else {
                    "Cookie request header"
                }
            )));
        }
    }
    if args.check && args.format != SignFormat::Url {
        return Err(Error::usage(
            "--check sends the signed URLs: use it with --format url (signed cookies and Cookie headers are not checked)",
        ));
    }
    let urls_from_stdin = wants_stdin(&args);
    let data = urls_from_stdin.then_some(StdinData {
        name: "the URLs",
        key_conflict: "the private key is read from stdin, so URLs must be given as arguments",
    });
    config::claim_stdin(&args.key, &args.policy, data)?;
    let spec = config::policy_spec(&args.policy, now)?;
    if matches!(args.format, SignFormat::Cookies | SignFormat::Header) {
        spec.check_for(Carrier::Cookies)?;
    }
    let inputs = collect_urls(&args)?;
    let spec = canned_when_the_resource_is_the_url(spec, &args, &inputs);

    // Validate everything first: wire form, reserved names, policy coverage.
    let mut jobs = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        // Name the URL's place in a batch, and the flag when it came from `--url`.
        let at = |e: Error| match (inputs.len(), i < args.url_flags.len()) {
            (1, true) => Error::Usage(format!("--url: {e}")),
            (1, false) => e,
            (n, _) => Error::Usage(format!("URL {} of {n}: {e}", i + 1)),
        };
        let wire = url::to_wire(input).map_err(|e| at(e.into()))?;
        let policy = spec.policy_for(&wire).map_err(at)?;
        if matches!(args.format, SignFormat::Json | SignFormat::Cookies) {
            // The URL's host becomes the cookies' Domain: a host that would
            // break the Set-Cookie line (`;`, `,`) is refused here, once.
            args.cookie.attributes(Some(host_of(&wire))).map_err(|e| {
                at(Error::usage(format!(
                    "the URL's host cannot be the cookie Domain: {e}"
                )))
            })?;
        }
        if !policy.covers(&wire) {
            let resource = spec
                .shared()
                .map(|p| p.resource().to_string())
                .unwrap_or_default();
            return Err(at(Error::Usage(format!(
                "the URL `{wire}` is not covered by the policy resource `{resource}`: widen the resource or sign the URL separately"
            ))));
        }
        jobs.push((wire, policy));
    }

    // The key is loaded only once the input is known to be good, so that a
    // bad URL is reported alone (without, say, a key-size warning first).
    let signer = config::required_signer(args.key)?;
    // A bad --cacert or proxy variable is named before anything is printed.
    let check = match args.check {
        true => Some(super::sign_check::Check::new(args.cacert, &signer)?),
        false => None,
    };
    let output = Output {
        format: args.format,
        cookie: args.cookie,
    };
    let stdout = std::io::stdout();
    let mut out = Printed {
        out: std::io::BufWriter::with_capacity(1 << 16, stdout.lock()),
        open: true,
        // What --check sends: the very lines printed (an ECDSA signature
        // differs each time it is made).
        kept: check.as_ref().map(|_| String::new()),
    };

    if let Some(shared) = spec.shared() {
        // One signature serves every URL under a shared (wildcard) policy.
        let signed = signer.sign(&Policy::Custom(shared.clone()));
        let mut buf = String::new();
        for (i, (wire, _)) in jobs.iter().enumerate() {
            buf.clear();
            output.render(&mut buf, i == 0, wire, &signed);
            if !out.print(&buf)? {
                return Ok(ExitCode::SUCCESS);
            }
        }
    } else {
        // One signature is made on this thread: asking how many cores there
        // are (cgroup files) and starting a thread cost more than it.
        let workers = if jobs.len() > 1 { workers() } else { 1 };
        for (n, chunk) in jobs.chunks(BLOCK * workers).enumerate() {
            let rendered = sign_parallel(&signer, chunk, n == 0, &output, workers);
            for block in rendered {
                if !out.print(&block)? {
                    return Ok(ExitCode::SUCCESS);
                }
            }
        }
    }
    super::flush_stdout(&mut out.out)?;
    match (check, out.kept) {
        (Some(check), Some(kept)) => check.run(kept.lines().collect()),
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// Stdout, and with `--check` a copy of what was printed.
struct Printed<W: std::io::Write> {
    out: W,
    /// Whether stdout's reader is still there.
    open: bool,
    kept: Option<String>,
}

impl<W: std::io::Write> Printed<W> {
    /// Prints `text`; `false` once there is no point going on (stdout
    /// closed, and nothing to check).
    fn print(&mut self, text: &str) -> Result<bool, Error> {
        if self.open {
            self.open = super::write_stdout(&mut self.out, text.as_bytes())?;
        }
        if let Some(kept) = &mut self.kept {
            kept.push_str(text);
        }
        Ok(self.open || self.kept.is_some())
    }
}

/// The AWS CLI v2 rule: a `--policy-resource` equal to `--url`, without a
/// start time or IP, signs a canned policy (the URL it prints is the one
/// `aws cloudfront sign` prints); a resource that differs, even without
/// wildcards, signs a custom one. A `--policy` file is always signed as given.
fn canned_when_the_resource_is_the_url(
    spec: PolicySpec,
    args: &SignArgs,
    inputs: &[String],
) -> PolicySpec {
    match spec.shared() {
        Some(p)
            if args.policy.policy.is_none()
                && p.starts().is_none()
                && p.ip().is_none()
                && inputs.iter().all(|u| {
                    url::to_wire(u).is_ok_and(|w| {
                        Some(w.as_str()) == p.resource().pattern().map(|r| r.as_str())
                    })
                }) =>
        {
            PolicySpec::canned(p.expires()).expect("a parsed policy's expiry is not before 1970")
        }
        _ => spec,
    }
}

fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Signs `jobs` on `workers` threads (on this one when it is 1); returns the
/// rendered output in input order.
fn sign_parallel(
    signer: &Signer,
    jobs: &[(String, Policy)],
    starts_output: bool,
    output: &Output,
    workers: usize,
) -> Vec<String> {
    let render = |w: usize, part: &[(String, Policy)]| {
        let mut buf = String::with_capacity(part.len() * 256);
        for (i, (wire, policy)) in part.iter().enumerate() {
            let first = starts_output && w == 0 && i == 0;
            output.render(&mut buf, first, wire, &signer.sign(policy));
        }
        buf
    };
    if workers == 1 {
        return vec![render(0, jobs)];
    }
    let per_worker = jobs.len().div_ceil(workers).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .chunks(per_worker)
            .enumerate()
            .map(|(w, part)| scope.spawn(move || render(w, part)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("signing thread panicked"))
            .collect()
    })
}

/// Whether the URLs come from stdin: none given, or `-` among them.
fn wants_stdin(args: &SignArgs) -> bool {
    let mut urls = args.url_flags.iter().chain(&args.urls);
    urls.clone().next().is_none() || urls.any(|u| u == "-")
}

/// URLs from arguments and `--url`, or one per line from stdin (blank lines
/// and surrounding whitespace ignored).
fn collect_urls(args: &SignArgs) -> Result<Vec<String>, Error> {
    let mut urls: Vec<String> = args.url_flags.iter().chain(&args.urls).cloned().collect();
    if wants_stdin(args) {
        if urls.is_empty() && std::io::stdin().is_terminal() {
            return Err(Error::usage(
                "no URL given: pass URLs as arguments or --url, or pipe them one per line on stdin",
            ));
        }
        let mut from_stdin = Vec::new();
        for line in std::io::stdin().lock().lines() {
            let line =
                line.map_err(|e| Error::usage(format!("cannot read URLs from stdin: {e}")))?;
            let line = line.trim();
            if !line.is_empty() {
                from_stdin.push(line.to_string());
            }
        }
        urls = urls
            .into_iter()
            .flat_map(|u| {
                if u == "-" {
                    std::mem::take(&mut from_stdin)
                } else {
                    vec![u]
                }
            })
            .collect();
        urls.append(&mut from_stdin);
        if urls.is_empty() {
            return Err(Error::usage("no URL given on stdin"));
        }
    }
    Ok(urls)
}

struct Output {
    format: SignFormat,
    cookie: CookieArgs,
}

#[derive(Serialize)]
struct JsonLine<'a> {
    url: &'a str,
    signed_url: &'a str,
    policy: &'a str,
    expires: i64,
    key_pair_id: &'a str,
    hash_algorithm: &'a str,
    /// The `Set-Cookie` values (with the cookie attributes), for a server
    /// that hands out signed cookies instead of the URL.
    set_cookie: Vec<String>,
}

impl Output {
    /// The cookie attributes for `wire`, whose host is the default Domain.
    fn attributes(&self, wire: &str) -> cfsign::sign::CookieAttributes {
        self.cookie
            .attributes(Some(host_of(wire)))
            .expect("checked with the URL, before signing")
    }

    /// Appends one URL's output to `buf`; `first` is the first URL printed.
    fn render(&self, buf: &mut String, first: bool, wire: &str, signed: &SignedPolicy) {
        use std::fmt::Write as _;
        match self.format {
            SignFormat::Url => {
                buf.push_str(wire);
                buf.push(if wire.contains('?') { '&' } else { '?' });
                buf.push_str(&signed.query());
                buf.push('\n');
            }
            SignFormat::Json => {
                let signed_url = url::append_query(wire, &signed.query());
                let line = JsonLine {
                    url: wire,
                    signed_url: &signed_url,
                    policy: &signed.policy().to_json(),
                    expires: signed.policy().expires(),
                    key_pair_id: signed.key_pair_id().as_str(),
                    hash_algorithm: signed.hash().as_str(),
                    set_cookie: signed.cookies().set_cookie_values(&self.attributes(wire)),
                };
                buf.push_str(
                    &serde_json::to_string(&line).expect("strings and integers serialise"),
                );
                buf.push('\n');
            }
            SignFormat::Cookies => {
                if !first {
                    buf.push('\n');
                }
                for value in signed.cookies().set_cookie_values(&self.attributes(wire)) {
                    let _ = writeln!(buf, "Set-Cookie: {value}");
                }
            }
            SignFormat::Header => {
                let _ = writeln!(buf, "Cookie: {}", signed.cookies().cookie_header_value());
            }
        }
    }
}

/// The host of a wire-form URL, without userinfo or port.
pub(crate) fn host_of(wire: &str) -> String {
    let rest = wire.split_once("://").map_or(wire, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h.to_string(),
        _ => host.to_string(),
    }
}
