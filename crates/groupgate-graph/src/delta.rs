//! Following the directory's users with the delta query
//! (`/users/delta?$select=id,accountEnabled`): a first read returns every
//! user, later reads on the kept delta link only what changed. Used to find
//! leavers — users disabled or deleted — without reading the whole tenant
//! each time. Links are followed only on this client's base URL.

use crate::GraphClient;
use crate::errors::Operation;
use groupgate_core::UserId;
use groupgate_core::ports::{PortError, PortResult};
use reqwest::Method;
use serde_json::Value;

/// One user's change, as the delta query reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserChange {
    /// The user's object id.
    pub id: UserId,
    /// `accountEnabled`, when the change includes it (a first read always
    /// does; a later one only when it changed).
    pub enabled: Option<bool>,
    /// The user was deleted (`@removed`; `changed`: to the recycle bin,
    /// `deleted`: for good).
    pub removed: Option<String>,
}

impl UserChange {
    /// Whether the user can no longer sign in: disabled or deleted.
    pub fn is_leaver(&self) -> bool {
        self.removed.is_some() || self.enabled == Some(false)
    }
}

/// What one delta read returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsersDelta {
    /// The changes, and the link to ask next time (keep it; it holds the
    /// query).
    Changes {
        /// Every change, in the order Graph gave them.
        changes: Vec<UserChange>,
        /// The `@odata.deltaLink`.
        delta_link: String,
    },
    /// The delta link is no longer known to Graph (410
    /// `syncStateNotFound` or `resyncRequired`): read again from the start.
    Expired,
}

/// The first read's path.
const START: &str = "/users/delta?$select=id,accountEnabled";
/// At most this many pages in one read (a tenant of 100,000 users is a
/// thousand pages of a hundred).
const MAX_PAGES: usize = 5000;

fn change_of(item: &Value) -> PortResult<UserChange> {
    let id = item
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| PortError::permanent("Graph's users delta gave an entry without an id"))?;
    Ok(UserChange {
        id: UserId::new(id),
        enabled: item.get("accountEnabled").and_then(Value::as_bool),
        removed: item.get("@removed").map(|r| {
            r.get("reason")
                .and_then(Value::as_str)
                .unwrap_or("deleted")
                .to_owned()
        }),
    })
}

impl GraphClient {
    /// Reads the users' changes since `delta_link` (every user when
    /// `None`), through every page.
    pub async fn users_delta(&self, delta_link: Option<&str>) -> PortResult<UsersDelta> {
        let mut path = match delta_link {
            None => START.to_owned(),
            Some(link) => self.own_link(link, "@odata.deltaLink")?,
        };
        let mut changes = Vec::new();
        for _ in 0..MAX_PAGES {
            let answer = self.call(Method::GET, &path, None, false).await?;
            if answer.status == 410 {
                return Ok(UsersDelta::Expired);
            }
            if answer.status != 200 {
                return Err(answer.fail(Operation::ReadUser));
            }
            let page = answer.json()?;
            let items = page
                .get("value")
                .and_then(Value::as_array)
                .ok_or_else(|| PortError::permanent("Graph's users delta page has no `value`"))?;
            for item in items {
                changes.push(change_of(item)?);
            }
            if let Some(next) = self.next_link(&page)? {
                path = next;
                continue;
            }
            let delta_link = page
                .get("@odata.deltaLink")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    PortError::permanent(
                        "Graph's users delta ended without an @odata.nextLink or @odata.deltaLink",
                    )
                })?;
            self.own_link(delta_link, "@odata.deltaLink")?;
            return Ok(UsersDelta::Changes {
                changes,
                delta_link: delta_link.to_owned(),
            });
        }
        Err(PortError::permanent(format!(
            "Graph's users delta paged more than {MAX_PAGES} times"
        )))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn entries_are_read_as_changes() {
        let c = change_of(&json!({"id": "u1", "accountEnabled": false})).unwrap();
        assert!(c.is_leaver());
        let c = change_of(&json!({"id": "u2", "accountEnabled": true})).unwrap();
        assert!(!c.is_leaver());
        let c = change_of(&json!({"id": "u3"})).unwrap();
        assert_eq!(c.enabled, None);
        assert!(
            !c.is_leaver(),
            "a change without accountEnabled says nothing about it"
        );
        let c = change_of(&json!({"id": "u4", "@removed": {"reason": "changed"}})).unwrap();
        assert_eq!(c.removed.as_deref(), Some("changed"));
        assert!(c.is_leaver());
        assert!(change_of(&json!({"accountEnabled": false})).is_err());
        assert!(change_of(&json!({"id": ""})).is_err());
    }
}
