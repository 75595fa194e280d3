//! Reads `db/users.json`: an array of rows keyed by the configured column names.
//!
//! A configured column that is a plain name (`has_paid_access`) is looked up
//! as such; one that is an SQL expression (`plan <> 'free'`) cannot be a JSON
//! key, so the canonical name (`access`) is used instead.

use std::borrow::Cow;
use std::fmt;
use std::io::Read;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::json_cursor::{Cursor, Got, Miss};
use super::json_stream::{self, ArrayAt, Element, Source, StreamError};
use super::model::{Observations, UserRow};
use super::strings::Parsed;
use crate::config::ColumnsConfig;

/// The JSON keys a users file is read with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserKeys {
    pub id: String,
    pub customer_id: String,
    pub access: String,
    pub plan: Option<String>,
}

impl UserKeys {
    pub fn from_columns(c: &ColumnsConfig) -> Self {
        UserKeys {
            id: key_for(&c.id, "id"),
            customer_id: key_for(&c.customer_id, "customer_id"),
            access: key_for(&c.access, "access"),
            plan: Some(c.plan.as_deref().map_or_else(|| "plan".to_string(), |p| key_for(p, "plan"))),
        }
    }
}

fn is_plain_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn key_for(configured: &str, canonical: &str) -> String {
    let configured = configured.trim();
    if is_plain_name(configured) { configured.to_string() } else { canonical.to_string() }
}

/// Parses user rows from `reader` into `obs`; `len` is the document's size when known.
pub fn read_users<R: Read>(source: Source<'_, R>, len: Option<u64>, keys: &UserKeys, obs: &mut Observations, workers: usize) -> Result<usize, StreamError> {
    let mut count = 0usize;
    let parse = |e: Element<'_>| -> Result<PreUser, StreamError> {
        if let Ok(user) = read_fast(keys, &e) {
            return Ok(user);
        }
        let mut de = sonic_rs::Deserializer::from_slice(e.bytes);
        Row { keys, element: &e }
            .deserialize(&mut de)
            .map_err(|err| json_stream::element_error(&e, &err, &format!("users.json row {}", e.position)))
    };
    let consume = |block: &[u8], batch: std::vec::Drain<'_, PreUser>, read_to: u64| {
        let first = count == 0;
        let before = obs.strings.size();
        count += batch.len();
        obs.users.reserve(batch.len());
        for pre in batch {
            if pre.has_plan {
                obs.plan_tracked = true;
            }
            if pre.has_customer {
                obs.customer_tracked = true;
            }
            // SAFETY (the three strings): `block` is the block this batch was parsed from.
            let user = UserRow {
                // Ids are only ever printed, never looked up: no index entry.
                id: obs.strings.push_unindexed(unsafe { pre.id.as_str(block) }),
                // Linked to the subscriptions' customer ids later, by Observations::link_customers.
                customer: pre.customer.map(|c| obs.strings.push_unindexed(unsafe { c.as_str(block) })),
                access: pre.access,
                plan: pre.plan.map(|p| unsafe { p.intern(block, &mut obs.strings) }),
            };
            obs.users.push(user);
        }
        if first {
            Observations::reserve_rest(&mut obs.strings, &mut obs.users, before, count, len, read_to);
        }
    };
    json_stream::parse_array(source, ArrayAt::Root, workers, parse, consume)?;
    Ok(count)
}

pub fn read_users_slice(bytes: &[u8], keys: &UserKeys, obs: &mut Observations) -> Result<usize, StreamError> {
    read_users(Source::bytes(bytes), Some(bytes.len() as u64), keys, obs, 1)
}

/// A user row parsed on a worker; strings still point into its block.
struct PreUser {
    id: Parsed,
    customer: Option<Parsed>,
    access: bool,
    plan: Option<Parsed>,
    has_plan: bool,
    has_customer: bool,
}

struct Row<'k, 'e, 'b> {
    keys: &'k UserKeys,
    element: &'e Element<'b>,
}

