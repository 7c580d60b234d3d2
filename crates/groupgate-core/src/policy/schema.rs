//! The JSON Schema of the policy file, for editors and CI validation.

use super::PolicyDocument;

/// The JSON Schema (draft 2020-12) of the policy file format, pretty-printed.
///
/// ```
/// let schema = groupgate_core::policy_json_schema();
/// assert!(schema.contains("\"title\": \"groupgate policy\""));
/// ```
pub fn policy_json_schema() -> String {
    let schema = schemars::schema_for!(PolicyDocument);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
