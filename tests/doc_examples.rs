//! Every public type and function of the library has a doc example that
//! runs (issue 12): this test reads the library's sources (everything under
//! `src/` but `main.rs` and `cli/`, which are the binary) and fails, naming
//! file:line and item, on a public item whose own doc comment holds no Rust
//! code block. The doc examples themselves run under `cargo test --doc`.
//!
//! An item is a line starting with `pub fn`, `pub struct`, `pub enum`,
//! `pub trait`, `pub type`, `pub const` or `pub static` (qualifiers such as
//! `pub const fn` or `pub async fn` included), at any indentation, so methods
//! count too, and so do the methods of a `pub trait`. `pub(crate)`,
//! fields, `pub use` and `pub mod` are not items
//! here; unit tests (`#[cfg(test)] mod … { }` blocks and `tests.rs` files)
//! are skipped. Its doc comment is the run of `///` lines above it,
//! attributes in between allowed.

use std::path::{Path, PathBuf};

/// A public item without an example: where it is, and its first line.
#[derive(Debug, PartialEq)]
struct Missing {
    line: usize,
    item: String,
}

const KINDS: &[&str] = &["fn", "struct", "enum", "trait", "type", "const", "static"];
const QUALIFIERS: &[&str] = &["const", "async", "unsafe", "extern", "\"C\"", "\"Rust\""];

/// Whether `line` declares a public item (see the module docs).
fn is_public_item(line: &str) -> bool {
    let Some(rest) = line.trim_start().strip_prefix("pub ") else {
        return false;
    };
    let words: Vec<&str> = rest.split_whitespace().collect();
    // The qualifiers before the kind, then the kind itself: `pub const X`
    // is a constant, `pub const fn` a function.
    let mut i = 0;
    while i + 1 < words.len() && QUALIFIERS.contains(&words[i]) && words[i + 1] != ":" {
        if words[i] == "const"
            && !(KINDS.contains(&words[i + 1]) || QUALIFIERS.contains(&words[i + 1]))
        {
            return true; // `pub const NAME: T`
        }
        i += 1;
    }
    words.get(i).is_some_and(|w| KINDS.contains(w))
}

/// Whether a doc comment (its lines without `///`) opens a Rust code
/// block: a fence that is bare or whose first word is a Rust one. A closing
/// fence is not an opening one, so "```text … ```" does not count.
fn has_example(doc: &[&str]) -> bool {
    let mut inside = false;
    for line in doc {
        let Some(info) = line.trim().strip_prefix("```") else {
            continue;
        };
        if inside {
            inside = false;
            continue;
        }
        inside = true;
        let words: Vec<&str> = info.split(',').map(str::trim).collect();
        let first = words[0];
        let rust = matches!(first, "" | "rust" | "no_run" | "should_panic")
            || first.starts_with("edition");
        // `ignore` and `compile_fail` blocks never run as examples.
        let runs = !words
            .iter()
            .any(|w| matches!(*w, "ignore" | "compile_fail" | "text"));
        if rust && runs {
            return true;
        }
    }
    false
}

/// The doc comment above line `index` (attributes in between skipped), each
/// line without its `///`.
fn doc_above<'a>(lines: &[&'a str], index: usize) -> Vec<&'a str> {
    let mut doc = Vec::new();
    let mut i = index;
    while i > 0 {
        i -= 1;
        let line = lines[i].trim();
        if let Some(text) = line.strip_prefix("///") {
            doc.push(text);
        } else if line.starts_with("#[") {
            continue;
        } else if line.ends_with(']') && !line.starts_with("//") && doc.is_empty() {
            // The last line of an attribute spread over several lines.
            while i > 0 && !lines[i].trim().starts_with("#[") {
                i -= 1;
            }
        } else {
            break;
        }
    }
    doc.reverse();
    doc
}

/// The public items of one source text that have no example.
fn missing_examples(source: &str) -> Vec<Missing> {
    let lines: Vec<&str> = source.lines().collect();
    let mut missing = Vec::new();
    // The closing line of the public trait being read: its methods are
    // public without saying `pub`.
    let mut trait_end: Option<String> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if trait_end.as_deref() == Some(line.trim_end()) {
            trait_end = None;
        }
        // A test module ends at the `}` with its own indentation (rustfmt).
        if line.trim() == "#[cfg(test)]" {
            if let Some(next) = lines.get(i + 1) {
                let indent = &next[..next.len() - next.trim_start().len()];
                if next.trim_start().starts_with("mod ") && next.trim_end().ends_with('{') {
                    let end = format!("{indent}}}");
                    i += 2;
                    while i < lines.len() && lines[i].trim_end() != end {
                        i += 1;
                    }
                    i += 1;
                    continue;
                }
            }
        }
        let in_trait = trait_end.is_some() && line.trim_start().starts_with("fn ");
        if is_public_item(line)
            && line.trim_start().starts_with("pub trait ")
            && line.ends_with('{')
        {
            let indent = &line[..line.len() - line.trim_start().len()];
            trait_end = Some(format!("{indent}}}"));
        }
        if (is_public_item(line) || in_trait) && !has_example(&doc_above(&lines, i)) {
            missing.push(Missing {
                line: i + 1,
                item: line.trim().trim_end_matches('{').trim_end().to_owned(),
            });
        }
        i += 1;
    }
    missing
}

