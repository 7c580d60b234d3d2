//! Reasons: every step of a decision, with a stable code. `docs/reason-codes.md`
//! documents each code; a test keeps the two in step.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use smallvec::SmallVec;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

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
    /// A request field is longer than groupgate reads.
    RequestFieldTooLong = "REQUEST_FIELD_TOO_LONG" => Deny,
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
    /// A person the policy names as an approver was not found in the directory.
    ApproverNotInDirectory = "APPROVER_NOT_IN_DIRECTORY" => Info,
    /// A person the policy names as an approver has a disabled account.
    ApproverDisabled = "APPROVER_DISABLED" => Info,
    /// A directory approver group has more members than were read.
    ApproverGroupPartial = "APPROVER_GROUP_PARTIAL" => Info,
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

/// A detail value: text, a time or a number, always serialised as a string.
#[derive(Debug, Clone)]
pub enum DetailValue {
    /// Text.
    Text(Arc<str>),
    /// An instant, written as RFC 3339 in UTC.
    Time(DateTime<Utc>),
    /// A whole number.
    Int(i64),
}

impl fmt::Display for DetailValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DetailValue::Text(t) => f.write_str(t),
            DetailValue::Time(t) => f.write_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            DetailValue::Int(n) => write!(f, "{n}"),
        }
    }
}

impl PartialEq for DetailValue {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (DetailValue::Text(a), DetailValue::Text(b)) => a == b,
            _ => self.to_string() == other.to_string(),
        }
    }
}

impl Eq for DetailValue {}

impl PartialEq<str> for DetailValue {
    fn eq(&self, other: &str) -> bool {
        match self {
            DetailValue::Text(t) => &**t == other,
            _ => {
                let text = self.to_string();
                text.as_str() == other
            }
        }
    }
}

impl PartialEq<&str> for DetailValue {
    fn eq(&self, other: &&str) -> bool {
        self == *other
    }
}

impl From<&str> for DetailValue {
    fn from(v: &str) -> Self {
        DetailValue::Text(Arc::from(v))
    }
}

impl From<&Arc<str>> for DetailValue {
    fn from(v: &Arc<str>) -> Self {
        DetailValue::Text(Arc::clone(v))
    }
}

impl From<DateTime<Utc>> for DetailValue {
    fn from(v: DateTime<Utc>) -> Self {
        DetailValue::Time(v)
    }
}

impl From<i64> for DetailValue {
    fn from(v: i64) -> Self {
        DetailValue::Int(v)
    }
}

