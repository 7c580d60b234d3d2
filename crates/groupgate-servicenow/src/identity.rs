//! Who a `sys_user` is in the directory, by an attribute that is unique and
//! that users cannot edit (see [`ApproverIdentity`]); never by e-mail, which
//! ServiceNow does not keep unique.

use crate::ServiceNowClient;
use crate::client::field;
use crate::config::ApproverIdentity;
use crate::query::{identifier, object_id, sys_id};
use groupgate_core::UserId;
use groupgate_core::ports::{ErrorClass, PortError, PortResult};

/// A `sys_user` as groupgate knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Person {
    /// The record's sys_id.
    pub(crate) sys_id: String,
    /// `user_name`.
    pub(crate) user_name: String,
    /// The directory object id, when the identity field holds one.
    pub(crate) object_id: Option<UserId>,
}

impl Person {
    /// The key the directory knows this person by: the object id, else the
    /// user name (a UPN).
    pub(crate) fn directory_key(&self) -> String {
        match &self.object_id {
            Some(id) => id.to_string(),
            None => self.user_name.clone(),
        }
    }
}

fn invalid(message: String) -> PortError {
    PortError::new(ErrorClass::Invalid, message)
}

impl ServiceNowClient {
    fn identity_fields(&self) -> String {
        match &self.config.approver_identity {
            ApproverIdentity::UserName => "sys_id,user_name".to_owned(),
            ApproverIdentity::ObjectIdField(f) => format!("sys_id,user_name,{f}"),
        }
    }

    fn person_from(&self, row: &serde_json::Value) -> Person {
        let object_id = match &self.config.approver_identity {
            ApproverIdentity::UserName => None,
            ApproverIdentity::ObjectIdField(f) => {
                let id = field(row, f);
                object_id(&id).ok().map(UserId::new)
            }
        };
        Person {
            sys_id: field(row, "sys_id"),
            user_name: field(row, "user_name"),
            object_id,
        }
    }

    /// A person by `sys_user` sys_id (remembered once read).
    pub(crate) async fn person(&self, user: &str) -> PortResult<Option<Person>> {
        let Ok(user) = sys_id(user) else {
            return Ok(None);
        };
        if let Some(known) = self.people.lock().await.get(user) {
            return Ok(Some(known.clone()));
        }
        let row = self.get("sys_user", user, &self.identity_fields()).await?;
        let person = row.map(|r| self.person_from(&r));
        if let Some(p) = &person {
            self.people.lock().await.insert(user.to_owned(), p.clone());
        }
        Ok(person)
    }

    /// The `sys_user` of a directory user (by object id and UPN), through the
    /// configured identity attribute. Refused when no record or more than
    /// one matches: a duplicated identity never receives an approval.
    pub(crate) async fn sys_user_of(&self, id: Option<&UserId>, upn: &str) -> PortResult<Person> {
        let (condition, what) = match &self.config.approver_identity {
            ApproverIdentity::UserName => {
                let upn = identifier(upn).map_err(|e| invalid(e.to_string()))?;
                (format!("user_name={upn}"), format!("user_name `{upn}`"))
            }
            ApproverIdentity::ObjectIdField(f) => {
                let id = id.ok_or_else(|| {
                    invalid(format!(
                        "`{upn}` has no directory object id to match `{f}` with"
                    ))
                })?;
                let id = object_id(id).map_err(|e| invalid(e.to_string()))?;
                (format!("{f}={id}"), format!("{f} `{id}`"))
            }
        };
        let rows = self
            .query("sys_user", &condition, &self.identity_fields(), 5)
            .await?;
        // An instance ignores a query it cannot read and returns every row:
        // keep only the rows that really match.
        let people: Vec<Person> = rows
            .iter()
            .map(|r| self.person_from(r))
            .filter(|p| match &self.config.approver_identity {
                ApproverIdentity::UserName => p.user_name.eq_ignore_ascii_case(upn),
                ApproverIdentity::ObjectIdField(_) => {
                    p.object_id.as_ref().zip(id).is_some_and(|(a, b)| a.same(b))
                }
            })
            .collect();
        match people.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(invalid(format!(
                "no sys_user record has {what}; create the user in ServiceNow or fix the identity mapping (docs/adapters/servicenow.md)"
            ))),
            many => Err(invalid(format!(
                "{} sys_user records have {what}; an approval is never sent to an identity that is not unique: fix the duplicates in ServiceNow",
                many.len()
            ))),
        }
    }
}
