//! Validates the key and policy options once, turning raw flags and
//! environment variables into a [`Signer`] and a [`PolicySpec`]. Nothing after
//! this point re-checks user input.

use std::io::{IsTerminal, Read};

use zeroize::Zeroizing;

use crate::cli::{KeyArgs, PolicyArgs, warn};
use crate::error::Error;
use crate::sign::key::CLOUDFRONT_RSA_BITS;
use crate::sign::{
    CustomPolicy, IpRange, KeyError, KeyPairId, Passphrase, Policy, PrivateKey, ResourcePattern,
    Signer,
};
use crate::time::{self, Epoch, Expiry};

pub const ENV_KEY_PAIR_ID: &str = "CLOUDFRONT_KEY_PAIR_ID";
pub const ENV_PRIVATE_KEY: &str = "CLOUDFRONT_PRIVATE_KEY";
pub const ENV_PRIVATE_KEY_FILE: &str = "CLOUDFRONT_PRIVATE_KEY_FILE";
pub const ENV_PASSPHRASE: &str = "CLOUDFRONT_PRIVATE_KEY_PASSPHRASE";

/// Where the private key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    File(String),
    Stdin,
    /// `$CLOUDFRONT_PRIVATE_KEY`: the PEM text itself (as CI secrets hold it).
    Env,
}

impl KeySource {
    /// `--private-key` wins over `$CLOUDFRONT_PRIVATE_KEY`, which wins over
    /// `$CLOUDFRONT_PRIVATE_KEY_FILE`. `None` when no key is configured.
    pub fn from_args(flag: Option<&str>) -> Option<Self> {
        let path = |p: &str| {
            if p == "-" {
                KeySource::Stdin
            } else {
                KeySource::File(p.strip_prefix("file://").unwrap_or(p).to_string())
            }
        };
        if let Some(flag) = flag {
            return Some(path(flag));
        }
        if std::env::var_os(ENV_PRIVATE_KEY).is_some_and(|v| !v.is_empty()) {
            return Some(KeySource::Env);
        }
        std::env::var(ENV_PRIVATE_KEY_FILE)
            .ok()
            .filter(|v| !v.is_empty())
            .map(|p| path(&p))
    }

    fn describe(&self) -> String {
        match self {
            KeySource::File(p) => format!("key file {p}"),
            KeySource::Stdin => "key from stdin".into(),
            KeySource::Env => format!("key in ${ENV_PRIVATE_KEY}"),
        }
    }

    fn read(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        match self {
            KeySource::File(p) => {
                let bytes = std::fs::read(p).map_err(|e| {
                    Error::usage(format!(
                        "cannot read the private key {p}: {}",
                        io_reason(&e)
                    ))
                })?;
                warn_if_shared(p);
                Ok(Zeroizing::new(bytes))
            }
            KeySource::Stdin => {
                let mut buf = Zeroizing::new(Vec::new());
                std::io::stdin().read_to_end(&mut buf).map_err(|e| {
                    Error::usage(format!("cannot read the private key from stdin: {e}"))
                })?;
                Ok(buf)
            }
            KeySource::Env => {
                let text = Zeroizing::new(std::env::var(ENV_PRIVATE_KEY).map_err(|_| {
                    Error::usage(format!("${ENV_PRIVATE_KEY} is not valid UTF-8 PEM text"))
                })?);
                // CI secret stores often flatten newlines to a literal `\n`.
                Ok(Zeroizing::new(text.replace("\\n", "\n").into_bytes()))
            }
        }
    }
}

/// The inputs the key and policy options read from stdin (`-`), named for
/// [`single_stdin`].
pub fn stdin_readers(key: &KeyArgs, policy: &PolicyArgs) -> Vec<&'static str> {
    let mut readers = Vec::new();
    if KeySource::from_args(key.private_key.as_deref()) == Some(KeySource::Stdin) {
        readers.push("the private key");
    }
    if policy.policy.as_deref() == Some("-") {
        readers.push("the policy");
    }
    readers
}

/// Stdin feeds one input: two inputs that want it are refused before either
/// reads it (the second would otherwise see nothing, and fail obscurely).
pub fn single_stdin(readers: &[&str]) -> Result<(), Error> {
    match readers {
        [first, second, ..] => Err(Error::usage(format!(
            "{first} and {second} cannot both come from stdin: give one of them as a file"
        ))),
        _ => Ok(()),
    }
}

/// Short, stable wording for I/O errors (no OS error numbers).
pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "it is a directory".into(),
        _ => e.to_string(),
    }
}

#[cfg(unix)]
fn warn_if_shared(path: &str) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            warn(format!(
                "the private key {path} is readable by other users: run `chmod 600 {path}`"
            ));
        }
    }
}

#[cfg(not(unix))]
fn warn_if_shared(_path: &str) {}

