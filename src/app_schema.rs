//! The app's own schema, read from the files that declare it: Prisma (and
//! Wasp's PSL entities), Drizzle tables, ActiveRecord `schema.rb`, Django
//! models, Ecto schemas, and the migrations that drop columns (SQL, Rails,
//! Laravel, Django, Ecto). Field names are compared squashed (`has_paid` and
//! `hasPaid` are one field), since code and schema spell them differently.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use regex::Regex;

/// A field name as compared: lowercase, without `_` (the webhook model's own spelling).
pub use crate::webhook::lang::syntax::squash;

/// Whether a path is a file that declares or migrates the app's schema.
pub fn is_schema_file(path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    let name = p.rsplit('/').next().unwrap_or(&p);
    name.ends_with(".prisma")
        || name.ends_with(".wasp")
        || name == "schema.rb"
        || name == "models.py"
        || p.contains("/models/") && name.ends_with(".py")
        || p.contains("migrations/") || p.contains("migrate/") || p.contains("/migrations")
        || (name.ends_with(".ts") && (name.contains("schema") || p.contains("/db/")))
        || (name.ends_with(".ex") && p.contains("/schemas/"))
        || name.ends_with(".sql")
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("valid regex"))
}

/// The fields a schema file declares (squashed).
pub fn declared_fields(path: &str, text: &str) -> BTreeSet<String> {
    static PRISMA: OnceLock<Regex> = OnceLock::new();
    static RAILS: OnceLock<Regex> = OnceLock::new();
    static DJANGO: OnceLock<Regex> = OnceLock::new();
    static DRIZZLE: OnceLock<Regex> = OnceLock::new();
    static ECTO: OnceLock<Regex> = OnceLock::new();
    let p = path.to_ascii_lowercase();
    let pattern: &Regex = if p.ends_with(".prisma") || p.ends_with(".wasp") {
        // `  hasPaid   Boolean  @default(false)` inside a model or a Wasp `entity ... {=psl` block.
        re(&PRISMA, r"(?m)^\s*([A-Za-z_]\w*)\s+[A-Z]\w*(\[\])?\??(\s|$)")
    } else if p.ends_with(".rb") {
        // `t.boolean "has_paid", default: false`
        re(&RAILS, r#"(?m)^\s*t\.\w+\s+["':]([A-Za-z_]\w*)"#)
    } else if p.ends_with(".py") {
        // `has_paid = models.BooleanField(default=False)`
        re(&DJANGO, r"(?m)^\s+([A-Za-z_]\w*)\s*=\s*(models\.)?\w+Field\(")
    } else if p.ends_with(".ts") || p.ends_with(".js") {
        // Drizzle: `hasPaid: boolean('has_paid')`
        re(&DRIZZLE, r#"(?m)^\s*([A-Za-z_]\w*)\s*:\s*(boolean|text|varchar|integer|timestamp|serial|uuid|bigint|json|jsonb|real|numeric|date|pgEnum|int|tinyint|datetime)\s*\("#)
    } else if p.ends_with(".ex") || p.ends_with(".exs") {
        // Ecto: `field :has_paid, :boolean`
        re(&ECTO, r"(?m)^\s*field\s+:([A-Za-z_]\w*)")
    } else {
        return BTreeSet::new();
    };
    pattern.captures_iter(text).filter_map(|c| c.get(1)).map(|m| squash(m.as_str())).collect()
}

/// Columns that migration text drops (squashed): `DROP COLUMN has_paid`,
/// `remove_column :users, :has_paid`, `$table->dropColumn('has_paid')`,
/// `migrations.RemoveField(model_name="user", name="has_paid")`, Ecto `remove :has_paid`.
pub fn dropped_by_migration(text: &str) -> BTreeSet<String> {
    static PATTERNS: OnceLock<Vec<Regex>> = OnceLock::new();
    let patterns = PATTERNS.get_or_init(|| {
        [
            r#"(?i)drop\s+column\s+(?:if\s+exists\s+)?[`"\[]?([A-Za-z_]\w*)"#,
            r"remove_column\s*\(?\s*:\w+\s*,\s*:([A-Za-z_]\w*)",
            r#"dropColumn\(\s*\[?\s*['"]([A-Za-z_]\w*)"#,
            r#"RemoveField\([^)]*name\s*=\s*['"]([A-Za-z_]\w*)"#,
            // Ecto `remove :has_paid` or `remove(:has_paid)`.
            r"(?m)^\s*remove\s*\(?\s*:([A-Za-z_]\w*)",
        ]
        .iter()
        .map(|p| Regex::new(p).expect("valid regex"))
        .collect()
    });
    patterns.iter().flat_map(|r| r.captures_iter(text).filter_map(|c| c.get(1)).map(|m| squash(m.as_str()))).collect()
}

/// The fields a change takes out of the app's schema: declared in a schema
/// file before and in none after, or dropped by a migration the change adds.
/// `files` are (path, before, after) of the changed files.
pub fn dropped_fields<'a>(files: impl IntoIterator<Item = (&'a str, Option<&'a str>, Option<&'a str>)>) -> BTreeSet<String> {
    let (mut before, mut after, mut migrated) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for (path, b, a) in files {
        if !is_schema_file(path) {
            continue;
        }
        before.extend(b.map(|t| declared_fields(path, t)).unwrap_or_default());
        after.extend(a.map(|t| declared_fields(path, t)).unwrap_or_default());
        if b.is_none() {
            migrated.extend(a.map(dropped_by_migration).unwrap_or_default());
        }
    }
    let mut out: BTreeSet<String> = before.difference(&after).cloned().collect();
    out.extend(migrated.into_iter().filter(|f| !after.contains(f)));
    out
}

// ---------------------------------------------------------------------------
// Tables and columns: the reader init uses to find the users table.
// ---------------------------------------------------------------------------

/// A column's type, as coarse as the checks need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Boolean,
    Text,
    Timestamp,
    Integer,
    Other,
}

/// One column: its real name in the database (after `@map`, `db_column`,
/// `source:`, GORM's snake_case), its coarse type, and whether it is the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub ty: ColumnType,
    pub primary: bool,
}

/// A table as the schema files declare it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The table's name in the database (`users`, `accounts_user`, `app_users`).
    pub name: String,
    /// The model, struct or variable that declares it (`User`), when there is one.
    pub model: Option<String>,
    /// A Django model built on AbstractUser / AbstractBaseUser: the auth user.
    pub auth_user: bool,
    pub columns: Vec<Column>,
    /// The file that declares the table first, then the files that add columns to it.
    pub files: Vec<String>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

/// What one file says about one table: declares it, or adds and drops columns.
struct Piece {
    table: String,
    model: Option<String>,
    auth_user: bool,
    creates: bool,
    columns: Vec<Column>,
    dropped: Vec<String>,
}

impl Piece {
    fn new(table: impl Into<String>, creates: bool) -> Piece {
        Piece { table: table.into(), model: None, auth_user: false, creates, columns: Vec::new(), dropped: Vec::new() }
    }

    fn col(&mut self, name: impl Into<String>, ty: ColumnType, primary: bool) {
        let name = name.into();
        if name.is_empty() || self.columns.iter().any(|c| c.name == name) {
            return;
        }
        self.columns.push(Column { name, ty, primary });
    }

    /// A table without a declared key gets the framework's implicit `id`.
    fn implicit_id(&mut self, ty: ColumnType) {
        if !self.columns.iter().any(|c| c.primary) {
            if let Some(c) = self.columns.iter_mut().find(|c| c.name == "id") {
                c.primary = true;
            } else {
                self.columns.insert(0, Column { name: "id".into(), ty, primary: true });
            }
        }
    }
}

