//! Errors a person (or an agent) can act on. Every variant says what went
//! wrong, where, and how to fix it; they map to exit code 2 and to MCP
//! `isError` results, never to a crash.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::config::ConfigError;

#[derive(Debug)]
pub enum CheckError {
    /// billguard.toml is unreadable or wrong.
    Config(ConfigError),
    /// An input file (fixture, users.json) is missing or malformed.
    Input { path: PathBuf, line: Option<usize>, column: Option<usize>, message: String },
    /// The request itself cannot be served: bad argument, missing source.
    Usage(String),
    /// The app database could not be read (connect, auth, schema, query).
    Database(String),
    /// The billing provider's API could not be read completely (key, permission,
    /// network, a malformed page): no finding is computed from a partial list.
    Billing(String),
}

impl CheckError {
    pub fn input(path: &Path, message: impl Into<String>) -> Self {
        CheckError::Input { path: path.to_path_buf(), line: None, column: None, message: message.into() }
    }

    /// A streaming parse error, located by reading the document again up to its offset.
    pub fn stream(path: &Path, err: &crate::access::json_stream::StreamError, document: impl std::io::Read) -> Self {
        let (line, column) = crate::access::json_stream::locate(document, err.offset);
        CheckError::Input { path: path.to_path_buf(), line: Some(line), column: Some(column), message: err.message.clone() }
    }

    /// Which kind of problem, for the first word of an error message.
    pub fn kind(&self) -> &'static str {
        match self {
            CheckError::Config(_) => "configuration error",
            CheckError::Input { .. } => "input error",
            CheckError::Usage(_) => "usage error",
            CheckError::Database(_) => "database error",
            CheckError::Billing(_) => "billing API error",
        }
    }
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckError::Config(e) => write!(f, "{e}"),
            CheckError::Input { path, line, column, message } => {
                write!(f, "{}", path.display())?;
                if let (Some(l), Some(c)) = (line, column) {
                    write!(f, ":{l}:{c}")?;
                }
                write!(f, ": {message}")
            }
            CheckError::Usage(m) | CheckError::Database(m) | CheckError::Billing(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for CheckError {}

impl From<ConfigError> for CheckError {
    fn from(e: ConfigError) -> Self {
        CheckError::Config(e)
    }
}
