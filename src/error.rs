//! The one error type of the command line and the transfers, and the exit
//! code of each kind. Messages are one line; where a fix is known, the
//! message says it. The signing library's own errors ([`crate::sign`],
//! [`crate::time`]) convert into [`Error::Input`], which keeps them.

/// Exit codes, as documented in the README.
pub mod exit {
    /// Success.
    ///
    /// ```
    /// // What a shell reads as success.
    /// assert_eq!(cfsign::error::exit::OK, 0);
    /// ```
    pub const OK: u8 = 0;
    /// Any other runtime error.
    ///
    /// ```
    /// use cfsign::error::{Error, exit};
    /// assert_eq!(Error::Runtime("disk full".into()).exit_code(), exit::RUNTIME);
    /// ```
    pub const RUNTIME: u8 = 1;
    /// A usage or input error: flags, key, policy, time, URL.
    ///
    /// ```
    /// use cfsign::error::{Error, exit};
    /// assert_eq!(Error::usage("unknown flag").exit_code(), exit::USAGE);
    /// ```
    pub const USAGE: u8 = 2;
    /// The server refused (HTTP 4xx).
    ///
    /// ```
    /// use cfsign::error::{Error, exit};
    /// let denied = Error::Refused {
    ///     status: 403,
    ///     code: "AccessDenied".into(),
    ///     message: String::new(),
    ///     hint: None,
    /// };
    /// assert_eq!(denied.exit_code(), exit::REFUSED);
    /// assert_eq!(denied.to_string(), "403 AccessDenied");
    /// ```
    pub const REFUSED: u8 = 3;
    /// A network failure, or HTTP 5xx after retries.
    ///
    /// ```
    /// use cfsign::error::{Error, exit};
    /// assert_eq!(Error::Network("connection refused".into()).exit_code(), exit::NETWORK);
    /// ```
    pub const NETWORK: u8 = 4;
    /// An integrity failure: checksum, ETag or length mismatch.
    ///
    /// ```
    /// use cfsign::error::{Error, exit};
    /// assert_eq!(Error::Integrity("ETag mismatch".into()).exit_code(), exit::INTEGRITY);
    /// ```
    pub const INTEGRITY: u8 = 5;
    /// Interrupted (SIGINT).
    ///
    /// ```
    /// use cfsign::error::{Error, exit};
    /// // 128 + SIGINT, as shells report it.
    /// assert_eq!(Error::Interrupted.exit_code(), exit::INTERRUPTED);
    /// assert_eq!(exit::INTERRUPTED, 128 + 2);
    /// ```
    pub const INTERRUPTED: u8 = 130;
}

/// An error of the command line or a transfer, by exit code.
///
/// ```
/// use cfsign::error::{Error, exit};
/// let e: Error = "K2/x".parse::<cfsign::sign::KeyPairId>().unwrap_err().into();
/// assert_eq!(e.exit_code(), exit::USAGE);
/// // The library's typed error stays reachable.
/// let Error::Input(cause) = &e else { panic!("{e:?}") };
/// assert!(cause.downcast_ref::<cfsign::sign::KeyPairIdError>().is_some());
/// assert_eq!(Error::usage("bad flag").to_string(), "bad flag");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Bad flags, key, policy, time or URL: exit 2.
    #[error("{0}")]
    Usage(String),
    /// A key, policy, URL or time the signing library refused: exit 2, with
    /// the library's typed error kept as the source.
    #[error(transparent)]
    Input(Box<dyn std::error::Error + Send + Sync + 'static>),
    /// The server answered 4xx: exit 3.
    #[error(
        "{status} {code}{}{}",
        if message.is_empty() { String::new() } else { format!(": {message}") },
        hint.as_deref().map(|h| format!(" ({h})")).unwrap_or_default()
    )]
    Refused {
        /// The HTTP status.
        status: u16,
        /// CloudFront's or S3's error code (`AccessDenied`).
        code: String,
        /// Its message.
        message: String,
        /// The likely cause, when known.
        hint: Option<String>,
    },
    /// Connection failures, timeouts, 5xx after retries: exit 4.
    #[error("{0}")]
    Network(String),
    /// Checksum, ETag or length mismatch: exit 5.
    #[error("{0}")]
    Integrity(String),
    /// Anything else (I/O on our side): exit 1.
    #[error("{0}")]
    Runtime(String),
    /// SIGINT: exit 130.
    #[error("interrupted")]
    Interrupted,
}

impl Error {
    /// The process exit code for this error ([`exit`]).
    ///
    /// ```
    /// use cfsign::error::{Error, exit};
    /// let refused = cfsign::time::Expiry::At("soon".into()).resolve(1_800_000_000, false);
    /// let e: Error = refused.unwrap_err().into();
    /// assert_eq!(e.exit_code(), exit::USAGE);
    /// ```
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::Input(_) => exit::USAGE,
            Error::Refused { .. } => exit::REFUSED,
            Error::Network(_) => exit::NETWORK,
            Error::Integrity(_) => exit::INTEGRITY,
            Error::Runtime(_) => exit::RUNTIME,
            Error::Interrupted => exit::INTERRUPTED,
        }
    }

    /// A usage error with this message.
    ///
    /// ```
    /// let e = cfsign::Error::usage(format_args!("--part-size {} is too small", 1));
    /// assert!(matches!(e, cfsign::Error::Usage(_)));
    /// assert_eq!(e.to_string(), "--part-size 1 is too small");
    /// ```
    pub fn usage(message: impl std::fmt::Display) -> Self {
        Error::Usage(message.to_string())
    }
}

/// Short, stable wording for I/O errors (no OS error numbers).
///
/// ```
/// let e = std::io::Error::from(std::io::ErrorKind::NotFound);
/// assert_eq!(cfsign::error::io_reason(&e), "no such file");
/// ```
pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "it is a directory".into(),
        std::io::ErrorKind::NotADirectory => "a part of the path is not a folder".into(),
        _ => e.to_string(),
    }
}

macro_rules! usage_from {
    ($($t:ty),* $(,)?) => {
        $(impl From<$t> for Error {
            fn from(e: $t) -> Self {
                Error::Input(Box::new(e))
            }
        })*
    };
}

usage_from!(
    crate::sign::CookieError,
    crate::sign::KeyError,
    crate::sign::PolicyError,
    crate::sign::url::UrlError,
    crate::sign::SignError,
    crate::sign::KeyPairIdError,
    crate::sign::ip::IpRangeError,
    crate::sign::resource::ResourceError,
    crate::time::TimeError,
);
