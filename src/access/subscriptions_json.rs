//! Reads subscriptions in the shapes billing providers return them:
//! a Stripe list object (`{"object":"list","data":[...]}`) or a bare array of
//! Stripe Subscription objects, Paddle's list response (`{"data":[...],"meta":...}`),
//! and billguard's normalized shape (`[{"id","customerId","status","priceIds"}]`).
//!
//! The file is streamed: each element becomes a compact [`Subscription`] as it
//! is parsed, so a million subscriptions never exist as JSON trees in memory.

use std::borrow::Cow;
use std::fmt;
use std::io::Read;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use smallvec::SmallVec;

use super::json_stream::{self, ArrayAt, Element, Source, StreamError};
use super::model::{Observations, Status, Subscription};
use super::strings::Parsed;
use super::subscriptions_fast;

/// What the file said about itself besides its subscriptions.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ListInfo {
    /// A Stripe list with `has_more: true`, or Paddle's `meta.pagination.has_more`: only one page.
    pub has_more: bool,
    pub count: usize,
}

/// Parses subscriptions from `reader` into `obs`, parsing on `workers` threads.
/// `len` is the document's size when known, to size the tables once.
pub fn read_subscriptions<R: Read>(source: Source<'_, R>, len: Option<u64>, obs: &mut Observations, workers: usize) -> Result<ListInfo, StreamError> {
    let mut count = 0usize;
    let consume = |block: &[u8], batch: std::vec::Drain<'_, PreSubscription>, read_to: u64| {
        let first = count == 0;
        let before = obs.strings.size();
        count += batch.len();
        obs.subscriptions.reserve(batch.len());
        for pre in batch {
            // SAFETY: parse_array hands each batch with the block it was parsed from.
            let sub = unsafe { pre.commit(block, obs) };
            obs.subscriptions.push(sub);
        }
        if first {
            Observations::reserve_rest(&mut obs.strings, &mut obs.subscriptions, before, count, len, read_to);
        }
    };
    let envelope = json_stream::parse_array(source, ArrayAt::RootOrData, workers, parse_element, consume)?;
    let paddle_more = envelope.members.get("meta").and_then(|m| m.pointer("/pagination/has_more")).and_then(|v| v.as_bool());
    let stripe_more = envelope.members.get("has_more").and_then(|v| v.as_bool());
    Ok(ListInfo { has_more: paddle_more.or(stripe_more).unwrap_or(false), count })
}

/// Parses subscriptions from bytes (fixtures compiled into the binary, API pages).
pub fn read_subscriptions_slice(bytes: &[u8], obs: &mut Observations) -> Result<ListInfo, StreamError> {
    read_subscriptions(Source::bytes(bytes), Some(bytes.len() as u64), obs, 1)
}

fn parse_element(e: Element<'_>) -> Result<PreSubscription, StreamError> {
    let fail = |message: String| StreamError { offset: e.offset, message };
    let raw: RawSubscription = match subscriptions_fast::read(e.bytes) {
        Ok(raw) => raw,
        Err(_) => sonic_rs::from_slice(e.bytes)
            .map_err(|err| json_stream::element_error(&e, &err, &format!("subscription #{}", e.position)))?,
    };
    raw.into_pre(&e).map_err(fail)
}

/// A subscription parsed on a worker; strings still point into its block.
struct PreSubscription {
    id: Parsed,
    customer: Parsed,
    status: PreStatus,
    prices: SmallVec<[Parsed; 1]>,
    cancel_at_period_end: bool,
    period_start: Option<i64>,
    period_end: Option<i64>,
}

enum PreStatus {
    Known(Status),
    Other(Box<str>),
}

impl PreSubscription {
    /// # Safety
    /// `block` is the block this subscription was parsed from (as
    /// `parse_array` hands each batch to its consumer).
    unsafe fn commit(self, block: &[u8], obs: &mut Observations) -> Subscription {
        let status = match self.status {
            PreStatus::Known(s) => s,
            PreStatus::Other(raw) => Status::Other(obs.strings.get_or_intern(&raw)),
        };
        Subscription {
            // SAFETY (the three strings): passed on from the caller.
            id: obs.strings.push_unindexed(unsafe { self.id.as_str(block) }),
            // Linked to the users' customer ids later, by Observations::link_customers.
            customer: obs.strings.push_unindexed(unsafe { self.customer.as_str(block) }),
            status,
            prices: self.prices.iter().map(|p| unsafe { p.intern(block, &mut obs.strings) }).collect(),
            cancel_at_period_end: self.cancel_at_period_end,
            period_start: self.period_start.into(),
            period_end: self.period_end.into(),
        }
    }
}

