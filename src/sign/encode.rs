//! CloudFront's URL-safe base64: standard base64 with padding, then
//! `+`→`-`, `=`→`_`, `/`→`~`. Used for both `Policy` and `Signature`, in URLs
//! and cookies alike. This is the only place the alphabet is written down.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Encodes bytes the way CloudFront expects `Policy` and `Signature` values.
///
/// ```
/// assert_eq!(cfsign::sign::encode::encode(b"\xfb\xff"), "-~8_");
/// ```
pub fn encode(bytes: &[u8]) -> String {
    let mut out = STANDARD.encode(bytes).into_bytes();
    for b in &mut out {
        *b = match *b {
            b'+' => b'-',
            b'=' => b'_',
            b'/' => b'~',
            other => other,
        };
    }
    String::from_utf8(out).expect("base64 output is ASCII")
}

/// Decodes a CloudFront-encoded value. Returns `None` for anything that is not
/// exactly the output of [`encode`] (wrong alphabet, bad padding, trailing bits).
///
/// ```
/// assert_eq!(cfsign::sign::encode::decode("-~8_").unwrap(), b"\xfb\xff");
/// assert!(cfsign::sign::encode::decode("+/8=").is_none());
/// ```
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let mut standard = Vec::with_capacity(text.len());
    for &b in text.as_bytes() {
        standard.push(match b {
            b'-' => b'+',
            b'_' => b'=',
            b'~' => b'/',
            b'+' | b'=' | b'/' => return None,
            other => other,
        });
    }
    STANDARD.decode(standard).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_length_and_byte() {
        for len in 0..64usize {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 251) as u8).collect();
            let enc = encode(&bytes);
            assert!(!enc.contains(['+', '=', '/']), "{enc}");
            assert_eq!(decode(&enc).unwrap(), bytes);
        }
    }

    #[test]
    fn table() {
        // Expected values computed with `printf … | openssl base64 -A | tr -- '+=/' '-_~'`.
        for (input, expected) in [
            (&b""[..], ""),
            (b"a", "YQ__"),
            (b"ab", "YWI_"),
            (b"abc", "YWJj"),
            (b"\xfb\xef\xff", "--~~"),
        ] {
            assert_eq!(encode(input), expected);
        }
    }

    #[test]
    fn rejects_standard_alphabet_and_garbage() {
        for bad in ["YQ==", "a+b/", "YQ_", "!!!!", "YQ__YQ__x"] {
            assert!(decode(bad).is_none(), "{bad}");
        }
    }
}
