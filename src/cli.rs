//! The command line: clap definitions, dispatch, and how errors are shown.
//! Each subcommand's options are plain data here; `config` validates them
//! once into the types the commands work with.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum, ValueHint};

use crate::commands::docs::long_help;
use crate::config::key_value::SecretValue;
use crate::error::{Error, exit};
use crate::sign::{HashAlgorithm, SameSite};

#[derive(Debug, Parser)]
#[command(
    name = "cfsign",
    version,
    about = "CloudFront signed URLs and cookies, and transfers of private objects through CloudFront",
    propagate_version = true,
    max_term_width = 100,
    after_long_help = long_help("")
)]
pub struct Cli {
    /// Use this profile of the config file (~/.config/cfsign/config.toml) for
    /// the key and defaults of sign, sign-cookies, get and put
    /// [env: CFSIGN_PROFILE].
    // Not clap's `env`: the variable is read by `profile::load` only for the
    // commands that sign, so a CFSIGN_PROFILE exported for them never
    // disturbs verify, serve or keygen, while the flag given to those is an
    // error (see `refuse_profile`).
    #[arg(long, global = true, value_name = "NAME")]
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
    /// Print the man page (roff), or write every page into a folder.
    Man(ManArgs),
}

/// The key and hash options shared by `sign`, `get` and `put`.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Key")]
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
    #[arg(
        long,
        value_name = "KEY",
        allow_hyphen_values = true,
        value_hint = ValueHint::FilePath
    )]
    pub private_key: Option<SecretValue>,

    /// The profile's `private_key`, used when neither the flag nor the
    /// environment names a key.
    #[arg(skip)]
    pub profile_key: Option<crate::config::ProfileKey>,

    /// Digest to sign [default: SHA1 for RSA keys, SHA256 for ECDSA keys].
    #[arg(long, value_enum, value_name = "ALG", ignore_case = true)]
    pub hash_algorithm: Option<HashArg>,
}

/// When and where a signature is valid.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Policy")]
pub struct PolicyArgs {
    /// Expire this long after now: 90s, 15m, 1h, 1h30m, "1h 30m", 90min, 7d,
    /// 1day, 2w [default: 1h].
    #[arg(long, value_name = "DURATION", conflicts_with = "date_less_than")]
    pub expires_in: Option<String>,

    /// Expire at TIME: YYYY-MM-DD, YYYY-MM-DDThh:mm:ss[.f][Z|±hh:mm|±hhmm] (UTC) or Unix seconds.
    #[arg(long, value_name = "TIME", allow_negative_numbers = true)]
    pub date_less_than: Option<String>,

    /// Accept an expiry in the past and epoch values that look like mistakes.
    #[arg(long)]
    pub allow_past: bool,

    /// Not valid before TIME (makes a custom policy).
    #[arg(long, value_name = "TIME", allow_negative_numbers = true)]
    pub date_greater_than: Option<String>,

    /// Only for clients in this IPv4 address or CIDR block (makes a custom policy).
    #[arg(long, value_name = "IPV4[/N]")]
    pub ip_address: Option<String>,

    /// Policy resource, with * and ? wildcards; must match every URL signed
    /// (makes a custom policy, signed once for all URLs).
    #[arg(
        long,
        value_name = "PATTERN",
        visible_alias = "policy-resource",
        value_hint = ValueHint::Url
    )]
    pub resource: Option<String>,

    /// Sign this custom policy JSON (FILE or -) as given, after validating it.
    #[arg(
        long,
        value_name = "FILE",
        value_hint = ValueHint::FilePath,
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
#[command(after_long_help = long_help("sign"))]
pub struct SignArgs {
    /// URLs to sign; with none (or -), one per line from stdin.
    #[arg(value_name = "URL", value_hint = ValueHint::Url)]
    pub urls: Vec<String>,

    /// A URL to sign (the AWS CLI spelling); may be repeated.
    #[arg(long = "url", value_name = "URL", value_hint = ValueHint::Url)]
    pub url_flags: Vec<String>,

    #[command(flatten)]
    pub key: KeyArgs,

    #[command(flatten)]
    pub policy: PolicyArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = SignFormat::Url, help_heading = "Output")]
    pub format: SignFormat,

    #[command(flatten)]
    pub cookie: CookieArgs,
}

/// The attributes of printed `Set-Cookie` lines.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Output")]
pub struct CookieArgs {
    /// Cookie Domain attribute [default: the URL's host].
    #[arg(long, value_name = "DOMAIN", value_parser = parse_cookie_domain)]
    pub cookie_domain: Option<String>,

