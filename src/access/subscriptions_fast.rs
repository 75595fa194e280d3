//! The fast path for one subscription element: reads the members that
//! [`RawSubscription`] holds straight from the bytes, with the same meaning
//! as its serde implementation, and leaves anything unusual to serde
//! (see [`super::json_cursor`] for the division of labour).

use std::borrow::Cow;

use smallvec::SmallVec;

use super::json_cursor::{Cursor, Got, Miss, once};
use super::subscriptions_json::{IdOrObject, Item, Items, Period, RawSubscription, ScheduledChange, Timestamp};

/// The subscription in `bytes`, or [`Miss`] when serde must parse it.
pub(super) fn read(bytes: &[u8]) -> Got<RawSubscription<'_>> {
    let mut c = Cursor::new(bytes).ok_or(Miss)?;
    let mut raw = RawSubscription::default();
    let mut seen = 0u32;
    c.object(|c, name| {
        match name {
            "id" => {
                once(&mut seen, 0)?;
                raw.id = opt_str(c)?;
            }
            "customer" => {
                once(&mut seen, 1)?;
                raw.customer = opt(c, id_or_object)?;
            }
            "customer_id" | "customerId" => {
                once(&mut seen, 2)?;
                raw.customer_id = opt_str(c)?;
            }
            "status" => {
                once(&mut seen, 3)?;
                raw.status = opt_str(c)?;
            }
            "items" => {
                once(&mut seen, 4)?;
                raw.items = opt(c, items)?;
            }
            "plan" => {
                once(&mut seen, 5)?;
                raw.plan = opt(c, id_or_object)?;
            }
            "priceIds" => {
                once(&mut seen, 6)?;
                raw.price_ids = opt(c, |c| {
                    let mut ids = Vec::new();
                    c.array(|c| {
                        ids.push(Cow::Borrowed(c.str()?));
                        Ok(())
                    })?;
                    Ok(ids)
                })?;
            }
            "cancel_at_period_end" | "cancelAtPeriodEnd" => {
                once(&mut seen, 7)?;
                raw.cancel_at_period_end = opt(c, Cursor::bool)?;
            }
            "current_period_start" | "currentPeriodStart" => {
                once(&mut seen, 8)?;
                raw.current_period_start = opt(c, timestamp)?;
            }
            "current_period_end" | "currentPeriodEnd" => {
                once(&mut seen, 9)?;
                raw.current_period_end = opt(c, timestamp)?;
            }
            "current_billing_period" => {
                once(&mut seen, 10)?;
                raw.current_billing_period = opt(c, period)?;
            }
            "scheduled_change" => {
                once(&mut seen, 11)?;
                raw.scheduled_change = opt(c, scheduled_change)?;
            }
            _ => c.skip()?,
        }
        Ok(())
    })?;
    c.end()?;
    Ok(raw)
}

/// `null` is `None`, as serde reads an `Option`.
fn opt<'a, T>(c: &mut Cursor<'a>, read: impl FnOnce(&mut Cursor<'a>) -> Got<T>) -> Got<Option<T>> {
    if c.null() { Ok(None) } else { read(c).map(Some) }
}

fn opt_str<'a>(c: &mut Cursor<'a>) -> Got<Option<Cow<'a, str>>> {
    opt(c, |c| c.str().map(Cow::Borrowed))
}

/// An id string, or an expanded object whose `id` is taken (the last one wins, as in serde).
fn id_or_object<'a>(c: &mut Cursor<'a>) -> Got<IdOrObject<'a>> {
    if c.peek() == Some(b'"') {
        return Ok(IdOrObject(Some(Cow::Borrowed(c.str()?))));
    }
    let mut id = None;
    c.object(|c, name| {
        if name == "id" {
            id = opt_str(c)?;
            Ok(())
        } else {
            c.skip()
        }
    })?;
    Ok(IdOrObject(id))
}

/// Unix seconds, or RFC 3339 text (checked later, as in serde's path).
fn timestamp<'a>(c: &mut Cursor<'a>) -> Got<Timestamp<'a>> {
    if c.peek() == Some(b'"') {
        Ok(Timestamp::Text(Cow::Borrowed(c.str()?)))
    } else {
        c.int().map(|(_, v)| Timestamp::Unix(v))
    }
}

