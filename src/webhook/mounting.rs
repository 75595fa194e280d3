//! Express routers nothing mounts. An app written in a hurry keeps stale copies of its
//! webhook route (`routes/webhooks.js` beside the mounted `routes/webhook.js`): a router
//! module that no file of the app imports (tests aside) serves no request, so what a
//! change does to it moves no customer's access. Its findings are kept, at low, with
//! the reason, so that nothing is hidden and nothing blocks a merge.

use std::collections::BTreeSet;

use super::analyzed::Analyzed;
use super::lang::Language;
use super::resolve::{self, RepoView};

/// An Express-style router module: builds a `Router()` and exports it.
fn exports_router(text: &str) -> bool {
    text.contains("Router(") && (text.contains("module.exports") || text.contains("export default"))
}

/// The name an importer must write to load `path` (`routes/webhooks.js` -> `webhooks`);
/// `index` files are loaded by their directory's name.
fn import_word(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = name.split('.').next().unwrap_or(name);
    if stem == "index" {
        path.rsplit('/').nth(1).unwrap_or(stem)
    } else {
        stem
    }
}

/// Whether some file of the app (not a test) imports `path`. `mentioning(word)` gives the
/// base version's source files whose text contains `word`, with their text.
fn imported(view: &RepoView, path: &str, mentioning: &dyn Fn(&str) -> Vec<(String, String)>) -> bool {
    mentioning(import_word(path)).iter().any(|(p, text)| {
        p != path && !crate::paths::is_test_path(p) && matches!(Language::of_path(p), Some(Language::JavaScript | Language::TypeScript | Language::Tsx)) && resolve::js_imported_files(view, p, text).iter().any(|f| f == path)
    })
}

/// Handler files of the change that are unmounted copies: JavaScript/TypeScript router
/// modules that no file of the app imported in the base version, while another file that
/// verifies events with the same call is imported (the route that serves requests).
/// Only the files in `flagged` (those with a high finding) are looked at: each look searches the tree.
pub(super) fn unmounted_copies(analyzed: &[Analyzed], flagged: &BTreeSet<&str>, before: &RepoView, mentioning: &dyn Fn(&str) -> Vec<(String, String)>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for a in analyzed.iter().filter(|a| matches!(a.lang, Language::JavaScript | Language::TypeScript | Language::Tsx) && a.change == "modified" && flagged.contains(a.path.as_str())) {
        let Some(call) = a.before.as_ref().and_then(|m| m.verification.as_ref()).map(|v| v.call.rsplit(['.', ':']).next().unwrap_or(&v.call).to_string()) else { continue };
        let Some(text) = before.read_one(&a.path) else { continue };
        if !exports_router(&text) || imported(before, &a.path, mentioning) {
            continue;
        }
        let served = mentioning(&call).iter().any(|(p, _)| p != &a.path && !crate::paths::is_test_path(p) && imported(before, p, mentioning));
        if served {
            out.insert(a.path.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_word_an_importer_writes() {
        assert_eq!(import_word("server/src/routes/webhooks.js"), "webhooks");
        assert_eq!(import_word("src/routes/stripe/index.ts"), "stripe");
        assert_eq!(import_word("webhook.ts"), "webhook");
    }

    #[test]
    fn a_router_module_is_told_by_what_it_exports() {
        assert!(exports_router("const router = express.Router();\nmodule.exports = router;\n"));
        assert!(exports_router("const r = Router();\nexport default r;\n"));
        assert!(!exports_router("export async function POST(req) {}\n"));
    }
}
