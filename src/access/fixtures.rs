//! The fixture source: a directory that stands in for the billing provider
//! (`stripe/subscriptions.json` or `paddle/subscriptions.json`) and the app
//! database (`db/users.json`), with an optional `billguard.toml`.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use super::json_stream::Source;
use super::mapped::{MIN_MAPPED_LEN, MappedFile};
use super::model::Observations;
use super::subscriptions_json::{self, ListInfo};
use super::users_json::{self, UserKeys};
use crate::config::{BillingProvider, Config};
use crate::error::CheckError;

/// Where each part of a fixture directory is.
#[derive(Debug, Clone)]
pub struct FixtureDir {
    pub dir: PathBuf,
    pub subscriptions: Option<(PathBuf, BillingProvider)>,
    pub users: Option<PathBuf>,
    pub config: Option<PathBuf>,
    /// Set when both stripe/ and paddle/ exist and one was chosen.
    pub note: Option<String>,
}

impl FixtureDir {
    /// Looks at `dir`; `preferred` breaks a tie when both providers are present.
    pub fn locate(dir: &Path, preferred: BillingProvider) -> Result<FixtureDir, CheckError> {
        if !dir.is_dir() {
            return Err(CheckError::input(
                dir,
                format!(
                    "the fixtures directory does not exist; it should hold stripe/subscriptions.json (or paddle/subscriptions.json) and db/users.json{}",
                    if dir.exists() { " (this path is a file)" } else { "" }
                ),
            ));
        }
        let stripe = dir.join("stripe").join("subscriptions.json");
        let paddle = dir.join("paddle").join("subscriptions.json");
        let (subscriptions, note) = match (stripe.is_file(), paddle.is_file()) {
            (true, true) => {
                let (chosen, other) = match preferred {
                    BillingProvider::Paddle => ((paddle, BillingProvider::Paddle), "stripe"),
                    BillingProvider::Stripe => ((stripe, BillingProvider::Stripe), "paddle"),
                };
                let note = format!("fixtures hold both stripe/ and paddle/ subscriptions; used {} ([billing] provider), ignored {other}/", chosen.1.as_str());
                (Some(chosen), Some(note))
            }
            (true, false) => (Some((stripe, BillingProvider::Stripe)), None),
            (false, true) => (Some((paddle, BillingProvider::Paddle)), None),
            (false, false) => (None, None),
        };
        let users = Some(dir.join("db").join("users.json")).filter(|p| p.is_file());
        let config = Some(dir.join(crate::config::FILE_NAME)).filter(|p| p.is_file());
        // A fixture that links out of its directory would read (and report on) any file.
        for file in subscriptions.iter().map(|(p, _)| p).chain(users.iter()).chain(config.iter()) {
            if !crate::paths::resolves_inside(dir, file) {
                return Err(CheckError::input(file, "a symbolic link to a file outside the fixtures directory; billguard reads only files inside it"));
            }
        }
        Ok(FixtureDir { dir: dir.to_path_buf(), subscriptions, users, config, note })
    }
}

/// An opened fixture file, mapped when that was asked for and pays off.
struct Opened {
    file: File,
    len: Option<u64>,
    mapped: Option<MappedFile>,
}

impl Opened {
    fn open(path: &Path, map: bool) -> Result<Opened, CheckError> {
        let file = File::open(path).map_err(|e| CheckError::input(path, format!("cannot open: {e}")))?;
        let len = file.metadata().ok().filter(|m| m.is_file()).map(|m| m.len());
        let mapped = if map && len.is_some_and(|l| l >= MIN_MAPPED_LEN) { MappedFile::map(&file) } else { None };
        Ok(Opened { file, len, mapped })
    }

    fn source(&self) -> Source<'_, &File> {
        match &self.mapped {
            Some(m) => Source::Mapped(m),
            None => Source::Reader(&self.file),
        }
    }
}

/// Reads the subscriptions file into `obs`; `map` maps a large file instead
/// of reading it (see [`super::mapped`] for when that is safe).
pub fn read_subscriptions(path: &Path, map: bool, obs: &mut Observations) -> Result<ListInfo, CheckError> {
    let started = std::time::Instant::now();
    let opened = Opened::open(path, map)?;
    let info = subscriptions_json::read_subscriptions(opened.source(), opened.len, obs, parser_threads()).map_err(|e| {
        let reopened = File::open(path).map(BufReader::new);
        match reopened {
            Ok(doc) => CheckError::stream(path, &e, doc),
            Err(_) => CheckError::input(path, e.message.clone()),
        }
    })?;
    tracing::debug!(subscriptions = info.count, ms = started.elapsed().as_millis() as u64, "read the subscriptions file");
    if info.has_more {
        obs.notes.push(format!(
            "{} says has_more: it holds only the first page of the list, so customers on later pages look unsubscribed",
            path.display()
        ));
    }
    Ok(info)
}

