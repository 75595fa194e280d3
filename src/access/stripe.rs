//! Stripe: every subscription of the account, through `GET /v1/subscriptions`.
//!
//! - `status=all`: the default list leaves canceled subscriptions out, and a
//!   churned user who kept access would then look like a user with no billing
//!   at all instead of a canceled one.
//! - `limit=100`, the maximum. Nothing is expanded: the rules read ids, status,
//!   prices (or legacy plans) and the current period, all on the subscription;
//!   past_due's grace is measured from the period start, so `latest_invoice`
//!   is not needed.
//! - Fast: the list is newest first. The first page is read without filters
//!   (a small account needs nothing more); after that, whenever there is room
//!   under the in-flight limit, the rest of a walk's `created` range is split
//!   into windows that are paged concurrently with `starting_after` cursors,
//!   all under one rate limiter. Windows are disjoint, and subscriptions are
//!   deduplicated by id all the same.
//! - Test clocks: Stripe lists leave out subscriptions on test clocks unless
//!   asked clock by clock (`test_clock=`). With a test-mode key the scope says
//!   so; `[billing] include_test_clocks = true` lists the clocks and reads them.

use std::collections::VecDeque;
use std::sync::Arc;

use reqwest::Url;
use serde::Deserialize;
use tokio::task::JoinSet;

use super::http::{Api, Failure, Page};
use super::live::{self, Collector, Hooks, Key, LiveRead};
use super::model::Observations;
use crate::config::BillingConfig;
use crate::error::CheckError;
use crate::secrets::Mode;

pub const DEFAULT_BASE: &str = crate::endpoints::STRIPE_API;
const PAGE_SIZE: u32 = 100;
/// Stripe opened in 2011: windows are spread from here, older ones stay in one window.
const FLOOR: i64 = 1_293_840_000;
/// At most this many windows come from one split.
const MAX_PIECES: usize = 16;

/// One cursor walk: a `created` window (inclusive bounds), a cursor, or a test clock.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Walk {
    gte: Option<i64>,
    lte: Option<i64>,
    after: Option<String>,
    test_clock: Option<String>,
}

impl Walk {
    fn url(&self, base: &Url) -> Url {
        let mut query = format!("status=all&limit={PAGE_SIZE}");
        if let Some(g) = self.gte {
            query.push_str(&format!("&created[gte]={g}"));
        }
        if let Some(l) = self.lte {
            query.push_str(&format!("&created[lte]={l}"));
        }
        if let Some(a) = &self.after {
            query.push_str(&format!("&starting_after={}", encode(a)));
        }
        if let Some(c) = &self.test_clock {
            query.push_str(&format!("&test_clock={}", encode(c)));
        }
        endpoint(base, "v1/subscriptions", &query)
    }
}

/// The part of a list page that drives pagination; the subscriptions
/// themselves go through [`super::subscriptions_json`].
#[derive(Debug, Deserialize)]
struct ListPage {
    #[serde(default)]
    has_more: bool,
    data: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    id: String,
    #[serde(default)]
    created: Option<i64>,
}

