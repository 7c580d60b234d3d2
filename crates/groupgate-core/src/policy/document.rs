//! The policy file as written by an identity team (format `version: 1`).
//!
//! These types mirror the YAML/JSON file one to one. They are validated and
//! compiled into a [`crate::CompiledPolicy`] before anything is evaluated; see
//! `docs/policy.md` for the reference with a full example.

use super::PolicyDuration;
use crate::model::UserType;
use schemars::JsonSchema;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// The root of a policy file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "groupgate policy")]
pub struct PolicyDocument {
    /// Format version. Only `1` exists.
    pub version: u32,
    /// A short name for the policy, shown in decisions and reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Free text for reviewers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The IANA time zone dates without a time are read in (an end date of
    /// `2027-01-15` ends at midnight after that day, there). Absent: the
    /// default change window's zone, else UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// How requested resource text is matched against the catalog.
    #[serde(default)]
    pub matching: MatchingSettings,
    /// Named sets of approvers that stages can refer to by name (e.g. `security`).
    #[serde(default)]
    pub approver_groups: Vec<ApproverGroup>,
    /// The groups groupgate may govern, with their rules. A group that is not
    /// listed here, or not `managed_via_itsm`, is never changed.
    pub groups: Vec<GroupRule>,
    /// What people ask for (app, team and site names) mapped to a group.
    #[serde(default)]
    pub catalog: Vec<CatalogEntry>,
    /// Rules that apply to every group carrying a tag.
    #[serde(default)]
    pub tag_rules: Vec<TagRule>,
    /// Rules for contractors and guests.
    #[serde(default)]
    pub people: PeopleRules,
    /// Pre-approved standard changes: skip approval stages, never policy checks.
    #[serde(default)]
    pub standard_changes: Vec<StandardChange>,
    /// Named change windows. The name `always` is reserved for "no window".
    #[serde(default)]
    pub change_windows: Vec<ChangeWindow>,
    /// The window used by groups that name none. Absent means `always`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_change_window: Option<String>,
    /// Groups that must never be held together by one person.
    #[serde(default)]
    pub separation_of_duties: Vec<SeparationRule>,
    /// Settings for approvals as a whole.
    #[serde(default)]
    pub approvals: ApprovalSettings,
}

/// How resource text is matched. Matching always normalises case, whitespace
/// and punctuation first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct MatchingSettings {
    /// Also match a catalog name or alias that appears as a whole phrase inside
    /// longer text ("Access to Finance BI" → "finance bi"). Default `true`.
    pub phrase_match: bool,
    /// Words ignored when looking for close matches to suggest (not when resolving).
    pub ignore_words: Vec<String>,
    /// How many close catalog entries an unresolved request lists. Default 3.
    pub max_suggestions: usize,
    /// The lowest similarity score (0–1) a suggestion needs. Default 0.3.
    pub min_suggestion_score: f64,
}

impl Default for MatchingSettings {
    fn default() -> Self {
        Self {
            phrase_match: true,
            ignore_words: [
                "access", "add", "to", "the", "for", "me", "please", "request", "group", "a", "an",
                "of", "in", "into", "user", "need", "needs",
            ]
            .iter()
            .map(|w| (*w).to_owned())
            .collect(),
            max_suggestions: 3,
            min_suggestion_score: 0.3,
        }
    }
}

/// A named set of approvers, e.g. the security team: people listed here, or
/// the members of an Entra ID group (the usual way a team is defined).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproverGroup {
    /// The name stages use to refer to this set, e.g. `security`.
    pub name: String,
    /// The approvers: UPNs or object ids. Leave out with `directory_group`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
    /// The object id of an Entra ID group whose members are the approvers,
    /// read from the directory for each decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory_group: Option<String>,
    /// With `directory_group`: members of nested groups count too. Default
    /// `false` (direct members only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub transitive: bool,
    /// With `directory_group`: read at most this many members (default 200);
    /// a larger group is read in part, and the decision says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_members: Option<u32>,
}

/// Risk tier of a group.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RiskTier {
    /// Low risk, e.g. a team's collaboration group.
    Low,
    /// Medium risk (the default).
    #[default]
    Medium,
    /// High risk, e.g. access to financial or personal data.
    High,
    /// Critical: production admin, payment systems.
    Critical,
}

