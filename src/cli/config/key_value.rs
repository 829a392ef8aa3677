//! Key values as users give them — a path, `file://PATH`, `-` for stdin, or
//! the PEM text itself, as the AWS CLI takes `--private-key` — and reading
//! them into buffers that are wiped on drop.
//!
//! Such a value may be a private key, so it is never formatted into a
//! message: callers name where it came from (`--private-key`,
//! `$CLOUDFRONT_PRIVATE_KEY_FILE`, a profile entry, `--public-key ID`)
//! instead, and show a path only when [`shows_as_path`] says it plainly is
//! one.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Read};
use std::path::Path;
use std::str::FromStr;

use zeroize::Zeroizing;

/// A value that may hold key material (`--private-key`, `--public-key`, a
/// profile's `private_key`): wiped from memory on drop, and `(redacted)` in
/// `Debug`, so that it cannot reach a message by accident.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretValue(Zeroizing<String>);

impl SecretValue {
    pub fn new(value: impl Into<String>) -> Self {
        SecretValue(Zeroizing::new(value.into()))
    }

    /// The value, for parsing; never for a message.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(redacted)")
    }
}

/// Infallible, so that clap has no error that could quote the value.
impl FromStr for SecretValue {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(SecretValue::new(s))
    }
}

impl<'de> serde::Deserialize<'de> for SecretValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(SecretValue::new)
    }
}

/// What a key value is.
pub enum KeyInput<'a> {
    /// `-`: the key comes from stdin.
    Stdin,
    /// `file://PATH`, `fileb://PATH` (`~` and `$VAR` expanded there, as the
    /// AWS CLI expands them) or a plain path.
    Path(Cow<'a, str>),
    /// The PEM text itself, literal `\n` escapes turned into newlines.
    Text(Zeroizing<Vec<u8>>),
}

/// Why a value is neither a path nor PEM text. The messages follow the name
/// of the value's source, and never include the value.
#[derive(Debug, Clone, Copy, thiserror::Error, PartialEq, Eq)]
pub enum InputError {
    #[error(
        "has no value: a value starting with `-` is neither `-` (stdin) nor PEM text (write a path that starts with `-` as ./NAME)"
    )]
    Missing,
    #[error(
        "holds text that is neither a path nor PEM text beginning with `-----BEGIN` (the value is not shown: it may be a key)"
    )]
    NotPathOrPem,
    #[error("is `file://` without a path")]
    EmptyFileUrl,
}

impl KeyInput<'_> {
    /// Reads a key value: `-`, `file://PATH`, PEM text (a value beginning
    /// with `-----BEGIN`, leading blanks allowed), or a plain path.
    pub fn parse(value: &str) -> Result<KeyInput<'_>, InputError> {
        if value == "-" {
            return Ok(KeyInput::Stdin);
        }
        if is_pem_text(value) {
            return Ok(KeyInput::Text(pem_text(value)));
        }
        if looks_like_key_text(value) {
            return Err(InputError::NotPathOrPem);
        }
        // The AWS CLI's paramfile prefixes: `file://` (text) and `fileb://`
        // (bytes), which its help for --private-key names.
        if let Some(path) = ["file://", "fileb://"]
            .iter()
            .find_map(|prefix| value.strip_prefix(prefix))
        {
            return match path {
                "" => Err(InputError::EmptyFileUrl),
                path => Ok(KeyInput::Path(expand_paramfile_path(path))),
            };
        }
        if value.starts_with('-') {
            return Err(InputError::Missing);
        }
        Ok(KeyInput::Path(Cow::Borrowed(value)))
    }
}

