//! PEM decoding for keys (RFC 7468), written here rather than taken from a
//! general PEM crate for two reasons:
//!
//! - every buffer that holds key material — the base64 body gathered from
//!   the lines, the DER decoded from it — is allocated once at its final
//!   size and wiped on drop, so no copy of a private key is left behind in
//!   freed memory (a general parser builds strings by appending, and every
//!   reallocation leaves the old copy in the heap);
//! - errors name a block's label and nothing else: a damaged header line
//!   (`-----BEGIN EC PRIVATE KEY` without its closing dashes) is reported as
//!   damaged, and never read on into the key body to find a label.

use base64::Engine as _;
use zeroize::Zeroizing;

use super::key::KeyError;

/// One PEM block: its label and its decoded body, wiped on drop.
pub(crate) struct Block {
    label: String,
    der: Zeroizing<Vec<u8>>,
}

impl Block {
    pub(crate) fn label(&self) -> &str {
        &self.label
    }

    pub(crate) fn der(&self) -> &[u8] {
        &self.der
    }
}

/// The labels a key file may carry; a damaged header line is reported with
/// the one it starts with, so that the message still says what was meant.
const KNOWN_LABELS: [&str; 11] = [
    "ENCRYPTED PRIVATE KEY",
    "OPENSSH PRIVATE KEY",
    "RSA PRIVATE KEY",
    "DSA PRIVATE KEY",
    "EC PRIVATE KEY",
    "PRIVATE KEY",
    "RSA PUBLIC KEY",
    "PUBLIC KEY",
    "EC PARAMETERS",
    "CERTIFICATE",
    "X509 CRL",
];

/// The longest a label may be: real ones are short, and a "label" longer
/// than this is a header line that ran into the body.
const MAX_LABEL: usize = 40;

/// The label of a well-formed `-----BEGIN LABEL-----` line. Only the
/// characters labels are made of are accepted (upper-case letters, digits,
/// single spaces), so that text which is not a label — the key body of a
/// PEM flattened onto one line — can never be taken for one and shown.
fn label_of(line: &str, prefix: &str) -> Option<String> {
    let label = line.strip_prefix(prefix)?.strip_suffix("-----")?;
    let valid = !label.is_empty()
        && label.len() <= MAX_LABEL
        && !label.starts_with(' ')
        && !label.ends_with(' ')
        && !label.contains("  ")
        && label
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' ');
    valid.then(|| label.to_string())
}

/// What a damaged `-----BEGIN` line was meant to be: a known label it
/// starts with, if any (never any other part of the line).
fn meant_label(line: &str) -> Option<&'static str> {
    let rest = line.strip_prefix("-----BEGIN ")?;
    KNOWN_LABELS
        .iter()
        .copied()
        .filter(|l| rest.starts_with(l))
        .max_by_key(|l| l.len())
}

fn is_base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')
}

