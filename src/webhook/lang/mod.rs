//! Parsing: each supported language's tree-sitter grammar, lowered into the
//! shared [`syntax`] tree that the handler model is built from.

pub mod elixir;
pub mod go;
pub mod php;
pub mod python;
pub mod ruby;
pub mod rust;
pub mod syntax;
pub mod typescript;

use tree_sitter::{Node, Parser};

use syntax::Stmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    TypeScript,
    Tsx,
    JavaScript,
    Python,
    Ruby,
    Go,
    Php,
    Rust,
    Elixir,
}

impl Language {
    /// The language of a file by its extension, when billguard parses it.
    pub fn of_path(path: &str) -> Option<Language> {
        let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
        match ext.as_str() {
            "ts" | "mts" | "cts" => Some(Language::TypeScript),
            "tsx" => Some(Language::Tsx),
            "js" | "mjs" | "cjs" | "jsx" => Some(Language::JavaScript),
            "py" => Some(Language::Python),
            "rb" | "rake" => Some(Language::Ruby),
            "go" => Some(Language::Go),
            "php" => Some(Language::Php),
            "rs" => Some(Language::Rust),
            "ex" | "exs" => Some(Language::Elixir),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Language::TypeScript => "typescript",
            Language::Tsx => "tsx",
            Language::JavaScript => "javascript",
            Language::Python => "python",
            Language::Ruby => "ruby",
            Language::Go => "go",
            Language::Php => "php",
            Language::Rust => "rust",
            Language::Elixir => "elixir",
        }
    }

    fn grammar(self) -> tree_sitter::Language {
        match self {
            Language::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            Language::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
            Language::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
            Language::Python => tree_sitter_python::LANGUAGE.into(),
            Language::Ruby => tree_sitter_ruby::LANGUAGE.into(),
            Language::Go => tree_sitter_go::LANGUAGE.into(),
            Language::Php => tree_sitter_php::LANGUAGE_PHP.into(),
            Language::Rust => tree_sitter_rust::LANGUAGE.into(),
            Language::Elixir => tree_sitter_elixir::LANGUAGE.into(),
        }
    }
}

/// A parsed file: its statements, and where the grammar first gave up, if it did.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub stmts: Vec<Stmt>,
    /// 1-based line of the first syntax error; the rest of the tree is still used.
    pub error_line: Option<u32>,
    /// Why the file was not analysed at all (nesting too deep to lower safely).
    pub not_analysed: Option<String>,
}

/// Deepest syntax tree lowered. Lowering recurses; real handlers nest a few
/// dozen levels, so deeper input (generated or hostile) is refused, not lowered.
pub const MAX_TREE_DEPTH: usize = 400;

/// Deepest Python block nesting handed to the grammar: its indentation scanner
/// aborts the process (a C assertion) somewhere past a thousand levels.
pub const MAX_PYTHON_INDENTS: usize = 200;

/// Parses source text. Syntax errors leave a partial tree, which is used.
pub fn parse(lang: Language, text: &str) -> Parsed {
    if lang == Language::Python {
        let depth = python_indent_depth(text);
        if depth > MAX_PYTHON_INDENTS {
            return too_deep(format!("{depth} nested indented blocks"), MAX_PYTHON_INDENTS);
        }
    }
    let mut parser = Parser::new();
    if parser.set_language(&lang.grammar()).is_err() {
        return Parsed { stmts: Vec::new(), error_line: Some(1), not_analysed: None };
    }
    let Some(tree) = parser.parse(text, None) else {
        return Parsed { stmts: Vec::new(), error_line: Some(1), not_analysed: None };
    };
    let root = tree.root_node();
    let depth = tree_depth(root);
    if depth > MAX_TREE_DEPTH {
        return too_deep(format!("a syntax tree {depth} levels deep"), MAX_TREE_DEPTH);
    }
    let src = Src { text };
    let error_line = root.has_error().then(|| first_error(root).map_or(1, |n| src.line(n)));
    let stmts = match lang {
        Language::Python => python::lower_program(root, &src),
        Language::Ruby => ruby::lower_program(root, &src),
        Language::Go => go::lower_program(root, &src),
        Language::Php => php::lower_program(root, &src),
        Language::Rust => rust::lower_program(root, &src),
        Language::Elixir => elixir::lower_program(root, &src),
        Language::TypeScript | Language::Tsx | Language::JavaScript => typescript::lower_program(root, &src),
    };
    Parsed { stmts, error_line, not_analysed: None }
}

fn too_deep(what: String, limit: usize) -> Parsed {
    Parsed { stmts: Vec::new(), error_line: None, not_analysed: Some(format!("nesting deeper than billguard analyses ({what}; the limit is {limit})")) }
}

/// The depth of a syntax tree, walked without recursion.
pub fn tree_depth(root: Node) -> usize {
    let mut cursor = root.walk();
    let (mut depth, mut deepest) = (1usize, 1usize);
    loop {
        if cursor.goto_first_child() {
            depth += 1;
            deepest = deepest.max(depth);
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return deepest;
            }
            depth -= 1;
        }
    }
}

/// How many indented blocks nest at the deepest point, as Python's tokenizer
/// counts them: a stack of increasing indentation widths.
pub fn python_indent_depth(text: &str) -> usize {
    let mut stack: Vec<usize> = Vec::new();
    let mut deepest = 0;
    for line in text.lines() {
        let body = line.trim_start_matches([' ', '\t']);
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let width = line.len() - body.len();
        while stack.last().is_some_and(|w| *w > width) {
            stack.pop();
        }
        if width > 0 && stack.last().is_none_or(|w| *w < width) {
            stack.push(width);
            deepest = deepest.max(stack.len());
        }
    }
    deepest
}

