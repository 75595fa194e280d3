//! Unified diff text (with or without git headers) -> the changed files,
//! each version reconstructed from what the hunks show. Lines outside the
//! hunks are unknown: they are left blank so that line numbers stay right,
//! and the analysis of a modified file is partial.

use std::collections::BTreeMap;

use super::{FileChange, Hunk};

/// Largest diff text billguard reads (CLI `--diff`, MCP `diff`): a handler
/// change is kilobytes; this is far beyond any real one.
pub const MAX_DIFF_BYTES: usize = 64 << 20;

/// Highest line number a hunk may name. Versions are rebuilt line by line, so a
/// header such as `@@ -4294967295,1 ...` would otherwise allocate gigabytes.
pub const MAX_LINE: u32 = 1_000_000;

/// Refuses diff text larger than [`MAX_DIFF_BYTES`].
pub fn check_size(len: usize) -> Result<(), String> {
    if len > MAX_DIFF_BYTES {
        return Err(format!(
            "the diff is larger than {} MB; review a smaller change, or run in the git checkout with --base instead of --diff",
            MAX_DIFF_BYTES >> 20
        ));
    }
    Ok(())
}

#[derive(Default)]
struct Building {
    old_path: Option<String>,
    new_path: Option<String>,
    added: bool,
    deleted: bool,
    binary: bool,
    mode_change: Option<(String, String)>,
    renamed: bool,
    before: BTreeMap<u32, String>,
    after: BTreeMap<u32, String>,
    hunks: usize,
    parsed: Vec<Hunk>,
}

fn strip_prefix(p: &str) -> Option<String> {
    let p = p.split('\t').next().unwrap_or(p).trim_end();
    let p = p.trim_matches('"');
    if p == "/dev/null" {
        return None;
    }
    Some(p.strip_prefix("a/").or_else(|| p.strip_prefix("b/")).unwrap_or(p).to_string())
}

fn hunk_header(line: &str) -> Option<(u32, u32, u32, u32)> {
    let rest = line.strip_prefix("@@ -")?;
    let (old, rest) = rest.split_once(" +")?;
    let (new, _) = rest.split_once(" @@")?;
    let range = |r: &str| -> Option<(u32, u32)> {
        match r.split_once(',') {
            Some((s, n)) => Some((s.parse().ok()?, n.parse().ok()?)),
            None => Some((r.parse().ok()?, 1)),
        }
    };
    let (os, on) = range(old)?;
    let (ns, nn) = range(new)?;
    Some((os, on, ns, nn))
}

/// Both versions in full, when `after` is the file the diff produced: the hunks
/// are checked against it and reversed to get the old version.
pub fn complete(hunks: &[Hunk], after: &str) -> Option<(String, String)> {
    let lines: Vec<&str> = after.lines().collect();
    let mut before: Vec<&str> = Vec::new();
    let mut at = 0usize;
    for h in hunks {
        let start = (h.new_start as usize).saturating_sub(1).max(if h.lines.iter().all(|(t, _)| *t == '-') { h.new_start as usize } else { 0 });
        if start < at || start > lines.len() {
            return None;
        }
        before.extend_from_slice(&lines[at..start]);
        at = start;
        for (tag, body) in &h.lines {
            match tag {
                '-' => before.push(body),
                _ => {
                    if lines.get(at) != Some(&body.as_str()) {
                        return None;
                    }
                    if *tag == ' ' {
                        before.push(lines[at]);
                    }
                    at += 1;
                }
            }
        }
    }
    before.extend_from_slice(&lines[at.min(lines.len())..]);
    Some((before.join("\n") + "\n", after.to_string()))
}

/// Both versions in full, when `before` is the file the diff applies to (the change
/// is not in the working tree yet): the hunks are turned around and checked against it.
pub fn complete_from_before(hunks: &[Hunk], before: &str) -> Option<(String, String)> {
    let mut shift: i64 = 0;
    let reversed: Vec<Hunk> = hunks
        .iter()
        .map(|h| {
            let added = h.lines.iter().filter(|(t, _)| *t == '+').count() as i64;
            let removed = h.lines.iter().filter(|(t, _)| *t == '-').count() as i64;
            let old_start = (i64::from(h.new_start) - shift).max(0) as u32;
            shift += added - removed;
            let lines = h.lines.iter().map(|(t, l)| (match t { '+' => '-', '-' => '+', c => *c }, l.clone())).collect();
            Hunk { new_start: old_start, section: h.section.clone(), lines }
        })
        .collect();
    let (after, before) = complete(&reversed, before)?;
    Some((before, after))
}

