//! The flags of the commands that send or answer requests: `get`, `put`,
//! `doctor` and `serve`.

use clap::{Args, ValueEnum, ValueHint};

use crate::cli::commands::docs::long_help;
use crate::cli::config::key_value::SecretValue;

use super::{KeyArgs, PolicyArgs};

#[derive(Debug, Args)]
#[command(after_long_help = long_help("get"))]
pub struct GetArgs {
    /// The object's URL. It is signed when a key is configured, and used as
    /// is when it already carries a signature (or no key is configured).
    #[arg(value_name = "URL", value_hint = ValueHint::Url)]
    pub url: String,

    /// Write to PATH (a file, or a folder to put it in), or - for stdout
    /// [default: the URL's last path segment, made a safe file name, in the
    /// current folder].
    #[arg(short, long, value_name = "PATH", value_hint = ValueHint::AnyPath, help_heading = "Output")]
    pub output: Option<std::path::PathBuf>,

    /// Resume an interrupted download, and keep the partial file if this one
    /// is interrupted too.
    #[arg(short = 'c', long = "continue", help_heading = "Transfer")]
    pub resume: bool,

    /// Fail (exit 5, nothing saved) unless the object has this SHA-256.
    #[arg(long, value_name = "HEX", help_heading = "Transfer")]
    pub sha256: Option<cfsign::transfer::get::Sha256Digest>,

    /// Retries after a failed attempt [default: 4].
    #[arg(long, value_name = "N", help_heading = "Network")]
    pub retries: Option<u32>,

    /// Also trust the certificate authorities in FILE (PEM) for HTTPS,
    /// besides the system's store (a private or corporate authority).
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub cacert: Option<std::path::PathBuf>,

    /// Show a progress bar even when stderr is not a terminal.
    #[arg(long, help_heading = "Output")]
    pub progress: bool,

    /// No progress bar, no summary.
    #[arg(short, long, help_heading = "Output")]
    pub quiet: bool,

    #[command(flatten)]
    pub key: KeyArgs,

    #[command(flatten)]
    pub policy: PolicyArgs,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Checks, in order: viewer access restricted (an unsigned GET gets CloudFront's \
403 MissingKey), clock (CloudFront's Date against this machine's), key trusted (a signed HEAD is \
not refused by CloudFront), signed reads (--object), PUT allowed and signed writes (--write: a \
signed PUT of a small probe, its ETag the probe's MD5), read back (a signed GET of the probe \
returns its bytes). A check whose prerequisite failed is skipped. Requests are signed by \
CloudFront's clock. Exit 0 when no check failed, 3 when one did, 4 on a network failure.",
    after_long_help = long_help("doctor")
)]
pub struct DoctorArgs {
    /// The distribution's URL prefix to check, such as
    /// https://d111111abcdef8.cloudfront.net/private/ (unsigned).
    #[arg(value_name = "URL-PREFIX", value_hint = ValueHint::Url)]
    pub prefix: String,

    /// Check signed reads with this object, which must exist: a key relative
    /// to the prefix (docs/report.pdf) [default: reads are not checked].
    #[arg(long, value_name = "KEY", help_heading = "Checks")]
    pub object: Option<String>,

    /// Check uploads: PUT a small probe object (text, different on each run,
    /// Cache-Control: no-store) at NAME, a key relative to the prefix, and
    /// read it back. The probe is left there: each run overwrites it
    /// [default: uploads are not checked].
    #[arg(long, value_name = "NAME", help_heading = "Checks")]
    pub write: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = DoctorFormat::Text, help_heading = "Output")]
    pub format: DoctorFormat,

    /// Retries after a failed attempt, as for `get` [default: 4].
    #[arg(long, value_name = "N", help_heading = "Network")]
    pub retries: Option<u32>,

    /// Also trust the certificate authorities in FILE (PEM) for HTTPS, as
    /// for `get`.
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub cacert: Option<std::path::PathBuf>,

    #[command(flatten)]
    pub key: KeyArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DoctorFormat {
    /// One line per check: `✓ name: what was seen`, `✗ name: what was
    /// seen: the fix`, or `- name: skipped (why)`.
    Text,
    /// One JSON object per check and line: step, result (pass, fail or
    /// skip), detail, fix.
    Json,
}

