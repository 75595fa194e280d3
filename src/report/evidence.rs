//! The facts behind a finding: named JSON values, in the order a check gave them.
//!
//! A list, not a map: a check adds a handful of facts once and nothing looks
//! them up in bulk, while a large report carries a hundred thousand findings.
//! A hashed map cost each one a hash table, a hash per name and a copy of
//! every name; here the names are the check's own `&'static str`s.

use std::borrow::Cow;

use schemars::JsonSchema;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evidence(Vec<(Cow<'static, str>, Value)>);

impl Evidence {
    /// Sets `name` to `value`: replaces an earlier value of that name, else appends.
    pub fn insert(&mut self, name: impl Into<Cow<'static, str>>, value: Value) {
        let name = name.into();
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name, value)),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(n, v)| (n.as_ref(), v))
    }

    pub fn shrink_to_fit(&mut self) {
        self.0.shrink_to_fit();
    }
}

impl std::ops::Index<&str> for Evidence {
    type Output = Value;

    /// The value of `name`; panics when there is none, as a map's index does.
    fn index(&self, name: &str) -> &Value {
        self.get(name).unwrap_or_else(|| panic!("no evidence named {name}"))
    }
}

impl Serialize for Evidence {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name.as_ref(), value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Evidence {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = serde_json::Map::<String, Value>::deserialize(deserializer)?;
        Ok(Evidence(map.into_iter().map(|(n, v)| (Cow::Owned(n), v)).collect()))
    }
}

/// The schema of a JSON object with any members, as for a map.
impl JsonSchema for Evidence {
    fn schema_name() -> Cow<'static, str> {
        <serde_json::Map<String, Value>>::schema_name()
    }

    fn schema_id() -> Cow<'static, str> {
        <serde_json::Map<String, Value>>::schema_id()
    }

    fn inline_schema() -> bool {
        <serde_json::Map<String, Value>>::inline_schema()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        <serde_json::Map<String, Value>>::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_replaces_by_name_and_round_trips_as_an_object() {
        let mut e = Evidence::default();
        e.insert("b", Value::from(1));
        e.insert("a", Value::from("x"));
        e.insert("b", Value::from(2));
        assert_eq!(e.len(), 2);
        assert_eq!(e["b"], 2);
        assert_eq!(e.get("c"), None);
        let text = serde_json::to_string(&e).unwrap();
        assert_eq!(text, r#"{"b":2,"a":"x"}"#);
        assert_eq!(serde_json::from_str::<Evidence>(&text).unwrap(), e);
        assert!(serde_json::from_str::<Evidence>("[1]").is_err());
    }

    #[test]
    fn schema_is_that_of_an_object_map() {
        let ours = schemars::schema_for!(Evidence);
        let map = schemars::schema_for!(serde_json::Map<String, Value>);
        assert_eq!(ours, map);
    }
}
