//! Named profiles in `~/.config/cfsign/config.toml` (or `$CFSIGN_CONFIG`):
//! defaults for the key pair ID, private key (a path, or the PEM text in a
//! `"""…"""` string), expiry and distribution domain. Flags override the
//! environment, which overrides the profile.
//!
//! ```toml
//! [profile.default]
//! key_pair_id = "K2JCJMDEHXQW5F"
//! private_key = "~/.config/cfsign/private_key.pem"
//! expires_in = "15m"
//! domain = "d111111abcdef8.cloudfront.net"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;
use zeroize::Zeroizing;

use crate::cli::config::ProfileKey;
use crate::cli::config::key_value::{self as input, SecretValue};
use crate::cli::{KeyArgs, PolicyArgs};
use cfsign::error::Error;
use cfsign::error::io_reason;
use cfsign::escape;
use cfsign::time::HumanDuration;

pub const ENV_CONFIG: &str = "CFSIGN_CONFIG";
pub const ENV_PROFILE: &str = "CFSIGN_PROFILE";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    profile: BTreeMap<String, Profile>,
}

/// One profile's settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub key_pair_id: Option<Spanned<String>>,
    pub private_key: Option<Spanned<SecretValue>>,
    pub expires_in: Option<Spanned<String>>,
    pub domain: Option<Spanned<String>>,
}

/// Where the config file is looked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigPath {
    /// `$CFSIGN_CONFIG`: named by the user, so it must be readable.
    Named(PathBuf),
    /// The default place: a file that is not there, or cannot be reached
    /// (a HOME whose parent is not searchable, a HOME under a regular
    /// file), is the same as no config file.
    Default(PathBuf),
}

impl ConfigPath {
    pub fn path(&self) -> &Path {
        match self {
            ConfigPath::Named(p) | ConfigPath::Default(p) => p,
        }
    }
}

/// The config file's path: `$CFSIGN_CONFIG`, else
/// `$XDG_CONFIG_HOME/cfsign/config.toml`, else `~/.config/cfsign/config.toml`.
pub fn config_path() -> Option<ConfigPath> {
    if let Some(p) = std::env::var_os(ENV_CONFIG).filter(|v| !v.is_empty()) {
        return Some(ConfigPath::Named(PathBuf::from(p)));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(ConfigPath::Default(base.join("cfsign/config.toml")))
}

/// Whether an error opening the default config file means that there is
/// none: not found, or a path that cannot be walked (permission denied on a
/// folder, a path through a regular file).
fn means_absent(e: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        e.kind(),
        ErrorKind::NotFound | ErrorKind::PermissionDenied | ErrorKind::NotADirectory
    )
}

/// A profile and where it came from, for messages. The file's text is
/// wiped on drop (a profile may hold a key's PEM text).
#[derive(Clone)]
pub struct Loaded {
    pub profile: Profile,
    name: String,
    path: PathBuf,
    text: Zeroizing<String>,
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Loaded({}, profile {}, redacted)",
            self.path.display(),
            self.name
        )
    }
}

/// Loads the selected profile (`--profile`, else `$CFSIGN_PROFILE`, else
/// `default` if the file has one). Naming a profile that does not exist is an
/// error; having no config file at all is not, unless a profile was named.
pub fn load(selected: Option<&str>) -> Result<Option<Loaded>, Error> {
    let env_selected = std::env::var(ENV_PROFILE).ok().filter(|v| !v.is_empty());
    let selected = selected.map(str::to_string).or(env_selected);
    let Some(path) = config_path() else {
        return match selected {
            Some(name) => Err(Error::usage(format!(
                "profile `{name}` selected, but no config file: set ${ENV_CONFIG} or HOME"
            ))),
            None => Ok(None),
        };
    };
    let default = matches!(path, ConfigPath::Default(_));
    let path = path.path().to_path_buf();
    let text = match read_text(&path) {
        Ok(t) => t,
        Err(e) if default && means_absent(&e) && selected.is_none() => return Ok(None),
        Err(e) => {
            return Err(Error::usage(format!(
                "cannot read the config file {}: {}",
                escape::shown_path(&path),
                io_reason(&e)
            )));
        }
    };
    let file: ConfigFile = toml::from_str(&text).map_err(|e| {
        let line = e.span().map(|s| line_of(&text, s.start)).unwrap_or(0);
        let message = e
            .message()
            .lines()
            .next()
            .unwrap_or("invalid TOML")
            .to_string();
        Error::usage(format!("{}:{line}: {message}", path.display()))
    })?;
    let name = selected.clone().unwrap_or_else(|| "default".to_string());
    let Some(profile) = file.profile.get(&name).cloned() else {
        return match selected {
            Some(_) => Err(Error::usage(format!(
                "{}: no [profile.{name}] (profiles: {})",
                path.display(),
                file.profile.keys().cloned().collect::<Vec<_>>().join(", ")
            ))),
            None => Ok(None),
        };
    };
    let loaded = Loaded {
        profile,
        name,
        path,
        text,
    };
    loaded.validate()?;
    Ok(Some(loaded))
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count()
        + 1
}

impl Loaded {
    fn at(&self, value: &Spanned<String>, message: impl std::fmt::Display) -> Error {
        Error::usage(format!(
            "{}:{}: {message}",
            self.path.display(),
            line_of(&self.text, value.span().start)
        ))
    }

    fn validate(&self) -> Result<(), Error> {
        if let Some(v) = &self.profile.expires_in {
            v.get_ref()
                .parse::<HumanDuration>()
                .map_err(|e| self.at(v, e))?;
        }
        if let Some(v) = &self.profile.key_pair_id {
            v.get_ref()
                .parse::<cfsign::sign::KeyPairId>()
                .map_err(|e| self.at(v, e))?;
        }
        if let Some(v) = &self.profile.domain {
            if v.get_ref().is_empty()
                || !v.get_ref().bytes().all(|b| b.is_ascii_graphic())
                || v.get_ref().contains('/')
            {
                return Err(self.at(
                    v,
                    "domain must be a host name such as d111111abcdef8.cloudfront.net",
                ));
            }
        }
        Ok(())
    }

    /// Fills what the flags and environment left unset.
    pub fn apply(&self, key: &mut KeyArgs, policy: &mut PolicyArgs) {
        if key.key_pair_id.is_none() {
            key.key_pair_id = self
                .profile
                .key_pair_id
                .as_ref()
                .map(|v| v.get_ref().clone());
        }
        // Used only when neither the flag nor the environment names a key
        // (see `KeySource::resolve`).
        key.profile_key = self.profile.private_key.as_ref().map(|v| ProfileKey {
            profile: self.name.clone(),
            value: v.get_ref().clone(),
        });
        if policy.expires_in.is_none() && policy.date_less_than.is_none() && policy.policy.is_none()
        {
            policy.expires_in = self
                .profile
                .expires_in
                .as_ref()
                .map(|v| v.get_ref().clone());
        }
    }

    /// Completes a path-only URL (`/videos/a.mp4`) with the profile's domain.
    pub fn expand_url(&self, url: &str) -> String {
        match (&self.profile.domain, url.starts_with('/')) {
            (Some(domain), true) => format!("https://{}{url}", domain.get_ref()),
            _ => url.to_string(),
        }
    }
}

/// The config file as UTF-8 text, read into a buffer wiped on drop.
fn read_text(path: &Path) -> std::io::Result<Zeroizing<String>> {
    let bytes = input::read_path(path)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, "it is not UTF-8 text")
    })?;
    Ok(Zeroizing::new(text.to_string()))
}
