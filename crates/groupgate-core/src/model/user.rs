//! Directory users as the evaluator sees them.

use super::UserId;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Whether a user belongs to the tenant or was invited from outside (B2B).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum UserType {
    /// A member of the organisation (Graph `userType` `Member`).
    Member,
    /// An invited external user (Graph `userType` `Guest`).
    Guest,
}

/// A directory user: the facts the policy needs, nothing more.
///
/// ```
/// use groupgate_core::{User, UserType};
/// let ada: User = serde_json::from_str(r#"{
///     "id": "u-ada", "upn": "ada@contoso.com", "enabled": true,
///     "user_type": "Member", "employee_type": "Contractor"
/// }"#).unwrap();
/// assert!(ada.is_employee_type("contractor"));
/// assert_eq!(ada.user_type, UserType::Member);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// Object id.
    pub id: UserId,
    /// User principal name, e.g. `ada@contoso.com` (shared: a decision's
    /// approvers carry it without copying).
    pub upn: Arc<str>,
    /// Display name, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<Arc<str>>,
    /// Whether the account can sign in (Graph `accountEnabled`).
    pub enabled: bool,
    /// Member or guest.
    pub user_type: UserType,
    /// Free-form employee type from the directory, e.g. `Employee` or `Contractor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employee_type: Option<Arc<str>>,
}

impl User {
    /// Whether `key` names this user by object id or UPN (case-insensitive).
    pub fn is_named_by(&self, key: &str) -> bool {
        self.id.as_str().eq_ignore_ascii_case(key) || self.upn.eq_ignore_ascii_case(key)
    }

    /// Whether the user's employee type equals `employee_type`, ignoring case.
    pub fn is_employee_type(&self, employee_type: &str) -> bool {
        self.employee_type
            .as_deref()
            .is_some_and(|own| own.eq_ignore_ascii_case(employee_type))
    }
}
