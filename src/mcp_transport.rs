//! The stdio transport in front of the MCP SDK.
//!
//! The SDK drops a malformed request, or answers it without its `id`, so a
//! client that sent `params: [1, 2]`, `"jsonrpc": "1.0"`, no `method` or a line
//! that is not UTF-8 waits forever. This layer reads each line first: one that
//! the SDK can take goes through unchanged; any other gets a JSON-RPC error
//! carrying the request's `id` whenever it can be read. Both the SDK's output
//! and these errors reach stdout through one writer, a whole line at a time.

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, DuplexStream};
use tokio::sync::mpsc;

/// A line longer than this is answered with a parse error and skipped (the
/// largest legitimate request is a diff, capped well below it).
pub const MAX_LINE_BYTES: usize = 128 << 20;

/// What to do with one input line.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// Hand it to the SDK.
    Forward,
    /// Answer it with this error response (one JSON line, no newline).
    Answer(String),
    /// A malformed message without an id that expects no answer (a notification).
    Drop,
}

/// Judges one line (without its newline).
pub fn judge(line: &[u8]) -> Verdict {
    if line.iter().all(u8::is_ascii_whitespace) {
        return Verdict::Drop;
    }
    let text = match std::str::from_utf8(line) {
        Ok(t) => t,
        Err(_) => {
            // The id may still be readable once the bad bytes are replaced.
            let id = serde_json::from_str::<Value>(&String::from_utf8_lossy(line)).ok().and_then(|v| v.get("id").cloned());
            return Verdict::Answer(error(id.unwrap_or(Value::Null), -32700, "Parse error: the message is not valid UTF-8"));
        }
    };
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return Verdict::Answer(error(Value::Null, -32700, &format!("Parse error: not a JSON message ({})", e.classify_label()))),
    };
    // Batches (older protocol versions) are the SDK's to judge.
    let Value::Object(message) = &value else {
        return if value.is_array() { Verdict::Forward } else { Verdict::Answer(error(Value::Null, -32600, "Invalid Request: a message must be a JSON object")) };
    };
    let id = message.get("id").cloned();
    let reply = |code: i64, why: &str| match &id {
        Some(id) => Verdict::Answer(error(id.clone(), code, why)),
        None => Verdict::Drop,
    };
    if let Some(id) = &id
        && !(id.is_string() || id.is_i64() || id.is_u64())
    {
        return Verdict::Answer(error(Value::Null, -32600, "Invalid Request: `id` must be a string or an integer"));
    }
    if message.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return reply(-32600, "Invalid Request: `jsonrpc` must be \"2.0\"");
    }
    match message.get("method") {
        Some(Value::String(_)) => {}
        Some(_) => return reply(-32600, "Invalid Request: `method` must be a string"),
        // A response to a request of the server's own (roots/list, ping).
        None if id.is_some() && (message.contains_key("result") || message.contains_key("error")) => return Verdict::Forward,
        None => return reply(-32600, "Invalid Request: `method` is missing"),
    }
    match message.get("params") {
        None | Some(Value::Object(_)) => Verdict::Forward,
        Some(_) => reply(-32602, "Invalid params: `params` must be an object"),
    }
}

fn error(id: Value, code: i64, message: &str) -> String {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}}).to_string()
}

trait ClassifyLabel {
    fn classify_label(&self) -> &'static str;
}

impl ClassifyLabel for serde_json::Error {
    fn classify_label(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "read error",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "unexpected data",
            serde_json::error::Category::Eof => "incomplete",
        }
    }
}

/// Puts the filter between `input`/`output` and the SDK: returns the pair of
/// streams to give the SDK as its transport, and the output pump, which ends
/// once the SDK has dropped its side and everything it wrote is out: await it
/// before exiting, or the last answers are lost.
pub fn filtered<R, W>(input: R, output: W) -> ((DuplexStream, DuplexStream), tokio::task::JoinHandle<()>)
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (sdk_in, mut to_sdk) = tokio::io::duplex(1 << 16);
    let (from_sdk, sdk_out) = tokio::io::duplex(1 << 16);
    let (answers, mut answered) = mpsc::unbounded_channel::<String>();

    tokio::spawn(async move {
        let mut reader = BufReader::new(input);
        let mut line = Vec::new();
        loop {
            line.clear();
            match read_bounded_line(&mut reader, &mut line).await {
                Ok(LineRead::End) | Err(_) => break,
                Ok(LineRead::TooLong) => {
                    let _ = answers.send(error(Value::Null, -32700, "Parse error: the message is larger than billguard accepts"));
                }
                Ok(LineRead::Line) => match judge(&line) {
                    Verdict::Forward => {
                        line.push(b'\n');
                        if to_sdk.write_all(&line).await.is_err() {
                            break;
                        }
                    }
                    Verdict::Answer(reply) => {
                        tracing::debug!("answered a malformed message");
                        let _ = answers.send(reply);
                    }
                    Verdict::Drop => tracing::debug!("dropped a malformed notification"),
                },
            }
        }
        // Closing the SDK's input ends the session as stdin's end would.
        let _ = to_sdk.shutdown().await;
    });

    let pump = tokio::spawn(async move {
        let mut output = output;
        let mut sdk_lines = BufReader::new(sdk_out).lines();
        loop {
            let line = tokio::select! {
                line = sdk_lines.next_line() => match line {
                    Ok(Some(l)) => l,
                    _ => break,
                },
                Some(reply) = answered.recv() => reply,
            };
            if output.write_all(line.as_bytes()).await.is_err() || output.write_all(b"\n").await.is_err() || output.flush().await.is_err() {
                break;
            }
        }
    });

    ((sdk_in, from_sdk), pump)
}

