//! A status map that now sends an unpaid provider status to a paying one:
//! `case 'past_due': return SubscriptionStatus.ACTIVE`, `past_due: 'active'`,
//! `'past_due' => 'active'`. The app stores the mapped value, so the change grants
//! access to a subscription whose payment failed (WH011), wherever the write is.

use super::Hunk;
use super::hunks::is_comment;
use super::lang::syntax::squash;

/// Unpaid statuses as written: quoted or a symbol (`'past_due'`, `:unpaid`), or a constant's name
/// (`Status.PastDue`, `PAST_DUE`).
const UNPAID: &[(&str, &[&str])] = &[
    ("past_due", &["past_due", "PastDue", "PAST_DUE"]),
    ("unpaid", &["unpaid", "Unpaid", "UNPAID"]),
    ("incomplete", &["incomplete", "Incomplete", "INCOMPLETE"]),
    ("paused", &["paused", "Paused", "PAUSED"]),
];

/// The paying status as written.
const ACTIVE: &[&str] = &["active", "Active", "ACTIVE"];

/// Statuses listed beside the one tested (`['active', 'past_due']`): the value comes after all of them.
const LISTED: &[&str] = &["active", "trialing", "past_due", "unpaid", "incomplete", "paused"];

/// The line of `h` (its index) that maps an unpaid status to a paying value where
/// the old version did not, and the status.
pub fn remapped_to_paying(h: &Hunk) -> Option<(usize, String)> {
    let side = |keep: char| -> Vec<(usize, &str)> { h.lines.iter().enumerate().filter(|(_, (t, _))| *t == ' ' || *t == keep).map(|(i, (_, l))| (i, l.as_str())).collect() };
    let (old, new) = (side('-'), side('+'));
    UNPAID.iter().find_map(|(status, forms)| {
        let at = maps_to_paying(&new, forms).find(|i| h.lines[*i].0 == '+')?;
        maps_to_paying(&old, forms).next().is_none().then(|| (at, status.to_string()))
    })
}

/// The lines of `lines` (their hunk indexes) that test or label one of `forms` and
/// map it to a paying value: on the same line after it, or on the next line that is
/// neither a label nor a comment.
fn maps_to_paying<'a>(lines: &'a [(usize, &'a str)], forms: &'a [&'a str]) -> impl Iterator<Item = usize> + 'a {
    lines.iter().enumerate().filter_map(move |(k, (i, l))| {
        if is_comment(l) {
            return None;
        }
        forms.iter().find_map(|f| mention_end(l, f))?;
        if !maps(l) {
            return None;
        }
        let first = forms.iter().filter_map(|f| mention_end(l, f)).min()?;
        // `'unpaid' => 'active'`, `() => ACTIVE`: the value follows the arrow.
        let key = l[first..].trim_start_matches(['\'', '"']);
        let keyed = (key.starts_with(':') && !key.starts_with("::")).then(|| l.len() - key.len() + 1);
        let arrow = keyed.or_else(|| ["=>", "->", " return ", "do:"].iter().filter_map(|a| l[first..].find(a).map(|p| first + p + a.len())).min());
        let t = l.trim_start().trim_start_matches(['}', ' ']);
        let condition = ["if ", "if(", "elif ", "elsif ", "else if", "unless "].iter().any(|k| t.starts_with(k));
        // A condition's branch runs when it holds: not when the status is excluded
        // (`if (! in_array($status, [...]))`), and what it does is on the next line.
        if condition && (t.starts_with("unless") || t.contains('!') || t.contains(" not ")) {
            return None;
        }
        let end = match arrow {
            Some(end) => end,
            None if condition => l.len(),
            None => forms.iter().chain(LISTED).filter_map(|f| mention_end(l, f)).max().unwrap_or(first),
        };
        let rest = after_mention(&l[end..]);
        let value = if rest.is_empty() { lines[k + 1..].iter().map(|(_, l)| *l).find(|l| !is_comment(l) && !l.trim().is_empty() && !is_label(l))? } else { rest };
        // An arm or label shared with `active` (`Active | PastDue => Tier::Basic`): the
        // unpaid status gets whatever an active subscription gets.
        let arm = (arrow.is_some() && !condition) || is_label(l);
        let with_active = arm && forms.iter().any(|f| ACTIVE.iter().any(|a| shares_arm(&l[..end], a, f)));
        (paying(value) || (with_active && !refusing(value))).then_some(*i)
    })
}

/// Whether `active` and `unpaid` are listed together on `line` with nothing of their own
/// between them (`Active | PastDue`, `~w(active past_due)`, `'active', 'past_due'`): one
/// arm for both. `active: 1, trialing: 2, past_due: 3` gives each its own value.
fn shares_arm(line: &str, active: &str, unpaid: &str) -> bool {
    let (Some(a_end), Some(u_end)) = (mention_end(line, active), mention_end(line, unpaid)) else { return false };
    let (a_start, u_start) = (a_end - active.len(), u_end - unpaid.len());
    let between = if a_end <= u_start {
        &line[a_end..u_start]
    } else if u_end <= a_start {
        &line[u_end..a_start]
    } else {
        return false;
    };
    // Separators, other statuses, and qualifiers (`SubscriptionStatus::`, `Status.`).
    let mut rest = between;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || "|,'\":".contains(c));
        if rest.is_empty() {
            return true;
        }
        let word_len = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
        if word_len == 0 {
            return false;
        }
        let (word, after) = rest.split_at(word_len);
        let status = LISTED.iter().any(|s| squash(s) == squash(word));
        let qualifier = after.starts_with("::") || after.starts_with('.');
        if !status && !qualifier {
            return false;
        }
        rest = after.strip_prefix("::").or_else(|| after.strip_prefix('.')).unwrap_or(after);
    }
}

/// Where the last mention of `form` ends on the line: a whole word, not a part of a
/// longer name (`PastDueNotice`, `is_past_due`).
fn mention_end(line: &str, form: &str) -> Option<usize> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    line.match_indices(form)
        .filter(|(p, _)| !line[..*p].ends_with(word) && !line[p + form.len()..].starts_with(word))
        .map(|(p, _)| p + form.len())
        .last()
}