impl<'de> DeserializeSeed<'de> for Row<'_, '_, '_> {
    type Value = PreUser;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<PreUser, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Row<'_, '_, '_> {
    type Value = PreUser;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a user row object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PreUser, A::Error> {
        let keys = self.keys;
        let mut cells = Cells::default();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let key = key.as_ref();
            if key == keys.id {
                cells.id = map.next_value::<Scalar>()?.into_text();
            } else if key == keys.customer_id {
                cells.has_customer = true;
                cells.customer = map.next_value::<Scalar>()?.into_text();
            } else if key == keys.access {
                cells.access = Some(map.next_value::<Scalar>()?);
            } else if keys.plan.as_deref() == Some(key) {
                cells.has_plan = true;
                cells.plan = map.next_value::<Scalar>()?.into_text();
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        cells.finish(keys, self.element).map_err(de::Error::custom)
    }
}

/// The cells of one row that the contract reads.
#[derive(Default)]
struct Cells<'a> {
    id: Option<Cow<'a, str>>,
    customer: Option<Cow<'a, str>>,
    access: Option<Scalar<'a>>,
    plan: Option<Cow<'a, str>>,
    has_plan: bool,
    has_customer: bool,
}

impl<'a> Cells<'a> {
    /// The row, or what is wrong with it.
    fn finish(self, keys: &UserKeys, e: &Element<'_>) -> Result<PreUser, String> {
        let n = e.position;
        let id = self
            .id
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| format!("no `{}` value; rows are read by the column names in [database.columns]", keys.id))?;
        let access = match self.access {
            None => {
                return Err(format!(
                    "row {n} (id {id}) has no `{}` field; rows are read by the column names in [database.columns]",
                    keys.access
                ));
            }
            Some(v) => v.as_access().ok_or_else(|| {
                format!(
                    "row {n} (id {id}): `{}` is {}, which is not boolean-like (use true/false, 0/1, \"t\"/\"f\", \"yes\"/\"no\")",
                    keys.access,
                    v.describe()
                )
            })?,
        };
        let text = |s: &str| Parsed::new(s, e.bytes, e.in_block);
        let trim = |s: Cow<'a, str>| -> Cow<'a, str> {
            match s {
                Cow::Borrowed(b) => Cow::Borrowed(b.trim()),
                Cow::Owned(o) => Cow::Owned(o.trim().to_string()),
            }
        };
        let customer = self.customer.map(trim).filter(|c| !c.is_empty());
        Ok(PreUser {
            id: Parsed::new(&trim(id), e.bytes, e.in_block),
            customer: customer.as_deref().map(text),
            access,
            plan: self.plan.as_deref().map(text),
            has_plan: self.has_plan,
            has_customer: self.has_customer,
        })
    }
}

/// The fast path for one row (see [`super::json_cursor`]): `Miss` sends it to serde,
/// which also words any error.
fn read_fast(keys: &UserKeys, e: &Element<'_>) -> Got<PreUser> {
    let mut c = Cursor::new(e.bytes).ok_or(Miss)?;
    let mut cells = Cells::default();
    c.object(|c, name| {
        if name == keys.id {
            cells.id = text_cell(c)?;
        } else if name == keys.customer_id {
            cells.has_customer = true;
            cells.customer = text_cell(c)?;
        } else if name == keys.access {
            cells.access = Some(match c.peek() {
                Some(b'"') => Scalar::Text(Cow::Borrowed(c.str()?)),
                Some(b't' | b'f') => Scalar::Bool(c.bool()?),
                Some(b'n') if c.null() => Scalar::Null,
                _ => Scalar::Int(c.int()?.1),
            });
        } else if keys.plan.as_deref() == Some(name) {
            cells.has_plan = true;
            cells.plan = text_cell(c)?;
        } else {
            c.skip()?;
        }
        Ok(())
    })?;
    c.end()?;
    cells.finish(keys, e).map_err(|_| Miss)
}

/// A cell read as text: a string, or an integer's digits as written (which
/// is how serde's path prints it); other types go to serde.
fn text_cell<'a>(c: &mut Cursor<'a>) -> Got<Option<Cow<'a, str>>> {
    match c.peek() {
        Some(b'"') => Ok(Some(Cow::Borrowed(c.str()?))),
        Some(b'n') if c.null() => Ok(None),
        _ => Ok(Some(Cow::Borrowed(c.int()?.0))),
    }
}

/// A JSON scalar cell; nested values are refused.
enum Scalar<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(Cow<'a, str>),
}