    /// Cookie Path attribute [default: /].
    #[arg(long, value_name = "PATH", value_parser = parse_cookie_path)]
    pub cookie_path: Option<String>,

    /// Cookie SameSite attribute [default: none, the browser's default].
    #[arg(long, value_enum, value_name = "POLICY", ignore_case = true)]
    pub same_site: Option<SameSiteArg>,

    /// Session cookies: no Expires attribute [default: Expires at the
    /// policy's expiry].
    #[arg(long)]
    pub session_cookie: bool,
}

/// `--cookie-domain`: a host name (a leading dot is allowed and ignored by
/// browsers). Anything else would be dropped by every cookie jar (a port, a
/// scheme, an empty value) or would add attributes of its own (`;`).
fn parse_cookie_domain(s: &str) -> Result<String, String> {
    let host = s.strip_prefix('.').unwrap_or(s);
    if host.contains(':') || host.contains('/') {
        return Err(
            "a cookie Domain is a host name only, without scheme, port or path (cookies are not per port): such as d111111abcdef8.cloudfront.net"
                .to_string(),
        );
    }
    let label_ok =
        |l: &str| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !host.split('.').all(label_ok) {
        return Err(
            "a cookie Domain is a host name: letters, digits, hyphens and dots, such as d111111abcdef8.cloudfront.net"
                .to_string(),
        );
    }
    Ok(s.to_string())
}

/// `--cookie-path`: begins with `/`, and holds no `;` (which would start
/// another attribute) and no control characters (RFC 6265, section 4.1.1).
fn parse_cookie_path(s: &str) -> Result<String, String> {
    if !s.starts_with('/') || s.chars().any(|c| c == ';' || c.is_control()) {
        return Err(
            "a cookie Path begins with / and holds no ; or control characters, such as /videos/"
                .to_string(),
        );
    }
    Ok(s.to_string())
}

impl CookieArgs {
    /// The first cookie-attribute flag given, for "does not apply" errors.
    pub fn first_given(&self) -> Option<&'static str> {
        [
            (self.cookie_domain.is_some(), "--cookie-domain"),
            (self.cookie_path.is_some(), "--cookie-path"),
            (self.same_site.is_some(), "--same-site"),
            (self.session_cookie, "--session-cookie"),
        ]
        .into_iter()
        .find_map(|(given, flag)| given.then_some(flag))
    }

    /// The attributes, with `default_domain` when no --cookie-domain is given.
    pub fn attributes(&self, default_domain: Option<String>) -> crate::sign::CookieAttributes {
        crate::sign::CookieAttributes {
            domain: self.cookie_domain.clone().or(default_domain),
            path: self.cookie_path.clone().unwrap_or_else(|| "/".to_string()),
            same_site: self.same_site.map(SameSite::from),
            session: self.session_cookie,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SignCookiesFormat {
    /// The AWS CLI's JSON object of cookie names and values.
    Json,
    /// Set-Cookie: lines, with the cookie attributes.
    Cookies,
    /// One Cookie: request header.
    Header,
}

#[derive(Debug, Args)]
#[command(
    after_help = "A canned policy when --resource is a plain URL; a custom policy when it holds \
* or ?, or with --date-greater-than or --ip-address. Prints one JSON object mapping each \
CloudFront-* cookie name to its value, as `aws cloudfront sign-cookies` does.",
    after_long_help = long_help("sign-cookies")
)]
pub struct SignCookiesArgs {
    #[command(flatten)]
    pub key: KeyArgs,

    #[command(flatten)]
    pub policy: PolicyArgs,

    /// Output format: the AWS CLI's JSON object, or Set-Cookie lines (with
    /// the cookie attributes) or a Cookie header as `sign` prints them.
    #[arg(long, value_enum, default_value_t = SignCookiesFormat::Json, help_heading = "Output")]
    pub format: SignCookiesFormat,

    #[command(flatten)]
    pub cookie: CookieArgs,
}

#[derive(Debug, Args)]
#[command(after_long_help = long_help("verify"))]
pub struct VerifyArgs {
    /// The signed URL, exactly as it is requested.
    #[arg(value_name = "URL", value_hint = ValueHint::Url)]
    pub url: String,