fn first_error(n: Node) -> Option<Node> {
    if n.is_error() || n.is_missing() {
        return Some(n);
    }
    if !n.has_error() {
        return None;
    }
    let mut cursor = n.walk();
    let children: Vec<Node> = n.children(&mut cursor).collect();
    children.into_iter().find_map(first_error)
}

/// The source text, with helpers for node text and lines.
pub struct Src<'a> {
    pub text: &'a str,
}

impl Src<'_> {
    pub fn text(&self, n: Node) -> &str {
        self.text.get(n.byte_range()).unwrap_or("")
    }
    pub fn line(&self, n: Node) -> u32 {
        n.start_position().row as u32 + 1
    }
    /// Node text, bounded: for nodes the model only keeps as text.
    pub fn short(&self, n: Node) -> String {
        let t = self.text(n);
        let mut end = t.len().min(200);
        while !t.is_char_boundary(end) {
            end -= 1;
        }
        t[..end].to_string()
    }
}

/// Named children of a node.
pub fn named(n: Node) -> impl Iterator<Item = Node> {
    let mut cursor = n.walk();
    let v: Vec<Node> = n.named_children(&mut cursor).collect();
    v.into_iter()
}

/// A qualified name (`stripe.EventTypeInvoicePaid`, `EventType::InvoicePaid`,
/// `Stripe::Webhook`) as a member chain, or as the string an SDK constant
/// stands for.
pub fn qualified(segments: &[&str]) -> syntax::Expr {
    use syntax::Expr;
    if let Some(s) = super::vocab::sdk_constant(segments) {
        return Expr::Str(s);
    }
    let mut parts = segments.iter().filter(|s| !s.is_empty());
    let Some(first) = parts.next() else { return Expr::Other(String::new()) };
    parts.fold(Expr::Ident(first.to_string()), |acc, p| Expr::Member(Box::new(acc), p.to_string()))
}

/// `a in list`: the normalized form of `list.include?(a)`, `in_array($a, $list)`,
/// `slices.Contains(list, a)`, `list.contains(&a)` and `Enum.member?(list, a)`.
pub fn member_of(item: syntax::Expr, list: syntax::Expr) -> syntax::Expr {
    syntax::Expr::Binary("in".into(), Box::new(item), Box::new(list))
}

/// A string node with interpolations: its literal pieces (children of the
/// `content` kinds) and its embedded expressions (`#{...}` interpolation
/// children, or whatever `embedded` lowers), concatenated.
pub fn interpolated(n: Node, src: &Src, content: &[&str], embedded: impl Fn(Node) -> Option<syntax::Expr>) -> syntax::Expr {
    concat(
        named(n)
            .filter_map(|c| {
                if content.contains(&c.kind()) {
                    Some(syntax::Expr::Str(src.text(c).to_string()))
                } else if c.kind() == "interpolation" {
                    c.named_child(0).and_then(&embedded)
                } else {
                    embedded(c)
                }
            })
            .collect(),
    )
}

/// A string with interpolations (`"#{ts}:#{raw}"`, `"$ts:$raw"`) as the
/// concatenation of its parts, so that what it is built from stays visible;
/// a plain string stays a string.
pub fn concat(parts: Vec<syntax::Expr>) -> syntax::Expr {
    use syntax::Expr;
    if parts.iter().all(|p| matches!(p, Expr::Str(_))) {
        let text: String = parts.iter().map(|p| if let Expr::Str(s) = p { s.as_str() } else { "" }).collect();
        return Expr::Str(text);
    }
    let mut it = parts.into_iter();
    let first = it.next().unwrap_or(Expr::Str(String::new()));
    it.fold(first, |acc, p| Expr::Binary("+".into(), Box::new(acc), Box::new(p)))
}

/// A `match`/`case` whose arms are plain values, as one conditional value:
/// `match ($status) { 'active', 'trialing' => true, default => false }` is
/// `status in ['active', 'trialing'] ? true : false`. None when an arm is not
/// a plain value (a call, a block), so the caller keeps the switch.
pub fn match_value(subject: &syntax::Expr, arms: Vec<(Vec<syntax::Expr>, syntax::Expr)>, default: Option<syntax::Expr>) -> Option<syntax::Expr> {
    use syntax::Expr;
    let plain = |e: &Expr| matches!(e, Expr::Str(_) | Expr::Num(_) | Expr::Bool(_) | Expr::Null | Expr::Ident(_) | Expr::Member(..));
    if arms.is_empty() || !arms.iter().all(|(l, v)| !l.is_empty() && plain(v)) || !default.as_ref().is_none_or(plain) {
        return None;
    }
    let mut value = default.unwrap_or(Expr::Null);
    for (labels, v) in arms.into_iter().rev() {
        let cond = member_of(subject.clone(), Expr::Array(labels));
        value = Expr::Cond(Box::new(cond), Box::new(v), Box::new(value));
    }
    Some(value)
}

/// The `pair` children of a node (a Ruby hash, Elixir keywords) as object pairs,
/// with the language's own reading of keys.
pub fn pairs(n: Node, src: &Src, key: impl Fn(Node) -> syntax::Expr, value: impl Fn(Node) -> syntax::Expr) -> Vec<syntax::Pair> {
    named(n)
        .filter(|p| p.kind() == "pair")
        .map(|p| syntax::Pair {
            key: p.child_by_field_name("key").map(&key).unwrap_or(syntax::Expr::Null),
            value: p.child_by_field_name("value").map(&value).unwrap_or(syntax::Expr::Null),
            line: src.line(p),
        })
        .collect()
}
