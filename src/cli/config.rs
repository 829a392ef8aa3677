//! Validates the key and policy options once, turning raw flags and
//! environment variables into a [`Signer`](cfsign::sign::Signer) and a
//! [`PolicySpec`]. Nothing after
//! this point re-checks user input.

use std::io::Read;

use crate::cli::{KeyArgs, PolicyArgs};
use cfsign::error::{Error, io_reason};
use cfsign::sign::{CustomPolicy, IpRange, PolicySpec, ResourcePattern};
use cfsign::time::{self, Epoch, Expiry, HumanDuration};
use cfsign::transfer::{PolicySource, UrlSigner};

pub mod key_value;
mod network;
mod private_key;
mod public_key;

pub use network::client_options;
pub use private_key::{ProfileKey, key_from_stdin, required_signer, signer};
pub use public_key::public_key;

pub const ENV_KEY_PAIR_ID: &str = "CLOUDFRONT_KEY_PAIR_ID";
pub const ENV_PRIVATE_KEY: &str = "CLOUDFRONT_PRIVATE_KEY";
pub const ENV_PRIVATE_KEY_FILE: &str = "CLOUDFRONT_PRIVATE_KEY_FILE";
pub const ENV_PASSPHRASE: &str = "CLOUDFRONT_PRIVATE_KEY_PASSPHRASE";

/// Something besides the key and the policy that a command reads from stdin.
pub struct StdinData {
    /// Its name in messages: "the URLs".
    pub name: &'static str,
    /// The whole message when the key is read from stdin too, with this
    /// command's fix.
    pub key_conflict: &'static str,
}

/// Stdin feeds one input: two inputs that want it (the key, the policy,
/// `data`) are refused before any of them reads it (the second would
/// otherwise see nothing, and fail obscurely).
pub fn claim_stdin(
    key: &KeyArgs,
    policy: &PolicyArgs,
    data: Option<StdinData>,
) -> Result<(), Error> {
    let key_reads = key_from_stdin(key);
    if let (true, Some(data)) = (key_reads, &data) {
        return Err(Error::usage(data.key_conflict));
    }
    let mut readers = Vec::new();
    if key_reads {
        readers.push("the private key");
    }
    if policy.policy.as_deref() == Some("-") {
        readers.push("the policy");
    }
    readers.extend(data.map(|d| d.name));
    match readers[..] {
        [first, second, ..] => Err(Error::usage(format!(
            "{first} and {second} cannot both come from stdin: give one of them as a file"
        ))),
        _ => Ok(()),
    }
}

/// The signer of `get` and `put`: the key options loaded, and the policy
/// options parsed once, now; before every attempt only the arithmetic is
/// redone, so that a relative `--expires-in` counts from each attempt.
/// Stdin must have been claimed ([`claim_stdin`]).
pub fn url_signer(key: KeyArgs, policy: &PolicyArgs) -> Result<UrlSigner, Error> {
    let signer = signer(key)?;
    let options = PolicyOptions::parse(policy, time::now())?;
    let source: PolicySource = Box::new(move |now| options.spec_at(now));
    Ok(UrlSigner::new(signer, source))
}

/// The policy options, validated at `now` (a relative `--expires-in` counts
/// from it): what to sign for each URL.
pub fn policy_spec(args: &PolicyArgs, now: Epoch) -> Result<PolicySpec, Error> {
    PolicyOptions::parse(args, now)?.spec_at(now)
}

/// The policy options as typed values: every flag read and checked once.
struct PolicyOptions {
    /// `--policy`: the whole policy, read from its file.
    file: Option<CustomPolicy>,
    expiry: Expires,
    /// `--allow-past`: an expiry in the past is signed as given.
    allow_past: bool,
    start: Option<Epoch>,
    ip: Option<IpRange>,
    resource: Option<ResourcePattern>,
}

/// When signatures expire: a time, or a duration from the moment of signing.
enum Expires {
    In(HumanDuration),
    At(Epoch),
}

impl PolicyOptions {
    /// Reads the flags, in the order their errors are reported, checking
    /// the expiry and the start against `now`.
    fn parse(args: &PolicyArgs, now: Epoch) -> Result<Self, Error> {
        if let Some(path) = &args.policy {
            let text = read_text_arg(path, "policy")?;
            let policy = CustomPolicy::parse(text.trim_end())?;
            return Ok(PolicyOptions {
                expiry: Expires::At(policy.expires()),
                allow_past: true,
                file: Some(policy),
                start: None,
                ip: None,
                resource: None,
            });
        }
        let expiry = match (&args.expires_in, &args.date_less_than) {
            (Some(d), _) => Expiry::In(d.parse()?),
            (None, Some(t)) => Expiry::At(t.clone()),
            (None, None) => Expiry::default(),
        };
        let expires = expiry.resolve(now, args.allow_past)?;
        let start = args
            .date_greater_than
            .as_deref()
            .map(time::parse_time)
            .transpose()?;
        if let Some(start) = start {
            if start >= expires {
                return Err(time::TimeError::StartNotBeforeExpiry(
                    time::format_time(start),
                    time::format_time(expires),
                )
                .into());
            }
        }
        let ip = args
            .ip_address
            .as_deref()
            .map(|s| {
                s.parse::<IpRange>()
                    .map_err(|e| Error::usage(format!("--ip-address: {e}")))
            })
            .transpose()?;
        let resource = args
            .resource
            .as_deref()
            .map(|r| {
                r.parse::<ResourcePattern>()
                    .map_err(|e| Error::usage(format!("--resource: {e}")))
            })
            .transpose()?;
        Ok(PolicyOptions {
            file: None,
            expiry: match expiry {
                Expiry::In(d) => Expires::In(d),
                Expiry::At(_) => Expires::At(expires),
            },
            allow_past: args.allow_past,
            start,
            ip,
            resource,
        })
    }

    /// What to sign for each URL at `now`.
    fn spec_at(&self, now: Epoch) -> Result<PolicySpec, Error> {
        if let Some(policy) = &self.file {
            return Ok(PolicySpec::shared_by_all(policy.clone()));
        }
        let expires = match self.expiry {
            Expires::In(d) => Expiry::In(d).resolve(now, false)?,
            // A time that has passed since the flags were read (a transfer
            // retrying past it) is refused as it would have been at first.
            Expires::At(t) if t <= now && !self.allow_past => {
                return Err(time::TimeError::Past(
                    time::format_time(t),
                    HumanDuration::from_seconds((now - t) as u64).rough(),
                )
                .into());
            }
            Expires::At(t) => t,
        };
        if let Some(resource) = &self.resource {
            return Ok(PolicySpec::shared_by_all(CustomPolicy::new(
                resource.clone(),
                expires,
                self.start,
                self.ip,
            )?));
        }
        if self.start.is_none() && self.ip.is_none() {
            Ok(PolicySpec::canned(expires)?)
        } else {
            Ok(PolicySpec::per_url(expires, self.start, self.ip)?)
        }
    }
}

/// Reads a `FILE` or `-` argument as UTF-8 text.
pub fn read_text_arg(path: &str, what: &str) -> Result<String, Error> {
    let mut text = String::new();
    if path == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Error::usage(format!("cannot read the {what} from stdin: {e}")))?;
    } else {
        let path = path.strip_prefix("file://").unwrap_or(path);
        text = std::fs::read_to_string(path).map_err(|e| {
            Error::usage(format!("cannot read the {what} {path}: {}", io_reason(&e)))
        })?;
    }
    Ok(text)
}
