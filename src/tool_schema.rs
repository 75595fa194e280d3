//! Tool schemas every MCP client can use.
//!
//! schemars writes Rust's integer widths as `format: "uint32"` (strict
//! validators such as Ajv refuse unknown formats, and the TypeScript SDK warns
//! on each) and optional values as `type: ["string", "null"]` (some clients
//! read only a single type). [`portable`] rewrites both into plain JSON
//! Schema: the integer's range stays as `minimum`/`maximum`, and a nullable
//! type becomes `anyOf` of the type and `null`.
//!
//! Each tool's schema must stand alone (MCP has no reference between tools),
//! so the types every report shares are repeated in all four. To keep the
//! listing small, a documented enum (`oneOf` of one-string alternatives, one
//! object per variant) becomes one `enum` whose description lists the
//! variants' documentation: same facts, a third of the characters; and a
//! nullable scalar used more than once (`anyOf` of `string` and `null`) is
//! one shared definition (`StringOrNull`) that each use refers to.

use std::sync::Arc;

use schemars::JsonSchema;
use serde_json::{Map, Value};

/// The output schema of `T`, made portable.
pub fn output<T: JsonSchema + std::any::Any>() -> Arc<Map<String, Value>> {
    let schema = rmcp::handler::server::tool::schema_for_output::<T>();
    let mut value = Value::Object((*schema).clone());
    portable(&mut value);
    share_nullable_scalars(&mut value);
    match value {
        Value::Object(map) => Arc::new(map),
        _ => schema,
    }
}

/// Formats that name Rust integer or float widths, not JSON Schema formats.
fn is_width_format(format: &str) -> bool {
    matches!(format, "int8" | "int16" | "int32" | "int64" | "uint" | "uint8" | "uint16" | "uint32" | "uint64" | "int" | "float" | "double")
}