/// Machine-readable details of a reason: a small map from key to value,
/// serialised as a JSON object with sorted keys. Two details are equal when
/// they hold the same keys with the same values, in whatever order they were
/// added (so details read back from JSON equal the originals).
#[derive(Debug, Clone, Default)]
pub struct Details(SmallVec<[(Cow<'static, str>, DetailValue); 3]>);

impl PartialEq for Details {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Details {}

impl Details {
    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&DetailValue> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Whether there are no details.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The details in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &DetailValue)> {
        let mut sorted: Vec<_> = self.0.iter().map(|(k, v)| (k.as_ref(), v)).collect();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        sorted.into_iter()
    }

    fn text(&self, key: &str) -> String {
        self.get(key).map(ToString::to_string).unwrap_or_default()
    }
}

impl Serialize for Details {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.iter() {
            map.serialize_entry(k, &v.to_string())?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Details {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, String>::deserialize(deserializer)?;
        Ok(Details(
            map.into_iter()
                .map(|(k, v)| (Cow::Owned(k), DetailValue::Text(Arc::from(v))))
                .collect(),
        ))
    }
}

/// One step of a decision: a stable code, the rule that contributed it, and
/// details. Its human message is rendered from those (see [`Reason::message`]),
/// so evaluation does no string formatting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// The stable code.
    pub code: ReasonCode,
    /// What the code does to the decision.
    pub effect: Effect,
    /// The policy rule that contributed it, e.g. `tag_rules[financial-data]`.
    pub rule: Option<Arc<str>>,
    /// Machine-readable details.
    pub details: Details,
}

impl Reason {
    pub(crate) fn new(code: ReasonCode) -> Self {
        Self {
            code,
            effect: code.effect(),
            rule: None,
            details: Details::default(),
        }
    }

    pub(crate) fn rule(mut self, rule: &Arc<str>) -> Self {
        self.rule = Some(Arc::clone(rule));
        self
    }

    pub(crate) fn detail(mut self, key: &'static str, value: impl Into<DetailValue>) -> Self {
        self.details.0.push((Cow::Borrowed(key), value.into()));
        self
    }

    /// A sentence for people, rendered from the code and details.
    pub fn message(&self) -> String {
        let d = |k: &str| self.details.text(k);
        match self.code {
            ReasonCode::RequesterNotFound | ReasonCode::TargetNotFound => {
                let role = if self.code == ReasonCode::RequesterNotFound {
                    "requester"
                } else {
                    "target"
                };
                match self.details.get("described") {
                    Some(other) => format!(
                        "the directory facts describe `{other}`, not the {role} `{}`",
                        d(role)
                    ),
                    None => format!("the {role} `{}` was not found in the directory", d(role)),
                }
            }
            ReasonCode::RequesterDisabled => format!(
                "the requester `{}` is disabled in the directory",
                d("requester")
            ),
            ReasonCode::TargetDisabled => {
                format!("the target `{}` is disabled in the directory", d("target"))
            }
            ReasonCode::ResourceUnresolved => {
                format!("`{}` matches no catalog entry", d("resource"))
            }
            ReasonCode::ResourceAmbiguous => {
                format!(
                    "`{}` matches several groups ({}); it is never guessed",
                    d("resource"),
                    d("groups")
                )
            }
            ReasonCode::SuggestionNotInCatalog => {
                format!(
                    "the suggested group `{}` (from `{}`) is not in the catalog",
                    d("suggested"),
                    d("source")
                )
            }
            ReasonCode::GroupNotManaged => {
                format!("`{}` is not managed via ITSM in the policy", d("group"))
            }
            ReasonCode::GroupNotInDirectory => {
                format!(
                    "the directory has no group `{}` ({})",
                    d("group"),
                    d("object_id")
                )
            }
            ReasonCode::GroupFactsMismatch => {
                format!(
                    "the directory facts describe group `{}`, not `{}`",
                    d("found"),
                    d("expected")
                )
            }
            ReasonCode::GroupRoleAssignable => never(&d("group"), "is role-assignable"),
            ReasonCode::GroupDynamicMembership => never(&d("group"), "has dynamic membership"),
            ReasonCode::GroupOnPremisesSynced => {
                never(&d("group"), "is synced from on-premises AD")
            }
            ReasonCode::GroupMailEnabledSecurity => never(
                &d("group"),
                "is a mail-enabled security group (members read-only through Graph)",
            ),
            ReasonCode::GroupDistributionList => never(
                &d("group"),
                "is a distribution list (members read-only through Graph)",
            ),
            ReasonCode::UserTypeNotAllowed => {
                format!(
                    "`{}` may not join `{}` as a {}",
                    d("target"),
                    d("group"),
                    d("user_type")
                )
            }
            ReasonCode::EmployeeTypeNotAllowed => format!(
                "employee type `{}` may not join `{}` (allowed: {})",
                d("employee_type"),
                d("group"),
                d("allowed")
            ),
            ReasonCode::EndDateRequired => {
                format!(
                    "an end date is required (by {}) and the request has none",
                    d("required_by")
                )
            }
            ReasonCode::EndDateNotInFuture => {
                format!("the end date {} is not in the future", d("end_date"))
            }
            ReasonCode::SeparationOfDuties => format!(
                "the target is in `{}`, which may not be held together with `{}`",
                d("conflicting_group"),
                d("group")
            ),
            ReasonCode::ManagerUnknown => {
                format!(
                    "stage `{}` needs the target's manager, and the directory names none",
                    d("stage")
                )
            }
            ReasonCode::StageUnsatisfiable => format!(
                "stage `{}` needs {} approval(s) but has {} eligible approver(s)",
                d("stage"),
                d("required"),
                d("eligible")
            ),
            ReasonCode::NoApprovalPath => {
                format!(
                    "no approval stage or standard change applies to `{}`",
                    d("group")
                )
            }
            ReasonCode::NoChangeWindow => {
                format!(
                    "change window `{}` does not open in the next 400 days",
                    d("window")
                )
            }
            ReasonCode::AlreadyMember => {
                format!("the target already is a direct member of `{}`", d("group"))
            }
            ReasonCode::AlreadyTransitiveMember => {
                format!(
                    "the target already has access to `{}` through a nested group",
                    d("group")
                )
            }
            ReasonCode::ResolvedByName
            | ReasonCode::ResolvedByAlias
            | ReasonCode::ResolvedByPhrase
            | ReasonCode::ResolvedByPattern => format!(
                "`{}` resolves to `{}` through catalog entry `{}` (matched `{}`)",
                d("resource"),
                d("group"),
                d("entry"),
                d("matched")
            ),
            ReasonCode::ResolvedBySuggestion => format!(
                "`{}` is not in the catalog; the group `{}` suggested by `{}` goes forward only with a triage approval",
                d("resource"),
                d("group"),
                d("source")
            ),
            ReasonCode::SuggestionConfirmed => {
                format!(
                    "the suggestion `{}` from `{}` names the same group",
                    d("suggested"),
                    d("source")
                )
            }
            ReasonCode::SuggestionMismatch => format!(
                "the suggestion `{}` from `{}` differs; the catalog's `{}` is used",
                d("suggested"),
                d("source"),
                d("group")
            ),
            ReasonCode::StageRequired => match self.details.get("merged_into") {
                Some(first) => format!(
                    "stage `{}` is also required here; asked once (as from `{first}`)",
                    d("stage")
                ),
                None => format!("stage `{}` needs {} approval(s)", d("stage"), d("required")),
            },
            ReasonCode::ApproverExcluded => match self.details.get("approver") {
                Some(who) => format!(
                    "`{who}` may not approve stage `{}`: they are the requester or the target",
                    d("stage")
                ),
                None => format!(
                    "stage `{}` goes to its alternates: too few of its approvers are eligible",
                    d("stage")
                ),
            },
            ReasonCode::RequestFieldTooLong => format!(
                "the request's `{}` is {} characters long; at most {} are read",
                d("field"),
                d("length"),
                d("limit")
            ),
            ReasonCode::ApproverNotInDirectory => format!(
                "`{}` may not approve stage `{}`: the directory has no such user",
                d("approver"),
                d("stage")
            ),
            ReasonCode::ApproverGroupPartial => format!(
                "only the first members of `{}` were read for stage `{}` (raise the approver group's `max_members`)",
                d("approver"),
                d("stage")
            ),
            ReasonCode::ApproverDisabled => format!(
                "`{}` may not approve stage `{}`: their account is disabled",
                d("approver"),
                d("stage")
            ),
            ReasonCode::StandardChange => format!(
                "standard change `{}` pre-approves this request; no approval stages",
                d("standard_change")
            ),
            ReasonCode::ContractorRule => {
                format!(
                    "`{}` is a contractor (`{}`)",
                    d("target"),
                    d("employee_type")
                )
            }
            ReasonCode::GuestRule => format!("`{}` is a guest", d("target")),
            ReasonCode::EndDateRequirement => "an end date is required".to_owned(),
            ReasonCode::ExpiryEndDate => {
                format!("access ends at the requested end date {}", d("end_date"))
            }
            ReasonCode::ExpiryMaxDuration => format!(
                "access may last at most {} second(s), counted from when it is granted",
                d("max_duration_seconds")
            ),
            ReasonCode::ExpiryCapped => format!(
                "the end date lies beyond the maximum; access granted at the earliest time would end at {}",
                d("expires_at")
            ),
            ReasonCode::ChangeWindowClosed => {
                let blackout = self
                    .details
                    .get("blackout")
                    .map(|b| format!(" ({b})"))
                    .unwrap_or_default();
                format!(
                    "change window `{}` is closed{blackout}; execution waits until {}",
                    d("window"),
                    d("next_opening")
                )
            }
        }
    }
}

fn never(group: &str, what: &str) -> String {
    format!("`{group}` {what}; it is never changed through the ticket path")
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message())
    }
}

impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let fields = 3 + usize::from(self.rule.is_some()) + usize::from(!self.details.is_empty());
        let mut st = serializer.serialize_struct("Reason", fields)?;
        st.serialize_field("code", &self.code)?;
        st.serialize_field("effect", &self.effect)?;
        st.serialize_field("message", &self.message())?;
        if let Some(rule) = &self.rule {
            st.serialize_field("rule", rule)?;
        }
        if !self.details.is_empty() {
            st.serialize_field("details", &self.details)?;
        }
        st.end()
    }
}

