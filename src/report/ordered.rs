//! Putting findings in report order: severity, rule, entity in natural order
//! (user:9 before user:10), then message.
//!
//! A check usually produces each rule's findings in the order of its rows,
//! which is already report order. [`Findings`] keeps one group per rule and
//! notes, as each finding arrives, whether it still follows the previous
//! one: that comparison is cheap while both findings are fresh in the cache,
//! and a group that stayed in order is never sorted or even re-checked.

use std::borrow::Cow;
use std::cmp::Ordering;

use super::{Finding, natural_cmp, natural_key};

/// Findings being collected, grouped by severity and rule.
#[derive(Debug, Default)]
pub struct Findings {
    /// Ordered by (rank, rule); a check has a handful of rules.
    groups: Vec<Group>,
    /// The group the last finding went to: findings of one rule tend to come together.
    last: usize,
}

#[derive(Debug)]
struct Group {
    rank: u8,
    rule: Cow<'static, str>,
    findings: Vec<Finding>,
    /// Whether `findings` are in report order.
    in_order: bool,
}

/// Report order within one rule: entity in natural order, then message.
fn within_rule(a: &Finding, b: &Finding) -> Ordering {
    natural_cmp(&a.entity, &b.entity).then_with(|| a.message.cmp(&b.message))
}

impl Findings {
    pub fn push(&mut self, finding: Finding) {
        let rank = finding.severity.rank();
        let at = match self.groups.get(self.last) {
            Some(g) if g.rank == rank && g.rule == finding.rule => self.last,
            _ => self.group(rank, &finding.rule),
        };
        self.last = at;
        let group = &mut self.groups[at];
        if group.in_order && group.findings.last().is_some_and(|last| within_rule(last, &finding) == Ordering::Greater) {
            group.in_order = false;
        }
        group.findings.push(finding);
    }

    /// Adds findings collected elsewhere (another thread's share), after these.
    pub fn append(&mut self, other: Findings) {
        for theirs in other.groups {
            let at = self.group(theirs.rank, &theirs.rule);
            let ours = &mut self.groups[at];
            let joined_in_order = match (ours.findings.last(), theirs.findings.first()) {
                (Some(last), Some(first)) => within_rule(last, first) != Ordering::Greater,
                _ => true,
            };
            ours.in_order &= theirs.in_order && joined_in_order;
            if ours.findings.is_empty() {
                ours.findings = theirs.findings;
            } else {
                ours.findings.extend(theirs.findings);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.groups.iter().map(|g| g.findings.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.groups.iter().all(|g| g.findings.is_empty())
    }

    /// The index of the (rank, rule) group, made if new. The rule is a Cow
    /// so that a new group borrows the catalog's code, as findings do.
    #[allow(clippy::ptr_arg)]
    fn group(&mut self, rank: u8, rule: &Cow<'static, str>) -> usize {
        match self.groups.binary_search_by(|g| (g.rank, &*g.rule).cmp(&(rank, &**rule))) {
            Ok(at) => at,
            Err(at) => {
                self.groups.insert(at, Group { rank, rule: rule.clone(), findings: Vec::new(), in_order: true });
                at
            }
        }
    }
}

impl From<Vec<Finding>> for Findings {
    fn from(findings: Vec<Finding>) -> Self {
        let mut collected = Findings::default();
        for f in findings {
            collected.push(f);
        }
        collected
    }
}

/// Findings in report order. Made only by ordering them, so a report built
/// from it need not check again.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Ordered(Vec<Finding>);

impl From<Findings> for Ordered {
    fn from(findings: Findings) -> Self {
        let total = findings.len();
        let mut groups = findings.groups.into_iter();
        // The first group's vector grows to hold them all: the findings are moved once.
        let mut all = groups.next().map(sort_group).unwrap_or_default();
        all.reserve(total - all.len());
        for group in groups {
            all.extend(sort_group(group));
        }
        Ordered(all)
    }
}

impl From<Vec<Finding>> for Ordered {
    fn from(findings: Vec<Finding>) -> Self {
        Findings::from(findings).into()
    }
}

impl Ordered {
    pub fn into_vec(self) -> Vec<Finding> {
        self.0
    }
}

impl std::ops::Deref for Ordered {
    type Target = [Finding];
    fn deref(&self) -> &[Finding] {
        &self.0
    }
}

impl IntoIterator for Ordered {
    type Item = Finding;
    type IntoIter = std::vec::IntoIter<Finding>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// A group's findings in report order.
fn sort_group(group: Group) -> Vec<Finding> {
    let mut findings = group.findings;
    if group.in_order {
        return findings;
    }
    // Each entity's natural order as plain bytes, made once: a hundred
    // thousand findings take a couple of million comparisons. Indices are
    // sorted, not findings: a finding is a few hundred bytes.
    let keys: Vec<Vec<u8>> = findings.iter().map(|f| natural_key(&f.entity)).collect();
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by(|&a, &b| keys[a].cmp(&keys[b]).then_with(|| findings[a].message.cmp(&findings[b].message)));
    drop(keys);
    // Put finding order[i] at i by walking each cycle of the permutation
    // with swaps: in place.
    for start in 0..order.len() {
        let mut at = start;
        while order[at] != start {
            let from = order[at];
            findings.swap(at, from);
            order[at] = at;
            at = from;
        }
        order[at] = at;
    }
    findings
}
