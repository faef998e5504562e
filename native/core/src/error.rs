//! Errors are data: every fallible call returns a [`PlanError`] with a stable code; the Node binding
//! maps it to a JavaScript exception in one place.

use std::fmt;

/// The subset of Fresco's error codes (src/errors/index.ts) that the native core can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// `FRESCO_ERR_PLAN_INVALID`: the plan is malformed.
    PlanInvalid,
    /// `FRESCO_ERR_PLAN_INPUT`: the columns given to a plan do not match it.
    PlanInput,
    /// `FRESCO_ERR_INTERNAL`: a bug (for example a panic caught at the boundary).
    Internal,
    /// `FRESCO_ERR_ONLINE_STORE`: the embedded online store cannot be opened, read or written.
    OnlineStore,
}

impl ErrorCode {
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::PlanInvalid => "FRESCO_ERR_PLAN_INVALID",
            ErrorCode::PlanInput => "FRESCO_ERR_PLAN_INPUT",
            ErrorCode::Internal => "FRESCO_ERR_INTERNAL",
            ErrorCode::OnlineStore => "FRESCO_ERR_ONLINE_STORE",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError {
    pub code: ErrorCode,
    pub message: String,
}

impl PlanError {
    pub fn invalid(message: impl Into<String>) -> Self {
        PlanError {
            code: ErrorCode::PlanInvalid,
            message: message.into(),
        }
    }
    pub fn input(message: impl Into<String>) -> Self {
        PlanError {
            code: ErrorCode::PlanInput,
            message: message.into(),
        }
    }
    pub fn store(message: impl Into<String>) -> Self {
        PlanError {
            code: ErrorCode::OnlineStore,
            message: message.into(),
        }
    }
    pub fn internal(message: impl Into<String>) -> Self {
        PlanError {
            code: ErrorCode::Internal,
            message: message.into(),
        }
    }
}

impl fmt::Display for PlanError {
    /// `[FRESCO_ERR_PLAN_INVALID] message`, the form the TypeScript side parses.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.code, self.message)
    }
}

impl std::error::Error for PlanError {}

pub type Result<T> = std::result::Result<T, PlanError>;