/// One subscription in any of the accepted shapes; every field optional here,
/// checked in [`RawSubscription::into_subscription`].
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawSubscription<'a> {
    #[serde(borrow)]
    pub(super) id: Option<Cow<'a, str>>,
    /// Stripe: a customer id, or the expanded Customer object.
    #[serde(borrow)]
    pub(super) customer: Option<IdOrObject<'a>>,
    /// Paddle `customer_id`, normalized `customerId`.
    #[serde(borrow, alias = "customerId")]
    pub(super) customer_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(super) status: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(super) items: Option<Items<'a>>,
    /// Legacy Stripe subscriptions carry a top-level plan.
    #[serde(borrow)]
    pub(super) plan: Option<IdOrObject<'a>>,
    #[serde(borrow, rename = "priceIds")]
    pub(super) price_ids: Option<Vec<Cow<'a, str>>>,
    #[serde(alias = "cancelAtPeriodEnd")]
    pub(super) cancel_at_period_end: Option<bool>,
    #[serde(borrow, alias = "currentPeriodStart")]
    pub(super) current_period_start: Option<Timestamp<'a>>,
    #[serde(borrow, alias = "currentPeriodEnd")]
    pub(super) current_period_end: Option<Timestamp<'a>>,
    /// Paddle: `{starts_at, ends_at}` as RFC 3339.
    #[serde(borrow)]
    pub(super) current_billing_period: Option<Period<'a>>,
    /// Paddle: `{action: "cancel", effective_at}`.
    #[serde(borrow)]
    pub(super) scheduled_change: Option<ScheduledChange<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Item<'a> {
    #[serde(borrow)]
    pub(super) price: Option<IdOrObject<'a>>,
    #[serde(borrow)]
    pub(super) price_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(super) plan: Option<IdOrObject<'a>>,
    /// API 2025-03-31 and later: the period lives on the item.
    #[serde(borrow)]
    pub(super) current_period_start: Option<Timestamp<'a>>,
    #[serde(borrow)]
    pub(super) current_period_end: Option<Timestamp<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Period<'a> {
    #[serde(borrow)]
    pub(super) starts_at: Option<Timestamp<'a>>,
    #[serde(borrow)]
    pub(super) ends_at: Option<Timestamp<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ScheduledChange<'a> {
    #[serde(borrow)]
    pub(super) action: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(super) effective_at: Option<Timestamp<'a>>,
}

/// Stripe item lists (`{"object":"list","data":[...]}`) or Paddle item arrays.
#[derive(Default)]
pub(super) struct Items<'a>(pub(super) SmallVec<[Item<'a>; 1]>);

