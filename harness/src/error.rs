//! Library error type and the process exit codes derived from it.
//!
//! Messages are lowercase, name the value and the place, and end with a hint where one helps.

use std::path::PathBuf;

/// Exit codes, documented in README.md.
pub mod exit {
    /// Everything held.
    pub const OK: i32 = 0;
    /// An SLO or invariant was violated, a regression was found, or a required check failed.
    pub const VIOLATED: i32 = 1;
    /// Bad input: a flag, a plan file, a path.
    pub const BAD_INPUT: i32 = 2;
    /// Set-up failed: the backend could not start or could not be reached.
    pub const SETUP: i32 = 3;
    /// Interrupted by Ctrl-C or SIGTERM (128 + SIGINT); everything was torn down first.
    pub const INTERRUPTED: i32 = 130;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The user asked for something that cannot work as given.
    #[error("{0}")]
    BadInput(String),

    /// A backend could not be started, reached or torn down.
    #[error("{0}")]
    Setup(String),

    /// A Route 53 API call failed in a way the caller did not expect.
    #[error("route 53 {operation} failed: {message}")]
    Route53 { operation: &'static str, message: String },

    /// Reading or writing a file of ours failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The run was interrupted (Ctrl-C / SIGTERM).
    #[error("interrupted")]
    Interrupted,
}

impl Error {
    pub fn bad_input(msg: impl Into<String>) -> Self {
        Error::BadInput(msg.into())
    }

    pub fn setup(msg: impl Into<String>) -> Self {
        Error::Setup(msg.into())
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    /// The process exit code this error maps to.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::BadInput(_) => exit::BAD_INPUT,
            Error::Setup(_) | Error::Route53 { .. } | Error::Io { .. } => exit::SETUP,
            Error::Interrupted => exit::INTERRUPTED,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
