//! Ports implemented by a caller in another language (a Python object, a
//! JavaScript object): the directory, the ticket system and the approval
//! channel, each method one call with JSON arguments and a JSON answer.
//!
//! The Python and Node bindings implement [`ForeignCalls`] (calling the
//! caller's method, awaiting it if it is asynchronous, turning its
//! exception into a [`PortError`]); everything else — the argument and
//! answer shapes, checking answers, the defaults for optional methods — is
//! here, once, so both bindings behave the same.
//!
//! Method names, arguments and answers (every argument is passed by name):
//!
//! | port | method | arguments | answer |
//! |---|---|---|---|
//! | directory | `user` | `key` (UPN or object id) | a user, or `null` |
//! | directory | `manager` | `user` (object id) | a user, or `null` |
//! | directory | `group` | `group` | a group, or `null` |
//! | directory | `membership` | `group`, `user` | `"direct"`, `"nested"` or `"not_member"` |
//! | directory | `member_of` | `user`, `groups` | the group ids the user is in |
//! | directory | `direct_groups` | `user` | every group id the user is directly in |
//! | directory | `group_members` (optional) | `group`, `transitive`, `max` | `{group, members, complete}`, or `null` |
//! | directory | `add_member`, `remove_member` | `group`, `user` | `{already, request_ids}` (or `null`: done) |
//! | tickets | `read_request` | `ticket` | a request |
//! | tickets | `update` | `ticket`, `update` | anything (ignored) |
//! | tickets | `record_approval` | `ticket`, `decision` | anything (ignored) |
//! | approvals | `ask` | `ask` | `{references: [...]}` (or `null`) |
//! | approvals | `answers` | `ticket` | a list of answers |
//! | approvals | `cancel` | `ticket`, `stage`, `reason` | anything (ignored) |
//! | approvals | `notify` | `notice` | anything (ignored) |
//!
//! Users, groups, requests, answers and the rest have the JSON shapes of
//! their Rust types (the same as in the audit trail and the policy tests).

use async_trait::async_trait;
use groupgate_core::ports::{
    ApprovalAsk, ApprovalChannel, ApprovalDecision, AskReceipt, ErrorClass, IdentityProvider,
    Notice, PortError, PortResult, TicketSystem, TicketUpdate, WriteReceipt,
};
use groupgate_core::workflow::ApprovalAnswer;
use groupgate_core::{
    Group, GroupId, GroupMembers, MembershipState, Request, TicketRef, User, UserId,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::fmt;
use std::sync::Arc;

/// Which port an object implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Port {
    /// The directory ([`IdentityProvider`]).
    Directory,
    /// The ticket system ([`TicketSystem`]).
    Tickets,
    /// The approval channel ([`ApprovalChannel`]).
    Approvals,
}

impl Port {
    /// Its name in messages: `directory`, `tickets`, `approvals`.
    pub fn name(self) -> &'static str {
        match self {
            Port::Directory => "directory",
            Port::Tickets => "tickets",
            Port::Approvals => "approvals",
        }
    }
}

/// What a binding provides: calling a method of the caller's port object.
#[async_trait]
pub trait ForeignCalls: Send + Sync {
    /// Calls `method` of the object implementing `port` with `args` (a JSON
    /// object of named arguments) and returns its answer as JSON. A failure
    /// of the caller's code comes back as a [`PortError`] whose class the
    /// binding derived from the exception (transient, not found, …).
    async fn call(&self, port: Port, method: &'static str, args: Value) -> PortResult<Value>;

    /// Whether the object implementing `port` has `method` (for the optional
    /// ones).
    fn has(&self, port: Port, method: &str) -> bool;
}

fn answer<T: DeserializeOwned>(port: Port, method: &str, value: Value) -> PortResult<T> {
    serde_json::from_value(value).map_err(|e| {
        PortError::new(
            ErrorClass::Invalid,
            format!(
                "the {} port's `{method}` answered something groupgate cannot read: {e}",
                port.name()
            ),
        )
    })
}

/// A value as a JSON argument (every port type serializes).
fn arg<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// The directory, as the caller implements it.
pub struct ForeignDirectory(pub Arc<dyn ForeignCalls>);

/// The ticket system, as the caller implements it.
pub struct ForeignTickets(pub Arc<dyn ForeignCalls>);

/// The approval channel, as the caller implements it.
pub struct ForeignApprovals(pub Arc<dyn ForeignCalls>);

macro_rules! opaque_debug {
    ($($t:ty),*) => {$(
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($t), " { .. }"))
            }
        }
    )*};
}
opaque_debug!(ForeignDirectory, ForeignTickets, ForeignApprovals);