impl<'de: 'a, 'a> Deserialize<'de> for Items<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Items<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list object or an array of items")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Items<'a>, A::Error> {
                let mut items = SmallVec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Items(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Items<'a>, A::Error> {
                let mut items = SmallVec::new();
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    if key == "data" {
                        items = map.next_value::<Vec<Item<'a>>>()?.into();
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(Items(items))
            }
            fn visit_unit<E>(self) -> Result<Items<'a>, E> {
                Ok(Items(SmallVec::new()))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// An id as a string, or an expanded object carrying `id`.
pub(super) struct IdOrObject<'a>(pub(super) Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for IdOrObject<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = IdOrObject<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an id string or an object with an `id`")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<IdOrObject<'a>, E> {
                Ok(IdOrObject(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<IdOrObject<'a>, E> {
                Ok(IdOrObject(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<IdOrObject<'a>, E> {
                Ok(IdOrObject(Some(Cow::Owned(v))))
            }
            fn visit_unit<E>(self) -> Result<IdOrObject<'a>, E> {
                Ok(IdOrObject(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<IdOrObject<'a>, A::Error> {
                let mut id = None;
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    if key == "id" {
                        id = map.next_value::<Option<Cow<'a, str>>>()?;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(IdOrObject(id))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// Unix seconds, or an RFC 3339 string (Paddle).
pub(super) enum Timestamp<'a> {
    Unix(i64),
    Text(Cow<'a, str>),
}

impl<'de: 'a, 'a> Deserialize<'de> for Timestamp<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Timestamp<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("unix seconds or an RFC 3339 timestamp")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Timestamp<'a>, E> {
                Ok(Timestamp::Unix(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Timestamp<'a>, E> {
                Ok(Timestamp::Unix(v.min(i64::MAX as u64) as i64))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Timestamp<'a>, E> {
                Ok(Timestamp::Unix(v as i64))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Timestamp<'a>, E> {
                Ok(Timestamp::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Timestamp<'a>, E> {
                Ok(Timestamp::Text(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl Timestamp<'_> {
    fn unix(&self) -> Result<i64, String> {
        match self {
            Timestamp::Unix(v) => Ok(*v),
            Timestamp::Text(t) => chrono::DateTime::parse_from_rfc3339(t)
                .map(|d| d.timestamp())
                .map_err(|e| format!("`{t}` is not an RFC 3339 timestamp ({e})")),
        }
    }
}

fn unix(ts: &Option<Timestamp>) -> Result<Option<i64>, String> {
    ts.as_ref().map(Timestamp::unix).transpose()
}

impl RawSubscription<'_> {
    fn into_pre(self, e: &Element<'_>) -> Result<PreSubscription, String> {
        let n = e.position;
        let text = |s: &str| Parsed::new(s, e.bytes, e.in_block);
        let id = self.id.as_ref().filter(|s| !s.is_empty()).ok_or_else(|| format!("subscription #{n} has no `id`"))?;
        let where_ = || format!("subscription #{n} ({id})");
        let customer = self
            .customer
            .and_then(|c| c.0)
            .or(self.customer_id)
            .filter(|c| !c.trim().is_empty())
            .ok_or_else(|| format!("{} has no `customer` (Stripe), `customer_id` (Paddle) or `customerId`", where_()))?;
        let status = self.status.ok_or_else(|| format!("{} has no `status`", where_()))?;

        let mut prices: SmallVec<[Parsed; 1]> = SmallVec::new();
        let mut item_start = None;
        let mut item_end = None;
        for item in self.items.map(|i| i.0).unwrap_or_default() {
            let price = item.price.and_then(|p| p.0).or(item.price_id).or_else(|| item.plan.and_then(|p| p.0));
            if let Some(p) = price {
                prices.push(text(&p));
            }
            if item_start.is_none() {
                item_start = unix(&item.current_period_start).map_err(|e| format!("{}: {e}", where_()))?;
                item_end = unix(&item.current_period_end).map_err(|e| format!("{}: {e}", where_()))?;
            }
        }
        for p in self.price_ids.unwrap_or_default() {
            prices.push(text(&p));
        }
        if prices.is_empty()
            && let Some(plan) = self.plan.and_then(|p| p.0)
        {
            prices.push(text(&plan));
        }

        let err = |e: String| format!("{}: {e}", where_());
        let period = self.current_billing_period.unwrap_or_default();
        let period_start = match item_start {
            Some(s) => Some(s),
            None => match unix(&self.current_period_start).map_err(err)? {
                Some(s) => Some(s),
                None => unix(&period.starts_at).map_err(err)?,
            },
        };
        let mut period_end = match item_end {
            Some(e) => Some(e),
            None => match unix(&self.current_period_end).map_err(err)? {
                Some(e) => Some(e),
                None => unix(&period.ends_at).map_err(err)?,
            },
        };
        let mut cancel_at_period_end = self.cancel_at_period_end.unwrap_or(false);
        if let Some(change) = self.scheduled_change
            && change.action.as_deref() == Some("cancel")
        {
            cancel_at_period_end = true;
            period_end = unix(&change.effective_at).map_err(err)?.or(period_end);
        }
        let trimmed = customer.trim();
        let customer = if trimmed.len() == customer.len() { customer } else { Cow::Owned(trimmed.to_string()) };
        let status = match Status::known_any_case(status.trim()) {
            Some(s) => PreStatus::Known(s),
            None => PreStatus::Other(status.trim().to_ascii_lowercase().into()),
        };
        Ok(PreSubscription {
            id: text(id),
            customer: text(&customer),
            status,
            prices,
            cancel_at_period_end,
            period_start,
            period_end,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> (Observations, ListInfo) {
        let mut obs = Observations::default();
        let info = read_subscriptions(Source::Reader(json.as_bytes()), None, &mut obs, 2).unwrap();
        (obs, info)
    }

    #[test]
    fn stripe_list_object_with_new_api_periods() {
        let (obs, info) = read(
            r#"{"object":"list","url":"/v1/subscriptions","has_more":false,"data":[
              {"id":"sub_1","object":"subscription","customer":"cus_A","status":"Active","cancel_at_period_end":true,
               "items":{"object":"list","data":[{"id":"si_1","price":{"id":"price_pro","object":"price"},
               "current_period_start":1700000000,"current_period_end":1702592000}]}}]}"#,
        );
        assert_eq!(info, ListInfo { has_more: false, count: 1 });
        let s = &obs.subscriptions[0];
        assert_eq!((obs.str(s.id), obs.str(s.customer)), ("sub_1", "cus_A"));
        assert_eq!(s.status, Status::Active);
        assert_eq!(obs.str(s.prices[0]), "price_pro");
        assert!(s.cancel_at_period_end);
        assert_eq!((s.period_start.get(), s.period_end.get()), (Some(1700000000), Some(1702592000)));
    }

    #[test]
    fn stripe_array_with_expanded_customer_and_legacy_plan() {
        let (obs, info) = read(
            r#"[{"id":"sub_2","customer":{"id":"cus_B","email":"b@example.com"},"status":"past_due",
                 "current_period_start":1600000000,"plan":{"id":"gold"},"items":{"data":[{"plan":{"id":"gold"}}]}},
                {"id":"sub_3","customer":"cus_C","status":"canceled","plan":{"id":"silver"},"items":null}]"#,
        );
        assert_eq!(info.count, 2);
        assert_eq!(obs.str(obs.subscriptions[0].customer), "cus_B");
        assert_eq!(obs.str(obs.subscriptions[0].prices[0]), "gold");
        assert_eq!(obs.subscriptions[0].period_start.get(), Some(1600000000));
        assert_eq!(obs.str(obs.subscriptions[1].prices[0]), "silver");
    }

    #[test]
    fn paddle_list_response() {
        let (obs, info) = read(
            r#"{"data":[{"id":"sub_01h","status":"active","customer_id":"ctm_01h",
                "items":[{"price":{"id":"pri_01pro"},"quantity":1}],
                "current_billing_period":{"starts_at":"2024-04-12T10:18:48.294633Z","ends_at":"2024-05-12T10:18:48.294633Z"},
                "scheduled_change":{"action":"cancel","effective_at":"2024-05-12T10:18:48Z","resume_at":null}}],
               "meta":{"request_id":"x","pagination":{"per_page":200,"next":"https://api.paddle.com/subscriptions?after=sub_01h","has_more":true,"estimated_total":2}}}"#,
        );
        assert!(info.has_more);
        let s = &obs.subscriptions[0];
        assert_eq!(obs.str(s.customer), "ctm_01h");
        assert_eq!(obs.str(s.prices[0]), "pri_01pro");
        assert_eq!(s.period_start.get(), Some(1712917128));
        assert!(s.cancel_at_period_end);
        assert_eq!(s.period_end.get(), Some(1715509128));
    }

    #[test]
    fn normalized_shape() {
        let (obs, _) = read(r#"[{"id":"s1","customerId":"c1","status":"TRIALING","priceIds":["p1","p2"]}]"#);
        let s = &obs.subscriptions[0];
        assert_eq!(s.status, Status::Trialing);
        assert_eq!(s.prices.len(), 2);
    }

    #[test]
    fn errors_name_the_element_and_position() {
        let mut obs = Observations::default();
        let err = read_subscriptions_slice(r#"[{"id":"s1","status":"active"}]"#.as_bytes(), &mut obs).unwrap_err();
        assert!(err.message.contains("subscription #1 (s1) has no `customer`"), "{err:?}");
        let doc = "[{\"id\":\"s1\",\n\"status\": }]";
        let err = read_subscriptions_slice(doc.as_bytes(), &mut obs).unwrap_err();
        assert_eq!(crate::access::json_stream::locate(doc.as_bytes(), err.offset).0, 2, "points at the error itself: {err:?}");
        let err = read_subscriptions_slice(r#"{"object":"list"}"#.as_bytes(), &mut obs).unwrap_err();
        assert!(err.message.contains("`data`"), "{err:?}");
        let err = read_subscriptions_slice(r#"[{"id":"s1","customer":"c","status":"active","current_period_start":"yesterday"}]"#.as_bytes(), &mut obs)
            .unwrap_err();
        assert!(err.message.contains("RFC 3339"), "{err:?}");
    }
}