/// The tables that schema files declare, merged across files: a migration that
/// adds columns to a table (Laravel's `Schema::table`, `ALTER TABLE ... ADD`,
/// Rails' `add_column`, Ecto's `alter table`) adds them to the table an
/// earlier file declared. Pass migrations in the order they run (their names
/// sort that way). Files of no known kind are ignored; nothing here panics on
/// odd input.
pub fn read_tables<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<Table> {
    let mut tables: Vec<Table> = Vec::new();
    for (path, text) in files {
        for piece in read_pieces(path, text) {
            merge_piece(&mut tables, path, piece);
        }
    }
    tables.retain(|t| !t.columns.is_empty());
    tables
}

fn table_key(name: &str) -> String {
    let name = name.to_ascii_lowercase();
    name.strip_prefix("public.").map(str::to_string).unwrap_or(name)
}

fn merge_piece(tables: &mut Vec<Table>, path: &str, piece: Piece) {
    let key = table_key(&piece.table);
    let index = match tables.iter().position(|t| table_key(&t.name) == key) {
        Some(i) => i,
        None => {
            let name = piece.table.strip_prefix("public.").unwrap_or(&piece.table).to_string();
            tables.push(Table { name, model: None, auth_user: false, columns: Vec::new(), files: Vec::new() });
            tables.len() - 1
        }
    };
    let t = &mut tables[index];
    t.model = t.model.take().or(piece.model);
    t.auth_user |= piece.auth_user;
    let mut touched = false;
    for c in piece.columns {
        match t.columns.iter_mut().find(|old| old.name.eq_ignore_ascii_case(&c.name)) {
            Some(old) => old.primary |= c.primary,
            None => {
                t.columns.push(c);
                touched = true;
            }
        }
    }
    for d in &piece.dropped {
        let before = t.columns.len();
        t.columns.retain(|c| !c.name.eq_ignore_ascii_case(d));
        touched |= t.columns.len() != before;
    }
    if (touched || piece.creates) && !t.files.iter().any(|f| f == path) {
        t.files.push(path.to_string());
    }
}

fn read_pieces(path: &str, text: &str) -> Vec<Piece> {
    let p = path.to_ascii_lowercase();
    let ext = p.rsplit('.').next().unwrap_or("");
    match ext {
        "prisma" | "wasp" => prisma_tables(text),
        "ts" | "js" | "mjs" | "cjs" | "mts" => drizzle_tables(text),
        "rb" => rails_tables(text),
        "py" => django_tables(&p, text),
        "php" => laravel_tables(text),
        "ex" | "exs" => ecto_tables(text),
        "sql" => sql_tables(text),
        "go" => gorm_tables(text),
        _ => Vec::new(),
    }
}

/// Walks `text` from `start`, calling `visit(offset, byte, depth)` on each
/// byte outside quoted strings (`depth`: brackets open before it, a closing
/// bracket already counted out); stops when `visit` returns false.
fn scan_unquoted(text: &str, start: usize, mut visit: impl FnMut(usize, u8, i32) -> bool) {
    let bytes = text.as_bytes();
    let (mut depth, mut quote, mut i) = (0i32, None::<u8>, start);
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(_) if b == b'\\' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if matches!(b, b'"' | b'\'' | b'`') => quote = Some(b),
            None => {
                if matches!(b, b')' | b'}' | b']') {
                    depth -= 1;
                }
                if !visit(i, b, depth) {
                    return;
                }
                if matches!(b, b'(' | b'{' | b'[') {
                    depth += 1;
                }
            }
        }
        i += 1;
    }
}

/// The text between the bracket at `open` and its partner (exclusive), aware
/// of quoted strings; to the end of the text when unbalanced.
fn bracketed(text: &str, open: usize) -> &str {
    let mut close = None;
    scan_unquoted(text, open, |i, b, depth| {
        if i > open && depth == 0 && matches!(b, b')' | b'}' | b']') {
            close = Some(i);
        }
        close.is_none()
    });
    text.get(open + 1..close.unwrap_or(text.len())).unwrap_or("")
}

/// `text` split at `sep` outside brackets and quotes.
fn split_top(text: &str, sep: u8) -> Vec<&str> {
    let (mut out, mut start) = (Vec::new(), 0usize);
    scan_unquoted(text, 0, |i, b, depth| {
        if b == sep && depth == 0 {
            out.push(&text[start..i]);
            start = i + 1;
        }
        true
    });
    out.push(&text[start.min(text.len())..]);
    out
}

/// The lines of an indented block that starts after `from`: up to the first
/// non-empty line indented no deeper than `indent` (Python classes, Ruby and
/// Elixir `do ... end`).
fn indented_block(text: &str, from: usize, indent: usize) -> &str {
    let rest = &text[from.min(text.len())..];
    let mut end = rest.len();
    let mut offset = 0;
    for (n, line) in rest.split_inclusive('\n').enumerate() {
        if n > 0 && !line.trim().is_empty() && line.len() - line.trim_start().len() <= indent {
            end = offset;
            break;
        }
        offset += line.len();
    }
    &rest[..end]
}

fn indent_at(text: &str, offset: usize) -> usize {
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    text[line_start..offset].len() - text[line_start..offset].trim_start().len()
}

fn unquote(s: &str) -> String {
    s.trim().trim_matches(|c| matches!(c, '"' | '\'' | '`' | '[' | ']')).to_string()
}

