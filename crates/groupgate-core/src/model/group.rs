//! Directory groups and the attributes that decide whether groupgate may touch them.

use super::GroupId;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A directory group with the attributes read from the directory itself.
///
/// These come from Microsoft Graph (`groupTypes`, `securityEnabled`,
/// `mailEnabled`, `onPremisesSyncEnabled`, `isAssignableToRole`), never from the
/// request or the policy file: the directory decides what kind of group it is.
///
/// ```
/// use groupgate_core::{Group, GroupKind};
/// let g = Group::security("aaaaaaaa-0000-0000-0000-000000000001", "Finance BI Readers");
/// assert_eq!(g.kind(), GroupKind::Security);
/// assert!(g.membership_writable());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// Object id.
    pub id: GroupId,
    /// Display name.
    pub display_name: String,
    /// Security-enabled (Graph `securityEnabled`).
    pub security_enabled: bool,
    /// Mail-enabled (Graph `mailEnabled`).
    pub mail_enabled: bool,
    /// A Microsoft 365 group (`groupTypes` contains `Unified`).
    #[serde(default)]
    pub unified: bool,
    /// Membership follows a rule (`groupTypes` contains `DynamicMembership`).
    #[serde(default)]
    pub dynamic_membership: bool,
    /// Synced from on-premises AD now (`onPremisesSyncEnabled == true`).
    #[serde(default)]
    pub on_premises_synced: bool,
    /// Can be assigned to directory roles (`isAssignableToRole`).
    #[serde(default)]
    pub role_assignable: bool,
}

/// The kind of a group, derived from its directory attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    /// A Microsoft 365 (unified) group.
    Microsoft365,
    /// A security group that is not mail-enabled.
    Security,
    /// A mail-enabled security group (members read-only through Graph).
    MailEnabledSecurity,
    /// A distribution list (members read-only through Graph).
    Distribution,
}

impl Group {
    /// A plain, assigned-membership, cloud-only security group.
    pub fn security(id: impl Into<String>, display_name: impl Into<String>) -> Self {
        Self {
            id: GroupId::new(id.into()),
            display_name: display_name.into(),
            security_enabled: true,
            mail_enabled: false,
            unified: false,
            dynamic_membership: false,
            on_premises_synced: false,
            role_assignable: false,
        }
    }

    /// The kind of group, from `unified`, `mail_enabled` and `security_enabled`.
    pub fn kind(&self) -> GroupKind {
        match (self.unified, self.mail_enabled, self.security_enabled) {
            (true, _, _) => GroupKind::Microsoft365,
            (false, true, true) => GroupKind::MailEnabledSecurity,
            (false, true, false) => GroupKind::Distribution,
            (false, false, _) => GroupKind::Security,
        }
    }

    /// Whether Graph lets an application change this group's members at all
    /// (ignoring permissions): not dynamic, not synced, and a Microsoft 365 or
    /// plain security group.
    pub fn membership_writable(&self) -> bool {
        !self.dynamic_membership
            && !self.on_premises_synced
            && matches!(self.kind(), GroupKind::Microsoft365 | GroupKind::Security)
    }
}
