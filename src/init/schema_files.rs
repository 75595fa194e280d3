//! Finds the files that declare the app's tables, in their conventional
//! places, and reads them with bounds: repository content is untrusted, so
//! the walk caps the files, the bytes and the depth, skips binary and huge
//! files, and follows no symlink that leads outside the repository (symlinked
//! directories are not followed at all).

use std::io::Read as _;
use std::path::{Path, PathBuf};

/// Files read at most, bytes per file, bytes in all, directory entries looked at, depth.
pub const MAX_FILES: usize = 300;
pub const MAX_FILE_BYTES: u64 = 512 * 1024;
pub const MAX_TOTAL_BYTES: usize = 8 * 1024 * 1024;
const MAX_ENTRIES: usize = 50_000;
const MAX_DEPTH: usize = 12;

/// Directories that hold no schema of the app's own, besides dependency directories.
const SKIP_DIRS: [&str; 17] = [
    "target", "dist", "build", "out", "coverage", "tmp", "env", "__pycache__", "test", "tests", "spec", "__tests__", "fixtures", "e2e",
    "cypress", "storybook-static", "Pods",
];

/// How early a kind of file is read: declarations, then migrations, then Go.
fn rank(rel: &str) -> Option<u8> {
    let p = rel.to_ascii_lowercase();
    let name = p.rsplit('/').next().unwrap_or(&p);
    let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
    let under = |dir: &str| p.starts_with(&format!("{dir}/")) || p.contains(&format!("/{dir}/"));
    let in_migrations = under("migrations") || under("migrate");
    match ext {
        "prisma" | "wasp" => Some(0),
        "rb" if name == "schema.rb" => Some(0),
        "py" if name == "models.py" || (under("models") && !name.starts_with("test")) => Some(0),
        "ts" | "js" | "mjs" | "mts" if !name.ends_with(".d.ts") && !name.contains(".test.") && !name.contains(".spec.") => {
            (name.starts_with("schema") || under("db") || under("drizzle") || under("schema")).then_some(0)
        }
        "ex" if under("lib") => Some(0),
        "php" if under("database/migrations") => Some(1),
        "exs" if under("priv/repo/migrations") => Some(1),
        "sql" if in_migrations || under("db") || under("drizzle") || under("supabase") || name == "schema.sql" => Some(1),
        "go" if !name.ends_with("_test.go") => Some(2),
        _ => None,
    }
}

/// Whether a file that matched by place is a schema by content (Ecto modules
/// with a schema, Go files with GORM); decided after a bounded read.
fn content_fits(rel: &str, text: &str) -> bool {
    if rel.ends_with(".ex") {
        return text.contains("schema \"");
    }
    if rel.ends_with(".go") {
        return text.contains("gorm");
    }
    true
}

/// Schema files under `dir` as (path relative to `root`, text), in reading
/// order: declarations first, then migrations (sorted, so in the order they
/// run), then Go. `dir` is `root` or an app below it.
pub fn find(root: &Path, dir: &Path) -> Vec<(String, String)> {
    let root_abs = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let mut candidates: Vec<(u8, String, PathBuf)> = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), 0usize)];
    let mut seen = 0usize;
    while let Some((d, depth)) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        let mut entries: Vec<_> = rd.filter_map(Result::ok).collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries.into_iter().rev() {
            seen += 1;
            if seen > MAX_ENTRIES {
                break;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
            if meta.is_dir() {
                if depth < MAX_DEPTH && !name.starts_with('.') && !SKIP_DIRS.contains(&name.as_str()) && !crate::paths::DEPENDENCY_DIRS.contains(&name.as_str()) {
                    stack.push((path, depth + 1));
                }
                continue;
            }
            let Some(rel) = path.strip_prefix(root).ok().map(|r| r.to_string_lossy().replace('\\', "/")) else { continue };
            let Some(rank) = rank(&rel) else { continue };
            if meta.file_type().is_symlink() {
                // A symlinked file counts only when it resolves inside the repository.
                match path.canonicalize() {
                    Ok(target) if target.starts_with(&root_abs) && target.is_file() => {}
                    _ => continue,
                }
            } else if !meta.is_file() {
                continue;
            }
            candidates.push((rank, rel, path));
        }
    }
    candidates.sort();
    let mut out = Vec::new();
    let mut total = 0usize;
    for (_, rel, path) in candidates {
        if out.len() >= MAX_FILES || total >= MAX_TOTAL_BYTES {
            break;
        }
        let Some(text) = read_bounded(&path) else { continue };
        if !content_fits(&rel, &text) {
            continue;
        }
        total += text.len();
        out.push((rel, text));
    }
    out
}

/// The file's text when it is small UTF-8 without NUL bytes; None otherwise.
pub fn read_bounded(path: &Path) -> Option<String> {
    let file = std::fs::File::open(path).ok()?;
    if file.metadata().ok()?.len() > MAX_FILE_BYTES {
        return None;
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).ok()?;
    if bytes.len() as u64 > MAX_FILE_BYTES || bytes.contains(&0) {
        return None;
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conventional_places_rank_and_others_do_not() {
        for (rel, want) in [
            ("prisma/schema.prisma", Some(0)),
            ("main.wasp", Some(0)),
            ("db/schema.rb", Some(0)),
            ("shop/models.py", Some(0)),
            ("shop/models/user.py", Some(0)),
            ("src/db/schema.ts", Some(0)),
            ("drizzle/tables.ts", Some(0)),
            ("lib/app/accounts/user.ex", Some(0)),
            ("database/migrations/2019_create_users.php", Some(1)),
            ("priv/repo/migrations/1_init.exs", Some(1)),
            ("migrations/001.sql", Some(1)),
            ("db/migrations/001.sql", Some(1)),
            ("internal/models/user.go", Some(2)),
            ("src/app/page.tsx", None),
            ("src/lib/stripe.ts", None),
            ("README.md", None),
            ("src/db/schema.d.ts", None),
            ("internal/models/user_test.go", None),
        ] {
            assert_eq!(rank(rel), want, "{rel}");
        }
    }
}
