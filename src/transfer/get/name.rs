//! The name a download is saved under when only the URL names it.

use crate::escape;

/// The file name a URL's object is saved under: its last path segment,
/// percent-decoded, made safe to use as one name in the current folder.
/// Separators (`/`, `\`) and every character that [`escape::is_unsafe`]
/// names (NUL and other controls, bidi overrides and isolates, zero-width and
/// other invisible formatting characters) become `_`, so that a name cannot
/// show as another (`x\u{202e}txt.exe` would show as `xexe.txt`); leading
/// dots are dropped (no `..`, no hidden files), and what remains is cut to
/// 255 bytes. A URL with no usable last segment (`https://host/`, `…/..`) is saved
/// as `index.html`, as wget does.
///
/// ```
/// use cfsign::transfer::get::file_name_for;
/// assert_eq!(file_name_for("https://h.net/a/my%20report.pdf?x=1"), "my report.pdf");
/// assert_eq!(file_name_for("https://h.net/a/..%2F..%2Fetc%2Fpasswd"), "_.._etc_passwd");
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
        .map(|c| {
            let unsafe_here = c == '/' || c == '\\' || escape::is_unsafe(c);
            let reserved_on_windows =
                cfg!(windows) && matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|');
            if unsafe_here || reserved_on_windows {
                '_'
            } else {
                c
            }
        })
        .collect();
    let mut name = cleaned
        .trim()
        .trim_start_matches('.')
        .trim_start()
        .to_string();
    if name.len() > 255 {
        let mut end = 255;
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        name.truncate(end);
    }
    if name.is_empty() {
        "index.html".to_string()
    } else {
        name
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
        let long = format!("https://h.net/{}", "é".repeat(200));
        let name = file_name_for(&long);
        assert!(
            name.len() <= 255 && name.chars().all(|c| c == 'é'),
            "{name}"
        );
    }
}