enum LineRead {
    Line,
    TooLong,
    End,
}

/// Reads one line into `line` (without the newline), never holding more than
/// [`MAX_LINE_BYTES`]: the rest of an oversized line is skipped.
async fn read_bounded_line<R: AsyncRead + Unpin>(reader: &mut BufReader<R>, line: &mut Vec<u8>) -> std::io::Result<LineRead> {
    let mut too_long = false;
    loop {
        let chunk = reader.fill_buf().await?;
        if chunk.is_empty() {
            return Ok(if line.is_empty() && !too_long { LineRead::End } else if too_long { LineRead::TooLong } else { LineRead::Line });
        }
        let (used, done) = match memchr::memchr(b'\n', chunk) {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        let content = if done { &chunk[..used - 1] } else { chunk };
        if !too_long && line.len() + content.len() <= MAX_LINE_BYTES {
            line.extend_from_slice(content);
        } else {
            too_long = true;
            line.clear();
        }
        reader.consume(used);
        if done {
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(if too_long { LineRead::TooLong } else { LineRead::Line });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(line: &str) -> Value {
        match judge(line.as_bytes()) {
            Verdict::Answer(a) => serde_json::from_str(&a).unwrap(),
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn well_formed_messages_go_to_the_sdk() {
        for ok in [
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
            r#"{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"x"}}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            r#"{"jsonrpc":"2.0","id":3,"result":{"roots":[]}}"#,
        ] {
            assert_eq!(judge(ok.as_bytes()), Verdict::Forward, "{ok}");
        }
    }

    #[test]
    fn malformed_requests_are_answered_with_their_id() {
        let a = answer(r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":[1,2]}"#);
        assert_eq!((a["id"].clone(), a["error"]["code"].clone()), (json!(7), json!(-32602)));
        let a = answer(r#"{"jsonrpc":"2.0","id":"x8"}"#);
        assert_eq!((a["id"].clone(), a["error"]["code"].clone()), (json!("x8"), json!(-32600)));
        let a = answer(r#"{"jsonrpc":"1.0","id":9,"method":"tools/list"}"#);
        assert_eq!((a["id"].clone(), a["error"]["code"].clone()), (json!(9), json!(-32600)));
        let a = answer(r#"{"jsonrpc":"2.0","id":10,"method":5}"#);
        assert_eq!(a["id"], json!(10));
    }

    #[test]
    fn bad_utf8_and_bad_json_are_parse_errors() {
        let mut bytes = br#"{"jsonrpc":"2.0","id":11,"method":"tools/list","params":{"x":""#.to_vec();
        bytes.extend_from_slice(&[0xff, 0xfe]);
        bytes.extend_from_slice(br#""}}"#);
        match judge(&bytes) {
            Verdict::Answer(a) => {
                let a: Value = serde_json::from_str(&a).unwrap();
                assert_eq!((a["id"].clone(), a["error"]["code"].clone()), (json!(11), json!(-32700)));
            }
            other => panic!("{other:?}"),
        }
        let a = answer(r#"{"jsonrpc":"2.0","id":12,"method":"tools/list""#);
        assert_eq!((a["id"].clone(), a["error"]["code"].clone()), (Value::Null, json!(-32700)));
    }

    #[test]
    fn malformed_notifications_are_dropped() {
        assert_eq!(judge(br#"{"jsonrpc":"1.0","method":"notifications/initialized"}"#), Verdict::Drop);
        assert_eq!(judge(b"   "), Verdict::Drop);
    }

    #[tokio::test]
    async fn oversized_lines_are_skipped_without_holding_them() {
        let mut input = vec![b'x'; MAX_LINE_BYTES + 10];
        input.extend_from_slice(b"\n{\"a\":1}\n");
        let mut reader = BufReader::new(&input[..]);
        let mut line = Vec::new();
        assert!(matches!(read_bounded_line(&mut reader, &mut line).await.unwrap(), LineRead::TooLong));
        line.clear();
        assert!(matches!(read_bounded_line(&mut reader, &mut line).await.unwrap(), LineRead::Line));
        assert_eq!(line, b"{\"a\":1}");
    }
}