impl<'a> Scalar<'a> {
    fn into_text(self) -> Option<Cow<'a, str>> {
        match self {
            Scalar::Null => None,
            Scalar::Bool(b) => Some(Cow::Owned(b.to_string())),
            Scalar::Int(i) => Some(Cow::Owned(i.to_string())),
            Scalar::Float(f) => Some(Cow::Owned(f.to_string())),
            Scalar::Text(s) => Some(s),
        }
    }

    fn as_access(&self) -> Option<bool> {
        match self {
            Scalar::Bool(b) => Some(*b),
            Scalar::Int(0) => Some(false),
            Scalar::Int(1) => Some(true),
            Scalar::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
                "t" | "true" | "yes" | "1" => Some(true),
                "f" | "false" | "no" | "0" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    fn describe(&self) -> String {
        match self {
            Scalar::Null => "null".into(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Text(s) => format!("{s:?}"),
        }
    }
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Scalar<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number, boolean or null")
            }
            fn visit_unit<E>(self) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Null)
            }
            fn visit_none<E>(self) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar<'a>, E> {
                Ok(i64::try_from(v).map_or(Scalar::Text(Cow::Owned(v.to_string())), Scalar::Int))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Float(v))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Text(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Text(Cow::Owned(v)))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> UserKeys {
        UserKeys::from_columns(&ColumnsConfig::default())
    }

    #[test]
    fn reads_configured_names_and_boolean_like_values() {
        let mut obs = Observations::default();
        let json = r#"[
          {"id": 1, "stripe_customer_id": "cus_A", "has_paid_access": true, "plan": "pro", "email": "a@example.com"},
          {"id": "2", "stripe_customer_id": "  ", "has_paid_access": "f", "plan": null},
          {"id": 3, "stripe_customer_id": null, "has_paid_access": 1}
        ]"#;
        assert_eq!(read_users(Source::Reader(json.as_bytes()), None, &keys(), &mut obs, 2).unwrap(), 3);
        assert!(obs.plan_tracked);
        let u = &obs.users;
        assert_eq!((obs.str(u[0].id), u[0].access, u[0].plan.map(|p| obs.str(p))), ("1", true, Some("pro")));
        assert_eq!((u[1].customer, u[1].access), (None, false), "blank customer ids are none");
        assert_eq!((u[2].customer, u[2].access), (None, true));
    }

    #[test]
    fn expressions_fall_back_to_canonical_names() {
        let cols = ColumnsConfig {
            id: "user_id".into(),
            customer_id: "customer".into(),
            access: "plan <> 'free'".into(),
            plan: Some("lower(tier)".into()),
        };
        let keys = UserKeys::from_columns(&cols);
        assert_eq!((keys.id.as_str(), keys.access.as_str(), keys.plan.as_deref()), ("user_id", "access", Some("plan")));
        let mut obs = Observations::default();
        read_users(Source::Reader(r#"[{"user_id":"u1","customer":"c","access":"yes"}]"#.as_bytes()), None, &keys, &mut obs, 1).unwrap();
        assert!(obs.users[0].access);
        assert!(!obs.plan_tracked, "no row has the plan key");
    }

    #[test]
    fn bad_rows_are_named() {
        let mut obs = Observations::default();
        let err = read_users(Source::Reader(r#"[{"id":7,"has_paid_access":"maybe"}]"#.as_bytes()), None, &keys(), &mut obs, 1).unwrap_err();
        assert!(err.message.contains("row 1 (id 7)") && err.message.contains("\"maybe\""), "{err:?}");
        let err = read_users(Source::Reader(r#"[{"id":7}]"#.as_bytes()), None, &keys(), &mut obs, 1).unwrap_err();
        assert!(err.message.contains("no `has_paid_access` field"), "{err:?}");
        let err = read_users(Source::Reader(r#"[{"has_paid_access":true}]"#.as_bytes()), None, &keys(), &mut obs, 1).unwrap_err();
        assert!(err.message.contains("users.json row 1") && err.message.contains("no `id` value"), "{err:?}");
        let err = read_users(Source::Reader(r#"{"id":1}"#.as_bytes()), None, &keys(), &mut obs, 1).unwrap_err();
        assert!(err.message.contains("array"), "{err:?}");
    }
}
