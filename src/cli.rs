//! The command line: clap definitions, dispatch, and how errors are shown.
//! Each subcommand's options are plain data here; `config` validates them
//! once into the types the commands work with.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::error::{Error, exit};
use crate::sign::HashAlgorithm;
use crate::sign::input::SecretValue;

#[derive(Debug, Parser)]
#[command(
    name = "cfsign",
    version,
    about = "CloudFront signed URLs and cookies, and transfers of private objects through CloudFront",
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Use this profile of the config file (~/.config/cfsign/config.toml).
    #[arg(long, global = true, value_name = "NAME", env = "CFSIGN_PROFILE")]
    pub profile: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign URLs (canned or custom policy) or produce signed cookies.
    Sign(SignArgs),
    /// Signed cookies for one resource as a JSON object (the AWS CLI's sign-cookies).
    SignCookies(SignCookiesArgs),
    /// Explain whether CloudFront would accept a signed URL, and why not.
    Verify(VerifyArgs),
    /// Download a private object (signing the URL when a key is configured).
    Get(GetArgs),
    /// Upload files through CloudFront to S3 (one PUT per object, up to 5 GiB).
    Put(PutArgs),
    /// A local CloudFront edge on a folder: signed GET, HEAD and PUT, for tests and CI.
    Serve(ServeArgs),
    /// Make a CloudFront-ready key pair (private PKCS#8 PEM + public PEM).
    Keygen(KeygenArgs),
    /// Print shell completions.
    Completions(CompletionsArgs),
    /// Print the man page (roff).
    Man,
}

/// The key and hash options shared by `sign`, `get` and `put`.
#[derive(Debug, Args, Clone, Default)]
pub struct KeyArgs {
    /// CloudFront public key ID (K2JCJMDEHXQW5F) or legacy key pair ID (APKA…).
    #[arg(
        long,
        value_name = "ID",
        env = "CLOUDFRONT_KEY_PAIR_ID",
        hide_env_values = true
    )]
    pub key_pair_id: Option<String>,

    /// Private key: PATH, file://PATH, - for stdin, or the PEM text itself
    /// (other users may see a command line: prefer a file or the environment).
    /// Without it, the key is read from $CLOUDFRONT_PRIVATE_KEY (PEM text) or
    /// $CLOUDFRONT_PRIVATE_KEY_FILE (a path).
    // Hyphen values: PEM text begins with `-----BEGIN`, and clap would
    // otherwise take it for an unknown flag and quote it in its error.
    #[arg(long, value_name = "KEY", allow_hyphen_values = true)]
    pub private_key: Option<SecretValue>,

    /// The profile's `private_key`, used when neither the flag nor the
    /// environment names a key.
    #[arg(skip)]
    pub profile_key: Option<crate::config::ProfileKey>,

    /// Digest to sign [default: SHA1 for RSA keys, SHA256 for ECDSA keys].
    #[arg(long, value_enum, value_name = "ALG", ignore_case = true)]
    pub hash_algorithm: Option<HashAlgorithm>,
}

/// When and where a signature is valid.
#[derive(Debug, Args, Clone, Default)]
pub struct PolicyArgs {
    /// Expire this long after now: 90s, 15m, 1h, 7d, 1h30m [default: 1h].
    #[arg(long, value_name = "DURATION", conflicts_with = "date_less_than")]
    pub expires_in: Option<String>,

    /// Expire at TIME: YYYY-MM-DD, YYYY-MM-DDThh:mm:ss[Z|±hh:mm] (UTC) or Unix seconds.
    #[arg(long, value_name = "TIME")]
    pub date_less_than: Option<String>,

    /// Accept an expiry in the past and epoch values that look like mistakes.
    #[arg(long)]
    pub allow_past: bool,

    /// Not valid before TIME (makes a custom policy).
    #[arg(long, value_name = "TIME")]
    pub date_greater_than: Option<String>,

    /// Only for clients in this IPv4 address or CIDR block (makes a custom policy).
    #[arg(long, value_name = "IPV4[/N]")]
    pub ip_address: Option<String>,

    /// Policy resource, with * and ? wildcards; must match every URL signed
    /// (makes a custom policy, signed once for all URLs).
    #[arg(long, value_name = "PATTERN", visible_alias = "policy-resource")]
    pub resource: Option<String>,