/// `StripeCustomerID` -> `stripe_customer_id` (runs of capitals are one word, as GORM names them).
pub fn snake_case(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev_lower = i > 0 && (chars[i - 1].is_ascii_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            let prev_upper = i > 0 && chars[i - 1].is_ascii_uppercase();
            if i > 0 && (prev_lower || (prev_upper && next_lower)) && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn plural(s: &str) -> String {
    if s.ends_with('y') && !s.ends_with("ay") && !s.ends_with("ey") && !s.ends_with("oy") {
        format!("{}ies", &s[..s.len() - 1])
    } else if s.ends_with('s') || s.ends_with('x') || s.ends_with("ch") || s.ends_with("sh") {
        format!("{s}es")
    } else {
        format!("{s}s")
    }
}

fn type_of(word: &str) -> ColumnType {
    let w = word.to_ascii_lowercase();
    let w = w.trim_start_matches(':').trim_start_matches('*');
    let w = w.rsplit('.').next().unwrap_or(w);
    match w {
        "boolean" | "bool" | "nullbool" | "booleanfield" | "nullbooleanfield" => ColumnType::Boolean,
        "string" | "text" | "varchar" | "char" | "character" | "citext" | "uuid" | "nvarchar" | "nullstring" | "binary_id" | "ulid"
        | "longtext" | "mediumtext" | "tinytext" | "charfield" | "textfield" | "emailfield" | "slugfield" | "uuidfield" | "urlfield" => {
            ColumnType::Text
        }
        "datetime" | "timestamp" | "timestamptz" | "date" | "time" | "nulltime" | "deletedat" | "utc_datetime" | "utc_datetime_usec"
        | "naive_datetime" | "naive_datetime_usec" | "datetimetz" | "datetimefield" | "datefield" => ColumnType::Timestamp,
        "int" | "integer" | "bigint" | "smallint" | "tinyint" | "mediumint" | "serial" | "bigserial" | "smallserial" | "int2" | "int4"
        | "int8" | "int16" | "int32" | "int64" | "uint" | "uint8" | "uint16" | "uint32" | "uint64" | "nullint64" | "nullint32" | "id"
        | "biginteger" | "unsignedbiginteger" | "unsignedinteger" | "tinyinteger" | "smallinteger" | "foreignid" | "increments"
        | "bigincrements" | "integerfield" | "bigintegerfield" | "smallintegerfield" | "positiveintegerfield" | "autofield"
        | "bigautofield" | "foreignkey" | "onetoonefield" | "references" | "belongs_to" => ColumnType::Integer,
        _ => ColumnType::Other,
    }
}

/// Prisma models and Wasp `entity X {=psl ... psl=}` blocks.
fn prisma_tables(text: &str) -> Vec<Piece> {
    static HEAD: OnceLock<Regex> = OnceLock::new();
    static MAP: OnceLock<Regex> = OnceLock::new();
    let head = re(&HEAD, r"(?m)^\s*(model|entity)\s+(\w+)\s*\{(=psl)?");
    let map = re(&MAP, r#"@map\(\s*(?:name:\s*)?"([^"]+)"\s*\)"#);
    let models: BTreeSet<&str> = head.captures_iter(text).filter_map(|c| c.get(2)).map(|m| m.as_str()).collect();
    let mut out = Vec::new();
    for c in head.captures_iter(text) {
        let (Some(whole), Some(name)) = (c.get(0), c.get(2)) else { continue };
        let rest = &text[whole.end()..];
        let end = if c.get(3).is_some() { rest.find("psl=}") } else { rest.find("\n}").or_else(|| rest.find('}')) };
        let body = &rest[..end.unwrap_or(rest.len())];
        static TABLE_MAP: OnceLock<Regex> = OnceLock::new();
        let table_map = re(&TABLE_MAP, r#"@@map\(\s*(?:name:\s*)?"([^"]+)"\s*\)"#);
        let table = table_map.captures(body).and_then(|c| c.get(1)).map_or(name.as_str(), |m| m.as_str());
        let mut piece = Piece::new(table, true);
        piece.model = Some(name.as_str().to_string());
        for line in body.lines().map(|l| l.split("//").next().unwrap_or("").trim()) {
            if line.is_empty() || line.starts_with('@') {
                continue;
            }
            let mut parts = line.split_whitespace();
            let (Some(field), Some(ty)) = (parts.next(), parts.next()) else { continue };
            let base = ty.trim_end_matches('?').trim_end_matches("[]");
            if ty.ends_with("[]") || line.contains("@relation") || models.contains(base) || !field.chars().all(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let column = map.captures(line).and_then(|c| c.get(1)).map_or(field, |m| m.as_str());
            let ty = match base {
                "Boolean" => ColumnType::Boolean,
                "String" => ColumnType::Text,
                "DateTime" => ColumnType::Timestamp,
                "Int" | "BigInt" => ColumnType::Integer,
                _ => ColumnType::Other,
            };
            piece.col(column, ty, line.contains("@id"));
        }
        out.push(piece);
    }
    out
}

/// Drizzle: `export const users = pgTable("users", { id: serial("id").primaryKey(), ... })`.
fn drizzle_tables(text: &str) -> Vec<Piece> {
    static HEAD: OnceLock<Regex> = OnceLock::new();
    static ENTRY: OnceLock<Regex> = OnceLock::new();
    let head = re(&HEAD, r#"(?:(?:export\s+)?const\s+(\w+)\s*=\s*)?\b(?:pgTable|mysqlTable|sqliteTable|\w+\.table)\s*\(\s*["'`]([^"'`]+)["'`]\s*,\s*\{"#);
    let entry = re(&ENTRY, r#"^\s*["']?(\w+)["']?\s*:\s*(\w+)\s*\(\s*(?:["'`]([^"'`]+)["'`])?"#);
    let mut out = Vec::new();
    for c in head.captures_iter(text) {
        let (Some(whole), Some(table)) = (c.get(0), c.get(2)) else { continue };
        let body = bracketed(text, whole.end() - 1);
        let body: String = body.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
        let mut piece = Piece::new(table.as_str(), true);
        piece.model = c.get(1).map(|m| m.as_str().to_string());
        for e in split_top(&body, b',') {
            let Some(m) = entry.captures(e) else { continue };
            let (Some(key), Some(func)) = (m.get(1), m.get(2)) else { continue };
            let column = m.get(3).map_or(key.as_str(), |c| c.as_str());
            let mut ty = type_of(func.as_str());
            if e.contains("mode: \"boolean\"") || e.contains("mode: 'boolean'") {
                ty = ColumnType::Boolean;
            } else if e.contains("mode: \"timestamp") || e.contains("mode: 'timestamp") {
                ty = ColumnType::Timestamp;
            }
            piece.col(column, ty, e.contains(".primaryKey()"));
        }
        out.push(piece);
    }
    out
}

/// ActiveRecord `schema.rb` (`create_table "users" do |t| t.boolean "has_paid"`) and `add_column` / `remove_column`.
fn rails_tables(text: &str) -> Vec<Piece> {
    static HEAD: OnceLock<Regex> = OnceLock::new();
    static COL: OnceLock<Regex> = OnceLock::new();
    static ADD: OnceLock<Regex> = OnceLock::new();
    static REMOVE: OnceLock<Regex> = OnceLock::new();
    let head = re(&HEAD, r#"(?m)^[ \t]*create_table\s*\(?\s*["':]([\w.]+)["']?([^\n]*)\bdo\s*\|\s*\w+\s*\|"#);
    let col = re(&COL, r#"(?m)^\s*t\.(\w+)(?:\s*\(?\s*["':](\w+)["']?)?"#);
    let add = re(&ADD, r#"add_column\s*\(?\s*["':](\w+)["']?\s*,\s*["':](\w+)["']?\s*,\s*["':]?(\w+)"#);
    let remove = re(&REMOVE, r#"remove_column\s*\(?\s*["':](\w+)["']?\s*,\s*["':](\w+)"#);
    let mut out = Vec::new();
    for c in head.captures_iter(text) {
        let (Some(whole), Some(table)) = (c.get(0), c.get(1)) else { continue };
        let options = c.get(2).map_or("", |m| m.as_str());
        let body = indented_block(text, whole.start(), indent_at(text, whole.start() + whole.as_str().len() - whole.as_str().trim_start().len()));
        let mut piece = Piece::new(table.as_str(), true);
        for m in col.captures_iter(body) {
            let Some(kind) = m.get(1).map(|k| k.as_str()) else { continue };
            let name = m.get(2).map(|n| n.as_str());
            match (kind, name) {
                ("timestamps", _) => {
                    piece.col("created_at", ColumnType::Timestamp, false);
                    piece.col("updated_at", ColumnType::Timestamp, false);
                }
                ("references" | "belongs_to", Some(n)) => piece.col(format!("{n}_id"), ColumnType::Integer, false),
                ("index" | "check_constraint" | "foreign_key", _) => {}
                (k, Some(n)) => piece.col(n, type_of(k), false),
                _ => {}
            }
        }
        if !options.contains("id: false") {
            static PK: OnceLock<Regex> = OnceLock::new();
            let pk = re(&PK, r#"primary_key:\s*["':](\w+)"#).captures(options).and_then(|m| m.get(1)).map_or("id", |m| m.as_str());
            let ty = if options.contains("id: :uuid") || options.contains("id: :string") { ColumnType::Text } else { ColumnType::Integer };
            if let Some(existing) = piece.columns.iter_mut().find(|c| c.name == pk) {
                existing.primary = true;
            } else {
                piece.columns.insert(0, Column { name: pk.to_string(), ty, primary: true });
            }
        }
        out.push(piece);
    }
    for m in add.captures_iter(text) {
        let (Some(t), Some(n), Some(k)) = (m.get(1), m.get(2), m.get(3)) else { continue };
        let mut piece = Piece::new(t.as_str(), false);
        piece.col(n.as_str(), type_of(k.as_str()), false);
        out.push(piece);
    }
    for m in remove.captures_iter(text) {
        let (Some(t), Some(n)) = (m.get(1), m.get(2)) else { continue };
        let mut piece = Piece::new(t.as_str(), false);
        piece.dropped.push(n.as_str().to_string());
        out.push(piece);
    }
    out
}

/// Django models: `class User(AbstractUser):` with `has_paid = models.BooleanField(...)`;
/// the table is Meta's `db_table`, else `<app>_<model>`.
fn django_tables(path: &str, text: &str) -> Vec<Piece> {
    static CLASS: OnceLock<Regex> = OnceLock::new();
    static FIELD: OnceLock<Regex> = OnceLock::new();
    static DB_TABLE: OnceLock<Regex> = OnceLock::new();
    static DB_COLUMN: OnceLock<Regex> = OnceLock::new();
    let class = re(&CLASS, r"(?m)^class\s+(\w+)\s*\(([^)]*)\)\s*:");
    let field = re(&FIELD, r"(?m)^[ \t]+(\w+)\s*=\s*(?:models\.)?(\w*Field|ForeignKey|OneToOneField)\s*\(([^\n]*)");
    let db_table = re(&DB_TABLE, r#"db_table\s*=\s*["']([^"']+)["']"#);
    let db_column = re(&DB_COLUMN, r#"db_column\s*=\s*["']([^"']+)["']"#);
    // `app/models.py` and `app/models/user.py` belong to the app `app`.
    let parts: Vec<&str> = path.split('/').collect();
    let app = match parts.iter().rposition(|p| *p == "models" || *p == "models.py") {
        Some(i) if i > 0 => Some(parts[i - 1]),
        _ => None,
    };
    let mut out = Vec::new();
    for c in class.captures_iter(text) {
        let (Some(whole), Some(name), Some(bases)) = (c.get(0), c.get(1), c.get(2)) else { continue };
        let bases = bases.as_str();
        let auth_user = bases.contains("AbstractUser") || bases.contains("AbstractBaseUser");
        if !auth_user && !bases.contains("Model") {
            continue;
        }
        let body = indented_block(text, whole.start(), 0);
        if body.contains("abstract = True") || body.contains("abstract=True") {
            continue;
        }
        let model = name.as_str();
        let table = match (db_table.captures(body).and_then(|m| m.get(1)), app) {
            (Some(t), _) => t.as_str().to_string(),
            (None, Some(app)) => format!("{app}_{}", model.to_ascii_lowercase()),
            (None, None) => model.to_ascii_lowercase(),
        };
        let mut piece = Piece::new(table, true);
        piece.model = Some(model.to_string());
        piece.auth_user = auth_user;
        for m in field.captures_iter(body) {
            let (Some(f), Some(kind)) = (m.get(1), m.get(2)) else { continue };
            let (f, kind, args) = (f.as_str(), kind.as_str(), m.get(3).map_or("", |a| a.as_str()));
            if kind == "ManyToManyField" {
                continue;
            }
            let column = match db_column.captures(args).and_then(|c| c.get(1)) {
                Some(c) => c.as_str().to_string(),
                None if matches!(kind, "ForeignKey" | "OneToOneField") => format!("{f}_id"),
                None => f.to_string(),
            };
            piece.col(column, type_of(kind), args.contains("primary_key=True"));
        }
        if bases.contains("AbstractUser") {
            for (n, ty) in [
                ("password", ColumnType::Text),
                ("last_login", ColumnType::Timestamp),
                ("is_superuser", ColumnType::Boolean),
                ("username", ColumnType::Text),
                ("first_name", ColumnType::Text),
                ("last_name", ColumnType::Text),
                ("email", ColumnType::Text),
                ("is_staff", ColumnType::Boolean),
                ("is_active", ColumnType::Boolean),
                ("date_joined", ColumnType::Timestamp),
            ] {
                piece.col(n, ty, false);
            }
        } else if auth_user {
            piece.col("password", ColumnType::Text, false);
            piece.col("last_login", ColumnType::Timestamp, false);
        }
        piece.implicit_id(ColumnType::Integer);
        out.push(piece);
    }
    out
}

/// Laravel migrations: `Schema::create('users', ...)` and `Schema::table('users', ...)`
/// (Cashier's `stripe_id`), `up()` only.
fn laravel_tables(text: &str) -> Vec<Piece> {
    static HEAD: OnceLock<Regex> = OnceLock::new();
    static COL: OnceLock<Regex> = OnceLock::new();
    static DROP: OnceLock<Regex> = OnceLock::new();
    let head = re(&HEAD, r#"Schema::(create|table)\s*\(\s*['"]([\w.]+)['"]"#);
    let col = re(&COL, r#"\$\w+->(\w+)\(\s*(?:['"](\w+)['"])?([^;]*);"#);
    let drop = re(&DROP, r#"['"](\w+)['"]"#);
    let up = text.find("function down").map_or(text, |i| &text[..i]);
    let starts: Vec<_> = head.captures_iter(up).collect();
    let mut out = Vec::new();
    for (i, c) in starts.iter().enumerate() {
        let (Some(whole), Some(kind), Some(table)) = (c.get(0), c.get(1), c.get(2)) else { continue };
        let end = starts.get(i + 1).and_then(|n| n.get(0)).map_or(up.len(), |m| m.start());
        let body = &up[whole.end()..end];
        let mut piece = Piece::new(table.as_str(), kind.as_str() == "create");
        for m in col.captures_iter(body) {
            let Some(method) = m.get(1).map(|k| k.as_str()) else { continue };
            let name = m.get(2).map(|n| n.as_str());
            let rest = m.get(3).map_or("", |r| r.as_str());
            match method {
                "id" | "increments" | "bigIncrements" => piece.col(name.unwrap_or("id"), ColumnType::Integer, true),
                "timestamps" | "timestampsTz" | "nullableTimestamps" => {
                    piece.col("created_at", ColumnType::Timestamp, false);
                    piece.col("updated_at", ColumnType::Timestamp, false);
                }
                "softDeletes" | "softDeletesTz" => piece.col(name.unwrap_or("deleted_at"), ColumnType::Timestamp, false),
                "rememberToken" => piece.col("remember_token", ColumnType::Text, false),
                "dropColumn" | "dropColumns" => {
                    let args = m.get(0).map_or("", |a| a.as_str());
                    piece.dropped.extend(drop.captures_iter(args).filter_map(|d| d.get(1)).map(|d| d.as_str().to_string()));
                }
                "boolean" | "string" | "text" | "char" | "uuid" | "ulid" | "longText" | "mediumText" | "tinyText" | "timestamp"
                | "timestampTz" | "dateTime" | "dateTimeTz" | "date" | "integer" | "bigInteger" | "unsignedBigInteger"
                | "unsignedInteger" | "tinyInteger" | "smallInteger" | "foreignId" | "decimal" | "float" | "double" | "json"
                | "jsonb" | "enum" | "unsignedTinyInteger" | "unsignedSmallInteger" | "foreignUuid" => {
                    if let Some(n) = name {
                        let ty = if method == "foreignUuid" { ColumnType::Text } else { type_of(method) };
                        piece.col(n, ty, rest.contains("->primary()"));
                    }
                }
                _ => {}
            }
        }
        out.push(piece);
    }
    out
}

/// Ecto: `schema "users" do field :has_paid, :boolean` and migrations'
/// `create table(:users) do add :x, :string` / `alter table(:users)`.
fn ecto_tables(text: &str) -> Vec<Piece> {
    static SCHEMA: OnceLock<Regex> = OnceLock::new();
    static FIELD: OnceLock<Regex> = OnceLock::new();
    static MODULE: OnceLock<Regex> = OnceLock::new();
    static TABLE: OnceLock<Regex> = OnceLock::new();
    static ADD: OnceLock<Regex> = OnceLock::new();
    static REMOVE: OnceLock<Regex> = OnceLock::new();
    let schema = re(&SCHEMA, r#"(?m)^[ \t]*schema\s+"([\w.]+)"\s*do"#);
    let field = re(&FIELD, r"(?m)^\s*(field|belongs_to|timestamps)\b\s*\(?\s*(?::(\w+))?\s*,?\s*([\w.:]+)?([^\n]*)");
    let module = re(&MODULE, r"defmodule\s+([\w.]+)");
    let table = re(&TABLE, r"(?m)^[ \t]*(create|create_if_not_exists|alter)\s+table\(\s*:(\w+)([^\n]*)\)\s*do");
    let add = re(&ADD, r"(?m)^\s*(add|add_if_not_exists|modify)\s+:(\w+)\s*,\s*([\w.:]+)");
    let remove = re(&REMOVE, r"(?m)^\s*remove(?:_if_exists)?\s+:(\w+)");
    let mut out = Vec::new();
    for c in schema.captures_iter(text) {
        let (Some(whole), Some(name)) = (c.get(0), c.get(1)) else { continue };
        let body = indented_block(text, whole.start(), indent_at(text, whole.start() + whole.as_str().len() - whole.as_str().trim_start().len()));
        let mut piece = Piece::new(name.as_str(), true);
        piece.model = module.captures_iter(&text[..whole.start()]).last().and_then(|m| m.get(1)).map(|m| m.as_str().rsplit('.').next().unwrap_or("").to_string());
        for m in field.captures_iter(body) {
            let kind = m.get(1).map_or("", |k| k.as_str());
            let rest = m.get(4).map_or("", |r| r.as_str());
            match (kind, m.get(2)) {
                ("timestamps", _) => {
                    piece.col("inserted_at", ColumnType::Timestamp, false);
                    piece.col("updated_at", ColumnType::Timestamp, false);
                }
                ("belongs_to", Some(n)) => piece.col(format!("{}_id", n.as_str()), ColumnType::Integer, false),
                ("field", Some(n)) => {
                    static SOURCE: OnceLock<Regex> = OnceLock::new();
                    let source = re(&SOURCE, r"source:\s*:(\w+)").captures(rest).and_then(|s| s.get(1));
                    let column = source.map_or(n.as_str(), |s| s.as_str());
                    piece.col(column, m.get(3).map_or(ColumnType::Other, |t| type_of(t.as_str())), rest.contains("primary_key: true"));
                }
                _ => {}
            }
        }
        let pk_off = text[..whole.start()].rfind("@primary_key").is_some_and(|i| text[i..whole.start()].trim_start_matches("@primary_key").trim_start().starts_with("false"));
        if !pk_off {
            piece.implicit_id(ColumnType::Integer);
        }
        out.push(piece);
    }
    for c in table.captures_iter(text) {
        let (Some(whole), Some(kind), Some(name)) = (c.get(0), c.get(1), c.get(2)) else { continue };
        let creates = kind.as_str() != "alter";
        let body = indented_block(text, whole.start(), indent_at(text, whole.start() + whole.as_str().len() - whole.as_str().trim_start().len()));
        let mut piece = Piece::new(name.as_str(), creates);
        for m in add.captures_iter(body) {
            let (Some(n), Some(t)) = (m.get(2), m.get(3)) else { continue };
            let ty = if t.as_str() == "references" || t.as_str().starts_with("references") { ColumnType::Integer } else { type_of(t.as_str()) };
            piece.col(n.as_str(), ty, false);
        }
        if body.contains("timestamps(") {
            piece.col("inserted_at", ColumnType::Timestamp, false);
            piece.col("updated_at", ColumnType::Timestamp, false);
        }
        piece.dropped.extend(remove.captures_iter(body).filter_map(|m| m.get(1)).map(|m| m.as_str().to_string()));
        if creates && !c.get(3).is_some_and(|o| o.as_str().contains("primary_key: false")) {
            piece.implicit_id(ColumnType::Integer);
        }
        out.push(piece);
    }
    out
}

/// SQL: `CREATE TABLE users (...)` and `ALTER TABLE users ADD COLUMN ... / DROP COLUMN ...`.
fn sql_tables(text: &str) -> Vec<Piece> {
    static CREATE: OnceLock<Regex> = OnceLock::new();
    static ALTER: OnceLock<Regex> = OnceLock::new();
    static ADD: OnceLock<Regex> = OnceLock::new();
    static DROP: OnceLock<Regex> = OnceLock::new();
    static PK: OnceLock<Regex> = OnceLock::new();
    let create = re(&CREATE, r#"(?i)\bcreate\s+(?:(?:global\s+|local\s+)?(?:temporary|temp|unlogged)\s+)?table\s+(?:if\s+not\s+exists\s+)?([\w."`\[\]]+)\s*\("#);
    let alter = re(&ALTER, r#"(?is)\balter\s+table\s+(?:if\s+exists\s+)?(?:only\s+)?([\w."`\[\]]+)\s+([^;]*)"#);
    let add = re(&ADD, r#"(?is)^\s*add\s+(?:column\s+)?(?:if\s+not\s+exists\s+)?([\w"`\[\]]+)\s+([\w"]+(?:\s*\(\s*1\s*\))?)(.*)$"#);
    let drop = re(&DROP, r#"(?is)^\s*drop\s+(?:column\s+)?(?:if\s+exists\s+)?([\w"`\[\]]+)"#);
    let pk = re(&PK, r"(?is)^\s*(?:constraint\s+\S+\s+)?primary\s+key\s*\(([^)]*)\)");
    // Line comments out; string literals with `--` are rare in DDL.
    let text: String = text.lines().map(|l| l.split("--").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
    let mut out = Vec::new();
    let column_type = |ty: &str| {
        let t = ty.to_ascii_lowercase().replace(' ', "");
        if t.starts_with("tinyint(1)") {
            ColumnType::Boolean
        } else {
            type_of(t.trim_matches('"').split('(').next().unwrap_or(""))
        }
    };
    for c in create.captures_iter(&text) {
        let (Some(whole), Some(name)) = (c.get(0), c.get(1)) else { continue };
        let name = name.as_str().split('.').map(unquote).collect::<Vec<_>>().join(".");
        let mut piece = Piece::new(name, true);
        let body = bracketed(&text, whole.end() - 1);
        let mut keys = Vec::new();
        for entry in split_top(body, b',') {
            if let Some(m) = pk.captures(entry) {
                keys.extend(m.get(1).map_or("", |k| k.as_str()).split(',').map(unquote));
                continue;
            }
            let mut words = entry.split_whitespace();
            let (Some(col), Some(ty)) = (words.next(), words.next()) else { continue };
            let first = col.to_ascii_lowercase();
            if matches!(first.as_str(), "constraint" | "primary" | "unique" | "foreign" | "check" | "key" | "index" | "exclude" | "like" | "fulltext" | "spatial") {
                continue;
            }
            let lower = entry.to_ascii_lowercase();
            let ty_text = if ty.eq_ignore_ascii_case("tinyint(1)") || lower.contains("tinyint(1)") { "tinyint(1)" } else { ty };
            piece.col(unquote(col), column_type(ty_text), lower.contains("primary key"));
        }
        for k in keys {
            if let Some(c) = piece.columns.iter_mut().find(|c| c.name.eq_ignore_ascii_case(&k)) {
                c.primary = true;
            }
        }
        out.push(piece);
    }
    for c in alter.captures_iter(&text) {
        let (Some(name), Some(rest)) = (c.get(1), c.get(2)) else { continue };
        let name = name.as_str().split('.').map(unquote).collect::<Vec<_>>().join(".");
        let mut piece = Piece::new(name, false);
        for clause in split_top(rest.as_str(), b',') {
            let lower = clause.trim_start().to_ascii_lowercase();
            if ["add constraint", "add primary", "add foreign", "add unique", "add index", "add key", "add check", "drop constraint", "drop index", "drop primary", "drop foreign"]
                .iter()
                .any(|p| lower.starts_with(p))
            {
                continue;
            }
            if let Some(m) = add.captures(clause) {
                let (Some(col), Some(ty)) = (m.get(1), m.get(2)) else { continue };
                let tail = m.get(3).map_or("", |t| t.as_str()).to_ascii_lowercase();
                piece.col(unquote(col.as_str()), column_type(ty.as_str()), tail.contains("primary key"));
            } else if let Some(m) = drop.captures(clause) {
                piece.dropped.extend(m.get(1).map(|c| unquote(c.as_str())));
            }
        }
        if !piece.columns.is_empty() || !piece.dropped.is_empty() {
            out.push(piece);
        }
    }
    out
}

/// GORM models: `type User struct { gorm.Model; StripeCustomerID string; IsPro bool }`
/// -> table `users`, snake_case columns (`column:` tags and `TableName()` win).
fn gorm_tables(text: &str) -> Vec<Piece> {
    static HEAD: OnceLock<Regex> = OnceLock::new();
    static FIELD: OnceLock<Regex> = OnceLock::new();
    static COLUMN: OnceLock<Regex> = OnceLock::new();
    if !text.contains("gorm") {
        return Vec::new();
    }
    let head = re(&HEAD, r"(?m)^type\s+(\w+)\s+struct\s*\{");
    let field = re(&FIELD, r"(?m)^\s*([A-Z]\w*)\s+([\w.*\[\]]+)[ \t]*(`[^`\n]*`)?");
    let column = re(&COLUMN, r"column:(\w+)");
    let mut out = Vec::new();
    for c in head.captures_iter(text) {
        let (Some(whole), Some(name)) = (c.get(0), c.get(1)) else { continue };
        let name = name.as_str();
        let body = bracketed(text, whole.end() - 1);
        let table_name = Regex::new(&format!(r#"func\s*\(\s*\w*\s*\*?{name}\s*\)\s*TableName\(\)\s*string\s*\{{\s*return\s+"([\w.]+)""#))
            .ok()
            .and_then(|r| r.captures(text).and_then(|m| m.get(1)).map(|m| m.as_str().to_string()));
        let mut piece = Piece::new(table_name.unwrap_or_else(|| plural(&snake_case(name))), true);
        piece.model = Some(name.to_string());
        for line in body.lines() {
            let trimmed = line.trim();
            if trimmed == "gorm.Model" {
                piece.col("id", ColumnType::Integer, true);
                piece.col("created_at", ColumnType::Timestamp, false);
                piece.col("updated_at", ColumnType::Timestamp, false);
                piece.col("deleted_at", ColumnType::Timestamp, false);
                continue;
            }
            let Some(m) = field.captures(line) else { continue };
            let (Some(f), Some(ty)) = (m.get(1), m.get(2)) else { continue };
            let (f, ty) = (f.as_str(), ty.as_str());
            let tag = m.get(3).map_or("", |t| t.as_str());
            if tag.contains("gorm:\"-") || ty.starts_with("[]") || ty.starts_with("map[") {
                continue;
            }
            let base = ty.trim_start_matches('*');
            let known = matches!(type_of(base), ColumnType::Boolean | ColumnType::Text | ColumnType::Timestamp | ColumnType::Integer)
                || base.contains('.')
                || base.chars().next().is_some_and(|c| c.is_ascii_lowercase());
            if !known {
                // Another struct: a relation, not a column.
                continue;
            }
            let col = column.captures(tag).and_then(|m| m.get(1)).map_or_else(|| snake_case(f), |m| m.as_str().to_string());
            let ty = match base {
                "time.Time" | "sql.NullTime" | "gorm.DeletedAt" => ColumnType::Timestamp,
                "float32" | "float64" => ColumnType::Other,
                _ => type_of(base),
            };
            let primary = f == "ID" || tag.contains("primaryKey") || tag.contains("primary_key");
            piece.col(col, ty, primary);
        }
        out.push(piece);
    }
    out
}

/// The columns billing maps to in the app's table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BillingColumns {
    pub id: Option<String>,
    pub customer_id: Option<String>,
    /// A boolean column, or an SQL expression over a subscription status column.
    pub access: Option<String>,
    pub plan: Option<String>,
}

/// Whether a column name holds the billing provider's customer id.
pub fn is_customer_id(name: &str) -> bool {
    let key = squash(name);
    key.contains("customerid") || matches!(key.as_str(), "stripeid" | "paddleid" | "stripecustomer" | "paddlecustomer" | "lemonsqueezycustomer")
}

/// The one classifier init uses for every schema style: the key, the customer
/// id, the access boolean (or a status expression) and the plan.
pub fn classify(table: &Table) -> BillingColumns {
    let id = table.columns.iter().find(|c| c.primary).or_else(|| table.column("id")).map(|c| c.name.clone());
    let mut out = BillingColumns { id, ..BillingColumns::default() };
    let mut status = None;
    for c in &table.columns {
        if out.id.as_deref() == Some(c.name.as_str()) {
            continue;
        }
        let key = squash(&c.name);
        if is_customer_id(&c.name) {
            if out.customer_id.is_none() {
                out.customer_id = Some(c.name.clone());
            }
        } else if c.ty == ColumnType::Boolean
            && ["paid", "access", "premium", "subscribed", "ispro", "haspro", "subscriptionactive", "lifetime"].iter().any(|w| key.contains(w))
        {
            if out.access.is_none() {
                out.access = Some(c.name.clone());
            }
        } else if c.ty != ColumnType::Boolean
            && (key == "plan" || key == "tier" || key.ends_with("plan") || key.ends_with("tier") || key == "planname")
            && !key.contains("id")
        {
            if out.plan.is_none() {
                out.plan = Some(c.name.clone());
            }
        } else if matches!(c.ty, ColumnType::Text | ColumnType::Other) && matches!(key.as_str(), "subscriptionstatus" | "stripesubscriptionstatus") {
            status.get_or_insert_with(|| c.name.clone());
        }
    }
    if out.access.is_none()
        && let Some(s) = status
    {
        out.access = Some(format!("{s} IN ('active', 'trialing')"));
    }
    out
}

fn last_word(name: &str) -> String {
    let name = name.rsplit('.').next().unwrap_or(name).to_ascii_lowercase();
    name.rsplit('_').next().unwrap_or(&name).to_string()
}

fn is_user_table(t: &Table) -> bool {
    let name = t.name.rsplit('.').next().unwrap_or(&t.name).to_ascii_lowercase();
    t.auth_user || matches!(name.as_str(), "users" | "user") || t.model.as_deref().is_some_and(|m| m.eq_ignore_ascii_case("user"))
}

fn is_account_table(t: &Table) -> bool {
    const WORDS: [&str; 10] = ["account", "accounts", "profile", "profiles", "team", "teams", "organization", "organizations", "organisations", "workspaces"];
    WORDS.contains(&last_word(&t.name).as_str()) || t.model.as_deref().is_some_and(|m| WORDS.contains(&m.to_ascii_lowercase().as_str()))
}

/// The table billing maps to: the users table when it holds the customer id;
/// else an accounts / profiles / teams / organizations table that does (the
/// customer is the team); else the users table without one. None when no
/// table looks like either (a schema of `posts` only).
pub fn pick_billing_table(tables: &[Table]) -> Option<&Table> {
    let has_customer = |t: &&Table| t.columns.iter().any(|c| is_customer_id(&c.name));
    let users = || tables.iter().filter(|t| is_user_table(t));
    // Django's auth user first among user tables, then the one named exactly `users`.
    let rank = |t: &&Table| (!t.auth_user, !matches!(t.name.to_ascii_lowercase().as_str(), "users" | "user"));
    users()
        .filter(has_customer)
        .min_by_key(rank)
        .or_else(|| tables.iter().filter(|t| is_account_table(t)).find(has_customer))
        .or_else(|| users().min_by_key(rank))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_read_from_every_schema_style() {
        let prisma = "model User {\n  id        String  @id\n  hasPaid   Boolean @default(false)\n  posts     Post[]\n}\n";
        assert!(declared_fields("prisma/schema.prisma", prisma).contains("haspaid"));
        let wasp = "entity User {=psl\n  id Int @id\n  hasPaid Boolean @default(false)\npsl=}\n";
        assert!(declared_fields("main.wasp", wasp).contains("haspaid"));
        assert!(declared_fields("db/schema.rb", "  create_table \"users\" do |t|\n    t.boolean \"has_paid\", default: false\n").contains("haspaid"));
        assert!(declared_fields("app/models.py", "class User(Model):\n    has_paid = models.BooleanField(default=False)\n").contains("haspaid"));
        assert!(declared_fields("src/db/schema.ts", "export const users = pgTable('users', {\n  hasPaid: boolean('has_paid').default(false),\n});\n").contains("haspaid"));
        assert!(declared_fields("lib/app/schemas/user.ex", "  schema \"users\" do\n    field :has_paid, :boolean\n").contains("haspaid"));
    }

    #[test]
    fn a_change_that_drops_a_column_names_it_and_one_that_keeps_it_does_not() {
        let b = "model User {\n  id String @id\n  hasPaid Boolean\n  plan String?\n}\n";
        let a = "model User {\n  id String @id\n  plan String?\n}\n";
        assert_eq!(dropped_fields([("prisma/schema.prisma", Some(b), Some(a))]), BTreeSet::from(["haspaid".to_string()]));
        assert!(dropped_fields([("prisma/schema.prisma", Some(b), Some(b))]).is_empty());
        // A column moved to another model file is not dropped.
        assert!(dropped_fields([("prisma/user.prisma", Some(b), Some(a)), ("prisma/billing.prisma", None, Some("model Billing {\n  hasPaid Boolean\n}\n"))]).is_empty());
        for migration in [
            ("db/migrate/20260101_drop_paid.rb", "remove_column :users, :has_paid"),
            ("prisma/migrations/1/migration.sql", "ALTER TABLE \"User\" DROP COLUMN \"hasPaid\";"),
            ("database/migrations/2026_drop.php", "$table->dropColumn('has_paid');"),
            ("app/migrations/0007_remove.py", "migrations.RemoveField(model_name='user', name='has_paid')"),
            ("priv/repo/migrations/2026_drop.exs", "alter table(:users) do\n  remove :has_paid\nend"),
            ("priv/repo/manual_migrations/2026_drop.exs", "alter table(:users) do\n  remove(:has_paid)\nend"),
        ] {
            assert!(dropped_fields([(migration.0, None, Some(migration.1))]).contains("haspaid"), "{}", migration.0);
        }
        // Source that is not schema says nothing.
        assert!(dropped_fields([("src/webhook.ts", Some("hasPaid: boolean("), Some(""))]).is_empty());
    }

    fn table<'a>(tables: &'a [Table], name: &str) -> &'a Table {
        tables.iter().find(|t| t.name == name).unwrap_or_else(|| panic!("{name} in {tables:#?}"))
    }

    fn cols(t: &Table) -> Vec<(&str, ColumnType, bool)> {
        t.columns.iter().map(|c| (c.name.as_str(), c.ty, c.primary)).collect()
    }

    fn billing(files: &[(&str, &str)]) -> (String, BillingColumns) {
        let tables = read_tables(files.iter().copied());
        let t = pick_billing_table(&tables).unwrap_or_else(|| panic!("a billing table in {tables:#?}"));
        (t.name.clone(), classify(t))
    }

    fn expect(files: &[(&str, &str)], table: &str, id: &str, customer: &str, access: Option<&str>, plan: Option<&str>) {
        let (name, c) = billing(files);
        assert_eq!(name, table, "{files:?}");
        assert_eq!(c.id.as_deref(), Some(id), "{files:?}");
        assert_eq!(c.customer_id.as_deref(), Some(customer), "{files:?}");
        assert_eq!(c.access.as_deref(), access, "{files:?}");
        assert_eq!(c.plan.as_deref(), plan, "{files:?}");
    }

    #[test]
    fn prisma_and_wasp_models_give_mapped_columns_and_skip_relations() {
        let prisma = "model User {\n  id String @id @default(cuid())\n  stripeCustomerId String? @map(\"stripe_customer_id\")\n  hasPaid Boolean @default(false) // paid\n  plan Plan @default(FREE)\n  posts Post[]\n  team Team? @relation(fields: [teamId], references: [id])\n  teamId String?\n  org Org?\n  @@map(\"app_users\")\n}\nmodel Org {\n  id Int @id\n}\nenum Plan {\n  FREE\n  PRO\n}\n";
        let tables = read_tables([("prisma/schema.prisma", prisma)]);
        let users = table(&tables, "app_users");
        assert_eq!(users.model.as_deref(), Some("User"));
        assert_eq!(
            cols(users),
            [("id", ColumnType::Text, true), ("stripe_customer_id", ColumnType::Text, false), ("hasPaid", ColumnType::Boolean, false), ("plan", ColumnType::Other, false), ("teamId", ColumnType::Text, false)]
        );
        expect(&[("prisma/schema.prisma", prisma)], "app_users", "id", "stripe_customer_id", Some("hasPaid"), Some("plan"));
        let wasp = "entity User {=psl\n  id Int @id @default(autoincrement())\n  paymentProcessorUserId String? @unique\n  subscriptionStatus String?\n  subscriptionPlan String?\n  tasks Task[]\npsl=}\n";
        let tables = read_tables([("main.wasp", wasp)]);
        assert_eq!(table(&tables, "User").column("subscriptionPlan").map(|c| c.ty), Some(ColumnType::Text));
    }

    #[test]
    fn drizzle_tables_use_the_sql_names() {
        let ts = "import { pgTable, serial, text, boolean, timestamp } from 'drizzle-orm/pg-core';\n\
            export const users = pgTable(\"users\", {\n  id: serial(\"id\").primaryKey(),\n  // the Stripe customer\n  stripeCustomerId: text(\"stripe_customer_id\").unique(),\n  \
            hasAccess: boolean('has_access').notNull().default(false),\n  planName: varchar('plan_name', { length: 50 }),\n  createdAt: timestamp('created_at').defaultNow(),\n});\n\
            export const posts = sqliteTable('posts', {\n  id: integer('id').primaryKey(),\n  published: integer('published', { mode: 'boolean' }),\n});\n";
        let tables = read_tables([("src/db/schema.ts", ts)]);
        assert_eq!(
            cols(table(&tables, "users")),
            [
                ("id", ColumnType::Integer, true),
                ("stripe_customer_id", ColumnType::Text, false),
                ("has_access", ColumnType::Boolean, false),
                ("plan_name", ColumnType::Text, false),
                ("created_at", ColumnType::Timestamp, false)
            ]
        );
        assert_eq!(table(&tables, "posts").column("published").map(|c| c.ty), Some(ColumnType::Boolean));
        expect(&[("src/db/schema.ts", ts)], "users", "id", "stripe_customer_id", Some("has_access"), Some("plan_name"));
    }

    #[test]
    fn schema_rb_django_laravel_ecto_sql_and_gorm_give_the_users_table() {
        let rb = "ActiveRecord::Schema[7.1].define(version: 2024) do\n  create_table \"posts\", force: :cascade do |t|\n    t.string \"title\"\n  end\n\n  create_table \"users\", force: :cascade do |t|\n    t.string \"email\", null: false\n    t.string \"stripe_customer_id\"\n    t.boolean \"has_paid\", default: false\n    t.string \"plan\"\n    t.timestamps\n    t.index [\"email\"], unique: true\n  end\nend\n";
        expect(&[("db/schema.rb", rb)], "users", "id", "stripe_customer_id", Some("has_paid"), Some("plan"));

        let py = "from django.contrib.auth.models import AbstractUser\nfrom django.db import models\n\n\
            class User(AbstractUser):\n    stripe_customer_id = models.CharField(max_length=255, blank=True)\n    is_premium = models.BooleanField(default=False)\n    tier = models.CharField(max_length=20, db_column='plan_tier')\n\n\
            class Invoice(models.Model):\n    user = models.ForeignKey(User, on_delete=models.CASCADE)\n    class Meta:\n        db_table = 'billing_invoice'\n";
        let tables = read_tables([("accounts/models.py", py)]);
        assert!(table(&tables, "accounts_user").auth_user);
        assert_eq!(table(&tables, "billing_invoice").column("user_id").map(|c| c.ty), Some(ColumnType::Integer));
        expect(&[("accounts/models.py", py)], "accounts_user", "id", "stripe_customer_id", Some("is_premium"), Some("plan_tier"));

        let create = "<?php\nreturn new class extends Migration {\n    public function up(): void\n    {\n        Schema::create('users', function (Blueprint $table) {\n            $table->id();\n            $table->string('email')->unique();\n            $table->boolean('is_subscribed')->default(false);\n            $table->rememberToken();\n            $table->timestamps();\n        });\n    }\n    public function down(): void\n    {\n        Schema::dropIfExists('users');\n    }\n};\n";
        let cashier = "<?php\nreturn new class extends Migration {\n    public function up(): void\n    {\n        Schema::table('users', function (Blueprint $table) {\n            $table->string('stripe_id')->nullable()->index();\n            $table->string('pm_type')->nullable();\n            $table->timestamp('trial_ends_at')->nullable();\n        });\n    }\n    public function down(): void\n    {\n        Schema::table('users', function (Blueprint $table) {\n            $table->dropColumn(['stripe_id', 'pm_type']);\n        });\n    }\n};\n";
        let laravel = [("database/migrations/0001_01_01_000000_create_users_table.php", create), ("database/migrations/2019_05_03_000001_create_customer_columns.php", cashier)];
        expect(&laravel, "users", "id", "stripe_id", Some("is_subscribed"), None);
        let tables = read_tables(laravel);
        assert_eq!(table(&tables, "users").files.len(), 2, "the declaring file, then the one adding columns");

        let ex = "defmodule MyApp.Accounts.User do\n  use Ecto.Schema\n\n  schema \"users\" do\n    field :email, :string\n    field :stripe_customer_id, :string\n    field :has_access, :boolean, default: false\n    field :plan, Ecto.Enum, values: [:free, :pro]\n    belongs_to :org, MyApp.Org\n    timestamps()\n  end\nend\n";
        expect(&[("lib/my_app/accounts/user.ex", ex)], "users", "id", "stripe_customer_id", Some("has_access"), Some("plan"));
        let exs = "defmodule MyApp.Repo.Migrations.AddPaid do\n  use Ecto.Migration\n  def change do\n    alter table(:users) do\n      add :is_paid, :boolean, default: false\n      remove :has_access\n    end\n  end\nend\n";
        expect(&[("lib/my_app/accounts/user.ex", ex), ("priv/repo/migrations/2026_add_paid.exs", exs)], "users", "id", "stripe_customer_id", Some("is_paid"), Some("plan"));

        let sql = "-- users\nCREATE TABLE IF NOT EXISTS \"public\".\"users\" (\n  \"id\" uuid DEFAULT gen_random_uuid() NOT NULL,\n  email text NOT NULL,\n  created_at timestamptz,\n  CONSTRAINT users_pkey PRIMARY KEY (\"id\")\n);\n";
        let later = "ALTER TABLE users ADD COLUMN stripe_customer_id varchar(255), ADD COLUMN is_pro boolean DEFAULT false;\nALTER TABLE ONLY users ADD CONSTRAINT x UNIQUE (email);\n";
        expect(&[("migrations/001_init.sql", sql), ("migrations/002_billing.sql", later)], "users", "id", "stripe_customer_id", Some("is_pro"), None);
        let dropped = "ALTER TABLE users DROP COLUMN is_pro;";
        let (_, c) = billing(&[("migrations/001_init.sql", sql), ("migrations/002_billing.sql", later), ("migrations/003_drop.sql", dropped)]);
        assert_eq!(c.access, None, "a dropped column is gone");

        let go = "package models\n\nimport \"gorm.io/gorm\"\n\ntype User struct {\n\tgorm.Model\n\tEmail            string `gorm:\"uniqueIndex\"`\n\tStripeCustomerID string\n\tIsPro            bool\n\tPlanName         *string `gorm:\"column:plan\"`\n\tPosts            []Post\n\tCompany          Company\n\tSecret           string `gorm:\"-\"`\n}\n\ntype Company struct {\n\tID   uint\n\tName string\n}\n\nfunc (Company) TableName() string { return \"orgs\" }\n";
        let tables = read_tables([("internal/models/user.go", go)]);
        assert!(table(&tables, "users").column("company").is_none() && table(&tables, "users").column("secret").is_none());
        assert_eq!(table(&tables, "orgs").model.as_deref(), Some("Company"));
        expect(&[("internal/models/user.go", go)], "users", "id", "stripe_customer_id", Some("is_pro"), Some("plan"));
        assert!(read_tables([("main.go", "type User struct {\n\tIsPro bool\n}\n")]).is_empty(), "Go without gorm is not a schema");
    }

    #[test]
    fn the_billing_table_is_the_users_table_else_the_team_that_holds_the_customer() {
        // next-saas-starter: the team is the customer.
        let ts = "export const users = pgTable('users', {\n  id: serial('id').primaryKey(),\n  email: varchar('email'),\n});\n\
                  export const teams = pgTable('teams', {\n  id: serial('id').primaryKey(),\n  stripeCustomerId: text('stripe_customer_id').unique(),\n  planName: varchar('plan_name'),\n  subscriptionStatus: varchar('subscription_status'),\n});\n";
        expect(&[("lib/db/schema.ts", ts)], "teams", "id", "stripe_customer_id", Some("subscription_status IN ('active', 'trialing')"), Some("plan_name"));
        // Supabase: profiles hold the customer.
        let sql = "create table public.profiles (\n  id uuid references auth.users not null primary key,\n  stripe_customer_id text,\n  is_subscribed boolean\n);\n";
        expect(&[("supabase/migrations/1_init.sql", sql)], "profiles", "id", "stripe_customer_id", Some("is_subscribed"), None);
        // A users table without billing columns is still the users table.
        let (name, c) = billing(&[("db/schema.rb", "create_table \"users\" do |t|\n  t.string \"email\"\nend\n")]);
        assert_eq!((name.as_str(), c.customer_id), ("users", None));
    }

    #[test]
    fn no_user_table_and_odd_input_give_nothing() {
        let posts = "model Post {\n  id Int @id\n  title String\n}\n";
        assert!(pick_billing_table(&read_tables([("prisma/schema.prisma", posts)])).is_none());
        let teams = "create_table \"teams\" do |t|\n  t.string \"name\"\nend\n";
        assert!(pick_billing_table(&read_tables([("db/schema.rb", teams)])).is_none(), "a team without a customer id is not billing's");
        for (path, text) in [
            ("prisma/schema.prisma", "model User {"),
            ("src/db/schema.ts", "pgTable('users', {"),
            ("db/schema.rb", "create_table \"users\" do |t|"),
            ("a/models.py", "class User(models.Model):"),
            ("database/migrations/x.php", "Schema::create('users', function ($table) { $table->"),
            ("lib/a.ex", "schema \"users\" do\n  field :"),
            ("m/1.sql", "CREATE TABLE users ("),
            ("m/2.sql", "ALTER TABLE users ADD"),
            ("x.go", "import \"gorm.io/gorm\"\ntype User struct {"),
            ("x.go", "gorm\ntype User struct {\n\tA"),
        ] {
            let _ = read_tables([(path, text)]);
            let _ = read_tables([(path, "\u{0}\u{1}ÿ{{{{((((\"\"\"")]);
        }
        assert_eq!(snake_case("StripeCustomerID"), "stripe_customer_id");
        assert_eq!(snake_case("HTTPServerURL"), "http_server_url");
        assert_eq!(plural("company"), "companies");
    }
}
