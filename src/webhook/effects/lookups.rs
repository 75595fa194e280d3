//! User lookups: by which key (customer id, email, metadata) a handler finds its row.

use super::*;

impl<'a> Walker<'a, '_> {
    pub(super) fn lookups(&mut self, c: &'a Call, write: bool) {
        if let Some(k) = by_key(c.callee.last_name()) {
            self.out.lookups.entry(k).or_insert(c.line);
        }
        for a in &c.args {
            if let Some(n) = &a.name {
                // A write's keyword arguments are the values written, not the lookup.
                if !write && matches!(n.as_str(), "where" | "filter" | "conditions") {
                    self.lookup_members(&a.value, c.line);
                } else if !write {
                    self.lookup_pair(n, &a.value, c.line);
                }
                continue;
            }
            match self.idx.value_of(&a.value) {
                Expr::Object(pairs) => self.lookup_object(pairs, write, c.line),
                Expr::Str(s) => {
                    let upper = s.to_ascii_uppercase();
                    if let Some(at) = find_word(&upper, "WHERE") {
                        for col in s[at + 5..].split(|ch: char| !(ch.is_alphanumeric() || ch == '_')) {
                            if let Some(k) = vocab::lookup_key(col) {
                                self.out.lookups.entry(k).or_insert(c.line);
                            }
                        }
                    }
                }
                // A query built inside a write: `Repo.update_all(from(u in User, where: ...), set: ...)`.
                Expr::Call(inner) if write && (vocab::is_db_read(inner) || matches!(squash(inner.callee.last_name()).as_str(), "from" | "where")) => {
                    self.lookups(inner, false)
                }
                v if !write => {
                    let mut keys = Vec::new();
                    v.walk(&mut |x| match x {
                        Expr::Member(_, p) => keys.extend(vocab::lookup_key(p)),
                        Expr::Index(_, i) => {
                            if let Expr::Str(p) = &**i {
                                keys.extend(vocab::lookup_key(p));
                            }
                        }
                        _ => {}
                    });
                    for k in keys {
                        self.out.lookups.entry(k).or_insert(c.line);
                    }
                }
                _ => {}
            }
        }
        // Laravel, Knex, GORM: `where('email', $email)`, `firstWhere('stripe_id', $id)`,
        // `Where("stripe_customer_id = ?", id)`.
        if squash(c.callee.last_name()).contains("where") {
            if let Some(Expr::Str(cond)) = c.args.first().map(|a| &a.value) {
                for col in cond.split(|ch: char| !(ch.is_alphanumeric() || ch == '_')) {
                    if let Some(k) = vocab::lookup_key(col) {
                        self.out.lookups.entry(k).or_insert(c.line);
                    }
                }
            }
        }
        // Receivers of a chain: `User::where('email', $e)->update([...])`.
        if let Expr::Member(o, _) = &c.callee {
            if let Expr::Call(inner) = &**o {
                if vocab::is_db_read(inner) && !vocab::is_db_write(inner) {
                    self.lookups(inner, false);
                }
            }
        }
    }

    pub(super) fn lookup_object(&mut self, pairs: &'a [Pair], write: bool, line: u32) {
        for p in pairs {
            let Expr::Str(key) = &p.key else { continue };
            let filter = matches!(key.as_str(), "where" | "filter" | "_where");
            if filter {
                if let Expr::Object(inner) = self.idx.value_of(&p.value) {
                    self.lookup_object(inner, false, line);
                }
            } else if !write {
                self.lookup_pair(key, &p.value, line);
                if matches!(key.as_str(), "lt" | "lte" | "gt" | "gte") && p.value.mentions("created") {
                    self.out.ordering_guard.get_or_insert(line);
                }
            }
        }
    }

    /// Columns a filter expression compares: `u.stripe_customer_id == ^id`.
    pub(super) fn lookup_members(&mut self, e: &Expr, line: u32) {
        let mut keys = Vec::new();
        e.walk(&mut |x| {
            if let Expr::Member(_, p) = x {
                keys.extend(vocab::lookup_key(p));
            }
        });
        for k in keys {
            self.out.lookups.entry(k).or_insert(line);
        }
    }

    pub(super) fn lookup_pair(&mut self, key: &str, value: &'a Expr, line: u32) {
        let by_value = {
            let v = self.idx.value_of(value);
            if v.mentions("client_reference_id") {
                Some(LookupKey::ClientReferenceId)
            } else if v.mentions("metadata") {
                Some(LookupKey::Metadata)
            } else {
                None
            }
        };
        if let Some(k) = vocab::lookup_key(key).or(by_value) {
            self.out.lookups.entry(k).or_insert(line);
        }
    }
}

/// `findUserByEmail`, `get_user_by_customer_id`: the key named after "by".
pub(super) fn by_key(name: &str) -> Option<LookupKey> {
    let s = squash(name);
    let at = s.find("by")?;
    vocab::lookup_key(&s[at + 2..])
}

pub(super) fn find_word(upper: &str, word: &str) -> Option<usize> {
    upper.match_indices(word).map(|(i, _)| i).find(|&i| {
        let before = upper[..i].chars().next_back().is_none_or(|c| !c.is_alphanumeric() && c != '_');
        let after = upper[i + word.len()..].chars().next().is_none_or(|c| !c.is_alphanumeric() && c != '_');
        before && after
    })
}
