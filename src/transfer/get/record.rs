//! The record `--continue` keeps beside a partial file (`.NAME.cfsign-meta`):
//! what the partial file holds, so that a later run continues only a file
//! that cfsign made for that destination and URL, and only while its bytes
//! are the ones it wrote. Anything else found there (no record, another
//! format, another URL, other bytes) is no partial download to continue.

use std::io::{Read as _, Write as _};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::files;

/// Marks a record of this format: any other is not one to trust.
const FORMAT: u32 = 1;

/// A record is a few hundred bytes; anything much longer is not one.
const MAX_LEN: u64 = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Record {
    cfsign_part: u32,
    /// The URL without its signing parameters (see [`url_key`]).
    url: String,
    /// The object's strong ETag or Last-Modified, sent as `If-Range`.
    pub validator: Option<String>,
    /// The object's size, when the server gave it.
    pub length: Option<u64>,
    /// How many bytes the partial file holds.
    pub held: u64,
    /// The SHA-256 of those bytes, in hex.
    sha256: String,
}

/// The URL a partial file belongs to: the one asked for, less the signing
/// parameters (`Expires`, `Policy`, `Signature`, `Key-Pair-Id`,
/// `Hash-Algorithm`), which change each time it is signed again.
pub(super) fn url_key(url: &str) -> String {
    crate::sign::url::split_signed(url).0
}

impl Record {
    pub(super) fn new(
        url: &str,
        validator: Option<String>,
        length: Option<u64>,
        held: u64,
        sha256: [u8; 32],
    ) -> Self {
        Record {
            cfsign_part: FORMAT,
            url: url_key(url),
            validator,
            length,
            held,
            sha256: hex::encode(sha256),
        }
    }

    /// The record at `path`: `Ok(None)` when there is none, `Err(why)` when
    /// what is there cannot be trusted.
    pub(super) fn read(path: &Path) -> Result<Option<Record>, &'static str> {
        let file = match files::open_existing(path, false) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(_) => return Err("its record cannot be opened"),
        };
        if !files::is_ours(&file) {
            return Err("its record is not a regular file of yours");
        }
        let mut text = Vec::new();
        file.take(MAX_LEN + 1)
            .read_to_end(&mut text)
            .map_err(|_| "its record cannot be read")?;
        let record: Record =
            serde_json::from_slice(&text).map_err(|_| "its record is not one cfsign wrote")?;
        if record.cfsign_part != FORMAT {
            return Err("its record is not one cfsign wrote");
        }
        // Sent back as `If-Range`: a value no header can hold is not a
        // validator any server gave.
        if record
            .validator
            .as_deref()
            .is_some_and(|v| reqwest::header::HeaderValue::from_str(v).is_err())
        {
            return Err("its record is not one cfsign wrote");
        }
        Ok(Some(record))
    }

    /// Whether this record describes `held` bytes with digest `sha256` of a
    /// download of `url`.
    pub(super) fn check(&self, url: &str, held: u64, sha256: [u8; 32]) -> Result<(), &'static str> {
        if self.url != url_key(url) {
            Err("it was made for another URL")
        } else if self.held != held
            || self.length.is_some_and(|l| held > l)
            || self.sha256 != hex::encode(sha256)
        {
            Err("its bytes do not match its record")
        } else {
            Ok(())
        }
    }

    /// Writes the record to `temp` (a file just created for it), then renames
    /// it to `path`: a link at `path` is replaced, never written through.
    pub(super) fn save(
        &self,
        mut temp: std::fs::File,
        temp_path: &Path,
        path: &Path,
    ) -> std::io::Result<()> {
        let written = serde_json::to_vec(self)
            .map_err(std::io::Error::other)
            .and_then(|json| temp.write_all(&json));
        drop(temp);
        match written.and_then(|()| std::fs::rename(temp_path, path)) {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = std::fs::remove_file(temp_path);
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_parameters_are_not_part_of_the_url() {
        for (a, b) in [
            ("https://h/o", "https://h/o"),
            (
                "https://h/o?v=1&Expires=1&Signature=a&Key-Pair-Id=K",
                "https://h/o?v=1&Expires=2&Signature=b&Key-Pair-Id=K",
            ),
            (
                "https://h/o?Policy=p&Signature=s&Key-Pair-Id=K",
                "https://h/o",
            ),
        ] {
            assert_eq!(url_key(a), url_key(b), "{a}");
        }
        assert_ne!(url_key("https://h/o?v=1"), url_key("https://h/o?v=2"));
    }

    #[test]
    fn a_record_vouches_for_its_url_length_and_bytes_only() {
        let record = Record::new(
            "https://h/o?Expires=1",
            Some("\"e\"".into()),
            Some(10),
            4,
            [7; 32],
        );
        assert_eq!(record.check("https://h/o?Expires=2", 4, [7; 32]), Ok(()));
        assert!(
            record
                .check("https://h/p", 4, [7; 32])
                .unwrap_err()
                .contains("another URL")
        );
        assert!(record.check("https://h/o", 5, [7; 32]).is_err());
        assert!(record.check("https://h/o", 4, [8; 32]).is_err());
        let longer = Record::new("https://h/o", None, Some(3), 4, [7; 32]);
        assert!(longer.check("https://h/o", 4, [7; 32]).is_err());
    }

    #[test]
    fn only_a_record_of_this_format_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meta");
        assert_eq!(Record::read(&path), Ok(None));
        let record = Record::new("https://h/o", Some("\"e\"".into()), None, 4, [7; 32]);
        let temp = dir.path().join("temp");
        record
            .save(files::create_new(&temp).unwrap(), &temp, &path)
            .unwrap();
        assert!(!temp.exists());
        assert_eq!(Record::read(&path), Ok(Some(record)));
        for text in [
            "garbage",
            r#"{"validator":"\"e\"","length":5}"#,
            r#"{"cfsign_part":2,"url":"u","validator":null,"length":null,"held":0,"sha256":""}"#,
            r#"{"cfsign_part":1,"url":"u","validator":"a\nb","length":null,"held":0,"sha256":""}"#,
        ] {
            std::fs::write(&path, text).unwrap();
            assert!(Record::read(&path).is_err(), "{text}");
        }
        std::fs::write(&path, vec![b' '; MAX_LEN as usize + 10]).unwrap();
        assert!(Record::read(&path).is_err());
    }
}
