//! Reasons: every step of a decision, with a stable code. `docs/reason-codes.md`
//! documents each code; a test keeps the two in step.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a reason does to the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// The request is denied.
    Deny,
    /// Nothing needs to change: the outcome is "already a member".
    NoOp,
    /// Adds a requirement: an approval stage, an end date, a cap, a wait.
    Require,
    /// Explains how the decision was reached.
    Info,
}

macro_rules! reason_codes {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal => $effect:ident, )*) => {
        /// A stable reason code, serialised in `SCREAMING_SNAKE_CASE`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum ReasonCode {
            $( $(#[$doc])* #[serde(rename = $name)] $variant, )*
        }

        impl ReasonCode {
            /// Every code, in documentation order.
            pub const ALL: &'static [ReasonCode] = &[ $( ReasonCode::$variant, )* ];

            /// What this code does to a decision.
            pub fn effect(self) -> Effect {
                match self { $( ReasonCode::$variant => Effect::$effect, )* }
            }

            /// The code as written in JSON, e.g. `GROUP_ROLE_ASSIGNABLE`.
            pub fn as_str(self) -> &'static str {
                match self { $( ReasonCode::$variant => $name, )* }
            }
        }
    };
}

reason_codes! {
    /// The requester was not found in the directory.
    RequesterNotFound = "REQUESTER_NOT_FOUND" => Deny,
    /// The requester's account is disabled.
    RequesterDisabled = "REQUESTER_DISABLED" => Deny,
    /// The target user was not found in the directory.
    TargetNotFound = "TARGET_NOT_FOUND" => Deny,
    /// The target user's account is disabled.
    TargetDisabled = "TARGET_DISABLED" => Deny,
    /// The requested resource matches no catalog entry.
    ResourceUnresolved = "RESOURCE_UNRESOLVED" => Deny,
    /// The requested resource matches entries of several groups.
    ResourceAmbiguous = "RESOURCE_AMBIGUOUS" => Deny,
    /// The suggested group is not in the catalog.
    SuggestionNotInCatalog = "SUGGESTION_NOT_IN_CATALOG" => Deny,
    /// The group is not managed via ITSM in the policy.
    GroupNotManaged = "GROUP_NOT_MANAGED" => Deny,
    /// The directory has no such group.
    GroupNotInDirectory = "GROUP_NOT_IN_DIRECTORY" => Deny,
    /// The directory's group is not the one the policy names.
    GroupFactsMismatch = "GROUP_FACTS_MISMATCH" => Deny,
    /// The group can be assigned to directory roles.
    GroupRoleAssignable = "GROUP_ROLE_ASSIGNABLE" => Deny,
    /// The group's membership follows a rule.
    GroupDynamicMembership = "GROUP_DYNAMIC_MEMBERSHIP" => Deny,
    /// The group is synced from on-premises AD.
    GroupOnPremisesSynced = "GROUP_ON_PREMISES_SYNCED" => Deny,
    /// The group is a mail-enabled security group.
    GroupMailEnabledSecurity = "GROUP_MAIL_ENABLED_SECURITY" => Deny,
    /// The group is a distribution list.
    GroupDistributionList = "GROUP_DISTRIBUTION_LIST" => Deny,
    /// The target's user type may not join this group.
    UserTypeNotAllowed = "USER_TYPE_NOT_ALLOWED" => Deny,
    /// The target's employee type may not join this group.
    EmployeeTypeNotAllowed = "EMPLOYEE_TYPE_NOT_ALLOWED" => Deny,
    /// An end date is required and none was given.
    EndDateRequired = "END_DATE_REQUIRED" => Deny,
    /// The end date is not in the future.
    EndDateNotInFuture = "END_DATE_NOT_IN_FUTURE" => Deny,
    /// The target holds a group this one must not be combined with.
    SeparationOfDuties = "SEPARATION_OF_DUTIES" => Deny,
    /// A stage needs the target's manager and none is set.
    ManagerUnknown = "MANAGER_UNKNOWN" => Deny,
    /// A stage has fewer eligible approvers than it needs.
    StageUnsatisfiable = "STAGE_UNSATISFIABLE" => Deny,
    /// Neither an approval stage nor a standard change applies.
    NoApprovalPath = "NO_APPROVAL_PATH" => Deny,
    /// The change window never opens within the search horizon.
    NoChangeWindow = "NO_CHANGE_WINDOW" => Deny,
    /// The target already is a direct member.
    AlreadyMember = "ALREADY_MEMBER" => NoOp,
    /// The target already has access through a nested group.
    AlreadyTransitiveMember = "ALREADY_TRANSITIVE_MEMBER" => NoOp,
    /// Resolved: the text is a catalog entry's name.
    ResolvedByName = "RESOLVED_BY_NAME" => Info,
    /// Resolved: the text is a catalog entry's alias.
    ResolvedByAlias = "RESOLVED_BY_ALIAS" => Info,
    /// Resolved: a name or alias appears as a phrase in the text.
    ResolvedByPhrase = "RESOLVED_BY_PHRASE" => Info,
    /// Resolved: a catalog pattern matched the text.
    ResolvedByPattern = "RESOLVED_BY_PATTERN" => Info,
    /// Resolved from the suggestion only, with a triage stage added.
    ResolvedBySuggestion = "RESOLVED_BY_SUGGESTION" => Require,
    /// The suggestion names the group the catalog resolved.
    SuggestionConfirmed = "SUGGESTION_CONFIRMED" => Info,
    /// The suggestion names another group; the catalog wins.
    SuggestionMismatch = "SUGGESTION_MISMATCH" => Info,
    /// An approval stage is required.
    StageRequired = "STAGE_REQUIRED" => Require,
    /// The requester or target was removed from a stage's approvers.
    ApproverExcluded = "APPROVER_EXCLUDED" => Info,
    /// A pre-approved standard change applies: no approval stages.
    StandardChange = "STANDARD_CHANGE" => Info,
    /// A rule applies to contractors.
    ContractorRule = "CONTRACTOR_RULE" => Require,
    /// A rule applies to guests.
    GuestRule = "GUEST_RULE" => Require,
    /// A rule requires an end date.
    EndDateRequirement = "END_DATE_REQUIREMENT" => Require,
    /// Access ends at the requested end date.
    ExpiryEndDate = "EXPIRY_END_DATE" => Info,
    /// A rule caps how long access may last.
    ExpiryMaxDuration = "EXPIRY_MAX_DURATION" => Require,
    /// The requested end date lies beyond the cap and will be shortened.
    ExpiryCapped = "EXPIRY_CAPPED" => Info,
    /// The change window is closed now; execution waits for its next opening.
    ChangeWindowClosed = "CHANGE_WINDOW_CLOSED" => Require,
}

/// One step of a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// The stable code.
    pub code: ReasonCode,
    /// What the code does to the decision.
    pub effect: Effect,
    /// A sentence for people.
    pub message: String,
    /// The policy rule that contributed it, e.g. `tag_rules[financial-data]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Machine-readable details.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, String>,
}

impl Reason {
    pub(crate) fn new(code: ReasonCode, message: impl Into<String>) -> Self {
        Self {
            code,
            effect: code.effect(),
            message: message.into(),
            rule: None,
            details: BTreeMap::new(),
        }
    }

    pub(crate) fn rule(mut self, rule: impl Into<String>) -> Self {
        self.rule = Some(rule.into());
        self
    }

    pub(crate) fn detail(mut self, key: &str, value: impl Into<String>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }
}

impl std::fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_str_matches_serde() {
        for code in ReasonCode::ALL {
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert!(
                code.as_str()
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c == '_')
            );
        }
    }
}