    /// Sign this custom policy JSON (FILE or -) as given, after validating it.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["expires_in", "date_less_than", "date_greater_than", "ip_address", "resource"]
    )]
    pub policy: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SignFormat {
    /// One signed URL per line.
    Url,
    /// One JSON object per line.
    Json,
    /// Set-Cookie: lines (a blank line between URLs).
    Cookies,
    /// One Cookie: request header per URL.
    Header,
}

#[derive(Debug, Args)]
pub struct SignArgs {
    /// URLs to sign; with none (or -), one per line from stdin.
    #[arg(value_name = "URL")]
    pub urls: Vec<String>,

    /// A URL to sign (the AWS CLI spelling); may be repeated.
    #[arg(long = "url", value_name = "URL")]
    pub url_flags: Vec<String>,

    #[command(flatten)]
    pub key: KeyArgs,

    #[command(flatten)]
    pub policy: PolicyArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = SignFormat::Url)]
    pub format: SignFormat,

    /// Cookie Domain attribute [default: the URL's host].
    #[arg(long, value_name = "DOMAIN")]
    pub cookie_domain: Option<String>,

    /// Cookie Path attribute.
    #[arg(long, value_name = "PATH", default_value = "/")]
    pub cookie_path: String,
}

#[derive(Debug, Args)]
#[command(
    after_help = "A canned policy when --resource is a plain URL; a custom policy when it holds \
* or ?, or with --date-greater-than or --ip-address. Prints one JSON object mapping each \
CloudFront-* cookie name to its value, as `aws cloudfront sign-cookies` does."
)]
pub struct SignCookiesArgs {
    #[command(flatten)]
    pub key: KeyArgs,

    #[command(flatten)]
    pub policy: PolicyArgs,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The signed URL, exactly as it is requested.
    #[arg(value_name = "URL")]
    pub url: String,

    /// A trusted public key as ID=PATH, ID=file://PATH or ID=PEM-text
    /// (repeatable). Without one, everything but the signature is checked.
    #[arg(long, value_name = "ID=KEY", allow_hyphen_values = true)]
    pub public_key: Vec<SecretValue>,

    /// The viewer's IPv4 address, for a policy's IpAddress condition.
    #[arg(long, value_name = "IPV4")]
    pub client_ip: Option<String>,

    /// Check as of TIME instead of now (same forms as --date-less-than).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,

    /// A Cookie header to check signed cookies (used when the URL is unsigned).
    #[arg(long, value_name = "HEADER")]
    pub cookie: Option<String>,
}

#[derive(Debug, Args)]
pub struct GetArgs {
    /// The object's URL. It is signed when a key is configured, and used as
    /// is when it already carries a signature (or no key is configured).
    #[arg(value_name = "URL")]
    pub url: String,

    /// Write to PATH (a file, or a folder to put it in), or - for stdout
    /// [default: the URL's last path segment, in the current folder].
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<std::path::PathBuf>,

    /// Resume an interrupted download, and keep the partial file if this one
    /// is interrupted too.
    #[arg(short = 'c', long = "continue")]
    pub resume: bool,

    /// Fail (exit 5, nothing saved) unless the object has this SHA-256.
    #[arg(long, value_name = "HEX")]
    pub sha256: Option<crate::transfer::get::Sha256Digest>,

    /// Retries after a failed attempt [default: 4].
    #[arg(long, value_name = "N")]
    pub retries: Option<u32>,

    /// Show a progress bar even when stderr is not a terminal.
    #[arg(long)]
    pub progress: bool,

    /// No progress bar, no summary.
    #[arg(short, long)]
    pub quiet: bool,

    #[command(flatten)]
    pub key: KeyArgs,

    #[command(flatten)]
    pub policy: PolicyArgs,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The folder to serve: objects are files under it, keys their paths.
    #[arg(long, value_name = "DIR")]
    pub root: std::path::PathBuf,

    /// A trusted public key as ID=PATH, ID=file://PATH or ID=PEM-text
    /// (repeatable): requests must carry a signed URL or signed cookies made
    /// with one of them.
    #[arg(long, value_name = "ID=KEY", allow_hyphen_values = true)]
    pub public_key: Vec<SecretValue>,

    /// Allow every request without checking signatures.
    #[arg(long, conflicts_with = "public_key")]
    pub no_auth: bool,

    /// Address to listen on; port 0 picks a free one. The URL is printed
    /// as the first line of stdout.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080", value_parser = parse_listen)]
    pub listen: std::net::SocketAddr,

