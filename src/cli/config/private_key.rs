//! The private key option, resolved once: `--private-key`, then
//! `$CLOUDFRONT_PRIVATE_KEY`, then `$CLOUDFRONT_PRIVATE_KEY_FILE`, then the
//! profile's `private_key`; each may be a path, `file://PATH`, `-` (stdin)
//! or the PEM text itself (see [`KeyInput`]).
//!
//! None of these values is ever formatted into a message: errors name the
//! source ([`KeyOrigin`]) and what was found there, and show a path only
//! when [`input::shows_as_path`] says the value plainly is one.

use std::fmt;
use std::io::IsTerminal;

use zeroize::Zeroizing;

use super::key_value::{self as input, KeyInput, SecretValue};
use super::{ENV_KEY_PAIR_ID, ENV_PASSPHRASE, ENV_PRIVATE_KEY, ENV_PRIVATE_KEY_FILE};
use crate::cli::{KeyArgs, warn};
use cfsign::error::Error;
use cfsign::error::io_reason;
use cfsign::escape;
use cfsign::sign::key::CLOUDFRONT_RSA_BITS;
use cfsign::sign::{HashAlgorithm, KeyError, KeyPairId, Passphrase, PrivateKey, Signer};

/// A profile's `private_key`, kept with the profile's name for messages.
#[derive(Debug, Clone, Default)]
pub struct ProfileKey {
    pub profile: String,
    pub value: SecretValue,
}

/// Where a private key value came from: what messages name instead of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOrigin {
    Flag,
    /// `$CLOUDFRONT_PRIVATE_KEY`.
    EnvText,
    /// `$CLOUDFRONT_PRIVATE_KEY_FILE`.
    EnvFile,
    Profile(String),
}

impl fmt::Display for KeyOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyOrigin::Flag => f.write_str("--private-key"),
            KeyOrigin::EnvText => write!(f, "${ENV_PRIVATE_KEY}"),
            KeyOrigin::EnvFile => write!(f, "${ENV_PRIVATE_KEY_FILE}"),
            KeyOrigin::Profile(name) => {
                write!(f, "the private_key of profile `{}`", escape::shown(name))
            }
        }
    }
}

/// Where the private key comes from.
pub enum KeySource {
    File {
        path: String,
        origin: KeyOrigin,
    },
    Stdin,
    /// The PEM text itself, wiped on drop.
    Text {
        text: Zeroizing<Vec<u8>>,
        origin: KeyOrigin,
    },
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::File { origin, .. } => write!(f, "KeySource::File({origin})"),
            KeySource::Stdin => f.write_str("KeySource::Stdin"),
            KeySource::Text { origin, .. } => write!(f, "KeySource::Text({origin}, redacted)"),
        }
    }
}

/// `$NAME` when it is set and not empty, wiped on drop.
fn env_value(name: &str) -> Result<Option<SecretValue>, Error> {
    match std::env::var(name) {
        Ok(v) if v.is_empty() => Ok(None),
        Ok(v) => Ok(Some(SecretValue::new(v))),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(Error::usage(format!(
            "${name} is not valid UTF-8 (the value is not shown: it may be a key)"
        ))),
    }
}

impl KeySource {
    /// The configured key's source, `None` when no key is configured.
    /// Precedence: `--private-key`, `$CLOUDFRONT_PRIVATE_KEY`,
    /// `$CLOUDFRONT_PRIVATE_KEY_FILE`, the profile's `private_key`.
    pub fn resolve(args: &KeyArgs) -> Result<Option<Self>, Error> {
        if let Some(value) = &args.private_key {
            return Self::from_value(value.expose(), KeyOrigin::Flag).map(Some);
        }
        if let Some(value) = env_value(ENV_PRIVATE_KEY)? {
            // The text itself, as CI secrets hold it; a path here is a mix-up.
            if !input::is_pem_text(value.expose()) {
                return Err(Error::usage(format!(
                    "${ENV_PRIVATE_KEY} does not hold PEM text (it must begin with `-----BEGIN`): to name a key file, set ${ENV_PRIVATE_KEY_FILE} instead"
                )));
            }
            return Ok(Some(KeySource::Text {
                text: input::pem_text(value.expose()),
                origin: KeyOrigin::EnvText,
            }));
        }
        if let Some(value) = env_value(ENV_PRIVATE_KEY_FILE)? {
            if input::is_pem_text(value.expose()) {
                return Err(Error::usage(format!(
                    "${ENV_PRIVATE_KEY_FILE} holds PEM text, not a path: put the text in ${ENV_PRIVATE_KEY} instead"
                )));
            }
            return Self::from_value(value.expose(), KeyOrigin::EnvFile).map(Some);
        }
        match &args.profile_key {
            Some(p) => {
                Self::from_value(p.value.expose(), KeyOrigin::Profile(p.profile.clone())).map(Some)
            }
            None => Ok(None),
        }
    }

