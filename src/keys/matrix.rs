//! The matrix a launch-readiness review pastes: environment x billing variable
//! -> present or missing, kind, mode, redacted fingerprint. Built from the
//! observations (pure), rendered as a table in text and markdown.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use schemars::JsonSchema;
use serde::Serialize;

use super::model::{EnvKind, Environment, Observations, is_billing};
use super::values::{self, is_placeholder, mode_switch};
use crate::secrets;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CellStatus {
    /// Set to a value billguard read.
    Set,
    /// Declared with a value billguard cannot see (`${{ secrets.X }}`, a secretKeyRef, `${VAR}`).
    Declared,
    /// Set to an empty string: counts as missing.
    Empty,
    /// A placeholder or documentation key.
    Placeholder,
    /// Not set by any source of the environment.
    Missing,
    /// Not known: no source of the environment could be read (see `notes`).
    Unread,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Cell {
    pub environment: String,
    pub status: CellStatus,
    /// secret, restricted, publishable, webhook_secret, ... when the value is a key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// test, live or unknown, when the value is a key or a mode switch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// The value, redacted: a key's fingerprint (`sk_live_…a1b2`), a price id, a mode switch's value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `path:line` of the winning assignment, or the source (command, process environment).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The unselected switch it is read under.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_selected: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct MatrixRow {
    pub variable: String,
    /// Whether the code reads this variable (so its absence is a finding).
    pub read_by_code: bool,
    /// Every read has a fallback (`?? 'x'`, `os.getenv("X", d)`): absence is no finding
    /// (shown as "optional" where it is not set).
    pub optional: bool,
    /// One cell per environment, in the order of `environments`.
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct MatrixEnv {
    pub name: String,
    pub kind: EnvKind,
    pub sources: Vec<String>,
    /// False when only deployment files describe it: absent variables are then not judged.
    pub complete: bool,
    /// Sources that could not be read or were not run. When nothing was read,
    /// the environment was not examined and its cells are `unread`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<String>,
    /// True when no source could be read: nothing about this environment was judged.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub not_examined: bool,
}

/// Environment x billing variable.
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct Matrix {
    pub environments: Vec<MatrixEnv>,
    pub rows: Vec<MatrixRow>,
}

fn cell(env: &Environment, var: &str, obs: &Observations) -> Cell {
    let status = if env.unexamined() { CellStatus::Unread } else { CellStatus::Missing };
    let not_selected = obs.unselected(env, var).map(|c| c.shown());
    let mut c = Cell { environment: env.name.clone(), status, kind: None, mode: None, value: None, location: None, not_selected };
    let Some(a) = env.get(var) else { return c };
    c.location = Some(a.origin.shown());
    let Some(v) = a.value.as_deref().map(str::trim) else {
        c.status = CellStatus::Declared;
        return c;
    };
    if v.is_empty() {
        c.status = CellStatus::Empty;
        return c;
    }
    let class = secrets::classify_named(var, v);
    let keyish = class.is_some() || v.starts_with("price_") || values::expected_kind(var).is_some();
    c.status = if keyish && is_placeholder(v) { CellStatus::Placeholder } else { CellStatus::Set };
    if let Some(k) = class {
        c.kind = Some(values::kind_name(k.kind).into());
        c.mode = Some(values::mode_name(k.mode).into());
        c.value = Some(secrets::fingerprint(v));
    } else if let Some((_, mode)) = mode_switch(var, v) {
        c.mode = Some(values::mode_name(mode).into());
        c.value = Some(v.to_string());
    } else if v.starts_with("price_") && v.len() <= 40 && v.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_') {
        c.kind = Some("price".into());
        c.value = Some(v.to_string());
    }
    c
}

/// Builds the matrix over every environment (templates included) and every
/// billing variable read by the code or set in an environment.
pub fn build(obs: &Observations) -> Matrix {
    let read: BTreeSet<&str> = obs.code_refs.iter().map(|r| r.name.as_str()).collect();
    let mut vars: BTreeSet<&str> = read.clone();
    for env in &obs.environments {
        vars.extend(env.names().into_iter().filter(|n| is_billing(n, &obs.extra_variables)));
    }
    Matrix {
        environments: obs
            .environments
            .iter()
            .map(|e| MatrixEnv {
                name: e.name.clone(),
                kind: e.kind,
                sources: e.sources.clone(),
                complete: e.complete,
                unread: e.failed.clone(),
                not_examined: e.unexamined(),
            })
            .collect(),
        rows: vars
            .into_iter()
            .map(|v| MatrixRow {
                variable: v.to_string(),
                read_by_code: read.contains(v),
                optional: read.contains(v) && obs.code_refs.iter().filter(|r| r.name == v).all(|r| r.optional),
                cells: obs.environments.iter().map(|e| cell(e, v, obs)).collect(),
            })
            .collect(),
    }
}

impl Cell {
    fn short(&self, row: &MatrixRow, env: &MatrixEnv) -> String {
        let complete = env.complete && env.kind != EnvKind::Template;
        let read_by_code = row.read_by_code && !row.optional;
        match self.status {
            CellStatus::Set => match (&self.value, &self.kind, &self.mode) {
                (Some(v), _, _) => v.clone(),
                (None, Some(k), Some(m)) => format!("{k} ({m})"),
                _ => "set".into(),
            },
            CellStatus::Declared => "declared".into(),
            CellStatus::Empty => if read_by_code && complete { "EMPTY" } else { "empty" }.into(),
            CellStatus::Placeholder => "placeholder".into(),
            CellStatus::Missing if self.not_selected.is_some() => "not used".into(),
            CellStatus::Missing if read_by_code && complete => "MISSING".into(),
            CellStatus::Missing if row.optional => "optional (fallback)".into(),
            CellStatus::Missing => "-".into(),
            CellStatus::Unread => "?".into(),
        }
    }
}

impl Matrix {
    fn table(&self) -> (Vec<String>, Vec<Vec<String>>) {
        let mut header = vec!["variable".to_string()];
        header.extend(self.environments.iter().map(|e| {
            let unread = if e.not_examined { ", not read" } else { "" };
            format!("{} ({}{unread})", e.name, e.kind.as_str())
        }));
        let rows = self
            .rows
            .iter()
            .map(|r| {
                let mut row = vec![format!("{}{}", r.variable, if r.read_by_code { " *" } else { "" })];
                row.extend(r.cells.iter().zip(&self.environments).map(|(c, e)| c.short(r, e)));
                row
            })
            .collect();
        (header, rows)
    }

    /// A fixed-width table; `*` marks variables the code reads.
    pub fn render_text(&self) -> String {
        if self.rows.is_empty() || self.environments.is_empty() {
            return String::new();
        }
        let (header, rows) = self.table();
        let widths: Vec<usize> =
            (0..header.len()).map(|i| rows.iter().map(|r| r[i].chars().count()).chain([header[i].chars().count()]).max().unwrap_or(0)).collect();
        let mut out = String::new();
        for row in std::iter::once(&header).chain(rows.iter()) {
            let cells: Vec<String> = row.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
            let _ = writeln!(out, "  {}", cells.join("  ").trim_end());
        }
        out.push_str("  (* read by the code; MISSING = read by the code, absent from a fully read environment; - = not set; not used = read only under a switch this environment does not select; ? = environment not read)\n");
        out
    }

    pub fn render_markdown(&self) -> String {
        if self.rows.is_empty() || self.environments.is_empty() {
            return String::new();
        }
        let (header, rows) = self.table();
        let esc = |s: &str| s.replace('|', "\\|");
        let mut out = String::new();
        let _ = writeln!(out, "| {} |", header.iter().map(|h| esc(h)).collect::<Vec<_>>().join(" | "));
        let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
        for r in rows {
            let _ = writeln!(out, "| {} |", r.iter().map(|c| format!("`{}`", esc(c))).collect::<Vec<_>>().join(" | "));
        }
        out.push_str("\n`*` read by the code; `MISSING`: read by the code and absent from a fully read environment; `-`: not set; `not used`: read only under a switch this environment does not select; `?`: environment not read.\n");
        out
    }
}