    /// Refuse uploads: PUT answers 403 AccessDenied.
    #[arg(long)]
    pub read_only: bool,

    /// Check signatures as if requests were made to this scheme and host,
    /// such as https://d111111abcdef8.cloudfront.net [default: http://<Host header>].
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,

    /// No request log on stderr.
    #[arg(long, short)]
    pub quiet: bool,

    /// Disconnect a client that takes this long to send its request head,
    /// pauses this long in a body (its upload is removed), or stops reading
    /// an answer for this long: 30s, 2m, …
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub idle_timeout: crate::time::HumanDuration,

    /// Uploads received at once; more PUTs get 503 SlowDown.
    #[arg(long, value_name = "N", default_value_t = crate::serve::DEFAULT_MAX_UPLOADS as u16,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub max_uploads: u16,
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
folder itself. Without a key the URL is used as given (it may be signed already)."
)]
pub struct PutArgs {
    /// Files to upload (- for stdin), then the object URL or a prefix ending in /.
    #[arg(value_names = ["FILE", "URL"], required = true, num_args = 1..)]
    pub paths: Vec<std::ffi::OsString>,

    /// Upload the files in folders, keeping their relative paths.
    #[arg(short, long)]
    pub recursive: bool,

    /// With -r, follow links to files and folders inside the folder (links
    /// out of it are never followed).
    #[arg(long)]
    pub follow_symlinks: bool,

    /// Canned ACL to send as x-amz-acl.
    #[arg(long, value_name = "ACL", default_value = crate::transfer::put::DEFAULT_ACL,
          value_parser = clap::builder::PossibleValuesParser::new(crate::transfer::put::CANNED_ACLS))]
    pub acl: String,

    /// Send no x-amz-acl header.
    #[arg(long, conflicts_with = "acl")]
    pub no_acl: bool,

    /// Content-Type [default: guessed from the object's name].
    #[arg(long, value_name = "TYPE")]
    pub content_type: Option<String>,

    /// Cache-Control header of the object.
    #[arg(long, value_name = "VALUE")]
    pub cache_control: Option<String>,

    /// An extra request header, `Name: value` (repeatable).
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,

    /// User metadata `key=value`, sent as x-amz-meta-key (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    pub meta: Vec<String>,

    /// Upload this many objects at a time.
    #[arg(short, long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,

    /// Retries after a failed attempt, as for `get` [default: 4].
    #[arg(long, value_name = "N")]
    pub retries: Option<u32>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = PutFormat::Text)]
    pub format: PutFormat,

    /// Show a progress bar even when stderr is not a terminal.
    #[arg(long)]
    pub progress: bool,

    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,

    #[command(flatten)]
    pub key: KeyArgs,

    #[command(flatten)]
    pub policy: PolicyArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyType {
    /// RSA-2048 (signs with SHA-1 by default, like every CloudFront SDK).
    Rsa,
    /// ECDSA P-256 (signs with SHA-256).
    Ecdsa,
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Key type.
    #[arg(long = "type", value_enum, default_value_t = KeyType::Rsa)]
    pub r#type: KeyType,

    /// Folder to write private_key.pem and public_key.pem into.
    #[arg(long, value_name = "DIR")]
    pub out: Option<std::path::PathBuf>,

    /// Prefix for the file names (e.g. `prod-` gives prod-private_key.pem).
    #[arg(long, value_name = "PREFIX", default_value = "")]
    pub prefix: String,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Parses the command line, runs the command, and turns the outcome into an
/// exit code, printing errors as one line on stderr.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_error(e),
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            report(&e);
            ExitCode::from(e.exit_code())
        }
    }
}

