//! The one error type of the command line, and the exit code of each kind.
//! Messages are one line; where a fix is known, the message says it.

/// Exit codes, as documented in the README.
pub mod exit {
    pub const OK: u8 = 0;
    pub const RUNTIME: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const REFUSED: u8 = 3;
    pub const NETWORK: u8 = 4;
    pub const INTEGRITY: u8 = 5;
    pub const INTERRUPTED: u8 = 130;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad flags, key, policy, time or URL: exit 2.
    #[error("{0}")]
    Usage(String),
    /// The server answered 4xx: exit 3.
    #[error(
        "{status} {code}{}{}",
        if message.is_empty() { String::new() } else { format!(": {message}") },
        hint.as_deref().map(|h| format!(" ({h})")).unwrap_or_default()
    )]
    Refused {
        status: u16,
        code: String,
        message: String,
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
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => exit::USAGE,
            Error::Refused { .. } => exit::REFUSED,
            Error::Network(_) => exit::NETWORK,
            Error::Integrity(_) => exit::INTEGRITY,
            Error::Runtime(_) => exit::RUNTIME,
            Error::Interrupted => exit::INTERRUPTED,
        }
    }

    pub fn usage(message: impl std::fmt::Display) -> Self {
        Error::Usage(message.to_string())
    }
}

/// Short, stable wording for I/O errors (no OS error numbers).
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
                Error::Usage(e.to_string())
            }
        })*
    };
}

usage_from!(
    crate::sign::KeyError,
    crate::sign::PolicyError,
    crate::sign::url::UrlError,
    crate::sign::ApplyError,
    crate::sign::KeyPairIdError,
    crate::sign::ip::IpRangeError,
    crate::sign::resource::ResourceError,
    crate::time::TimeError,
);
