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
            r"(?m)^\s*remove\s+:([A-Za-z_]\w*)",
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
        ] {
            assert!(dropped_fields([(migration.0, None, Some(migration.1))]).contains("haspaid"), "{}", migration.0);
        }
        // Source that is not schema says nothing.
        assert!(dropped_fields([("src/webhook.ts", Some("hasPaid: boolean("), Some(""))]).is_empty());
    }
}