fn text_of(lines: &BTreeMap<u32, String>) -> Vec<u8> {
    let last = lines.keys().next_back().copied().unwrap_or(0);
    let mut out = String::new();
    for n in 1..=last {
        if let Some(l) = lines.get(&n) {
            out.push_str(l);
        }
        out.push('\n');
    }
    out.into_bytes()
}

impl Building {
    fn finish(self, out: &mut Vec<FileChange>) {
        if self.old_path.is_none() && self.new_path.is_none() {
            return;
        }
        let added = self.added || (self.old_path.is_none() && self.new_path.is_some());
        let deleted = self.deleted || (self.new_path.is_none() && self.old_path.is_some());
        out.push(FileChange {
            before: (!added && !self.binary).then(|| text_of(&self.before)),
            after: (!deleted && !self.binary).then(|| text_of(&self.after)),
            old_path: if added { None } else { self.old_path.clone().or(self.new_path.clone()) },
            new_path: if deleted { None } else { self.new_path.or(self.old_path) },
            binary: self.binary,
            mode_change: self.mode_change,
            renamed: self.renamed,
            partial: !added && !deleted && self.hunks > 0,
            hunks: self.parsed.into_iter().map(|mut h| {
                super::hunk_comments::mark_block_comments(&mut h);
                h
            }).collect(),
        });
    }
}

