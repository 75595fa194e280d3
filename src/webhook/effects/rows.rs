//! Removed rows: a delete or destroy of the row that gives access is a revocation.

use super::*;

impl Walker<'_, '_> {
    /// `user.destroy`, `subscription.delete()`, or a bare `destroy` inside a
    /// User-like model: the row that gives access is removed. Names the row.
    pub(super) fn row_removed(&self, c: &Call) -> Option<String> {
        if vocab::is_provider_api(c) {
            return None;
        }
        self.row_removed_by(&c.callee).or_else(|| removed_through_query(c))
    }

    /// [`Walker::row_removed`] for a callee (also a Ruby call without parentheses).
    pub(super) fn row_removed_by(&self, callee: &Expr) -> Option<String> {
        let name = squash(callee.last_name());
        if !["destroy", "delete", "destroyall", "deleteall", "softdelete", "forcedelete"].contains(&name.as_str()) {
            return None;
        }
        match callee {
            Expr::Member(o, _) => vocab::receiver_root(o).and_then(|r| holder(&r)).or_else(|| o.dotted().and_then(|d| holder(&d))),
            Expr::Ident(_) => self.stack.last().and_then(|f| f.owner.as_deref()).and_then(holder),
            _ => None,
        }
    }

}

/// Rows whose removal takes access away.
pub(super) const HOLDERS: &[&str] = &["user", "member", "subscription", "account", "team", "membership", "customer", "profile", "organization"];

/// The holder a text names (`subscriptions`, `Subscription`, `org_member`).
pub(super) fn holder(text: &str) -> Option<String> {
    let t = squash(text);
    HOLDERS.iter().find(|h| t.contains(*h)).map(|h| h.to_string())
}

/// A delete through a query builder names its table in the chain
/// (`knex('subscriptions').where(…).del()`), and one through an Ecto repository
/// names its row in the argument (`Repo.delete_all(from s in Subscription, …)`).
/// A bare store's `del` (`redis.del(key)`) names no table and is no revocation.
pub(super) fn removed_through_query(c: &Call) -> Option<String> {
    let Expr::Member(receiver, method) = &c.callee else { return None };
    let name = squash(method);
    let repo = receiver.dotted().is_some_and(|d| d == "Repo" || d.ends_with(".Repo"));
    if repo && ["delete", "deleteall"].contains(&name.as_str()) {
        return c.args.iter().find_map(|a| holder(&a.value.render()));
    }
    // The table is a call's argument in the chain: `knex('t')`, `db('t')`, `from('t')`.
    if ["del", "delete", "deleteall"].contains(&name.as_str()) && matches!(&**receiver, Expr::Call(_) | Expr::Member(..)) {
        return table_of_chain(receiver).and_then(|t| holder(&t));
    }
    None
}

/// The first string argument along a call chain: the table of a query builder.
pub(super) fn table_of_chain(e: &Expr) -> Option<String> {
    match e {
        Expr::Call(c) => table_of_chain(&c.callee).or_else(|| match c.args.first().map(|a| &a.value) {
            Some(Expr::Str(s)) => Some(s.clone()),
            _ => None,
        }),
        Expr::Member(o, _) | Expr::Index(o, _) => table_of_chain(o),
        _ => None,
    }
}
