//! `--public-key ID=KEY` (verify and serve): KEY is a path, `file://PATH`
//! or the PEM text itself, read as the private key's value is.

use cfsign::error::io_reason;
use cfsign::escape;
use cfsign::sign::{KeyError, KeyPairId, PublicKey};

use super::key_value;

/// Reads `ID=KEY`, the form of `--public-key`: KEY is a path,
/// `file://PATH` or the PEM text itself. The value may be a private key
/// given by mistake, so messages name `--public-key ID` and never show
/// the value (a path only when it plainly is one, see
/// [`key_value::shows_as_path`]).
pub fn public_key(spec: &str) -> Result<(KeyPairId, PublicKey), String> {
    let (id, value) = spec
        .split_once('=')
        .filter(|(id, value)| !id.is_empty() && !value.is_empty() && !key_value::is_pem_text(id))
        .ok_or_else(|| match spec {
            s if key_value::is_pem_text(s) => "--public-key holds PEM text without an ID: give it as ID=PEM-text, such as K2JCJMDEHXQW5F=\"$(cat public_key.pem)\"".to_string(),
            s if key_value::shows_as_path(s) => format!(
                "--public-key `{}` must be ID=PATH or ID=PEM-text, such as K2JCJMDEHXQW5F=public_key.pem",
                escape::shown(s)
            ),
            _ => "--public-key must be ID=PATH or ID=PEM-text, such as K2JCJMDEHXQW5F=public_key.pem (the value is not shown: it may be a key)".to_string(),
        })?;
    let id: KeyPairId = match id.parse() {
        Ok(id) => id,
        Err(e) if key_value::shows_as_path(id) => return Err(format!("--public-key: {e}")),
        Err(_) => {
            return Err(
                "--public-key: the part before `=` is not a key ID (the value is not shown: it may be a key)".into(),
            );
        }
    };
    let key = match key_value::KeyInput::parse(value) {
        Ok(key_value::KeyInput::Path(path)) => {
            let bytes = key_value::read_path(std::path::Path::new(&*path)).map_err(|e| {
                let file = if key_value::shows_as_path(&path) {
                    format!(" {}", escape::shown(&path))
                } else {
                    String::new()
                };
                format!(
                    "--public-key {id}: cannot read the public key{file}: {}",
                    io_reason(&e)
                )
            })?;
            PublicKey::from_bytes(&bytes)
        }
        Ok(key_value::KeyInput::Text(text)) => PublicKey::from_bytes(&text),
        Ok(key_value::KeyInput::Stdin) => {
            return Err(format!(
                "--public-key {id}: a public key cannot come from stdin: give ID=PATH or ID=PEM-text"
            ));
        }
        Err(e) => return Err(format!("--public-key {id} {e}")),
    }
    .map_err(|e: KeyError| format!("--public-key {id}: {e}"))?;
    Ok((id, key))
}