/// A Stripe item list object (its `data`) or a bare array of items.
fn items<'a>(c: &mut Cursor<'a>) -> Got<Items<'a>> {
    let mut list = SmallVec::new();
    if c.peek() == Some(b'[') {
        c.array(|c| {
            list.push(item(c)?);
            Ok(())
        })?;
        return Ok(Items(list));
    }
    let mut seen = 0u32;
    c.object(|c, name| {
        if name != "data" {
            return c.skip();
        }
        once(&mut seen, 0)?;
        list.clear();
        c.array(|c| {
            list.push(item(c)?);
            Ok(())
        })
    })?;
    Ok(Items(list))
}

fn item<'a>(c: &mut Cursor<'a>) -> Got<Item<'a>> {
    let mut item = Item::default();
    let mut seen = 0u32;
    c.object(|c, name| {
        match name {
            "price" => {
                once(&mut seen, 0)?;
                item.price = opt(c, id_or_object)?;
            }
            "price_id" => {
                once(&mut seen, 1)?;
                item.price_id = opt_str(c)?;
            }
            "plan" => {
                once(&mut seen, 2)?;
                item.plan = opt(c, id_or_object)?;
            }
            "current_period_start" => {
                once(&mut seen, 3)?;
                item.current_period_start = opt(c, timestamp)?;
            }
            "current_period_end" => {
                once(&mut seen, 4)?;
                item.current_period_end = opt(c, timestamp)?;
            }
            _ => c.skip()?,
        }
        Ok(())
    })?;
    Ok(item)
}

fn period<'a>(c: &mut Cursor<'a>) -> Got<Period<'a>> {
    let mut period = Period::default();
    let mut seen = 0u32;
    c.object(|c, name| {
        match name {
            "starts_at" => {
                once(&mut seen, 0)?;
                period.starts_at = opt(c, timestamp)?;
            }
            "ends_at" => {
                once(&mut seen, 1)?;
                period.ends_at = opt(c, timestamp)?;
            }
            _ => c.skip()?,
        }
        Ok(())
    })?;
    Ok(period)
}

fn scheduled_change<'a>(c: &mut Cursor<'a>) -> Got<ScheduledChange<'a>> {
    let mut change = ScheduledChange::default();
    let mut seen = 0u32;
    c.object(|c, name| {
        match name {
            "action" => {
                once(&mut seen, 0)?;
                change.action = opt_str(c)?;
            }
            "effective_at" => {
                once(&mut seen, 1)?;
                change.effective_at = opt(c, timestamp)?;
            }
            _ => c.skip()?,
        }
        Ok(())
    })?;
    Ok(change)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_stripe_subscription_without_serde() {
        let doc = br#"{"id":"sub_1","object":"subscription","customer":{"id":"cus_A","email":null},"status":"active",
            "cancel_at_period_end":false,"metadata":{"k":"v\"w"},
            "items":{"object":"list","data":[{"id":"si_1","price":{"id":"price_pro","unit_amount":1.5e3},"current_period_start":1700000000}]}}"#;
        let raw = read(doc).unwrap();
        assert_eq!(raw.id.as_deref(), Some("sub_1"));
        assert_eq!(raw.customer.and_then(|c| c.0).as_deref(), Some("cus_A"));
        let items = raw.items.unwrap().0;
        assert_eq!(items[0].price.as_ref().and_then(|p| p.0.as_deref()), Some("price_pro"));
        assert!(matches!(items[0].current_period_start, Some(Timestamp::Unix(1700000000))));
        assert!(matches!(raw.cancel_at_period_end, Some(false)));
    }

    #[test]
    fn unusual_elements_go_to_serde() {
        for doc in [
            r#"{"id":"sub_1","id":"sub_2"}"#,                         // duplicate member
            r#"{"customerId":"c","customer_id":"d"}"#,                // alias and name together
            r#"{"id":"sub\u005f1"}"#,                                 // an escape in a read string
            r#"{"current_period_start":1.7e9}"#,                      // a float timestamp
            r#"{"status":3}"#,                                        // a wrong type
            r#"["sub_1"]"#,                                           // not an object
            r#"{"id":"sub_1"} x"#,                                    // trailing bytes
        ] {
            assert!(read(doc.as_bytes()).is_err(), "{doc}");
        }
    }
}