/// Rules for one group that groupgate may govern.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupRule {
    /// The stable key the catalog, rules and decisions use, e.g. `GRP-FINANCE-BI-READ`.
    pub id: String,
    /// The group's object id in Entra ID.
    pub object_id: String,
    /// The group's display name, for people reading decisions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Whether requests through the ticket path may change this group. Default `false`.
    #[serde(default)]
    pub managed_via_itsm: bool,
    /// Risk tier. Default `medium`.
    #[serde(default)]
    pub risk: RiskTier,
    /// Tags that pull in tag rules, e.g. `financial-data`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// App owners (UPNs or object ids), the `app_owner` approver role.
    #[serde(default)]
    pub app_owners: Vec<String>,
    /// Data owners (UPNs or object ids), the `data_owner` approver role.
    #[serde(default)]
    pub data_owners: Vec<String>,
    /// Approval stages, in order.
    #[serde(default)]
    pub approval: Vec<StageSpec>,
    /// The longest access may last, counted from when it is granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_duration: Option<PolicyDuration>,
    /// Whether every request must carry an end date.
    #[serde(default)]
    pub end_date_required: bool,
    /// User types that may be added. Absent means any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_user_types: Option<Vec<UserType>>,
    /// Employee types that may be added (case-insensitive). Absent means any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_employee_types: Option<Vec<String>>,
    /// The change window for this group, overriding `default_change_window`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_window: Option<String>,
    /// Where this group's approvals are asked: any of `servicenow`, `teams`,
    /// `slack`. Overrides the tag rules' and `approvals.channels`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_channels: Option<Vec<String>>,
    /// Remove direct members no workflow accounts for when the drift
    /// report finds them (only with `managed_via_itsm: true`). Default
    /// `false`: drift is reported, never removed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub enforce: bool,
}

/// One approval stage.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StageSpec {
    /// The stage's name, e.g. `manager` or `data-owner`.
    pub name: String,
    /// Who may approve: `manager` (the target's manager), `app_owner`,
    /// `data_owner`, the name of an approver group, or `user:<upn>`.
    pub approvers: Vec<String>,
    /// How many must approve: `one`, `all`, or a number. Default `one`.
    #[serde(default)]
    pub require: Require,
    /// Who to ask instead when nobody answered within `escalate_after`.
    #[serde(default)]
    pub alternates: Vec<String>,
    /// When to escalate to the alternates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalate_after: Option<PolicyDuration>,
}

/// How many approvers a stage needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Require {
    /// Any one eligible approver.
    #[default]
    One,
    /// Every eligible approver.
    All,
    /// At least this many distinct eligible approvers.
    AtLeast(u32),
}

impl Serialize for Require {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Require::One => serializer.serialize_str("one"),
            Require::All => serializer.serialize_str("all"),
            Require::AtLeast(n) => serializer.serialize_u32(*n),
        }
    }
}

impl<'de> Deserialize<'de> for Require {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RequireVisitor;
        impl Visitor<'_> for RequireVisitor {
            type Value = Require;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`one`, `all`, or a number of approvers of at least 1")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Require, E> {
                match v {
                    "one" => Ok(Require::One),
                    "all" => Ok(Require::All),
                    other => match other.parse::<u64>() {
                        Ok(n) => self.visit_u64(n),
                        Err(_) => Err(E::invalid_value(de::Unexpected::Str(other), &self)),
                    },
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Require, E> {
                match u32::try_from(v) {
                    Ok(n) if n >= 1 => Ok(Require::AtLeast(n)),
                    _ => Err(E::invalid_value(de::Unexpected::Unsigned(v), &self)),
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Require, E> {
                match u64::try_from(v) {
                    Ok(n) => self.visit_u64(n),
                    Err(_) => Err(E::invalid_value(de::Unexpected::Signed(v), &self)),
                }
            }
        }
        deserializer.deserialize_any(RequireVisitor)
    }
}

impl JsonSchema for Require {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("Require")
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "How many approvers a stage needs: `one`, `all`, or a number.",
            "oneOf": [
                {"type": "string", "enum": ["one", "all"]},
                {"type": "integer", "minimum": 1}
            ]
        })
    }
}

/// One entry of the catalog: what people type, and the group it means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CatalogEntry {
    /// The app, team or site name, e.g. `Finance BI`.
    pub name: String,
    /// Other names people use for it.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Regular expressions matched against the normalised request text
    /// (lowercase letters, digits and single spaces).
    #[serde(default)]
    pub patterns: Vec<String>,
    /// The `id` of the group in `groups` this entry grants.
    pub group: String,
}

