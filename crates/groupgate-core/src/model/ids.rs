//! Newtype identifiers, so a user id is never passed where a group id belongs.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
        )]
        #[serde(transparent)]
        pub struct $name(Arc<str>);

        impl $name {
            /// Wraps a string as this identifier.
            pub fn new(value: impl AsRef<str>) -> Self {
                Self(Arc::from(value.as_ref()))
            }

            /// The identifier as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Whether both name the same object: directory ids (GUIDs) compare
            /// without regard to ASCII case.
            pub fn same(&self, other: &Self) -> bool {
                self.0.eq_ignore_ascii_case(&other.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(Arc::from(value))
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(Arc::from(value))
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_id!(
    /// A directory user's object id (a GUID in Entra ID).
    ///
    /// ```
    /// use groupgate_core::UserId;
    /// let id = UserId::new("11111111-1111-1111-1111-111111111111");
    /// assert_eq!(id.as_str().len(), 36);
    /// ```
    UserId
);
string_id!(
    /// A directory group's object id (a GUID in Entra ID).
    GroupId
);
string_id!(
    /// The ticket a request came from, e.g. a ServiceNow RITM number `RITM0010001`.
    TicketRef
);
string_id!(
    /// A workflow: one request's journey from intake to its end. Usually
    /// derived from the ticket, e.g. `RITM0010001`.
    WorkflowId
);

/// Whether `text` has the shape of a directory object id (a GUID,
/// `8-4-4-4-12` hexadecimal digits).
///
/// ```
/// assert!(groupgate_core::is_object_id("11111111-0000-0000-0000-00000000000a"));
/// assert!(!groupgate_core::is_object_id("ada@contoso.com"));
/// ```
pub fn is_object_id(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}