/// The path of a `file://` value as the AWS CLI opens it (its paramfile
/// reader applies Python's `os.path.expandvars(os.path.expanduser(path))`):
/// a leading `~` or `~/` is `$HOME`, then `$NAME` and `${NAME}` are the
/// variable's value when it is set. The shell expands neither after
/// `file://`, so `--private-key file://~/key.pem` relies on this.
fn expand_paramfile_path(path: &str) -> Cow<'_, str> {
    let home = std::env::var("HOME").ok().filter(|h| !h.is_empty());
    let path: Cow<'_, str> = match (path.strip_prefix('~'), home) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
            Cow::Owned(format!("{}{rest}", home.strip_suffix('/').unwrap_or(&home)))
        }
        _ => Cow::Borrowed(path),
    };
    if !path.contains('$') {
        return path;
    }
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::with_capacity(path.len());
    let mut rest: &str = &path;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, len) = match after.strip_prefix('{') {
            Some(braced) => match braced.find('}') {
                Some(end) => (&braced[..end], end + 2),
                None => ("", 0),
            },
            None => {
                let end = after.find(|c: char| !is_name(c)).unwrap_or(after.len());
                (&after[..end], end)
            }
        };
        match std::env::var(name) {
            Ok(value) if !name.is_empty() => {
                out.push_str(&value);
                rest = &after[len..];
            }
            _ => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Whether `value` is PEM text rather than a path.
pub fn is_pem_text(value: &str) -> bool {
    value.trim_start().starts_with("-----BEGIN")
}

/// The bytes of PEM text given as a value. Secret stores and CI variables
/// often flatten the newlines to a literal `\n`: those are turned back into
/// newlines (a real PEM body holds no backslash). The buffer is sized once,
/// so no partial copy is left behind by a reallocation.
pub fn pem_text(value: &str) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(value.len()));
    let mut rest = value.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'\\' && tail.first() == Some(&b'n') {
            out.push(b'\n');
            rest = &tail[1..];
        } else {
            out.push(b);
            rest = tail;
        }
    }
    out
}

/// Text that is certainly not a path: several lines, or a PEM boundary
/// somewhere else than at the start (quoted, or after other text).
fn looks_like_key_text(value: &str) -> bool {
    value.contains(['\n', '\r']) || value.contains("-----BEGIN") || value.contains("-----END")
}

/// Whether a value may be shown in a message as the path it names.
///
/// The rule (the one place it is written): a value is shown only when it is
/// plainly a path — one line, no PEM boundary, no control or bidi
/// character, at most 4096 bytes (`PATH_MAX`), and no run of 24 or more
/// base64 characters (letters, digits, `+`, `=`) between two `/` (that is,
/// nothing [`cfsign::escape::may_be_key`] flags). Real
/// paths break such runs with `/`, `.`, `-` or `_` (a 40-digit hash as a
/// folder name is the rare exception, and is then merely not shown); a line
/// of a key's base64 body has such runs. Anything else is named by its
/// source only. Callers show paths only where they help: when the file
/// cannot be read, or is read but is not a usable key.
pub fn shows_as_path(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 4096
        && !cfsign::escape::may_be_key(value)
        && !value.chars().any(cfsign::escape::is_unsafe)
}

/// The most a key file may hold: keys are a few KiB, and a larger input (a
/// device, a log file named by mistake) is refused rather than read whole.
pub const MAX_KEY_BYTES: usize = 1 << 20;

/// Reads a key file into a buffer wiped on drop.
pub fn read_path(path: &Path) -> io::Result<Zeroizing<Vec<u8>>> {
    let file = std::fs::File::open(path)?;
    if file.metadata()?.is_dir() {
        return Err(io::Error::from(io::ErrorKind::IsADirectory));
    }
    let hint = file.metadata().map_or(0, |m| m.len() as usize);
    read_secret(file, hint)
}

/// Reads all of stdin into a buffer wiped on drop.
pub fn read_stdin() -> io::Result<Zeroizing<Vec<u8>>> {
    read_secret(io::stdin().lock(), 0)
}