    /// A trusted public key as ID=PATH, ID=file://PATH, or ID= then the PEM text
    /// (repeatable). Without one, everything but the signature is checked.
    #[arg(
        long,
        value_name = "ID=KEY",
        allow_hyphen_values = true,
        help_heading = "Key"
    )]
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
    pub sha256: Option<crate::transfer::get::Sha256Digest>,

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
    pub idle_timeout: crate::time::HumanDuration,

    /// Uploads received at once; more PUTs get 503 SlowDown.
    #[arg(long, value_name = "N", default_value_t = crate::serve::DEFAULT_MAX_UPLOADS as u16,
          value_parser = clap::value_parser!(u16).range(1..), help_heading = "Network")]
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
    #[arg(long, value_name = "ACL", default_value = crate::transfer::put::DEFAULT_ACL,
          value_parser = clap::builder::PossibleValuesParser::new(crate::transfer::put::CANNED_ACLS),
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyType {
    /// RSA-2048 (signs with SHA-1 by default, like every CloudFront SDK).
    Rsa,
    /// ECDSA P-256 (signs with SHA-256).
    Ecdsa,
}

#[derive(Debug, Args)]
#[command(after_long_help = long_help("keygen"))]
pub struct KeygenArgs {
    /// Key type.
    #[arg(long = "type", value_enum, default_value_t = KeyType::Rsa)]
    pub r#type: KeyType,

    /// Folder to write private_key.pem and public_key.pem into [default: .].
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub out: Option<std::path::PathBuf>,

    /// Prefix for the file names (e.g. `prod-` gives prod-private_key.pem).
    #[arg(
        long,
        value_name = "PREFIX",
        default_value = "",
        hide_default_value = true
    )]
    pub prefix: String,
}

#[derive(Debug, Args)]
#[command(after_long_help = long_help("completions"))]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
#[command(after_long_help = long_help("man"))]
pub struct ManArgs {
    /// Write every page (cfsign.1 and cfsign-SUBCOMMAND.1) into DIR instead
    /// of printing the top page.
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub out: Option<std::path::PathBuf>,
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
        Command::Verify(args) => {
            refuse_profile(cli.profile.as_deref(), "verify", VERIFIES)?;
            crate::commands::verify::run(args)
        }
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
        Command::Serve(args) => {
            refuse_profile(cli.profile.as_deref(), "serve", VERIFIES)?;
            crate::commands::serve::run(args)
        }
        Command::Keygen(args) => {
            refuse_profile(
                cli.profile.as_deref(),
                "keygen",
                " (keygen makes a new key pair: name its private key in a profile's private_key)",
            )?;
            crate::commands::keygen::run(args)
        }
        Command::Completions(args) => {
            refuse_profile(cli.profile.as_deref(), "completions", "")?;
            crate::commands::docs::completions(args)
        }
        Command::Man(args) => {
            refuse_profile(cli.profile.as_deref(), "man", "")?;
            crate::commands::docs::man(args)
        }
    }
}

const VERIFIES: &str = " (it checks signatures with the public keys given by --public-key ID=PATH)";

