//! `--sha256`: the digest the saved bytes must have.

use std::fmt;
use std::str::FromStr;

/// A SHA-256 given as 64 hex digits (`--sha256`), the digest a download
/// must have ([`GetOptions::sha256`](super::GetOptions::sha256)).
///
/// ```
/// use cfsign::transfer::get::Sha256Digest;
///
/// let empty = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
/// let digest: Sha256Digest = empty.parse()?;
/// assert_eq!(digest.to_string(), empty.to_lowercase());
/// assert!("e3b0c442".parse::<Sha256Digest>().unwrap_err().contains("64 hex digits"));
/// # Ok::<(), String>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Sha256Digest(pub(crate) [u8; 32]);

impl FromStr for Sha256Digest {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 32];
        match hex::decode_to_slice(s.trim(), &mut out) {
            Ok(()) => Ok(Sha256Digest(out)),
            Err(_) => Err(format!(
                "`{}` is not a SHA-256: give 64 hex digits, as `sha256sum` prints them",
                s.chars().take(80).collect::<String>()
            )),
        }
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Digest({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_digests() {
        let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let d: Sha256Digest = hex.parse().unwrap();
        assert_eq!(d.to_string(), hex);
        assert_eq!(hex.to_uppercase().parse::<Sha256Digest>().unwrap(), d);
        for bad in [
            "",
            "abc",
            &hex[1..],
            &format!("{hex}00"),
            &hex.replace('e', "g"),
        ] {
            let e = bad.parse::<Sha256Digest>().unwrap_err();
            assert!(e.contains("64 hex digits"), "{bad}: {e}");
        }
    }
}