/// Every PEM block of `text`, in order; text outside blocks is ignored.
/// `text` must contain at least one `-----BEGIN ` (the caller's test that
/// the input is PEM at all).
pub(crate) fn parse(text: &str) -> Result<Vec<Block>, KeyError> {
    let mut blocks = Vec::new();
    let mut lines = text.lines().map(|l| l.trim_end_matches(['\r', ' ', '\t']));
    while let Some(line) = lines.next() {
        let line = line.trim_start();
        if !line.starts_with("-----BEGIN") {
            continue;
        }
        let label = label_of(line, "-----BEGIN ")
            .ok_or_else(|| KeyError::DamagedHeader(meant_label(line)))?;
        // Sized for the whole input up front: the body never reallocates.
        let mut body = Zeroizing::new(Vec::with_capacity(text.len()));
        let mut ended = false;
        let mut in_headers = true;
        for line in lines.by_ref() {
            let line = line.trim_start();
            if line.starts_with("-----END") {
                if label_of(line, "-----END ").as_deref() != Some(label.as_str()) {
                    return Err(KeyError::DamagedFooter(label));
                }
                ended = true;
                break;
            }
            // RFC 1421 headers (`Proc-Type:`, `DEK-Info:`) come first and
            // end with a blank line; the body is base64 only.
            if in_headers && line.contains(':') {
                continue;
            }
            in_headers = false;
            if !line.bytes().all(is_base64) {
                return Err(KeyError::Malformed(label));
            }
            body.extend_from_slice(line.as_bytes());
        }
        if !ended {
            return Err(KeyError::DamagedFooter(label));
        }
        let mut der = Zeroizing::new(vec![0u8; body.len() / 4 * 3 + 3]);
        let n = base64::engine::general_purpose::STANDARD
            .decode_slice(&body, &mut der)
            .map_err(|_| KeyError::Malformed(label.clone()))?;
        der.truncate(n);
        blocks.push(Block { label, der });
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "MHcCAQEEIO0RTZIGR3DOAW85TYCqbaFi4ex4EMEdvCe7DFX3BJ4BoAoGCCqGSM49";

    fn pem(first: &str, last: &str) -> String {
        format!("{first}\n{BODY}\nAwEHoUQDQgAE\n{last}\n")
    }

    #[test]
    fn blocks_are_decoded_with_their_labels() {
        let text = format!(
            "junk before\n-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\r\n{}",
            pem(
                "-----BEGIN EC PRIVATE KEY-----",
                "-----END EC PRIVATE KEY-----"
            )
        );
        let blocks = parse(&text).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].label(), "EC PARAMETERS");
        assert_eq!(blocks[0].der(), [6, 8, 42, 134, 72, 206, 61, 3, 1, 7]);
        assert_eq!(blocks[1].label(), "EC PRIVATE KEY");
        assert_eq!(blocks[1].der()[..4], [0x30, 0x77, 0x02, 0x01]);
    }

    /// Errors carry a known label or none: never a part of the body.
    #[test]
    fn damaged_lines_are_reported_by_label_only() {
        for (first, last, expected) in [
            (
                "-----BEGIN EC PRIVATE KEY",
                "-----END EC PRIVATE KEY-----",
                KeyError::DamagedHeader(Some("EC PRIVATE KEY")),
            ),
            (
                "-----BEGIN EC PRIVATE KEY-----",
                "-----END EC PRIVATE KEY",
                KeyError::DamagedFooter("EC PRIVATE KEY".into()),
            ),
            (
                "-----BEGIN EC PRIVATE KEY-----",
                "-----END PRIVATE KEY-----",
                KeyError::DamagedFooter("EC PRIVATE KEY".into()),
            ),
            (
                "-----BEGIN MHCAQEEIO0RTZIGR3DOAW85TYCQBAFI4EX4EMEDVCE7DFX3BJ4BOA-----",
                "-----END X-----",
                KeyError::DamagedHeader(None),
            ),
            (
                "-----BEGIN Ec private key-----",
                "-----END EC PRIVATE KEY-----",
                KeyError::DamagedHeader(None),
            ),
        ] {
            assert_eq!(parse(&pem(first, last)).err(), Some(expected), "{first}");
        }
        // A PEM flattened onto one line.
        let flat = pem(
            "-----BEGIN EC PRIVATE KEY-----",
            "-----END EC PRIVATE KEY-----",
        )
        .replace('\n', " ");
        let e = parse(&flat).err().unwrap();
        assert_eq!(e, KeyError::DamagedHeader(Some("EC PRIVATE KEY")));
        // No END line at all, a stray character, bad padding.
        let cut = format!("-----BEGIN PRIVATE KEY-----\n{BODY}\n");
        assert_eq!(
            parse(&cut).err(),
            Some(KeyError::DamagedFooter("PRIVATE KEY".into()))
        );
        for body in [format!("{BODY}!"), "QQ=Q".to_string()] {
            let text = format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n");
            assert_eq!(
                parse(&text).err(),
                Some(KeyError::Malformed("PRIVATE KEY".into()))
            );
        }
        for e in [
            KeyError::DamagedHeader(Some("EC PRIVATE KEY")),
            KeyError::DamagedHeader(None),
            KeyError::DamagedFooter("EC PRIVATE KEY".into()),
        ] {
            assert!(!e.to_string().contains("MHC"), "{e}");
        }
    }
}