/// Parses diff text into changed files.
pub fn parse(text: &str) -> Result<Vec<FileChange>, String> {
    let mut files = Vec::new();
    let mut cur: Option<Building> = None;
    let mut lines = text.lines().peekable();
    let mut old_mode = String::new();
    while let Some(line) = lines.next() {
        if let Some(rest) = line.strip_prefix("diff --git ") {
            if let Some(b) = cur.take() {
                b.finish(&mut files);
            }
            let mut b = Building::default();
            if let Some((a, bpath)) = rest.split_once(" b/") {
                b.old_path = strip_prefix(a);
                b.new_path = strip_prefix(&format!("b/{bpath}"));
            }
            cur = Some(b);
            continue;
        }
        if line.starts_with("--- ") && lines.peek().is_some_and(|n| n.starts_with("+++ ")) {
            let plus = lines.next().unwrap_or_default();
            let is_new_file = cur.as_ref().is_none_or(|b| b.hunks > 0);
            if is_new_file {
                if let Some(b) = cur.take() {
                    b.finish(&mut files);
                }
                cur = Some(Building::default());
            }
            let b = cur.as_mut().expect("just set");
            b.old_path = strip_prefix(&line[4..]);
            b.new_path = strip_prefix(&plus[4..]);
            continue;
        }
        let Some(b) = cur.as_mut() else {
            if line.starts_with("@@ ") {
                return Err("a hunk (@@ line) comes before any file header: expected `diff --git` or `---`/`+++` lines first".into());
            }
            continue;
        };
        if line.starts_with("new file mode") {
            b.added = true;
        } else if line.starts_with("deleted file mode") {
            b.deleted = true;
        } else if let Some(m) = line.strip_prefix("old mode ") {
            old_mode = m.trim().to_string();
        } else if let Some(m) = line.strip_prefix("new mode ") {
            b.mode_change = Some((old_mode.clone(), m.trim().to_string()));
        } else if let Some(p) = line.strip_prefix("rename from ") {
            b.old_path = Some(p.trim().to_string());
            b.renamed = true;
        } else if let Some(p) = line.strip_prefix("rename to ") {
            b.new_path = Some(p.trim().to_string());
            b.renamed = true;
        } else if line.starts_with("Binary files ") || line.starts_with("GIT binary patch") {
            b.binary = true;
        } else if let Some((os, on, ns, nn)) = hunk_header(line) {
            let ends = [os.saturating_add(on), ns.saturating_add(nn)];
            if ends.iter().any(|e| *e > MAX_LINE) {
                return Err(format!("hunk header `{}` names a line past {MAX_LINE}, beyond any handler file", line.chars().take(80).collect::<String>()));
            }
            b.hunks += 1;
            // The text after the second `@@`: git's guess at the enclosing function.
            let section = line.splitn(3, "@@").nth(2).unwrap_or("").trim().chars().take(200).collect();
            b.parsed.push(Hunk { new_start: ns, section, lines: Vec::new() });
            let (mut o, mut n) = (os, ns);
            let (mut o_left, mut n_left) = (on, nn);
            while o_left > 0 || n_left > 0 {
                let Some(l) = lines.peek() else { break };
                if l.starts_with('\\') {
                    lines.next();
                    continue;
                }
                let (tag, body) = match l.chars().next() {
                    Some(c @ (' ' | '-' | '+')) => (c, &l[1..]),
                    None => (' ', ""),
                    _ => break,
                };
                match tag {
                    '-' if o_left > 0 => {
                        b.before.insert(o, body.to_string());
                        o += 1;
                        o_left -= 1;
                    }
                    '+' if n_left > 0 => {
                        b.after.insert(n, body.to_string());
                        n += 1;
                        n_left -= 1;
                    }
                    ' ' if o_left > 0 && n_left > 0 => {
                        b.before.insert(o, body.to_string());
                        b.after.insert(n, body.to_string());
                        o += 1;
                        n += 1;
                        o_left -= 1;
                        n_left -= 1;
                    }
                    _ => break,
                }
                if let Some(h) = b.parsed.last_mut() {
                    h.lines.push((tag, body.to_string()));
                }
                lines.next();
            }
        }
    }
    if let Some(b) = cur.take() {
        b.finish(&mut files);
    }
    if files.is_empty() {
        return Err("no file changes found: expected unified diff text (`git diff` output, or `---`/`+++` headers followed by @@ hunks)".into());
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn either_version_in_the_working_tree_completes_the_other() {
        let before = (1..=30).map(|i| format!("line {i}")).collect::<Vec<_>>().join("\n") + "\n";
        let after = before.replace("line 4\n", "line 4\nadded a\nadded b\n").replace("line 20\n", "").replace("line 27", "changed 27");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), &before).unwrap();
        std::fs::write(dir.path().join("b"), &after).unwrap();
        let out = std::process::Command::new("git").args(["diff", "--no-index", "-U2", "a", "b"]).current_dir(dir.path()).output().unwrap();
        let files = parse(&String::from_utf8(out.stdout).unwrap()).unwrap();
        let hunks = &files[0].hunks;
        assert_eq!(hunks.len(), 3);
        assert_eq!(complete(hunks, &after), Some((before.clone(), after.clone())));
        assert_eq!(complete_from_before(hunks, &before), Some((before.clone(), after.clone())));
        // A tree that holds neither version completes nothing.
        assert_eq!(complete_from_before(hunks, &before.replace("line 3", "other")), None);
    }

    #[test]
    fn reconstructs_both_sides_with_line_numbers() {
        let diff = "diff --git a/h.ts b/h.ts\nindex 1..2 100644\n--- a/h.ts\n+++ b/h.ts\n@@ -3,3 +3,3 @@\n keep\n-old\n+new\n tail\n";
        let files = parse(diff).unwrap();
        assert_eq!(files.len(), 1);
        let f = &files[0];
        assert!(f.partial);
        assert_eq!(String::from_utf8_lossy(f.before.as_ref().unwrap()), "\n\nkeep\nold\ntail\n");
        assert_eq!(String::from_utf8_lossy(f.after.as_ref().unwrap()), "\n\nkeep\nnew\ntail\n");
    }

    #[test]
    fn new_deleted_renamed_binary_and_plain_headers() {
        let diff = "diff --git a/n.py b/n.py\nnew file mode 100644\n--- /dev/null\n+++ b/n.py\n@@ -0,0 +1,2 @@\n+a\n+b\n\
diff --git a/d.py b/d.py\ndeleted file mode 100644\n--- a/d.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n\
diff --git a/o.ts b/r.ts\nsimilarity index 100%\nrename from o.ts\nrename to r.ts\n\
diff --git a/img.png b/img.png\nBinary files a/img.png and b/img.png differ\n\
diff --git a/s.sh b/s.sh\nold mode 100644\nnew mode 100755\n";
        let files = parse(diff).unwrap();
        assert_eq!(files.len(), 5);
        assert!(files[0].old_path.is_none() && !files[0].partial);
        assert!(files[1].new_path.is_none());
        assert!(files[2].renamed && files[2].new_path.as_deref() == Some("r.ts"));
        assert!(files[3].binary);
        assert_eq!(files[4].mode_change, Some(("100644".into(), "100755".into())));
        let plain = parse("--- old/x.py\n+++ new/x.py\n@@ -1 +1 @@\n-a\n+b\n").unwrap();
        assert_eq!(plain[0].new_path.as_deref(), Some("new/x.py"));
        assert!(parse("hello").is_err());
        assert!(parse("@@ -1 +1 @@\n-a\n+b\n").is_err());
    }
}
