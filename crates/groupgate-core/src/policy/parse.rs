//! Reading policy text (YAML or JSON) into a [`PolicyDocument`], with located errors.

use super::locate::Locator;
use super::{Diagnostic, Location, PolicyDocument, PolicyError};

/// The syntax of a policy text. Both share one schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyFormat {
    /// YAML 1.2 (the usual form).
    Yaml,
    /// JSON.
    Json,
}

impl PolicyFormat {
    /// Picks the format from a file name: `.json` is JSON, anything else YAML.
    ///
    /// ```
    /// use groupgate_core::PolicyFormat;
    /// assert_eq!(PolicyFormat::from_file_name("policy.JSON"), PolicyFormat::Json);
    /// assert_eq!(PolicyFormat::from_file_name("policy.yaml"), PolicyFormat::Yaml);
    /// ```
    pub fn from_file_name(name: &str) -> Self {
        if name.to_ascii_lowercase().ends_with(".json") {
            Self::Json
        } else {
            Self::Yaml
        }
    }
}

/// Parses `text` into a document, or says exactly what and where the problem is.
pub(crate) fn parse_document(
    text: &str,
    format: PolicyFormat,
    source_name: &str,
) -> Result<PolicyDocument, PolicyError> {
    let failure = match format {
        PolicyFormat::Yaml => {
            if text.trim().is_empty() {
                Err(("".to_owned(), "the policy is empty".to_owned(), None))
            } else {
                let de = serde_yaml_ng::Deserializer::from_str(text);
                serde_path_to_error::deserialize(de).map_err(|e| {
                    let loc = e.inner().location().map(|l| Location {
                        line: l.line(),
                        column: l.column(),
                    });
                    (e.path().to_string(), e.inner().to_string(), loc)
                })
            }
        }
        PolicyFormat::Json => {
            let mut de = serde_json::Deserializer::from_str(text);
            serde_path_to_error::deserialize(&mut de).map_err(|e| {
                let inner = e.inner();
                let loc = (inner.line() > 0).then(|| Location {
                    line: inner.line(),
                    column: inner.column(),
                });
                (e.path().to_string(), inner.to_string(), loc)
            })
        }
    };
    failure.map_err(|(path, message, location)| {
        let path = if path == "." { String::new() } else { path };
        let message = strip_path_prefix(&strip_position(&message), &path);
        let location = best_location(location, text, &path);
        let mut diag = Diagnostic::error("invalid-syntax", path.clone(), message.clone())
            .with_help(help_for(&message));
        diag.location = location;
        PolicyError {
            source_name: source_name.to_owned(),
            diagnostics: vec![diag],
        }
    })
}

/// Drops the " at line N column M" suffix both serde backends append.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(cut) => message[..cut].to_owned(),
        None => message.to_owned(),
    }
}

/// serde_yaml prefixes nested errors with the path of the enclosing value.
fn strip_path_prefix(message: &str, path: &str) -> String {
    match message.split_once(": ") {
        Some((head, rest)) if !head.is_empty() && path.starts_with(head) => rest.to_owned(),
        _ => message.to_owned(),
    }
}

/// The backend's location when it points at the field itself; otherwise the
/// field's key, found by walking the text (errors raised while converting a
/// value are reported at the enclosing mapping by the backend).
fn best_location(backend: Option<Location>, text: &str, path: &str) -> Option<Location> {
    let exact = Locator::new(text).find_exact(path);
    match (backend, exact) {
        (Some(b), Some(e)) if b.line == e.line => Some(b),
        (_, Some(e)) => Some(e),
        (b, None) => b.or_else(|| Locator::new(text).find(path)),
    }
}

fn help_for(message: &str) -> String {
    if message.contains("unknown field") {
        "check the spelling against docs/policy.md or the JSON Schema (`groupgate policy schema`)"
            .to_owned()
    } else if message.contains("missing field") {
        "add the field; docs/policy.md lists what each section requires".to_owned()
    } else if message.contains("empty") || message.contains("EOF") {
        "a policy starts with `version: 1` and lists `groups`; see examples/policy.yaml".to_owned()
    } else {
        "see docs/policy.md for the expected shape of this field".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_unknown_field_is_located() {
        let text = "version: 1\ngroups:\n  - id: A\n    object_id: x\n    manged_via_itsm: true\n";
        let err = parse_document(text, PolicyFormat::Yaml, "p.yaml").unwrap_err();
        let d = &err.diagnostics[0];
        assert_eq!(d.field, "groups[0].manged_via_itsm");
        assert_eq!(d.location.map(|l| l.line), Some(5));
        assert!(
            d.message.contains("unknown field `manged_via_itsm`"),
            "{}",
            d.message
        );
        assert!(!d.message.contains(" at line "));
    }

    #[test]
    fn json_type_error_is_located() {
        let text = "{\n \"version\": 1,\n \"groups\": [{\"id\": \"A\", \"object_id\": 5}]\n}";
        let err = parse_document(text, PolicyFormat::Json, "p.json").unwrap_err();
        let d = &err.diagnostics[0];
        assert_eq!(d.field, "groups[0].object_id");
        assert_eq!(d.location.map(|l| l.line), Some(3));
    }

    #[test]
    fn empty_file_says_so() {
        let err = parse_document("  \n", PolicyFormat::Yaml, "p.yaml").unwrap_err();
        assert!(err.to_string().contains("the policy is empty"));
    }
}