/// Reads every subscription (and, if configured in test mode, those on test clocks).
pub async fn read(cfg: &BillingConfig, key: &Key, obs: &mut Observations, hooks: &Hooks) -> Result<LiveRead, CheckError> {
    let base = crate::endpoints::api_base(cfg.provider, cfg.api_base.as_deref(), DEFAULT_BASE)?;
    let api = Arc::new(Api::new(&key.bearer(), &[], live::policy(cfg, key)).map_err(CheckError::Usage)?);
    let mut collector = Collector::new("Stripe", hooks).with_max_pages(cfg.max_pages);
    let mut notes = Vec::new();

    let mut walks = vec![Walk::default()];
    let test_mode = key.mode() != Mode::Live;
    let mut clocks = None;
    if cfg.include_test_clocks && test_mode {
        let ids = list_test_clocks(&api, &base).await.map_err(|f| explain(&f, key, &collector, obs))?;
        walks.extend(ids.iter().map(|id| Walk { test_clock: Some(id.clone()), ..Walk::default() }));
        clocks = Some(ids.len());
    } else if cfg.include_test_clocks {
        notes.push("include_test_clocks was ignored: test clocks exist only in test mode, and the key is a live one".to_string());
    }

    let started = std::time::Instant::now();
    let filters_ignored = walk_all(&api, &base, walks, &mut collector, obs).await.map_err(|e| match e {
        WalkError::Request(f) => explain(&f, key, &collector, obs),
        WalkError::Check(e) => e,
    })?;
    if filters_ignored {
        notes.push(
            "the API returned subscriptions outside the `created` window asked for, so the list was no longer split into \
             windows (slower, still complete)"
                .to_string(),
        );
    }
    tracing::info!(
        subscriptions = obs.subscriptions.len(),
        pages = collector.pages,
        secs = started.elapsed().as_secs_f64(),
        "read Stripe subscriptions"
    );
    notes.extend(collector.notes());

    let test_clocks = match (test_mode, clocks) {
        (false, _) => None,
        (true, Some(n)) => Some(format!("included: subscriptions on {n} test clocks were read clock by clock")),
        (true, None) => Some(
            "excluded: Stripe leaves subscriptions on test clocks out of lists; set [billing] include_test_clocks = true \
             (the key then needs rak_billing_clock_read) to read them"
                .to_string(),
        ),
    };
    Ok(LiveRead {
        source: "stripe-live".into(),
        billing_source: format!("stripe-api:{} ({} {})", base.as_str().trim_end_matches('/'), key.env, key.fingerprint()),
        key_mode: key.mode_name().into(),
        test_clocks,
        notes,
    })
}

/// One page of a walk, or why it could not be had.
type Fetched = Result<(Page, ListPage), Failure>;

enum WalkError {
    Request(Failure),
    Check(CheckError),
}

/// Pages through `walks` concurrently, splitting windows while there is room.
/// Dropping this future (cancellation) aborts every request in flight.
/// Returns whether the server ignored `created` filters (splitting then stops).
async fn walk_all(
    api: &Arc<Api>,
    base: &Url,
    walks: Vec<Walk>,
    collector: &mut Collector,
    obs: &mut Observations,
) -> Result<bool, WalkError> {
    let limit = api.policy.max_in_flight;
    let mut filters_ignored = false;
    let mut queue: VecDeque<Walk> = walks.into();
    let mut tasks: JoinSet<(Walk, Fetched)> = JoinSet::new();
    loop {
        while tasks.len() < limit
            && let Some(walk) = queue.pop_front()
        {
            let api = Arc::clone(api);
            let url = walk.url(base);
            tasks.spawn(async move {
                let fetched = match api.get(&url).await {
                    Ok(page) => page.json::<ListPage>().map(|list| (page, list)),
                    Err(f) => Err(f),
                };
                (walk, fetched)
            });
        }
        let Some(joined) = tasks.join_next().await else { return Ok(filters_ignored) };
        let (walk, fetched) = joined.map_err(|e| WalkError::Check(CheckError::Billing(format!("internal error: a Stripe request task failed: {e}"))))?;
        let (page, list) = fetched.map_err(WalkError::Request)?;
        collector.add(&page, obs).map_err(WalkError::Check)?;
        let outside = |c: &Option<i64>| c.is_some_and(|c| walk.gte.is_some_and(|g| c < g) || walk.lte.is_some_and(|l| c > l));
        if list.data.iter().any(|e| outside(&e.created)) {
            // Windows would overlap without end; deduplication keeps the count right.
            filters_ignored = true;
        }
        if !list.has_more {
            continue;
        }
        let Some(last) = list.data.last() else {
            let why = "the page says has_more but holds no subscriptions, so there is no cursor to continue from";
            return Err(WalkError::Check(collector.incomplete(&page.request, why, obs.subscriptions.len())));
        };
        if walk.after.as_deref() == Some(last.id.as_str()) {
            let why = format!("the cursor did not advance (the page ends with {}, the cursor it was asked to start after)", last.id);
            return Err(WalkError::Check(collector.incomplete(&page.request, &why, obs.subscriptions.len())));
        }
        let mut next = Walk { after: Some(last.id.clone()), ..walk };
        let room = limit.saturating_sub(tasks.len() + queue.len() + 1);
        if room > 0
            && !filters_ignored
            && next.test_clock.is_none()
            && let Some(newest_left) = last.created
        {
            let lo = next.gte.unwrap_or(0);
            // Pages left at this page's density: no more windows than that, or the
            // tail of the fetch would be spent on nearly empty pages.
            let span = list.data.first().and_then(|f| f.created).map_or(1, |newest| (newest - newest_left).max(1));
            let pages_left = usize::try_from((newest_left - lo) / span + 1).unwrap_or(usize::MAX);
            let pieces = split(lo, newest_left, (room + 1).min(MAX_PIECES).min(pages_left));
            if let Some((&(lo, hi), older)) = pieces.split_last() {
                // The cursor stays with the newest piece: it holds the cursor's own timestamp.
                next.gte = Some(lo);
                next.lte = Some(hi);
                queue.extend(older.iter().map(|&(lo, hi)| Walk { gte: Some(lo), lte: Some(hi), ..Walk::default() }));
            }
        }
        queue.push_front(next);
    }
}

