//! `cfsign sign-cookies`: the AWS CLI v2 command. One resource (a URL, or a
//! pattern with `*` and `?`), one JSON object mapping each `CloudFront-*`
//! cookie name to its value, formatted as the AWS CLI's default JSON output
//! (four-space indent, a newline at the end), so that scripts reading it
//! keep working when `aws cloudfront` becomes `cfsign`.

use std::process::ExitCode;

use crate::cli::SignCookiesArgs;
use crate::config::{self, PolicySpec};
use crate::error::Error;
use crate::sign::{Carrier, SignedCookies, url};
use crate::time;

pub fn run(args: SignCookiesArgs) -> Result<ExitCode, Error> {
    let now = time::now();
    config::single_stdin(&config::stdin_readers(&args.key, &args.policy))?;
    let policy = match (&args.policy.resource, &args.policy.policy) {
        (_, Some(_)) => PolicySpec::from_args(&args.policy, now)?.policy_for("")?,
        (Some(resource), None) => {
            // As the AWS CLI: a canned policy for a plain URL, a custom one
            // when the resource has wildcards or a start time or IP is given.
            let custom = resource.contains(['*', '?'])
                || args.policy.date_greater_than.is_some()
                || args.policy.ip_address.is_some();
            if custom {
                PolicySpec::from_args(&args.policy, now)?.policy_for("")?
            } else {
                let wire =
                    url::to_wire(resource).map_err(|e| Error::usage(format!("--resource: {e}")))?;
                let canned = crate::cli::PolicyArgs {
                    resource: None,
                    ..args.policy.clone()
                };
                PolicySpec::from_args(&canned, now)?.policy_for(&wire)?
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
    let mut out = std::io::stdout().lock();
    if super::write_stdout(&mut out, render(&cookies).as_bytes())? {
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