/// Reads `reader` to the end into a [`Zeroizing`] buffer that never
/// reallocates in place: when it must grow, the bytes move to a new buffer
/// and the old one is wiped. Reads are never smaller than 8 KiB, so that a
/// buffered reader (stdin) hands them over directly instead of keeping a
/// copy in its own buffer.
pub fn read_secret(mut reader: impl Read, size_hint: usize) -> io::Result<Zeroizing<Vec<u8>>> {
    const MIN_READ: usize = 8 * 1024;
    let mut buf = Zeroizing::new(Vec::with_capacity(size_hint.min(MAX_KEY_BYTES) + MIN_READ));
    loop {
        let len = buf.len();
        if buf.capacity() - len < MIN_READ {
            if len > MAX_KEY_BYTES {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "it is too large to be a key (over 1 MiB)",
                ));
            }
            let mut bigger = Zeroizing::new(Vec::with_capacity(buf.capacity() * 2));
            bigger.extend_from_slice(&buf);
            buf = bigger;
        }
        let capacity = buf.capacity();
        buf.resize(capacity, 0);
        let read = reader.read(&mut buf[len..]);
        match read {
            Ok(0) => {
                buf.truncate(len);
                return Ok(buf);
            }
            Ok(n) => buf.truncate(len + n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => buf.truncate(len),
            Err(e) => {
                buf.truncate(len);
                return Err(e);
            }
        }
        if buf.len() > MAX_KEY_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "it is too large to be a key (over 1 MiB)",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEM: &str = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC/t0NcCMCKkvQI\n-----END PRIVATE KEY-----\n";

    fn kind(value: &str) -> Result<String, InputError> {
        KeyInput::parse(value).map(|k| match k {
            KeyInput::Stdin => "stdin".to_string(),
            KeyInput::Path(p) => format!("path {p}"),
            KeyInput::Text(t) => format!("text {}", String::from_utf8_lossy(&t)),
        })
    }

    #[test]
    fn values_are_paths_stdin_or_pem_text() {
        assert_eq!(kind("-").unwrap(), "stdin");
        assert_eq!(kind("key.pem").unwrap(), "path key.pem");
        assert_eq!(kind("file:///k/key.pem").unwrap(), "path /k/key.pem");
        assert_eq!(kind(r"C:\new\key.pem").unwrap(), r"path C:\new\key.pem");
        assert_eq!(kind(PEM).unwrap(), format!("text {PEM}"));
        assert_eq!(kind(&format!("  {PEM}")).unwrap(), format!("text   {PEM}"));
        let flat = PEM.replace('\n', "\\n");
        assert_eq!(kind(&flat).unwrap(), format!("text {PEM}"));
        assert_eq!(kind("--key-pair-id"), Err(InputError::Missing));
        assert_eq!(kind("file://"), Err(InputError::EmptyFileUrl));
        for text in [
            format!("\"{PEM}\""),
            PEM.replace("-----BEGIN PRIVATE KEY-----\n", ""),
            format!("file://{PEM}"),
        ] {
            assert_eq!(kind(&text), Err(InputError::NotPathOrPem), "{text}");
        }
    }

    #[test]
    fn only_plain_paths_are_shown() {
        for path in [
            "key.pem",
            "/home/runner/work/cfsign/cfsign/target/tmp/keys/private_key.pem",
            "~/.config/cfsign/private_key.pem",
            "/tmp/.tmpAbC123/a b/ключ.pem",
        ] {
            assert!(shows_as_path(path), "{path}");
        }
        for value in [
            "",
            PEM,
            "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC/t0NcCMCKkvQI",
            "/keys/MIIEvQIBADANBgkqhkiG9w0BAQ.pem",
            "key\u{202e}.pem",
            &"a/".repeat(3000),
        ] {
            assert!(!shows_as_path(value), "{value}");
        }
    }

    #[test]
    fn reading_grows_and_stops_at_the_cap() {
        let data: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
        assert_eq!(*read_secret(&data[..], 0).unwrap(), data);
        assert_eq!(*read_secret(&data[..], data.len()).unwrap(), data);
        let huge = io::repeat(b'x').take(MAX_KEY_BYTES as u64 + 10);
        let e = read_secret(huge, 0).unwrap_err();
        assert!(e.to_string().contains("too large"), "{e}");
    }
}