/// A rule for every group that carries a tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TagRule {
    /// The tag, e.g. `financial-data`.
    pub tag: String,
    /// Stages added after the group's own stages.
    #[serde(default)]
    pub add_stages: Vec<StageSpec>,
    /// A cap on access duration; the shortest cap of all rules wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_duration: Option<PolicyDuration>,
    /// Require an end date; any rule requiring it wins.
    #[serde(default)]
    pub end_date_required: bool,
    /// Where approvals for groups with this tag are asked (`servicenow`,
    /// `teams`, `slack`); the channels of every matching tag rule are
    /// combined, unless the group names its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_channels: Option<Vec<String>>,
}

/// Rules for kinds of people rather than kinds of groups.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PeopleRules {
    /// Applies when the target's employee type is one of `employee_types`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contractors: Option<PersonRule>,
    /// Applies when the target is a guest (`user_type: Guest`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guests: Option<PersonRule>,
}

/// What applies to a kind of person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonRule {
    /// For contractors: the employee types that count (case-insensitive).
    /// Default `[Contractor]`. Ignored for guests.
    #[serde(default = "default_contractor_types")]
    pub employee_types: Vec<String>,
    /// Require an end date.
    #[serde(default)]
    pub end_date_required: bool,
    /// A cap on access duration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_duration: Option<PolicyDuration>,
    /// Stages added for these people.
    #[serde(default)]
    pub add_stages: Vec<StageSpec>,
}

fn default_contractor_types() -> Vec<String> {
    vec!["Contractor".to_owned()]
}

/// A pre-approved standard change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StandardChange {
    /// The change's name, recorded in decisions.
    pub name: String,
    /// The groups (by `id`) it covers. Absent means every group up to `max_risk`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    /// The highest risk tier it covers. Default `low`.
    #[serde(default = "default_standard_risk")]
    pub max_risk: RiskTier,
    /// Only when the requester is the target's manager.
    #[serde(default)]
    pub requester_is_target_manager: bool,
    /// Only for these user types. Absent means any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_user_types: Option<Vec<UserType>>,
}

fn default_standard_risk() -> RiskTier {
    RiskTier::Low
}

/// A named change window: when changes may be executed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeWindow {
    /// The window's name, e.g. `business-hours`.
    pub name: String,
    /// IANA time zone, e.g. `Europe/Berlin`.
    pub timezone: String,
    /// Weekly opening hours. Empty means open all week (blackouts still apply).
    #[serde(default)]
    pub weekly: Vec<WeeklyHours>,
    /// Periods when the window is closed whatever the weekly hours say.
    #[serde(default)]
    pub blackouts: Vec<Blackout>,
}

/// Opening hours on some days of the week, in the window's time zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WeeklyHours {
    /// Days: `mon`, `tue`, `wed`, `thu`, `fri`, `sat`, `sun`.
    pub days: Vec<String>,
    /// Opening time `HH:MM`.
    pub from: String,
    /// Closing time `HH:MM` (`24:00` for midnight; earlier than `from` runs past midnight).
    pub to: String,
}

/// A period when no change may run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Blackout {
    /// Start: `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS]` in the window's zone, or RFC 3339.
    pub from: String,
    /// End (exclusive), same forms as `from`.
    pub to: String,
    /// Why, for people reading the decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Groups that must not be held together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeparationRule {
    /// The rule's name, recorded in decisions.
    pub name: String,
    /// Group `id`s; a person in one may not be added to another.
    pub groups: Vec<String>,
    /// Why, for people reading the decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Settings for approvals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ApprovalSettings {
    /// How long a request may wait for its approvals. Default `7d`.
    pub expire_after: PolicyDuration,
    /// The stage added when only a suggestion (not the catalog) named the group.
    /// Default: one approval from the group's `app_owner`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub triage_stage: Option<StageSpec>,
    /// Where approvals are asked when neither the group nor a tag rule says:
    /// any of `servicenow`, `teams`, `slack`. Empty (the default): every
    /// channel the service is configured with.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<String>,
}

impl Default for ApprovalSettings {
    fn default() -> Self {
        Self {
            expire_after: PolicyDuration::from_seconds(7 * 86_400),
            triage_stage: None,
            channels: Vec::new(),
        }
    }
}

/// The approval channels a policy may name.
pub const APPROVAL_CHANNELS: [&str; 3] = ["servicenow", "teams", "slack"];