/// The serialised form; `message` is accepted and ignored (it is re-rendered).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonForm {
    code: ReasonCode,
    #[serde(default)]
    #[allow(dead_code)]
    effect: Option<Effect>,
    #[serde(default)]
    #[allow(dead_code)]
    message: Option<String>,
    #[serde(default)]
    rule: Option<Arc<str>>,
    #[serde(default)]
    details: Details,
}

impl<'de> Deserialize<'de> for Reason {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let form = ReasonForm::deserialize(deserializer)?;
        Ok(Reason {
            code: form.code,
            effect: form.code.effect(),
            rule: form.rule,
            details: form.details,
        })
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

    #[test]
    fn details_read_back_from_json_equal_the_originals() {
        let mut original = Details::default();
        original
            .0
            .push((Cow::Borrowed("stage"), DetailValue::from("manager")));
        original
            .0
            .push((Cow::Borrowed("required"), DetailValue::from(2)));
        let json = serde_json::to_string(&original).unwrap();
        assert_eq!(json, r#"{"required":"2","stage":"manager"}"#);
        let back: Details = serde_json::from_str(&json).unwrap();
        assert_eq!(back, original);
        let mut other = Details::default();
        other
            .0
            .push((Cow::Borrowed("stage"), DetailValue::from("data-owner")));
        other
            .0
            .push((Cow::Borrowed("required"), DetailValue::from(2)));
        assert_ne!(other, original);
    }
}
