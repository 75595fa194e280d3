//! Log output that goes through the same redactor as reports.
//!
//! At debug and trace levels the MCP SDK logs raw requests, and a tool's
//! `diff` argument may hold a key; so every log line is redacted before it
//! reaches stderr, whoever emitted it.

use std::io::{self, Write};

use tracing_subscriber::fmt::MakeWriter;

use crate::secrets;

/// Makes one [`RedactingStderr`] per log event.
#[derive(Debug, Clone, Copy, Default)]
pub struct RedactedStderr;

impl<'a> MakeWriter<'a> for RedactedStderr {
    type Writer = RedactingStderr<io::Stderr>;
    fn make_writer(&'a self) -> Self::Writer {
        RedactingStderr::new(io::stderr())
    }
}

/// Collects one event's text and writes it redacted when dropped, so that a key
/// split across several `write` calls is still seen whole.
pub struct RedactingStderr<W: Write> {
    buffer: Vec<u8>,
    out: W,
}

impl<W: Write> RedactingStderr<W> {
    pub fn new(out: W) -> Self {
        RedactingStderr { buffer: Vec::new(), out }
    }

    fn flush_redacted(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&self.buffer).into_owned();
        self.buffer.clear();
        self.out.write_all(secrets::redact_owned(text).as_bytes())
    }
}

impl<W: Write> Write for RedactingStderr<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<W: Write> Drop for RedactingStderr<W> {
    fn drop(&mut self) {
        let _ = self.flush_redacted();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_written_in_pieces_comes_out_redacted() {
        let key = format!("sk_{}_{}", "live", "4eC39HqLyjWDarjtT1zdp7dc9Ab1");
        let mut sink = Vec::new();
        {
            let mut w = RedactingStderr::new(&mut sink);
            let line = format!("request {{\"diff\": \"+const k = '{key}'\"}}\n");
            let (a, b) = line.split_at(30);
            w.write_all(a.as_bytes()).unwrap();
            w.write_all(b.as_bytes()).unwrap();
        }
        let out = String::from_utf8(sink).unwrap();
        assert!(!out.contains(&key), "{out}");
        assert!(out.contains("sk_live_") && out.ends_with("\"}\n"), "{out}");
    }
}
