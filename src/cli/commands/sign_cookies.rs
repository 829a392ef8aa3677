//! `cfsign sign-cookies`: the AWS CLI v2 command. One resource (a URL, or a
//! pattern with `*` and `?`), one JSON object mapping each `CloudFront-*`
//! cookie name to its value, formatted as the AWS CLI's default JSON output
//! (four-space indent, a newline at the end), so that scripts reading it
//! keep working when `aws cloudfront` becomes `cfsign`. `--format cookies`
//! prints `Set-Cookie` lines with the cookie attributes instead (the JSON
//! object stays the AWS CLI's: names and values only).

use std::process::ExitCode;

use crate::cli::config;
use crate::cli::{SignCookiesArgs, SignCookiesFormat};
use cfsign::error::Error;
use cfsign::sign::{Carrier, Policy, SignedCookies, url};
use cfsign::time;

pub fn run(args: SignCookiesArgs) -> Result<ExitCode, Error> {
    let now = time::now();
    if args.format != SignCookiesFormat::Cookies {
        if let Some(flag) = args.cookie.first_given() {
            return Err(Error::usage(format!(
                "{flag} sets an attribute of Set-Cookie lines: add --format cookies (the {} holds names and values only)",
                if args.format == SignCookiesFormat::Json {
                    "AWS CLI's JSON object"
                } else {
                    "Cookie request header"
                }
            )));
        }
    }
    config::claim_stdin(&args.key, &args.policy, None)?;
    let policy = match (&args.policy.resource, &args.policy.policy) {
        (_, Some(_)) => config::policy_spec(&args.policy, now)?.policy_for("")?,
        (Some(resource), None) => {
            // As the AWS CLI: a canned policy for a plain URL, a custom one
            // when the resource has wildcards or a start time or IP is given.
            let custom = resource.contains(['*', '?'])
                || args.policy.date_greater_than.is_some()
                || args.policy.ip_address.is_some();
            if custom {
                config::policy_spec(&args.policy, now)?.policy_for("")?
            } else {
                let wire =
                    url::to_wire(resource).map_err(|e| Error::usage(format!("--resource: {e}")))?;
                let canned = crate::cli::PolicyArgs {
                    resource: None,
                    ..args.policy.clone()
                };
                config::policy_spec(&canned, now)?.policy_for(&wire)?
            }
        }
        (None, None) => {
            return Err(Error::usage(
                "sign-cookies needs --resource URL (or a pattern with * and ?), or --policy FILE",
            ));
        }
    };
    policy.allowed_in(Carrier::Cookies)?;
    let signer = config::required_signer(args.key)?;
    let cookies = signer.sign(&policy).cookies();
    let text = match args.format {
        SignCookiesFormat::Json => render(&cookies),
        SignCookiesFormat::Header => format!("Cookie: {}\n", cookies.cookie_header_value()),
        SignCookiesFormat::Cookies => {
            let attributes = args.cookie.attributes(default_domain(&policy))?;
            let lines: String = cookies
                .set_cookie_values(&attributes)
                .iter()
                .map(|v| format!("Set-Cookie: {v}\n"))
                .collect();
            lines
        }
    };
    let mut out = std::io::stdout().lock();
    if super::write_stdout(&mut out, text.as_bytes())? {
        super::flush_stdout(&mut out)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The cookies as the AWS CLI prints a JSON object: `{`, one `"name":
/// "value"` per line indented by four spaces, `}` and a newline.
fn render(cookies: &SignedCookies) -> String {
    let quote = |s: &str| serde_json::to_string(s).expect("strings serialise");
    let lines: Vec<String> = cookies
        .pairs()
        .map(|(name, value)| format!("    {}: {}", quote(name), quote(value)))
        .collect();
    format!("{{\n{}\n}}\n", lines.join(",\n"))
}

/// The `Domain` of the cookies when none is given: the resource's host, or
/// none (cookies for the setting host only) when the host has a wildcard
/// or the policy has no `Resource`.
fn default_domain(policy: &Policy) -> Option<String> {
    let resource = match policy {
        Policy::Canned(p) => p.url(),
        Policy::Custom(p) => p.resource().pattern()?.as_str(),
    };
    let host = super::sign::host_of(resource);
    (!host.is_empty() && !host.contains(['*', '?'])).then_some(host)
}
