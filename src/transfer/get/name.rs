//! The name a download is saved under when only the URL names it.
//!
//! One rule on every platform, so that a URL is saved under the same name on
//! Linux, macOS and Windows (release binaries exist for all three) and a
//! script that works on one works on the others.

use crate::escape;

/// The file name a URL's object is saved under: its last path segment,
/// percent-decoded, made safe to use as one name in the current folder on
/// every platform cfsign is released for:
///
/// 1. Separators (`/`, `\`), the characters Windows refuses in a name
///    (`<` `>` `:` `"` `|` `?` `*`) and every character that
///    [`escape::is_unsafe`] names (NUL and other controls, bidi overrides
///    and isolates, zero-width and other invisible formatting characters)
///    become `_`, so that a name can neither leave the folder nor show as
///    another (`x\u{202e}txt.exe` would show as `xexe.txt`).
/// 2. Leading dots and spaces are dropped (no `..`, no hidden files), and
///    so are trailing dots and spaces, which Windows strips silently.
/// 3. The name is cut to 255 bytes (every platform's limit).
/// 4. A name whose part before the first dot is a Windows device name —
///    `CON`, `PRN`, `AUX`, `NUL`, `COM0`–`COM9`, `LPT0`–`LPT9` (also with
///    superscript digits), `CONIN$`, `CONOUT$`, in any case, with or without
///    an extension — gets a leading `_` (`nul.txt` → `_nul.txt`): Windows
///    would open the device instead of creating the file.
/// 5. A URL with no usable last segment (`https://host/`, `…/..`) is saved
///    as `index.html`, as wget does.
///
/// ```
/// use cfsign::transfer::get::file_name_for;
/// assert_eq!(file_name_for("https://h.net/a/my%20report.pdf?x=1"), "my report.pdf");
/// assert_eq!(file_name_for("https://h.net/a/..%2F..%2Fetc%2Fpasswd"), "_.._etc_passwd");
/// assert_eq!(file_name_for("https://h.net/a/CON.txt"), "_CON.txt");
/// assert_eq!(file_name_for("https://h.net/a/what%3F.pdf."), "what_.pdf");
/// assert_eq!(file_name_for("https://h.net/"), "index.html");
/// ```
pub fn file_name_for(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    // The authority is not a path segment: `https://host` has no name.
    let segment = match rest.split_once('/') {
        Some((_, path)) => path.rsplit('/').next().unwrap_or_default(),
        None => "",
    };
    let decoded = String::from_utf8_lossy(&percent_decode(segment)).into_owned();
    let cleaned: String = decoded
        .chars()
        .map(|c| if refused_in_names(c) { '_' } else { c })
        .collect();
    let mut name = trim_ends(&cleaned).to_string();
    if name.len() > 255 {
        let mut end = 255;
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        name.truncate(end);
        // The cut may leave a dot or a space at the end.
        name = trim_ends(&name).to_string();
    }
    if name.is_empty() {
        return "index.html".to_string();
    }
    if is_windows_device(&name) {
        name.insert(0, '_');
        if name.len() > 255 {
            name.pop();
            name = trim_ends(&name).to_string();
        }
    }
    name
}

/// Characters that cannot stand in a file name on some release platform, or
/// that would make it show as another name.
fn refused_in_names(c: char) -> bool {
    matches!(c, '/' | '\\' | '<' | '>' | ':' | '"' | '|' | '?' | '*') || escape::is_unsafe(c)
}

/// Without leading dots and spaces (hidden files, `..`) and trailing ones
/// (which Windows drops, so `a.txt.` would become `a.txt`).
fn trim_ends(name: &str) -> &str {
    name.trim_start_matches(|c: char| c == '.' || c.is_whitespace())
        .trim_end_matches(|c: char| c == '.' || c.is_whitespace())
}

/// Whether Windows reads the name as a device: the part before the first dot
/// (trailing spaces ignored, as Windows does) is a reserved device name.
fn is_windows_device(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or_default().trim_end();
    let upper = stem.to_ascii_uppercase();
    match upper.as_str() {
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$" => true,
        _ => {
            let mut chars = upper.chars();
            let prefix: String = chars.by_ref().take(3).collect();
            let digit: Vec<char> = chars.collect();
            (prefix == "COM" || prefix == "LPT")
                && matches!(
                    digit.as_slice(),
                    ['0'..='9' | '\u{b9}' | '\u{b2}' | '\u{b3}']
                )
        }
    }
}