/// Splits `[lo, hi]` (inclusive) into up to `n` ascending, disjoint, non-empty
/// windows covering it: everything before [`FLOOR`] in one, the rest evenly.
fn split(lo: i64, hi: i64, n: usize) -> Vec<(i64, i64)> {
    if hi < lo || n <= 1 {
        return vec![(lo, hi.max(lo))];
    }
    let mut out = Vec::with_capacity(n);
    let mut lo = lo;
    let mut n = n;
    if lo < FLOOR && hi > FLOOR {
        out.push((lo, FLOOR - 1));
        lo = FLOOR;
        n -= 1;
    }
    let width = (hi - lo + 1) as u64;
    let n = (n as u64).clamp(1, width);
    let step = width / n;
    for k in 0..n {
        let start = lo + (k * step) as i64;
        let end = if k + 1 == n { hi } else { lo + ((k + 1) * step) as i64 - 1 };
        out.push((start, end));
    }
    out
}

/// Every test clock's id (test mode only).
async fn list_test_clocks(api: &Api, base: &Url) -> Result<Vec<String>, Failure> {
    let mut ids = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut query = format!("limit={PAGE_SIZE}");
        if let Some(a) = &after {
            query.push_str(&format!("&starting_after={}", encode(a)));
        }
        let page = api.get(&endpoint(base, "v1/test_helpers/test_clocks", &query)).await?;
        let list: ListPage = page.json()?;
        ids.extend(list.data.iter().map(|c| c.id.clone()));
        match list.data.last() {
            Some(last) if list.has_more && after.as_deref() != Some(last.id.as_str()) => after = Some(last.id.clone()),
            _ => return Ok(ids),
        }
    }
}

/// A failed request, in Stripe's terms: an invalid key, a missing permission, or an incomplete fetch.
fn explain(failure: &Failure, key: &Key, collector: &Collector, obs: &Observations) -> CheckError {
    let body = match &failure.kind {
        super::http::FailureKind::Status { body, .. } => body.as_str(),
        _ => "",
    };
    let stripe_says = live::error_message(body).map(|(_, m)| m);
    let said = stripe_says.as_ref().map(|m| format!(" Stripe says: \"{m}\"")).unwrap_or_default();
    let message = match failure.status() {
        Some(401) => format!(
            "Stripe rejected the key in {} as invalid (HTTP 401 on `{}`).{said} Check that the variable holds a current secret or \
             restricted key of the right account and mode; a rolled or deleted key stops working at once",
            key.shown(),
            failure.request
        ),
        Some(403) => {
            let permission = stripe_says.as_deref().and_then(permission_named).unwrap_or_else(|| {
                if failure.request.contains("/test_clocks") { "rak_billing_clock_read" } else { "rak_subscription_read" }.to_string()
            });
            format!(
                "the key in {} lacks the permission `{permission}` (HTTP 403 on `{}`).{said} Grant it: Stripe Dashboard > \
                 Developers > API keys > the restricted key > Edit, set {} to Read, and save (the key itself does not change)",
                key.shown(),
                failure.request,
                permission_resource(&permission)
            )
        }
        _ => return collector.failed(failure, obs),
    };
    CheckError::Billing(crate::secrets::redact(&message))
}

