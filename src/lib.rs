//! billguard: catches billing that drifts out of sync with what the app believes.
//!
//! Each check is a pure function from observations to a [`report::Report`];
//! sources gather the observations; the CLI (`main.rs`) and the MCP server
//! ([`mcp`]) are two thin faces of the same engine.

pub mod access;
pub mod all;
pub mod app_schema;
pub mod baseline;
pub mod billing_sdk;
pub mod cli;
pub mod config;
pub mod demo;
pub mod endpoints;
pub mod error;
pub mod init;
pub mod keys;
pub mod log_writer;
pub mod mcp;
pub mod mcp_transport;
pub mod parallel;
pub mod paths;
pub mod report;
pub mod rules;
pub mod sarif;
pub mod secrets;
pub mod suppress;
pub mod tool_args;
pub mod tool_schema;
pub mod webhook;