/// `%XX` sequences decoded; a `%` not followed by two hex digits stays as is.
fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let Some(Ok(b)) = bytes
                .get(i + 1..i + 3)
                .map(|h| u8::from_str_radix(std::str::from_utf8(h).unwrap_or("zz"), 16))
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_never_leave_the_folder() {
        for (url, name) in [
            ("https://h.net/a/b.txt", "b.txt"),
            ("https://h.net/b.txt?x=1&y=/z", "b.txt"),
            ("https://h.net/b.txt#frag", "b.txt"),
            ("https://h.net/my%20file%C3%A9.txt", "my fileé.txt"),
            ("https://h.net/", "index.html"),
            ("https://h.net", "index.html"),
            ("https://h.net?x=/y.txt", "index.html"),
            ("https://h.net/a/", "index.html"),
            ("https://h.net/a/..", "index.html"),
            ("https://h.net/a/%2E%2E", "index.html"),
            ("https://h.net/a/.", "index.html"),
            ("https://h.net/.bashrc", "bashrc"),
            ("https://h.net/...x", "x"),
            ("https://h.net/..%2F..%2Fetc%2Fpasswd", "_.._etc_passwd"),
            ("https://h.net/..%5C..%5Cwin.ini", "_.._win.ini"),
            ("https://h.net/a%00b", "a_b"),
            ("https://h.net/a%0Ab%1B", "a_b_"),
            ("https://h.net/x%E2%80%AEtxt.exe", "x_txt.exe"),
            ("https://h.net/%E2%81%A6a%E2%81%A9.pdf", "_a_.pdf"),
            ("https://h.net/a%E2%80%8Bb%EF%BB%BF", "a_b_"),
            ("https://h.net/a%C2%ADb%F3%A0%80%81", "a_b_"),
            ("https://h.net/a%ZZb%4", "a%ZZb%4"),
            ("https://h.net/%FF.bin", "\u{fffd}.bin"),
            ("https://h.net/%20%20", "index.html"),
        ] {
            assert_eq!(file_name_for(url), name, "{url}");
        }
    }

    #[test]
    fn file_names_are_valid_on_windows_too() {
        for (url, name) in [
            // Characters Windows refuses in a name.
            ("https://h.net/a%3Ab.txt", "a_b.txt"),
            ("https://h.net/c:%5Cboot.ini", "c__boot.ini"),
            ("https://h.net/%3C%3E%22%7C%3F%2A.txt", "______.txt"),
            ("https://h.net/what%3F", "what_"),
            ("https://h.net/a%09b", "a_b"),
            // Trailing dots and spaces, which Windows strips.
            ("https://h.net/report.pdf.", "report.pdf"),
            ("https://h.net/report.pdf%20%20", "report.pdf"),
            ("https://h.net/report.%20.%20", "report"),
            ("https://h.net/...", "index.html"),
            // Device names, in any case, with any extension.
            ("https://h.net/CON", "_CON"),
            ("https://h.net/con.txt", "_con.txt"),
            ("https://h.net/Nul.tar.gz", "_Nul.tar.gz"),
            ("https://h.net/aux", "_aux"),
            ("https://h.net/PRN.", "_PRN"),
            ("https://h.net/COM1.log", "_COM1.log"),
            ("https://h.net/lpt9", "_lpt9"),
            ("https://h.net/COM0", "_COM0"),
            ("https://h.net/COM%C2%B9.txt", "_COM\u{b9}.txt"),
            ("https://h.net/CONIN$", "_CONIN$"),
            ("https://h.net/conout$.x", "_conout$.x"),
            ("https://h.net/NUL%20.txt", "_NUL .txt"),
            // Names that only look like them stay as they are.
            ("https://h.net/CONSOLE.txt", "CONSOLE.txt"),
            ("https://h.net/COM10", "COM10"),
            ("https://h.net/LPT", "LPT"),
            ("https://h.net/my.con", "my.con"),
            ("https://h.net/nulls.txt", "nulls.txt"),
        ] {
            assert_eq!(file_name_for(url), name, "{url}");
        }
        let long = format!("https://h.net/{}", "é".repeat(200));
        assert_eq!(
            file_name_for(&format!("https://h.net/{}", "a".repeat(300))).len(),
            255
        );
        let cut_at_a_dot = format!("https://h.net/{}.{}", "a".repeat(254), "b".repeat(9));
        assert_eq!(file_name_for(&cut_at_a_dot), "a".repeat(254));
        let name = file_name_for(&long);
        assert!(
            name.len() <= 255 && name.chars().all(|c| c == 'é'),
            "{name}"
        );
    }
}