/// Parser threads for large files: every core, at least two.
pub fn parser_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()).max(2)
}

/// Reads `db/users.json` into `obs`; `map` as for [`read_subscriptions`].
pub fn read_users(path: &Path, config: &Config, map: bool, obs: &mut Observations) -> Result<usize, CheckError> {
    let started = std::time::Instant::now();
    let opened = Opened::open(path, map)?;
    let keys = UserKeys::from_columns(&config.database.columns);
    let users = users_json::read_users(opened.source(), opened.len, &keys, obs, parser_threads()).map_err(|e| match File::open(path) {
        Ok(doc) => CheckError::stream(path, &e, BufReader::new(doc)),
        Err(_) => CheckError::input(path, e.message.clone()),
    })?;
    tracing::debug!(users, ms = started.elapsed().as_millis() as u64, "read the users file");
    if users > 0 && !obs.customer_tracked {
        // Read silently, every user would be unlinked: a revenue leak would turn into a warning.
        return Err(CheckError::input(
            path,
            format!(
                "no row has the customer column `{}` ([database.columns] customer_id); the first row's columns are: {}. Name the column that holds the billing customer id",
                keys.customer_id,
                first_row_columns(path).unwrap_or_else(|| "(unreadable)".into())
            ),
        ));
    }
    Ok(users)
}

/// The keys of the first object in a users file (read from its first 64 KB).
fn first_row_columns(path: &Path) -> Option<String> {
    use std::io::Read as _;
    let mut head = Vec::new();
    File::open(path).ok()?.take(64 << 10).read_to_end(&mut head).ok()?;
    let text = String::from_utf8_lossy(&head);
    let start = text.find('{')?;
    let mut depth = 0usize;
    let mut in_str = false;
    let mut escaped = false;
    for (i, c) in text[start..].char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_str => escaped = true,
            '"' => in_str = !in_str,
            '{' if !in_str => depth += 1,
            '}' if !in_str => {
                depth -= 1;
                if depth == 0 {
                    let row: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text[start..start + i + 1]).ok()?;
                    return Some(row.keys().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "));
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A subscriptions file over [`MIN_MAPPED_LEN`], so that mapping is used when asked for.
    fn large_file(dir: &Path, rows: usize, broken_at: Option<usize>) -> PathBuf {
        let mut doc = String::from("{\"object\":\"list\",\"has_more\":true,\"data\":[\n");
        for i in 0..rows {
            let status = if broken_at == Some(i) { "act\u{1}ive" } else { "active" };
            doc.push_str(&format!(
                "{}{{\"id\":\"sub_{i}\",\"customer\":\"cus_{i}\",\"status\":\"{status}\",\"items\":{{\"data\":[{{\"price\":{{\"id\":\"price_{}\"}}}}]}}}}\n",
                if i > 0 { "," } else { "" },
                i % 3
            ));
        }
        doc.push_str("]}\n");
        assert!(doc.len() as u64 > MIN_MAPPED_LEN);
        let path = dir.join("subscriptions.json");
        std::fs::write(&path, doc).unwrap();
        path
    }

    #[test]
    fn a_mapped_file_reads_like_a_read_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = large_file(dir.path(), 20_000, None);
        let read = |map: bool| {
            let mut obs = Observations::default();
            let info = read_subscriptions(&path, map, &mut obs).unwrap();
            let rows: Vec<(String, String, Vec<String>)> = obs
                .subscriptions
                .iter()
                .map(|s| (obs.str(s.id).to_string(), obs.str(s.customer).to_string(), s.prices.iter().map(|p| obs.str(*p).to_string()).collect()))
                .collect();
            (info.count, info.has_more, rows, obs.notes)
        };
        let mapped = read(true);
        assert_eq!(mapped.0, 20_000);
        assert!(mapped.1, "has_more after the array is seen");
        assert_eq!(mapped.2[19_999], ("sub_19999".to_string(), "cus_19999".to_string(), vec!["price_1".to_string()]));
        assert_eq!(mapped, read(false));
    }

    #[test]
    fn a_mapped_file_reports_errors_with_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = large_file(dir.path(), 20_000, Some(15_000));
        // Line 15,002 holds row 15,000; the column points into its status.
        let text = std::fs::read_to_string(&path).unwrap();
        let line = text.lines().nth(15_001).unwrap();
        let status = line.find("\"status\"").unwrap()..line.find('\u{1}').unwrap() + 2;
        let located = [true, false].map(|map| match read_subscriptions(&path, map, &mut Observations::default()).unwrap_err() {
            CheckError::Input { line, column, .. } => (line, column),
            other => panic!("{other:?}"),
        });
        assert_eq!(located[0], located[1], "mapped and read agree");
        assert_eq!(located[0].0, Some(15_002));
        assert!(located[0].1.is_some_and(|c| status.contains(&c)), "{located:?} vs {status:?}");
    }
}