    fn from_value(value: &str, origin: KeyOrigin) -> Result<Self, Error> {
        match KeyInput::parse(value) {
            Ok(KeyInput::Stdin) => Ok(KeySource::Stdin),
            Ok(KeyInput::Path(path)) => {
                let path = match origin {
                    // A config file cannot rely on the shell to expand `~`.
                    KeyOrigin::Profile(_) => expand_home(&path),
                    _ => path.into_owned(),
                };
                Ok(KeySource::File { path, origin })
            }
            Ok(KeyInput::Text(text)) => Ok(KeySource::Text { text, origin }),
            Err(e) => Err(Error::usage(format!("{origin} {e}"))),
        }
    }

    /// The key's source for messages: the file (when its path may be
    /// shown) or the option that holds the key.
    fn describe(&self) -> String {
        match self {
            KeySource::File { path, origin } => {
                let from = match origin {
                    KeyOrigin::Flag => String::new(),
                    origin => format!(" (from {origin})"),
                };
                if input::shows_as_path(path) {
                    format!("key file {}{from}", escape::shown(path))
                } else {
                    format!("key file named by {origin}")
                }
            }
            KeySource::Stdin => "key from stdin".into(),
            KeySource::Text { origin, .. } => format!("key in {origin}"),
        }
    }

    fn read(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        match self {
            KeySource::File { path, .. } => {
                let bytes = input::read_path(std::path::Path::new(path)).map_err(|e| {
                    Error::usage(format!(
                        "cannot read the private {}: {}",
                        self.describe(),
                        io_reason(&e)
                    ))
                })?;
                warn_if_shared(path, &self.describe());
                Ok(bytes)
            }
            KeySource::Stdin => input::read_stdin().map_err(|e| {
                Error::usage(format!(
                    "cannot read the private key from stdin: {}",
                    io_reason(&e)
                ))
            }),
            KeySource::Text { text, .. } => Ok(text.clone()),
        }
    }
}

/// Whether the configured key is read from stdin (a bad key value is
/// reported later, where the key is loaded).
pub fn key_from_stdin(args: &KeyArgs) -> bool {
    matches!(KeySource::resolve(args), Ok(Some(KeySource::Stdin)))
}

fn expand_home(path: &str) -> String {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => std::path::Path::new(&home).join(rest).display().to_string(),
        _ => path.to_string(),
    }
}

#[cfg(unix)]
fn warn_if_shared(path: &str, described: &str) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            let fix = if input::shows_as_path(path) {
                format!("run `chmod 600 {}`", escape::shown(path))
            } else {
                "make it readable by its owner only (chmod 600)".to_string()
            };
            warn(format!(
                "the private {described} is readable by other users: {fix}"
            ));
        }
    }
}

#[cfg(not(unix))]
fn warn_if_shared(_path: &str, _described: &str) {}

/// Loads the configured key and builds the signer, or `Ok(None)` when no key
/// is configured at all (so `get` can fetch URLs as they are). The options
/// are consumed: once the key is loaded, no copy of a key's text given as a
/// value is kept for the rest of the run.
pub fn signer(args: KeyArgs) -> Result<Option<Signer>, Error> {
    let Some(source) = KeySource::resolve(&args)? else {
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
    Ok(Some(Signer::new(
        key,
        key_pair_id,
        args.hash_algorithm.map(HashAlgorithm::from),
    )))
}

/// Like [`signer`], but a key is required.
pub fn required_signer(args: KeyArgs) -> Result<Signer, Error> {
    signer(args)?.ok_or_else(|| {
        Error::usage(format!(
            "no private key: pass --private-key PATH (or file://PATH, - for stdin, or the PEM text), or set ${ENV_PRIVATE_KEY_FILE} or ${ENV_PRIVATE_KEY}"
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