/// `rak_subscription_read` out of Stripe's 403 message ("Having the 'rak_…' permission would allow…").
fn permission_named(message: &str) -> Option<String> {
    let start = message.find("rak_")?;
    let name: String = message[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    Some(name)
}

/// The Dashboard's name for a permission's resource.
fn permission_resource(permission: &str) -> String {
    match permission {
        "rak_subscription_read" => "Billing > Subscriptions".into(),
        "rak_billing_clock_read" => "Billing > Test clocks".into(),
        other => {
            let resource = other.trim_start_matches("rak_").trim_end_matches("_read").trim_end_matches("_write").replace('_', " ");
            format!("the `{resource}` resource")
        }
    }
}

/// `{base}/{path}?{query}`, keeping a path prefix in `base`.
fn endpoint(base: &Url, path: &str, query: &str) -> Url {
    let text = format!("{}/{path}?{query}", base.as_str().trim_end_matches('/'));
    Url::parse(&text).expect("a valid base with an ASCII path and query stays valid")
}

/// Ids are `[A-Za-z0-9_]`; anything else is percent-encoded.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_urls_carry_status_all_limit_windows_and_cursors() {
        let base = Url::parse("https://api.stripe.com").unwrap();
        assert_eq!(Walk::default().url(&base).as_str(), "https://api.stripe.com/v1/subscriptions?status=all&limit=100");
        let w = Walk { gte: Some(10), lte: Some(20), after: Some("sub_1".into()), test_clock: None };
        assert_eq!(
            w.url(&base).as_str(),
            "https://api.stripe.com/v1/subscriptions?status=all&limit=100&created[gte]=10&created[lte]=20&starting_after=sub_1"
        );
        let prefixed = Url::parse("http://127.0.0.1:9/stripe/").unwrap();
        let clock = Walk { test_clock: Some("clock_1".into()), ..Walk::default() };
        assert_eq!(clock.url(&prefixed).as_str(), "http://127.0.0.1:9/stripe/v1/subscriptions?status=all&limit=100&test_clock=clock_1");
    }

    #[test]
    fn split_covers_the_range_exactly_with_disjoint_windows() {
        for (lo, hi, n) in [(0, 1_700_000_000, 16), (1_600_000_000, 1_700_000_000, 7), (5, 9, 16), (100, 100, 4), (0, 1_000, 3)] {
            let pieces = split(lo, hi, n);
            assert!(pieces.len() <= n.max(1), "{pieces:?}");
            assert_eq!(pieces.first().unwrap().0, lo);
            assert_eq!(pieces.last().unwrap().1, hi);
            for w in pieces.windows(2) {
                assert_eq!(w[0].1 + 1, w[1].0, "{pieces:?}");
            }
            assert!(pieces.iter().all(|(a, b)| a <= b), "{pieces:?}");
        }
        // Everything before Stripe existed is one window.
        let pieces = split(0, FLOOR + 999, 5);
        assert_eq!(pieces[0], (0, FLOOR - 1));
        assert_eq!(pieces.len(), 5);
    }

    #[test]
    fn permission_is_read_from_stripe_403_message() {
        let m = "The provided key 'rk_test_***a1b2' does not have the required permissions for this endpoint on account 'acct_1'. \
                 Having the 'rak_subscription_read' permission would allow this request to continue.";
        assert_eq!(permission_named(m).as_deref(), Some("rak_subscription_read"));
        assert_eq!(permission_named("no permission named"), None);
        assert_eq!(permission_resource("rak_billing_clock_read"), "Billing > Test clocks");
        assert_eq!(permission_resource("rak_customer_read"), "the `customer` resource");
    }
}