/// Rewrites a schema in place (see the module documentation).
pub fn portable(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if map.get("format").and_then(Value::as_str).is_some_and(is_width_format) {
                map.remove("format");
            }
            if let Some(Value::Array(types)) = map.get("type").cloned() {
                let named: Vec<Value> = types.iter().filter(|t| t.as_str() != Some("null")).cloned().collect();
                let nullable = named.len() < types.len();
                if named.len() == 1 && !nullable {
                    map.insert("type".into(), named[0].clone());
                } else {
                    // Keywords that describe the value itself stay outside; the rest go with its type.
                    map.remove("type");
                    let keep_outside = ["description", "default", "title", "examples", "$schema", "$defs"];
                    let mut typed = Map::new();
                    let keys: Vec<String> = map.keys().filter(|k| !keep_outside.contains(&k.as_str())).cloned().collect();
                    for k in keys {
                        if let Some(v) = map.remove(&k) {
                            typed.insert(k, v);
                        }
                    }
                    let mut alternatives: Vec<Value> = named
                        .into_iter()
                        .map(|t| {
                            let mut alt = typed.clone();
                            alt.insert("type".into(), t);
                            Value::Object(alt)
                        })
                        .collect();
                    if nullable {
                        alternatives.push(serde_json::json!({"type": "null"}));
                    }
                    map.insert("anyOf".into(), Value::Array(alternatives));
                }
            }
            collapse_string_choices(map);
            for v in map.values_mut() {
                portable(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(portable),
        _ => {}
    }
}

/// `oneOf: [{type: string, const: a, description: ..}, {type: string, enum: [b, c]}]`
/// becomes `type: string, enum: [a, b, c]`, the variants' descriptions joined into
/// the schema's own ("`a`: .."), after the description it already had.
fn collapse_string_choices(map: &mut Map<String, Value>) {
    let Some(Value::Array(alternatives)) = map.get("oneOf") else { return };
    let mut values = Vec::new();
    let mut documented = Vec::new();
    for alt in alternatives {
        let Value::Object(alt) = alt else { return };
        if alt.get("type").and_then(Value::as_str) != Some("string") || alt.keys().any(|k| !matches!(k.as_str(), "type" | "const" | "enum" | "description")) {
            return;
        }
        let named: Vec<Value> = match (alt.get("const"), alt.get("enum")) {
            (Some(one @ Value::String(_)), None) => vec![one.clone()],
            (None, Some(Value::Array(many))) if many.iter().all(Value::is_string) => many.clone(),
            _ => return,
        };
        if let Some(doc) = alt.get("description").and_then(Value::as_str) {
            let names: Vec<String> = named.iter().filter_map(Value::as_str).map(|n| format!("`{n}`")).collect();
            documented.push(format!("{}: {}", names.join(", "), doc.split_whitespace().collect::<Vec<_>>().join(" ")));
        }
        values.extend(named);
    }
    map.remove("oneOf");
    let own = map.get("description").and_then(Value::as_str).map(str::to_string);
    let description = own.into_iter().chain(documented).collect::<Vec<_>>().join(" ");
    if !description.is_empty() {
        map.insert("description".into(), Value::String(description));
    }
    map.insert("type".into(), Value::String("string".into()));
    map.insert("enum".into(), Value::Array(values));
}

/// The scalar a schema allows besides null, when that is all it says:
/// `anyOf: [{type: string}, {type: null}]` is `Some("string")`.
fn nullable_scalar(map: &Map<String, Value>) -> Option<&str> {
    let Some(Value::Array(alternatives)) = map.get("anyOf") else { return None };
    let [Value::Object(one), Value::Object(null)] = alternatives.as_slice() else { return None };
    let scalar = one.get("type").and_then(Value::as_str).filter(|t| matches!(*t, "string" | "boolean"))?;
    (one.len() == 1 && null.len() == 1 && null.get("type").and_then(Value::as_str) == Some("null")).then_some(scalar)
}

/// Moves each nullable scalar used twice or more into the root's `$defs`
/// (`StringOrNull`, `BooleanOrNull`) and points every use at it.
fn share_nullable_scalars(root: &mut Value) {
    fn visit(v: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
        match v {
            Value::Object(map) => {
                f(map);
                map.values_mut().for_each(|x| visit(x, f));
            }
            Value::Array(items) => items.iter_mut().for_each(|x| visit(x, f)),
            _ => {}
        }
    }
    let mut uses: std::collections::BTreeMap<String, usize> = Default::default();
    visit(root, &mut |m| {
        if let Some(t) = nullable_scalar(m) {
            *uses.entry(t.to_string()).or_default() += 1;
        }
    });
    uses.retain(|_, n| *n > 1);
    if uses.is_empty() || !root.is_object() {
        return;
    }
    let name = |t: &str| format!("{}{}OrNull", t[..1].to_ascii_uppercase(), &t[1..]);
    visit(root, &mut |m| {
        if let Some(t) = nullable_scalar(m).filter(|t| uses.contains_key(*t)).map(str::to_string) {
            m.remove("anyOf");
            m.insert("$ref".into(), Value::String(format!("#/$defs/{}", name(&t))));
        }
    });
    let defs = root.as_object_mut().and_then(|r| r.entry("$defs").or_insert_with(|| Value::Object(Map::new())).as_object_mut());
    if let Some(defs) = defs {
        for t in uses.keys() {
            defs.insert(name(t), serde_json::json!({"anyOf": [{"type": t}, {"type": "null"}]}));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn widths_and_type_arrays_become_plain_json_schema() {
        let mut s = json!({
            "type": "object",
            "properties": {
                "n": {"type": "integer", "format": "uint32", "minimum": 0},
                "o": {"description": "maybe", "type": ["string", "null"], "default": null},
                "list": {"type": ["array", "null"], "items": {"type": "integer", "format": "uint64"}},
                "when": {"type": "string", "format": "date-time"}
            }
        });
        portable(&mut s);
        assert_eq!(s["properties"]["n"], json!({"type": "integer", "minimum": 0}));
        assert_eq!(s["properties"]["o"], json!({"description": "maybe", "default": null, "anyOf": [{"type": "string"}, {"type": "null"}]}));
        assert_eq!(s["properties"]["list"], json!({"anyOf": [{"type": "array", "items": {"type": "integer"}}, {"type": "null"}]}));
        assert_eq!(s["properties"]["when"]["format"], "date-time");
        let text = s.to_string();
        assert!(!text.contains("uint") && !text.contains("[\"string\",\"null\"]"), "{text}");
    }

    #[test]
    fn a_documented_enum_becomes_one_enum_with_its_variants_documented() {
        let mut s = json!({"$defs": {"Kind": {
            "description": "What it is for.",
            "oneOf": [
                {"type": "string", "enum": ["production", "staging"]},
                {"description": "Declares names,\n  never values.", "type": "string", "const": "template"}
            ]
        }}});
        portable(&mut s);
        assert_eq!(
            s["$defs"]["Kind"],
            json!({"description": "What it is for. `template`: Declares names, never values.", "type": "string", "enum": ["production", "staging", "template"]})
        );
        // A choice between shapes is left alone.
        let mut mixed = json!({"oneOf": [{"type": "string", "const": "a"}, {"type": "object", "properties": {}}]});
        let before = mixed.clone();
        portable(&mut mixed);
        assert_eq!(mixed, before);
    }

    #[test]
    fn a_nullable_scalar_used_twice_is_one_shared_definition() {
        let mut s = json!({
            "type": "object",
            "properties": {
                "a": {"description": "first", "anyOf": [{"type": "string"}, {"type": "null"}]},
                "b": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                "c": {"anyOf": [{"type": "boolean"}, {"type": "null"}]},
                "n": {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}]}
            }
        });
        share_nullable_scalars(&mut s);
        assert_eq!(s["properties"]["a"], json!({"description": "first", "$ref": "#/$defs/StringOrNull"}));
        assert_eq!(s["properties"]["b"], json!({"$ref": "#/$defs/StringOrNull"}));
        assert_eq!(s["$defs"]["StringOrNull"], json!({"anyOf": [{"type": "string"}, {"type": "null"}]}));
        // Used once, or with more than a type: left where it is.
        assert_eq!(s["properties"]["c"], json!({"anyOf": [{"type": "boolean"}, {"type": "null"}]}));
        assert_eq!(s["properties"]["n"]["anyOf"][0]["minimum"], 0);
        assert!(s["$defs"].get("BooleanOrNull").is_none());
    }
}
