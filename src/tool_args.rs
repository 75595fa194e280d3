//! Decoding MCP tool arguments without echoing them.
//!
//! serde's messages quote the offending value (`invalid type: string
//! "sk_live_…", expected u32`) and unknown field names (`unknown field
//! \`sk_live_…\``), which would carry a key pasted into the wrong argument
//! straight back into the transcript and the logs. [`Args`] names the argument
//! at fault and what it expects, from the tool's own schema, and never the value.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use crate::secrets;

/// Tool arguments decoded with errors that name the argument, never its value.
#[derive(Debug)]
pub struct Args<T>(pub T);

impl<T: JsonSchema> JsonSchema for Args<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let mut value = T::json_schema(generator).to_value();
        crate::tool_schema::portable(&mut value);
        schemars::Schema::try_from(value).unwrap_or_else(|_| T::json_schema(generator))
    }
}

impl<'de, T: serde::de::DeserializeOwned + JsonSchema> Deserialize<'de> for Args<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut value = Value::deserialize(d)?;
        if value.is_null() {
            // No arguments at all: every argument is optional.
            value = Value::Object(serde_json::Map::new());
        }
        let schema = serde_json::to_value(schemars::schema_for!(T)).unwrap_or(Value::Null);
        let properties = schema.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
        let names: Vec<String> = properties.keys().cloned().collect();
        match &value {
            Value::Object(map) => {
                if let Some(unknown) = map.keys().find(|k| !properties.contains_key(k.as_str())) {
                    return Err(serde::de::Error::custom(unknown_argument(unknown, &names)));
                }
            }
            _ => return Err(serde::de::Error::custom(format!("the arguments must be a JSON object (names: {})", names.join(", ")))),
        }
        serde_path_to_error::deserialize(value).map(Args).map_err(|e| {
            let path = e.path().to_string();
            let name = path.split(['.', '[']).next().unwrap_or_default();
            let expected = properties.get(name).map(expected_shape).unwrap_or_else(|| "a valid value".to_string());
            serde::de::Error::custom(format!("argument `{name}` must be {expected}; the value given is not (it is not shown here)"))
        })
    }
}

/// Names an unknown argument only when its name cannot be a secret.
fn unknown_argument(name: &str, known: &[String]) -> String {
    let plain = name.len() <= 40 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') && secrets::refuse_secret_argument("", name).is_ok();
    let shown = if plain {
        let hint = crate::config::closest(name, known).map(|c| format!(" (did you mean `{c}`?)")).unwrap_or_default();
        format!("unknown argument `{name}`{hint}")
    } else {
        "an unknown argument (its name is not shown: it does not look like an argument name)".to_string()
    };
    format!("{shown}; this tool takes: {}", known.join(", "))
}

/// "a whole number", "a string", "a list of strings"... from a property's schema.
fn expected_shape(property: &Value) -> String {
    let types: Vec<&str> = match property.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let shape = |t: &str| match t {
        "string" => "a string".to_string(),
        "integer" => "a whole number".to_string(),
        "number" => "a number".to_string(),
        "boolean" => "true or false".to_string(),
        "array" => match property.get("items").and_then(|i| i.get("type")).and_then(Value::as_str) {
            Some("string") => "a list of strings".to_string(),
            _ => "a list".to_string(),
        },
        "object" => "an object".to_string(),
        other => other.to_string(),
    };
    let shapes: Vec<String> = types.iter().filter(|t| **t != "null").map(|t| shape(t)).collect();
    match shapes.len() {
        0 => "a valid value".to_string(),
        _ if types.contains(&"null") => format!("{} (or absent)", shapes.join(" or ")),
        _ => shapes.join(" or "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Only decoded, never read: the errors are what is tested.
    #[allow(dead_code)]
    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        #[serde(default)]
        fixtures_dir: Option<String>,
        #[serde(default)]
        max_findings: Option<u32>,
        #[serde(default)]
        environments: Option<Vec<String>>,
    }

    fn key() -> String {
        // A live-shaped key built at run time, so that no key-looking literal sits in the source.
        format!("sk_{}_{}", "live", "Zq8Xw2Lp0Rt5Yv7Nm3Kb9Hc1")
    }

    fn err(v: Value) -> String {
        serde_json::from_value::<Args<Sample>>(v).unwrap_err().to_string()
    }

    #[test]
    fn type_errors_name_the_argument_and_what_it_takes_never_the_value() {
        let e = err(serde_json::json!({"max_findings": key()}));
        assert!(e.starts_with("argument `max_findings` must be a whole number"), "{e}");
        assert!(!e.contains("Zq8Xw2"), "{e}");
        let e = err(serde_json::json!({"environments": ["ok", 5]}));
        assert!(e.starts_with("argument `environments` must be a list of strings"), "{e}");
        let e = err(serde_json::json!({"fixtures_dir": {"k": key()}}));
        assert!(!e.contains("Zq8Xw2") && e.contains("`fixtures_dir`"), "{e}");
    }

    #[test]
    fn unknown_arguments_are_named_only_when_the_name_is_harmless() {
        let e = err(serde_json::json!({"fixture_dir": "x"}));
        assert!(e.contains("unknown argument `fixture_dir`") && e.contains("did you mean `fixtures_dir`"), "{e}");
        let mut args = serde_json::Map::new();
        args.insert(key(), Value::Bool(true));
        let e = err(Value::Object(args));
        assert!(!e.contains("Zq8Xw2") && e.contains("unknown argument") && e.contains("max_findings"), "{e}");
    }

    #[test]
    fn arguments_that_are_not_an_object_are_refused_without_echo() {
        let e = err(Value::String(key()));
        assert!(!e.contains("Zq8Xw2") && e.contains("JSON object"), "{e}");
        assert!(serde_json::from_value::<Args<Sample>>(Value::Null).is_ok());
        assert!(serde_json::from_value::<Args<Sample>>(serde_json::json!({"max_findings": 5})).is_ok());
    }
}