#[derive(Debug, Args)]
#[command(after_long_help = long_help("serve"))]
pub struct ServeArgs {
    /// The folder to serve: objects are files under it, keys their paths.
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub root: std::path::PathBuf,

    /// A trusted public key as ID=PATH, ID=file://PATH, or ID= then the PEM text
    /// (repeatable): requests must carry a signed URL or signed cookies made
    /// with one of them.
    #[arg(
        long,
        value_name = "ID=KEY",
        allow_hyphen_values = true,
        help_heading = "Key"
    )]
    pub public_key: Vec<SecretValue>,

    /// Allow every request without checking signatures.
    #[arg(long, conflicts_with = "public_key", help_heading = "Key")]
    pub no_auth: bool,

    /// Address to listen on; port 0 picks a free one. The URL is printed
    /// as the first line of stdout.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080", value_parser = parse_listen,
          help_heading = "Network")]
    pub listen: std::net::SocketAddr,

    /// Refuse uploads: PUT answers 403 AccessDenied.
    #[arg(long)]
    pub read_only: bool,

    /// Check signatures as if requests were made to this scheme and host,
    /// such as https://d111111abcdef8.cloudfront.net [default: http://<Host header>].
    #[arg(long, value_name = "URL", value_hint = ValueHint::Url, help_heading = "Network")]
    pub base_url: Option<String>,

    /// No request log on stderr.
    #[arg(long, short)]
    pub quiet: bool,

    /// Disconnect a client that takes this long to send its request head,
    /// pauses this long in a body (its upload is removed), or stops reading
    /// an answer for this long: 30s, 2m, …
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "30s",
        help_heading = "Network"
    )]
    pub idle_timeout: cfsign::time::HumanDuration,

    /// Uploads received at once; more PUTs get 503 SlowDown.
    #[arg(long, value_name = "N", default_value_t = cfsign::serve::DEFAULT_MAX_UPLOADS as u16,
          value_parser = clap::value_parser!(u16).range(1..), help_heading = "Network")]
    pub max_uploads: u16,

    /// The cache behaviour's allowed methods, as a comma list: another method
    /// gets CloudFront's 403 page ("not configured to allow the HTTP request
    /// method"). CloudFront offers GET,HEAD; GET,HEAD,OPTIONS; or all seven
    /// (GET,HEAD,OPTIONS,PUT,PATCH,POST,DELETE) [default: all].
    #[arg(long, value_name = "LIST", help_heading = REHEARSE)]
    pub methods: Option<cfsign::serve::AllowedMethods>,

    /// The origin refuses reads (get: no s3:GetObject) or uploads (put: no
    /// s3:PutObject) for the distribution: S3's 403 AccessDenied, passed on
    /// by CloudFront, once the signature was accepted (repeatable, or a comma
    /// list).
    #[arg(long, value_name = "get|put", value_delimiter = ',', help_heading = REHEARSE)]
    pub origin_deny: Vec<OriginOperation>,

    /// This key ID is not in a key group the cache behaviour trusts: its
    /// signatures get CloudFront's 403 InvalidKey ("Unknown Key"), even if
    /// --public-key gives its key (repeatable).
    #[arg(long, value_name = "ID", conflicts_with = "no_auth", help_heading = REHEARSE)]
    pub unknown_key: Vec<cfsign::sign::KeyPairId>,

    /// The edge's clock runs this far ahead (90s, 2m) or behind (-2m):
    /// signature times are checked against it, and the Date header says it.
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true,
          value_parser = parse_clock_skew, help_heading = REHEARSE)]
    pub clock_skew: Option<i64>,
}

/// The help heading of the options that make `serve` miss a setup step.
const REHEARSE: &str = "Rehearse a missing setup step";

/// An operation the origin's bucket policy may fail to grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OriginOperation {
    /// GET and HEAD (s3:GetObject).
    Get,
    /// PUT (s3:PutObject).
    Put,
}