impl ForeignDirectory {
    async fn call<T: DeserializeOwned>(&self, method: &'static str, args: Value) -> PortResult<T> {
        let value = self.0.call(Port::Directory, method, args).await?;
        answer(Port::Directory, method, value)
    }

    async fn write(
        &self,
        method: &'static str,
        group: &GroupId,
        user: &UserId,
    ) -> PortResult<WriteReceipt> {
        let value = self
            .0
            .call(
                Port::Directory,
                method,
                json!({"group": group, "user": user}),
            )
            .await?;
        if value.is_null() {
            return Ok(WriteReceipt::default());
        }
        answer(Port::Directory, method, value)
    }
}

#[async_trait]
impl IdentityProvider for ForeignDirectory {
    async fn user(&self, key: &str) -> PortResult<Option<User>> {
        self.call("user", json!({"key": key})).await
    }

    async fn manager(&self, user: &UserId) -> PortResult<Option<User>> {
        self.call("manager", json!({"user": user})).await
    }

    async fn group(&self, group: &GroupId) -> PortResult<Option<Group>> {
        self.call("group", json!({"group": group})).await
    }

    async fn membership(&self, group: &GroupId, user: &UserId) -> PortResult<MembershipState> {
        self.call("membership", json!({"group": group, "user": user}))
            .await
    }

    async fn member_of(&self, user: &UserId, groups: &[GroupId]) -> PortResult<Vec<GroupId>> {
        self.call("member_of", json!({"user": user, "groups": groups}))
            .await
    }

    async fn direct_groups(&self, user: &UserId) -> PortResult<Vec<GroupId>> {
        self.call("direct_groups", json!({"user": user})).await
    }

    async fn group_members(
        &self,
        group: &GroupId,
        transitive: bool,
        max: u32,
    ) -> PortResult<Option<GroupMembers>> {
        if !self.0.has(Port::Directory, "group_members") {
            return Err(PortError::new(
                ErrorClass::Permanent,
                "the policy names a directory approver group, and the directory port has no `group_members` method",
            ));
        }
        self.call(
            "group_members",
            json!({"group": group, "transitive": transitive, "max": max}),
        )
        .await
    }

    async fn add_member(&self, group: &GroupId, user: &UserId) -> PortResult<WriteReceipt> {
        self.write("add_member", group, user).await
    }

    async fn remove_member(&self, group: &GroupId, user: &UserId) -> PortResult<WriteReceipt> {
        self.write("remove_member", group, user).await
    }
}

#[async_trait]
impl TicketSystem for ForeignTickets {
    async fn read_request(&self, ticket: &TicketRef) -> PortResult<Request> {
        let value = self
            .0
            .call(Port::Tickets, "read_request", json!({"ticket": ticket}))
            .await?;
        answer(Port::Tickets, "read_request", value)
    }

    async fn update(&self, ticket: &TicketRef, update: &TicketUpdate) -> PortResult<()> {
        self.0
            .call(
                Port::Tickets,
                "update",
                json!({"ticket": ticket, "update": arg(update)}),
            )
            .await
            .map(|_| ())
    }

    async fn record_approval(
        &self,
        ticket: &TicketRef,
        decision: &ApprovalDecision,
    ) -> PortResult<()> {
        self.0
            .call(
                Port::Tickets,
                "record_approval",
                json!({"ticket": ticket, "decision": arg(decision)}),
            )
            .await
            .map(|_| ())
    }
}

#[async_trait]
impl ApprovalChannel for ForeignApprovals {
    async fn ask(&self, ask: &ApprovalAsk) -> PortResult<AskReceipt> {
        let value = self
            .0
            .call(Port::Approvals, "ask", json!({"ask": arg(ask)}))
            .await?;
        if value.is_null() {
            return Ok(AskReceipt {
                references: Vec::new(),
            });
        }
        answer(Port::Approvals, "ask", value)
    }

    async fn answers(&self, ticket: &TicketRef) -> PortResult<Vec<ApprovalAnswer>> {
        let value = self
            .0
            .call(Port::Approvals, "answers", json!({"ticket": ticket}))
            .await?;
        if value.is_null() {
            return Ok(Vec::new());
        }
        answer(Port::Approvals, "answers", value)
    }

    async fn cancel(&self, ticket: &TicketRef, stage: &str, reason: &str) -> PortResult<()> {
        self.0
            .call(
                Port::Approvals,
                "cancel",
                json!({"ticket": ticket, "stage": stage, "reason": reason}),
            )
            .await
            .map(|_| ())
    }

    async fn notify(&self, notice: &Notice) -> PortResult<()> {
        self.0
            .call(Port::Approvals, "notify", json!({"notice": arg(notice)}))
            .await
            .map(|_| ())
    }
}