/// A line that tests or labels a status: a case, a condition, a map entry.
fn maps(line: &str) -> bool {
    let t = line.trim_start();
    ["case ", "when ", "if ", "if(", "elif ", "elsif ", "unless "].iter().any(|k| t.starts_with(k))
        || ["=>", "->", "==", ".with(", "in_array(", " in [", " in (", " in ~w(", "includes(", "include?", "? "].iter().any(|k| line.contains(k))
        || t.starts_with(['\'', '"', ':'])
        || t.split_once(':').is_some_and(|(k, _)| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// What a line says after the status it tests: its closing quotes, brackets,
/// other statuses and separators dropped.
fn after_mention(rest: &str) -> &str {
    let mut r = rest;
    loop {
        let before = r;
        r = r.trim_start_matches(|c: char| c.is_whitespace() || "'\")]},:;|&{".contains(c));
        for prefix in [".value", ".name", "=>", "->", "then", "?"] {
            r = r.strip_prefix(prefix).unwrap_or(r);
        }
        if r == before {
            return r.trim_end();
        }
    }
}

fn is_label(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("case ") || t.starts_with("when ") || t.starts_with("default")
}

/// A value that grants: `active`, `ACTIVE`, `trialing`, `true`; not one that also
/// says false, inactive or an unpaid status (`user.active = false`, `PAST_DUE`).
fn paying(value: &str) -> bool {
    has_word(value, &["active", "trialing", "true"]) && !refusing(value)
}

/// A value that says false, inactive or an unpaid status.
fn refusing(value: &str) -> bool {
    has_word(value, &["false", "inactive", "none", "nil", "null", "past_due", "pastdue", "unpaid", "incomplete", "paused", "canceled", "cancelled", "unsubscribed", "free"])
}

/// Whether one of `value`'s words (lower-cased) is among `words`.
fn has_word(value: &str, words: &[&str]) -> bool {
    value.split(|c: char| !c.is_ascii_alphanumeric() && c != '_').any(|w| words.contains(&w.to_ascii_lowercase().as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hunk(lines: &[(char, &str)]) -> Hunk {
        Hunk { lines: lines.iter().map(|(t, l)| (*t, l.to_string())).collect(), ..Hunk::default() }
    }

    #[test]
    fn a_switch_case_moved_onto_the_active_return_is_found() {
        let h = hunk(&[
            (' ', "    switch (status) {"),
            (' ', "      case 'active':"),
            ('+', "      // keep the shop running while Stripe retries"),
            ('+', "      case 'past_due':"),
            (' ', "        return SubscriptionStatus.ACTIVE;"),
            (' ', "      case 'canceled':"),
            (' ', "        return SubscriptionStatus.CANCELED;"),
            ('-', "      case 'past_due':"),
            ('-', "        return SubscriptionStatus.PAST_DUE;"),
        ]);
        assert_eq!(remapped_to_paying(&h), Some((3, "past_due".to_string())));
    }

    #[test]
    fn map_entries_that_now_say_active_are_found() {
        let h = hunk(&[(' ', "STATUS_MAP = {"), ('-', "  'unpaid' => 'inactive',"), ('+', "  'unpaid' => 'active',"), (' ', "}")]);
        assert_eq!(remapped_to_paying(&h), Some((2, "unpaid".to_string())));
        let h = hunk(&[(' ', "const map = {"), ('-', "  past_due: 'grace',"), ('+', "  past_due: 'active',"), (' ', "};")]);
        assert_eq!(remapped_to_paying(&h), Some((2, "past_due".to_string())));
    }

    #[test]
    fn conditions_that_now_answer_active_for_an_unpaid_status_are_found() {
        // ts-pattern
        let h = hunk(&[('-', "    .with('active', () => SubscriptionStatus.ACTIVE)"), ('+', "    .with('active', 'trialing', 'unpaid', () => SubscriptionStatus.ACTIVE)")]);
        assert_eq!(remapped_to_paying(&h), Some((1, "unpaid".to_string())));
        // A new helper: PHP, then Python with an enum.
        let h = hunk(&[('+', "    if (in_array($status, ['past_due', 'unpaid']))"), ('+', "        return 'active';"), ('+', "    return $status;")]);
        assert_eq!(remapped_to_paying(&h), Some((0, "past_due".to_string())));
        let h = hunk(&[(' ', "    status = sub['status']"), ('+', "    if status == StripeSubscriptionStatus.PastDue.value:"), ('+', "        status = StripeSubscriptionStatus.Active.value")]);
        assert_eq!(remapped_to_paying(&h), Some((1, "past_due".to_string())));
    }

    #[test]
    fn an_unpaid_status_moved_into_the_active_arm_is_found() {
        // calcount: the tier names no status, the arm it shares with Active does.
        let h = hunk(&[
            (' ', "    let sub_ty = match subscription.data.object.status {"),
            ('-', "        SubscriptionStatus::Active => SubscriptionTypes::Basic,"),
            ('+', "        SubscriptionStatus::Active | SubscriptionStatus::PastDue => {"),
            ('+', "            SubscriptionTypes::Basic"),
            ('+', "        }"),
            (' ', "        SubscriptionStatus::Unpaid"),
            ('-', "        | SubscriptionStatus::PastDue"),
            (' ', "        | SubscriptionStatus::Canceled => SubscriptionTypes::Unsubscribed,"),
        ]);
        assert_eq!(remapped_to_paying(&h), Some((2, "past_due".to_string())));
        let h = hunk(&[(' ', "case status"), ('-', "when 'active'"), ('+', "when 'active', 'past_due'"), (' ', "  user.update!(tier: 'gold')")]);
        assert_eq!(remapped_to_paying(&h), Some((2, "past_due".to_string())));
        // plural: an Elixir function head whose guard lists both.
        let h = hunk(&[
            ('-', "  defp to_plural_status(\"active\"), do: :current"),
            ('-', "  defp to_plural_status(s) when s in ~w(incomplete_expired past_due unpaid), do: :delinquent"),
            ('+', "  defp to_plural_status(s) when s in ~w(active past_due), do: :current"),
            ('+', "  defp to_plural_status(s) when s in ~w(incomplete_expired unpaid), do: :delinquent"),
        ]);
        assert_eq!(remapped_to_paying(&h), Some((2, "past_due".to_string())));
    }

    #[test]
    fn an_unpaid_status_beside_active_in_a_condition_or_mapped_to_nothing_is_quiet() {
        // A condition is not an arm: its body may do anything.
        let h = hunk(&[('+', "    if status == 'active' || status == 'past_due':"), ('+', "        send_receipt(user)")]);
        assert_eq!(remapped_to_paying(&h), None);
        // An enum's values: each status has its own.
        let h = hunk(&[('+', "    field :status, Ecto.Enum, values: [active: 1, trialing: 2, past_due: 3, paused: 4, deleted: 5]")]);
        assert_eq!(remapped_to_paying(&h), None);
        // Shared with active, but the value says unsubscribed.
        let h = hunk(&[('+', "        Status::Active | Status::PastDue => Tier::Unsubscribed,")]);
        assert_eq!(remapped_to_paying(&h), None);
    }

    #[test]
    fn maps_that_keep_unpaid_statuses_unpaid_are_quiet() {
        // Revoking on an unpaid status, dunning mail, a constant list.
        let h = hunk(&[('+', "    if status == 'past_due':"), ('+', "        user.active = False")]);
        assert_eq!(remapped_to_paying(&h), None);
        let h = hunk(&[('+', "    case 'unpaid':"), ('+', "      await sendDunningEmail(user);")]);
        assert_eq!(remapped_to_paying(&h), None);
        let h = hunk(&[('+', "INACTIVE = ['unpaid', 'past_due']"), ('+', "ACTIVE = ['active', 'trialing']")]);
        assert_eq!(remapped_to_paying(&h), None);
        // A bail-out for statuses outside the list (in_array's strict flag is no value).
        let h = hunk(&[('+', "if ( empty( $sub ) || ! in_array( $sub->status, array( 'trialing', 'active', 'past_due' ), true ) ) {"), ('+', "    return;")]);
        assert_eq!(remapped_to_paying(&h), None);
        // Reordered, or newly mapped to its own value, or mapped to inactive.
        let h = hunk(&[(' ', "switch (status) {"), ('-', "  case 'active':"), ('-', "    return 'ACTIVE';"), ('+', "  case 'past_due':"), ('+', "    return 'PAST_DUE';"), ('+', "  case 'active':"), ('+', "    return 'ACTIVE';")]);
        assert_eq!(remapped_to_paying(&h), None);
        let h = hunk(&[('-', "  'unpaid' => 'suspended',"), ('+', "  'unpaid' => 'inactive',")]);
        assert_eq!(remapped_to_paying(&h), None);
        // Already paying before: no change.
        let h = hunk(&[('-', "  past_due: 'active', // grace"), ('+', "  past_due: 'active',")]);
        assert_eq!(remapped_to_paying(&h), None);
    }
}
