//! JSON lines for a terminal: `put --format json` and `doctor --format
//! json` print values that hold text from outside (file names, URLs, server
//! messages), so every character a terminal would act on is escaped.

use cfsign::escape;

/// `value` as compact JSON on one line, ending in `\n`, terminal-safe.
pub fn line(value: &impl serde::Serialize) -> String {
    let mut out = Vec::new();
    let mut json = serde_json::Serializer::with_formatter(&mut out, TerminalSafeJson);
    value
        .serialize(&mut json)
        .expect("strings and integers serialise");
    let mut line = String::from_utf8(out).expect("JSON is UTF-8");
    line.push('\n');
    line
}

/// Compact JSON in which every character [`escape::is_unsafe`] holds
/// (serde escapes only C0 controls; DEL, C1 and bidi characters would reach
/// the terminal) is written as `\uXXXX`: the same value to a parser.
struct TerminalSafeJson;

impl serde_json::ser::Formatter for TerminalSafeJson {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut rest = fragment;
        while let Some((at, c)) = rest.char_indices().find(|(_, c)| escape::is_unsafe(*c)) {
            writer.write_all(&rest.as_bytes()[..at])?;
            for unit in c.encode_utf16(&mut [0; 2]) {
                write!(writer, "\\u{unit:04x}")?;
            }
            rest = &rest[at + c.len_utf8()..];
        }
        writer.write_all(rest.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn unsafe_characters_are_escaped_and_the_value_kept() {
        let text = "a\u{202e}b\u{7f}c\né";
        let line = super::line(&serde_json::json!({ "name": text }));
        assert_eq!(line, "{\"name\":\"a\\u202eb\\u007fc\\né\"}\n");
        let back: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(back["name"], text);
    }
}
