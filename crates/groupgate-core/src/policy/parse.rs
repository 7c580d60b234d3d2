//! Reading policy text (YAML or JSON) into a [`PolicyDocument`], with located errors.

use super::{Diagnostic, PolicyDocument, PolicyError};
use crate::input::{InputError, Limits, Locator};

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

/// Parses `text` into a document, or says exactly what and where the problem
/// is, within `limits` (see [`crate::input`]).
pub(crate) fn parse_document(
    text: &str,
    format: PolicyFormat,
    source_name: &str,
    limits: &Limits,
) -> Result<PolicyDocument, PolicyError> {
    let result = match format {
        PolicyFormat::Yaml if text.trim().is_empty() => Err(InputError {
            field: String::new(),
            location: None,
            message: "the policy is empty".to_owned(),
            limit: None,
        }),
        PolicyFormat::Yaml => crate::input::from_yaml(text, limits),
        PolicyFormat::Json => crate::input::from_json(text, limits),
    };
    result.map_err(|e| {
        let location = e.location.or_else(|| {
            (e.limit.is_none() && !e.field.is_empty())
                .then(|| Locator::new(text, limits).find(&e.field))
                .flatten()
        });
        let code = if e.limit.is_some() {
            "input-limit"
        } else {
            "invalid-syntax"
        };
        let help = match e.limit {
            Some(_) => e.help(),
            None => help_for(&e.message),
        };
        let mut diag = Diagnostic::error(code, e.field.clone(), e.message.clone()).with_help(help);
        diag.location = location;
        PolicyError {
            source_name: source_name.to_owned(),
            diagnostics: vec![diag],
        }
    })
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
        let err =
            parse_document(text, PolicyFormat::Yaml, "p.yaml", &Limits::default()).unwrap_err();
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
        let err =
            parse_document(text, PolicyFormat::Json, "p.json", &Limits::default()).unwrap_err();
        let d = &err.diagnostics[0];
        assert_eq!(d.field, "groups[0].object_id");
        assert_eq!(d.location.map(|l| l.line), Some(3));
    }

    #[test]
    fn empty_file_says_so() {
        let err =
            parse_document("  \n", PolicyFormat::Yaml, "p.yaml", &Limits::default()).unwrap_err();
        assert!(err.to_string().contains("the policy is empty"));
    }
}