/// The library's source files under `dir`: not the binary's, and not a
/// unit-test module kept in a file of its own (`#[cfg(test)] mod tests;`).
fn library_sources(dir: &Path, src: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let relative = path.strip_prefix(src).unwrap();
        if relative == Path::new("main.rs")
            || relative.starts_with("cli")
            || path.file_name().is_some_and(|n| n == "tests.rs")
        {
            continue;
        }
        if path.is_dir() {
            library_sources(&path, src, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every item without an example in the library, one
/// "file:line: item" per entry.
fn report() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("src");
    let mut files = Vec::new();
    library_sources(&src, &src, &mut files);
    let mut report = Vec::new();
    for file in files {
        let relative = file.strip_prefix(root).unwrap();
        let source = std::fs::read_to_string(&file).unwrap();
        for m in missing_examples(&source) {
            report.push(format!("{}:{}: {}", relative.display(), m.line, m.item));
        }
    }
    report
}

fn assert_none(report: &[String]) {
    assert!(
        report.is_empty(),
        "{} public item(s) without a doc example (a ```rust block in their own /// comment; \
         or make them pub(crate) if nothing outside the crate can reach them):\n{}",
        report.len(),
        report.join("\n")
    );
}

#[test]
fn every_public_item_has_a_doc_example() {
    assert_none(&report());
}

#[test]
fn the_scanner_finds_items_without_examples() {
    let source = r#"
/// Documented with an example.
///
/// ```
/// assert_eq!(1 + 1, 2);
/// ```
#[derive(Debug)]
#[must_use]
pub struct WithExample;

/// Only text: a closing fence is not an opening one.
///
/// ```text
/// not rust
/// ```
pub enum TextOnly { A }

impl WithExample {
    /// Runs:
    /// ```no_run
    /// let _ = 1;
    /// ```
    pub const fn with(&self) {}

    /// No example.
    pub fn without(&self) {}

    pub(crate) fn internal(&self) {}
}

/// Several lines of attribute.
/// ```rust,should_panic
/// panic!();
/// ```
#[error(
    "a message"
)]
pub struct AfterLongAttribute;

pub const LIMIT: u32 = 1;
pub static NAME: &str = "x";
pub type Alias = u8;
pub trait Bare {}

/// A trait with an example, whose method has none.
/// ```
/// let _ = 1;
/// ```
pub trait Receiver {
    /// No example.
    fn receive(&self);
}
pub use std::fmt;
pub mod inner {}

pub struct Fields {
    pub field: u8,
}

#[cfg(test)]
mod tests {
    pub fn helper() {}
}
"#;
    let missing = missing_examples(source);
    let items: Vec<&str> = missing.iter().map(|m| m.item.as_str()).collect();
    assert_eq!(
        items,
        [
            "pub enum TextOnly { A }",
            "pub fn without(&self) {}",
            "pub const LIMIT: u32 = 1;",
            "pub static NAME: &str = \"x\";",
            "pub type Alias = u8;",
            "pub trait Bare {}",
            "fn receive(&self);",
            "pub struct Fields",
        ]
    );
    // Lines are 1-based, counted from the snippet's first (empty) line.
    assert_eq!(missing[0].line, 16);
}

#[test]
fn the_scanner_reads_kinds_and_fences() {
    assert!(is_public_item("    pub async fn get(&self)"));
    assert!(is_public_item("pub const fn new() -> Self"));
    assert!(is_public_item("pub unsafe fn raw()"));
    assert!(is_public_item("pub const MAX: usize = 3;"));
    assert!(!is_public_item("pub(crate) fn hidden()"));
    assert!(!is_public_item("    pub name: String,"));
    assert!(!is_public_item("pub use crate::x;"));
    assert!(!is_public_item("pub mod sign;"));
    assert!(!is_public_item("/// pub fn in a comment"));
    assert!(has_example(&[" ```"]));
    assert!(has_example(&[" ```rust"]));
    assert!(has_example(&[" ```no_run"]));
    assert!(has_example(&[" ```text", " x", " ```", " ```"]));
    assert!(!has_example(&[" ```text", " x", " ```"]));
    assert!(!has_example(&[" ```ignore", " x", " ```"]));
    assert!(!has_example(&[" ```rust,ignore", " x", " ```"]));
    assert!(!has_example(&[" ```rust,compile_fail", " x", " ```"]));
    assert!(!has_example(&[" no fence at all"]));
}
