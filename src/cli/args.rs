//! The command line as clap reads it: every flag of every subcommand, as
//! plain data. Nothing here is validated beyond what clap checks; `config`
//! turns these into the library's types once, before any work starts.

mod transfers;

pub use transfers::{
    DoctorArgs, DoctorFormat, GetArgs, OriginOperation, PutArgs, PutFormat, ServeArgs,
};

use clap::{Args, Parser, Subcommand, ValueEnum, ValueHint};

use crate::cli::commands::docs::long_help;
use crate::cli::config::key_value::SecretValue;
use cfsign::sign::{HashAlgorithm, SameSite};

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
    /// the key and defaults of sign, sign-cookies, get, put and doctor
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
    /// Check a distribution's setup step by step and name what is missing.
    Doctor(DoctorArgs),
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
    pub profile_key: Option<crate::cli::config::ProfileKey>,

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

    /// After printing the signed URLs, send a signed HEAD for each, and say
    /// on stderr which ones were refused, by whom, and the setup step that
    /// fixes it (exit 3 if any was; 4 on a network failure). A 404 counts as
    /// accepted, with a warning: the signature passed. With --format url only.
    #[arg(long, help_heading = "Check")]
    pub check: bool,

    /// With --check: also trust the certificate authorities in FILE (PEM)
    /// for HTTPS, as for `get`.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, requires = "check",
          help_heading = "Check")]
    pub cacert: Option<std::path::PathBuf>,
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
    let checked = cfsign::sign::CookieAttributes::default().with_domain(s);
    checked.map(|_| s.to_string()).map_err(|e| e.to_string())
}

/// `--cookie-path`: the library's rule (begins with `/`; ASCII without `;`
/// or control characters, RFC 6265, section 4.1.1).
fn parse_cookie_path(s: &str) -> Result<String, String> {
    let checked = cfsign::sign::CookieAttributes::default().with_path(s);
    checked.map(|_| s.to_string()).map_err(|e| e.to_string())
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

    /// The attributes, with `default_domain` when no --cookie-domain is given
    /// (the flags were checked by clap, with messages that name them; the
    /// library checks again what would break the header).
    pub fn attributes(
        &self,
        default_domain: Option<String>,
    ) -> Result<cfsign::sign::CookieAttributes, cfsign::sign::CookieError> {
        let mut attributes = cfsign::sign::CookieAttributes::default()
            .with_path(self.cookie_path.as_deref().unwrap_or("/"))?
            .with_session(self.session_cookie);
        // A URL's host is the default Domain, except an IP literal
        // (`[::1]`), which a Domain cannot name: those cookies stay the
        // host's own.
        let default_domain = default_domain.filter(|host| !host.starts_with('['));
        if let Some(domain) = self.cookie_domain.clone().or(default_domain) {
            attributes = attributes.with_domain(domain)?;
        }
        if let Some(same_site) = self.same_site {
            attributes = attributes.with_same_site(SameSite::from(same_site));
        }
        Ok(attributes)
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