/// Loads the configured key and builds the signer, or `Ok(None)` when no key
/// is configured at all (so `get` can fetch URLs as they are).
pub fn signer(args: &KeyArgs) -> Result<Option<Signer>, Error> {
    let Some(source) = KeySource::from_args(args.private_key.as_deref()) else {
        if args.key_pair_id.is_some() {
            return Err(Error::usage(format!(
                "--key-pair-id is set but no private key: pass --private-key PATH or set ${ENV_PRIVATE_KEY_FILE} or ${ENV_PRIVATE_KEY}"
            )));
        }
        return Ok(None);
    };
    let key_pair_id: KeyPairId = args
        .key_pair_id
        .as_deref()
        .ok_or_else(|| {
            Error::usage(format!(
                "no key pair ID: pass --key-pair-id ID or set ${ENV_KEY_PAIR_ID}"
            ))
        })?
        .parse()?;
    if !key_pair_id.looks_like_cloudfront() {
        warn(format!(
            "key ID `{key_pair_id}` does not look like a CloudFront public key ID (upper-case letters and digits, such as K2JCJMDEHXQW5F): CloudFront will refuse it unless it is the ID of a key in a trusted key group"
        ));
    }
    let key = load_key(&source)?;
    if let Some(bits) = key.rsa_bits() {
        if bits != CLOUDFRONT_RSA_BITS {
            warn(format!(
                "the key is RSA-{bits}; CloudFront only accepts 2048-bit RSA public keys, so it will reject these signatures"
            ));
        }
    }
    Ok(Some(Signer::new(key, key_pair_id, args.hash_algorithm)))
}

/// Like [`signer`], but a key is required.
pub fn required_signer(args: &KeyArgs) -> Result<Signer, Error> {
    signer(args)?.ok_or_else(|| {
        Error::usage(format!(
            "no private key: pass --private-key PATH (or file://PATH, or - for stdin), or set ${ENV_PRIVATE_KEY_FILE} or ${ENV_PRIVATE_KEY}"
        ))
    })
}

fn load_key(source: &KeySource) -> Result<PrivateKey, Error> {
    let bytes = source.read()?;
    let in_source = |e: KeyError| Error::usage(format!("{}: {e}", source.describe()));
    let passphrase = std::env::var(ENV_PASSPHRASE).ok().map(Passphrase::new);
    match PrivateKey::from_bytes(&bytes, passphrase.as_ref()) {
        Err(KeyError::PassphraseRequired) if std::io::stderr().is_terminal() => {
            let typed =
                rpassword::prompt_password(format!("Passphrase for the {}: ", source.describe()))
                    .map_err(|_| in_source(KeyError::PassphraseRequired))?;
            PrivateKey::from_bytes(&bytes, Some(&Passphrase::new(typed))).map_err(in_source)
        }
        other => other.map_err(in_source),
    }
}

/// The policy options, validated: what to sign for each URL.
#[derive(Debug, Clone)]
pub enum PolicySpec {
    /// A canned policy per URL.
    Canned { expires: Epoch },
    /// A custom policy per URL (start time or IP, no explicit resource).
    PerUrl {
        expires: Epoch,
        start: Option<Epoch>,
        ip: Option<IpRange>,
    },
    /// One custom policy for every URL (`--resource` or `--policy`).
    Shared(CustomPolicy),
}

impl PolicySpec {
    pub fn from_args(args: &PolicyArgs, now: Epoch) -> Result<Self, Error> {
        if let Some(path) = &args.policy {
            let text = read_text_arg(path, "policy")?;
            return Ok(PolicySpec::Shared(CustomPolicy::parse(text.trim_end())?));
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
        if let Some(resource) = &args.resource {
            let resource: ResourcePattern = resource
                .parse()
                .map_err(|e| Error::usage(format!("--resource: {e}")))?;
            return Ok(PolicySpec::Shared(CustomPolicy::new(
                resource, expires, start, ip,
            )?));
        }
        if start.is_none() && ip.is_none() {
            Ok(PolicySpec::Canned { expires })
        } else {
            Ok(PolicySpec::PerUrl { expires, start, ip })
        }
    }

    /// The policy to sign for one URL (already in wire form).
    pub fn policy_for(&self, wire_url: &str) -> Result<Policy, Error> {
        Ok(match self {
            PolicySpec::Canned { expires } => Policy::Canned(crate::sign::CannedPolicy {
                url: wire_url.to_string(),
                expires: *expires,
            }),
            PolicySpec::PerUrl { expires, start, ip } => {
                let resource: ResourcePattern = wire_url.parse()?;
                Policy::Custom(CustomPolicy::new(resource, *expires, *start, *ip)?)
            }
            PolicySpec::Shared(p) => Policy::Custom(p.clone()),
        })
    }

    /// Whether the guide allows this spec's resource in `carrier`. Only a
    /// shared policy can fail: a per-URL policy's resource is an http(s) URL.
    pub fn check_for(&self, carrier: crate::sign::Carrier) -> Result<(), Error> {
        match self {
            PolicySpec::Shared(p) => Ok(p.allowed_in(carrier)?),
            _ => Ok(()),
        }
    }

    /// The one policy shared by all URLs, if there is one.
    pub fn shared(&self) -> Option<&CustomPolicy> {
        match self {
            PolicySpec::Shared(p) => Some(p),
            _ => None,
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