/// `--clock-skew`: a duration, ahead, or behind with a leading `-`.
fn parse_clock_skew(s: &str) -> Result<i64, String> {
    let (sign, duration) = match s.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, s.strip_prefix('+').unwrap_or(s)),
    };
    // No skew is a skew too (`0s`, `0`), though not a valid expiry.
    let digits = duration.trim_start_matches('0');
    let unit_only = digits.chars().all(|c| c.is_ascii_alphabetic());
    if digits.len() < duration.len()
        && unit_only
        && (digits.is_empty()
            || format!("1{digits}")
                .parse::<cfsign::time::HumanDuration>()
                .is_ok())
    {
        return Ok(0);
    }
    let d: cfsign::time::HumanDuration = duration.parse().map_err(|e| format!("{e}"))?;
    i64::try_from(d.seconds())
        .map(|secs| sign * secs)
        .map_err(|_| "too long a skew".to_string())
}

/// `--listen`: an IP address and a port (no host names: what they resolve
/// to is not what the URL on stdout would say).
fn parse_listen(s: &str) -> Result<std::net::SocketAddr, String> {
    s.parse().map_err(|_| {
        "give an IP address and a port, such as 127.0.0.1:8080 or [::1]:8080 (port 0 picks a free one)"
            .to_string()
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PutFormat {
    /// One line per object: `uploaded FILE → URL (N bytes, sha256 HEX, etag ETAG)`.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Args)]
#[command(
    override_usage = "cfsign put [OPTIONS] FILE URL\n       cfsign put [OPTIONS] FILE... URL/\n       cfsign put [OPTIONS] - URL",
    after_help = "A URL ending in / is a prefix: files go under it by name, folders (-r) \
with their relative paths; `dist/` (trailing slash) uploads the folder's contents, `dist` the \
folder itself. Without a key the URL is used as given (it may be signed already).",
    after_long_help = long_help("put")
)]
pub struct PutArgs {
    /// Files to upload (- for stdin), then the object URL or a prefix ending in /.
    #[arg(value_names = ["FILE", "URL"], required = true, num_args = 1..,
          value_hint = ValueHint::AnyPath)]
    pub paths: Vec<std::ffi::OsString>,

    /// Upload the files in folders, keeping their relative paths.
    #[arg(short, long, help_heading = "Transfer")]
    pub recursive: bool,

    /// With -r, follow links to files and folders inside the folder (links
    /// out of it are never followed).
    #[arg(long, help_heading = "Transfer")]
    pub follow_symlinks: bool,

    /// Canned ACL to send as x-amz-acl.
    #[arg(long, value_name = "ACL", default_value = cfsign::transfer::put::DEFAULT_ACL,
          value_parser = clap::builder::PossibleValuesParser::new(cfsign::transfer::put::CANNED_ACLS),
          help_heading = "Transfer")]
    pub acl: String,

    /// Send no x-amz-acl header.
    #[arg(long, conflicts_with = "acl", help_heading = "Transfer")]
    pub no_acl: bool,

    /// Content-Type [default: guessed from the object's name].
    #[arg(long, value_name = "TYPE", help_heading = "Transfer")]
    pub content_type: Option<String>,

    /// Cache-Control header of the object.
    #[arg(long, value_name = "VALUE", help_heading = "Transfer")]
    pub cache_control: Option<String>,

    /// An extra request header, `Name: value` (repeatable).
    #[arg(
        short = 'H',
        long = "header",
        value_name = "NAME: VALUE",
        help_heading = "Transfer"
    )]
    pub headers: Vec<String>,

    /// User metadata `key=value`, sent as x-amz-meta-key (repeatable).
    #[arg(long, value_name = "KEY=VALUE", help_heading = "Transfer")]
    pub meta: Vec<String>,

    /// Upload this many objects at a time.
    #[arg(short, long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u16).range(1..=64), help_heading = "Transfer")]
    pub jobs: u16,

    /// Retries after a failed attempt, as for `get` [default: 4].
    #[arg(long, value_name = "N", help_heading = "Network")]
    pub retries: Option<u32>,

    /// Also trust the certificate authorities in FILE (PEM) for HTTPS, as
    /// for `get`.
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub cacert: Option<std::path::PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = PutFormat::Text, help_heading = "Output")]
    pub format: PutFormat,

    /// Show a progress bar even when stderr is not a terminal.
    #[arg(long, help_heading = "Output")]
    pub progress: bool,

    /// No progress bar.
    #[arg(short, long, help_heading = "Output")]
    pub quiet: bool,

    #[command(flatten)]
    pub key: KeyArgs,

    #[command(flatten)]
    pub policy: PolicyArgs,
}
