//! `cfsign verify`: would CloudFront accept this URL, and if not, why not.
//! Exit 0 when it would be accepted, 3 when CloudFront would answer 403.

use std::process::ExitCode;

use crate::cli::VerifyArgs;
use cfsign::error::{Error, exit};
use cfsign::escape;
use cfsign::sign::Policy;
use cfsign::time::{self, HumanDuration, format_time};
use cfsign::verify::{self, Carrier, KeyRing, Request};

pub fn run(args: VerifyArgs) -> Result<ExitCode, Error> {
    let mut keys = KeyRing::new();
    for spec in &args.public_key {
        {
            let (id, key) = crate::cli::config::public_key(spec.expose()).map_err(Error::Usage)?;
            keys.insert(id.as_str(), key);
        }
    }
    let client_ip = args
        .client_ip
        .as_deref()
        .map(|s| {
            s.parse().map_err(|_| {
                Error::usage(format!(
                    "--client-ip `{s}` is not an IPv4 address (CloudFront policies are IPv4 only)"
                ))
            })
        })
        .transpose()?;
    let now = match &args.at {
        Some(t) => time::parse_time(t)?,
        None => time::now(),
    };
    if !args.url.contains("://") {
        return Err(Error::usage(format!(
            "`{}` is not a full URL: give it with its scheme and host, as it was signed",
            cfsign::escape::shown_url(&args.url)
        )));
    }
    let request = Request {
        url: &args.url,
        cookie_header: args.cookie.as_deref(),
        client_ip,
        now,
    };
    let mut out = String::new();
    let code = report(&mut out, verify::check(&request, &keys), now);
    let mut stdout = std::io::stdout().lock();
    if super::write_stdout(&mut stdout, out.as_bytes())? {
        super::flush_stdout(&mut stdout)?;
    }
    Ok(code)
}

fn report(
    out: &mut String,
    verdict: Result<verify::Accepted, verify::Rejection>,
    now: i64,
) -> ExitCode {
    use std::fmt::Write;
    match verdict {
        Ok(accepted) => {
            let carrier = match accepted.carrier {
                Carrier::Url => "signed URL",
                Carrier::Cookies => "signed cookies",
            };
            let policy = match &accepted.policy {
                Policy::Canned(_) => "canned policy".to_string(),
                Policy::Custom(p) => match p.resource().pattern() {
                    Some(r) => format!("custom policy for {}", escape::shown(r.as_str())),
                    None => "custom policy without a Resource (it covers every URL)".to_string(),
                },
            };
            let expires = accepted.policy.expires();
            let _ = writeln!(out, "accepted: CloudFront would accept this {carrier}");
            let _ = writeln!(out, "  policy: {policy}");
            let _ = writeln!(
                out,
                "  expires: {} (in {})",
                format_time(expires),
                HumanDuration::from_seconds((expires - now).max(0) as u64).rough()
            );
            if let Policy::Custom(p) = &accepted.policy {
                if let Some(start) = p.starts() {
                    let _ = writeln!(out, "  valid from: {}", format_time(start));
                }
                if let Some(ip) = p.ip() {
                    let _ = writeln!(out, "  client addresses: {ip}");
                }
            }
            // The key ID comes from the URL or the cookie as sent.
            let id = escape::shown(&accepted.key_pair_id);
            let _ = match &accepted.key {
                Some(_) => writeln!(out, "  signature: valid ({}, key {id})", accepted.hash),
                None => writeln!(
                    out,
                    "  signature: NOT CHECKED ({}, key {id}): pass --public-key {id}=PUBLIC_KEY.pem to check it",
                    accepted.hash
                ),
            };
            for note in &accepted.unchecked {
                let _ = writeln!(out, "  not checked: {}", escape::line(note));
            }
            ExitCode::SUCCESS
        }
        Err(rejection) => {
            let _ = writeln!(
                out,
                "rejected: CloudFront would answer 403 {} ({}): {}",
                rejection.code.as_str(),
                rejection.check,
                escape::line(&rejection.reason)
            );
            ExitCode::from(exit::REFUSED)
        }
    }
}
