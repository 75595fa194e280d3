//! Lines of a hunk that build the parameters of a request to the billing provider:
//! `"subscription_data": {"items": [{"plan": price_id}]}` in the params of a Checkout
//! Session, `line_items: [{ price: priceId, quantity: 1 }]`. They name what the customer
//! is about to buy, not what the app stores, so a line review must not read their keys
//! (`plan`, `price`) as access writes.

use super::Hunk;

/// Keys only a provider request carries (Stripe Checkout, Billing Portal, Subscription
/// create). An app column is never named like these, unlike `mode`, `price` or `customer`.
const REQUEST_KEYS: &[&str] = &[
    "subscription_data",
    "line_items",
    "payment_method_types",
    "success_url",
    "cancel_url",
    "return_url",
    "client_reference_id",
    "customer_email",
    "customer_creation",
    "payment_intent_data",
    "allow_promotion_codes",
    "billing_address_collection",
    "price_data",
    "proration_behavior",
    "payment_behavior",
    "trial_period_days",
];

/// How far a literal is searched for a telling key, each way.
const REACH: usize = 40;

/// Whether the line at `at` lies in a literal that also holds a provider-request key:
/// the line itself, a sibling at its indent, or a literal that encloses it.
pub fn in_provider_request(h: &Hunk, at: usize) -> bool {
    let side = h.lines[at].0;
    let on_side = |t: char| t == ' ' || t == side;
    let own = indent(&h.lines[at].1);
    if request_key(&h.lines[at].1) {
        return true;
    }
    // Upwards: siblings, then each enclosing literal's opening line and its siblings.
    let mut level = own;
    for (tag, line) in h.lines[..at].iter().rev().take(REACH) {
        if !on_side(*tag) || line.trim().is_empty() {
            continue;
        }
        let i = indent(line);
        if i < level {
            if !opens(line) {
                break;
            }
            level = i;
        }
        if i == level && request_key(line) {
            return true;
        }
    }
    // Downwards: siblings until the literal closes.
    for (tag, line) in h.lines[at + 1..].iter().take(REACH) {
        if !on_side(*tag) || line.trim().is_empty() {
            continue;
        }
        let i = indent(line);
        if i < own {
            break;
        }
        if i == own && request_key(line) {
            return true;
        }
    }
    false
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// An opening line of a literal or call (`params = {`, `Session.create(`, `items: [`).
fn opens(line: &str) -> bool {
    line.trim_end().ends_with(['{', '[', '('])
}

/// Whether the line starts with a `key: value` / `"key": value` / `key=value` /
/// `:key => value` whose key is a provider-request key.
fn request_key(line: &str) -> bool {
    let t = line.trim_start().trim_start_matches(['"', '\'', ':']);
    let end = t.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(t.len());
    let (key, rest) = t.split_at(end);
    let rest = rest.trim_start_matches(['"', '\'']).trim_start();
    let pairs = rest.starts_with(':') || rest.starts_with("=>") || (rest.starts_with('=') && !rest.starts_with("=="));
    pairs && REQUEST_KEYS.contains(&key.to_ascii_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hunk(lines: &[(char, &str)]) -> Hunk {
        Hunk { lines: lines.iter().map(|(t, l)| (*t, l.to_string())).collect(), ..Hunk::default() }
    }

    #[test]
    fn a_checkout_sessions_params_are_a_request() {
        let h = hunk(&[
            (' ', "def get_session(user, price_id):"),
            ('-', "    params = {"),
            ('-', "        \"client_reference_id\": user.id,"),
            ('-', "        \"subscription_data\": {\"items\": [{\"plan\": price_id}]},"),
            ('-', "    }"),
        ]);
        assert!(in_provider_request(&h, 3));
        let node = hunk(&[
            ('-', "  const session = await stripe.checkout.sessions.create({"),
            ('-', "    mode: 'subscription',"),
            ('-', "    line_items: ["),
            ('-', "      {"),
            ('-', "        price: plan.priceId,"),
            ('-', "      },"),
            ('-', "    ],"),
            ('-', "    success_url: url,"),
        ]);
        assert!(in_provider_request(&node, 4));
        assert!(in_provider_request(&node, 1));
    }

    #[test]
    fn an_app_update_is_no_request() {
        let h = hunk(&[
            (' ', "def on_checkout(session):"),
            ('-', "    user.update({"),
            ('-', "        \"plan\": price_id,"),
            ('-', "        \"active\": True,"),
            ('-', "    })"),
            (' ', "    success_url = None"),
        ]);
        assert!(!in_provider_request(&h, 2));
        assert!(!in_provider_request(&h, 3));
        // A sibling on the other side of the diff does not count.
        let other = hunk(&[('-', "    \"plan\": price_id,"), ('+', "    \"line_items\": items,")]);
        assert!(!in_provider_request(&other, 0));
        assert!(!request_key("    line_items == other"));
    }
}