pub fn run(cli: Cli) -> Result<ExitCode, Error> {
    let profile = || crate::profile::load(cli.profile.as_deref());
    match cli.command {
        Command::Sign(mut args) => {
            if let Some(p) = profile()? {
                p.apply(&mut args.key, &mut args.policy);
                for url in args.urls.iter_mut().chain(args.url_flags.iter_mut()) {
                    *url = p.expand_url(url);
                }
            }
            crate::commands::sign::run(args)
        }
        Command::SignCookies(mut args) => {
            if let Some(p) = profile()? {
                p.apply(&mut args.key, &mut args.policy);
                if let Some(resource) = args.policy.resource.as_mut() {
                    *resource = p.expand_url(resource);
                }
            }
            crate::commands::sign_cookies::run(args)
        }
        Command::Verify(args) => crate::commands::verify::run(args),
        Command::Get(mut args) => {
            if let Some(p) = profile()? {
                p.apply(&mut args.key, &mut args.policy);
                args.url = p.expand_url(&args.url);
            }
            crate::commands::get::run(args)
        }
        Command::Put(mut args) => {
            if let Some(p) = profile()? {
                p.apply(&mut args.key, &mut args.policy);
                // The URL comes last; a profile's domain completes a bare path.
                if let [_, .., url] = args.paths.as_mut_slice() {
                    if let Some(expanded) = url.to_str().map(|u| p.expand_url(u)) {
                        *url = expanded.into();
                    }
                }
            }
            crate::commands::put::run(args)
        }
        Command::Serve(args) => crate::commands::serve::run(args),
        Command::Keygen(args) => crate::commands::keygen::run(args),
        Command::Completions(args) => crate::commands::docs::completions(args),
        Command::Man => crate::commands::docs::man(),
    }
}

/// Prints an error as `cfsign: <message>` on one line.
pub fn report(e: &Error) {
    let message = e.to_string();
    // The last guard: a key's text given where another value goes (a URL,
    // `-o`, `--policy`, a time) is not shown, however the message quoted it.
    let message = crate::escape::without_key_text(&message, false);
    let _ = writeln!(
        std::io::stderr(),
        "cfsign: {}",
        crate::escape::line(&message)
    );
}

/// Prints a warning as `cfsign: warning: <message>`.
pub fn warn(message: impl std::fmt::Display) {
    let message = message.to_string();
    let message = crate::escape::without_key_text(&message, false);
    let _ = writeln!(
        std::io::stderr(),
        "cfsign: warning: {}",
        crate::escape::line(&message)
    );
}

/// clap's own errors span several lines; usage errors here are one line with
/// a pointer to `--help`, like every other error.
fn clap_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion)
        || e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    {
        let _ = e.print();
        return if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            ExitCode::from(exit::USAGE)
        } else {
            ExitCode::SUCCESS
        };
    }
    // clap quotes values as they were given: a key's text passed where
    // another value goes must not reach the terminal through it.
    let rendered = one_line(&e.render().to_string());
    let line = crate::escape::without_key_text(&rendered, true);
    let line = crate::escape::line(&line);
    let _ = writeln!(std::io::stderr(), "cfsign: {line} (see `cfsign --help`)");
    ExitCode::from(exit::USAGE)
}

/// The first paragraph of a rendered clap error on one line: the error and
/// the indented lines that complete it (the arguments that are missing, the
/// possible values), without the usage and tips that follow.
fn one_line(rendered: &str) -> String {
    let mut lines = rendered.lines().skip_while(|l| l.trim().is_empty());
    let Some(first) = lines.next() else {
        return "invalid arguments".to_string();
    };
    let first = first.trim().trim_start_matches("error: ");
    let rest: Vec<&str> = lines
        .take_while(|l| l.starts_with(char::is_whitespace) && !l.trim().is_empty())
        .map(str::trim)
        .collect();
    match (rest.is_empty(), first.ends_with(':')) {
        (true, _) => first.to_string(),
        (false, true) => format!("{first} {}", rest.join(", ")),
        (false, false) => format!("{first} {}", rest.join(" ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    fn rendered_error(args: &[&str]) -> String {
        let e = Cli::try_parse_from(args).expect_err("a usage error");
        one_line(&e.render().to_string())
    }

    #[test]
    fn usage_errors_name_what_is_missing_or_allowed() {
        assert_eq!(
            rendered_error(&["cfsign", "get"]),
            "the following required arguments were not provided: <URL>"
        );
        assert_eq!(
            rendered_error(&["cfsign", "serve"]),
            "the following required arguments were not provided: --root <DIR>"
        );
        assert_eq!(
            rendered_error(&["cfsign", "get", "u", "--hash-algorithm", "md5"]),
            "invalid value 'md5' for '--hash-algorithm <ALG>' [possible values: SHA1, SHA256]"
        );
        // Tips and the usage block stay out of the one line.
        assert_eq!(
            rendered_error(&["cfsign", "get", "u", "--bogus"]),
            "unexpected argument '--bogus' found"
        );
        assert_eq!(
            rendered_error(&["cfsign", "get", "u", "--retries", "x"]),
            "invalid value 'x' for '--retries <N>': invalid digit found in string"
        );
        assert_eq!(one_line(""), "invalid arguments");
    }
}