/// `--profile` given to a command that signs nothing: a profile holds a
/// private key and signing defaults, so it would be silently ignored, and
/// `verify --profile prod` would seem to check against prod's key. Only the
/// flag is refused; `CFSIGN_PROFILE` is exported for the commands that sign
/// and is simply not read by the others.
fn refuse_profile(profile: Option<&str>, command: &str, hint: &str) -> Result<(), Error> {
    match profile {
        Some(_) => Err(Error::usage(format!(
            "--profile does not apply to `cfsign {command}`: profiles hold the key and defaults of sign, sign-cookies, get and put{hint}"
        ))),
        None => Ok(()),
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
/// clap's suggestion and a pointer to the command's `--help`, like every
/// other error.
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
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // clap quotes values as they were given: a key's text passed where
    // another value goes must not reach the terminal through it.
    let line = hide_quoted_keys(&usage_line(&e, &args));
    let _ = writeln!(std::io::stderr(), "cfsign: {}", crate::escape::line(&line));
    ExitCode::from(exit::USAGE)
}

/// A usage error with every quoted value that may be key text (a key given
/// in the wrong place: a stray argument, `--key-pair-id "$KEY"`, a key whose
/// newlines a secret store flattened to `\n`) replaced by a note: clap
/// quotes the offending value whole.
fn hide_quoted_keys(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for (i, part) in line.split('\'').enumerate() {
        if i > 0 {
            out.push('\'');
        }
        if i % 2 == 1 && crate::escape::may_be_key(part) {
            out.push_str("(a value that may be a key, not shown)");
        } else {
            out.push_str(part);
        }
    }
    out
}

/// A usage error on one line: clap's error, its "did you mean" tips, and the
/// help of the (sub)command being parsed: `unexpected argument '--privat-key'
/// found; tip: a similar argument exists: '--private-key' (see `cfsign sign
/// --help`)`.
fn usage_line<S: AsRef<std::ffi::OsStr>>(e: &clap::Error, args: &[S]) -> String {
    let mut rendered = e.render().to_string();
    // clap quotes the argument it could not place: a key given where
    // something else goes (flattened to one line, or a bare base64 body)
    // would be printed whole.
    for arg in args.iter().skip(1).map(|a| a.as_ref().to_string_lossy()) {
        // `--flag=value` is quoted by its parts, and so is a value that
        // holds `=` (base64 padding) where clap took it for `--flag=value`.
        let (before, after) = arg.split_once('=').unwrap_or((&arg, ""));
        for shown in [arg.as_ref(), before, after] {
            if !shown.is_empty() && crate::escape::may_be_key(shown) {
                rendered = rendered.replace(shown, crate::escape::KEY_NOT_SHOWN);
            }
        }
    }
    let mut line = one_line(&rendered);
    for tip in rendered.lines().map(str::trim) {
        // Only suggestions: clap's other tips (such as "to pass '--x' as a
        // value, use '-- --x'") mislead more often than they help a typo.
        if tip.starts_with("tip:") && tip.contains("similar") {
            line.push_str("; ");
            line.push_str(tip);
        }
    }
    format!("{line} (see `{} --help`)", command_path(args))
}

/// `cfsign` or `cfsign SUBCOMMAND`: the command whose help fits the error,
/// from the arguments (clap attaches its usage to only some errors). Only
/// `--profile NAME` and the help and version flags can come before the
/// subcommand.
fn command_path<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> String {
    use clap::CommandFactory;
    let mut rest = args.iter().skip(1).map(|a| a.as_ref().to_string_lossy());
    while let Some(arg) = rest.next() {
        if arg == "--profile" {
            rest.next();
        } else if !arg.starts_with('-') {
            return match Cli::command().find_subcommand(arg.as_ref()) {
                Some(sub) => format!("cfsign {}", sub.get_name()),
                None => "cfsign".to_string(),
            };
        }
    }
    "cfsign".to_string()
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

    fn usage_error(args: &[&str]) -> String {
        usage_line(&Cli::try_parse_from(args).expect_err("a usage error"), args)
    }

    #[test]
    fn usage_errors_keep_suggestions_and_name_the_subcommand() {
        assert_eq!(
            usage_error(&["cfsign", "sign", "--privat-key", "k"]),
            "unexpected argument '--privat-key' found; tip: a similar argument exists: '--private-key' (see `cfsign sign --help`)"
        );
        assert_eq!(
            usage_error(&["cfsign", "sing"]),
            "unrecognized subcommand 'sing'; tip: a similar subcommand exists: 'sign' (see `cfsign --help`)"
        );
        assert_eq!(
            usage_error(&["cfsign", "put", "--bogus", "a", "b"]),
            "unexpected argument '--bogus' found (see `cfsign put --help`)"
        );
    }
}

/// `--hash-algorithm`'s values, with the spellings users write; the signing
/// layer's [`HashAlgorithm`] knows nothing of flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum HashArg {
    #[value(name = "SHA1", alias = "sha1", alias = "SHA-1", alias = "sha-1")]
    Sha1,
    #[value(
        name = "SHA256",
        alias = "sha256",
        alias = "SHA-256",
        alias = "sha-256"
    )]
    Sha256,
}

impl From<HashArg> for HashAlgorithm {
    fn from(arg: HashArg) -> Self {
        match arg {
            HashArg::Sha1 => HashAlgorithm::Sha1,
            HashArg::Sha256 => HashAlgorithm::Sha256,
        }
    }
}

/// `--same-site`'s values, spelled as the `Set-Cookie` attribute is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SameSiteArg {
    #[value(name = "Strict")]
    Strict,
    #[value(name = "Lax")]
    Lax,
    #[value(name = "None")]
    None,
}

impl From<SameSiteArg> for SameSite {
    fn from(arg: SameSiteArg) -> Self {
        match arg {
            SameSiteArg::Strict => SameSite::Strict,
            SameSiteArg::Lax => SameSite::Lax,
            SameSiteArg::None => SameSite::None,
        }
    }
}
