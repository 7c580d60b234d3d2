//! Validation and compilation of a [`PolicyDocument`] into an indexed [`CompiledPolicy`].

use super::catalog::{CatalogIndex, Lookup, entry_keys};
use super::digest::policy_digest;
use super::parse::parse_document;
use super::{
    CompiledWindow, Diagnostic, MatchKind, PolicyDocument, PolicyDuration, PolicyError,
    PolicyFormat, Require, Resolution, RiskTier, Severity, StageSpec, normalize,
};
use crate::evaluate::GroupInfo;
use crate::evaluate::{self, Decision};
use crate::input::{Limits, Locator};
use crate::model::{Facts, GroupId, Request, UserType};
use chrono::{DateTime, Utc};
use regex::RegexSet;
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// Names an approver reference may not use for an approver group.
const BUILT_IN_ROLES: [&str; 3] = ["manager", "app_owner", "data_owner"];
/// The reserved name of the window that is always open.
pub(crate) const ALWAYS: &str = "always";

/// A person the policy names as an approver (an owner, an approver group's
/// member, or `user:<upn>`), by the key the policy writes: a UPN or an object
/// id. Only a directory look-up (the facts) turns the key into an identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PolicyApprover {
    /// UPN or object id as written in the policy.
    pub(crate) key: Arc<str>,
    /// Why they may approve: `app_owner`, `data_owner`, `group:<name>` or `user`.
    pub(crate) role: Arc<str>,
}

/// Where a stage's approvers come from once compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ApproverSource {
    /// The target's manager, known only from the facts.
    Manager,
    /// The app owners of the group being decided.
    AppOwners,
    /// The data owners of the group being decided.
    DataOwners,
    /// Fixed people (an approver group or named users).
    Fixed(Arc<[PolicyApprover]>),
    /// The members of a directory group, read with the facts.
    Directory(DirectoryApprovers),
}

/// The most members of a directory approver group read for one decision.
pub(crate) const MAX_DIRECTORY_APPROVERS: u32 = 5000;

/// The members read of a directory approver group when the policy says nothing.
pub(crate) const DEFAULT_DIRECTORY_APPROVERS: u32 = 200;

/// An approver group defined by a directory group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DirectoryApprovers {
    pub(crate) group: GroupId,
    pub(crate) transitive: bool,
    pub(crate) max_members: u32,
    pub(crate) role: Arc<str>,
}

/// An approval stage, compiled once and shared by every group whose stage is
/// written the same way.
#[derive(Debug, Clone)]
pub(crate) struct CompiledStage {
    pub(crate) name: Arc<str>,
    pub(crate) require: Require,
    pub(crate) approvers: Vec<ApproverSource>,
    pub(crate) alternates: Vec<ApproverSource>,
    pub(crate) escalate_after: Option<i64>,
}

impl CompiledStage {
    /// How many people the stage names for a group with this many app and
    /// data owners (the manager counts as one).
    pub(crate) fn people(&self, app_owners: usize, data_owners: usize) -> usize {
        self.approvers
            .iter()
            .map(|a| match a {
                ApproverSource::Manager => 1,
                ApproverSource::AppOwners => app_owners,
                ApproverSource::DataOwners => data_owners,
                ApproverSource::Fixed(people) => people.len(),
                // Known only from the directory: not a reason to refuse the policy.
                ApproverSource::Directory(d) => d.max_members as usize,
            })
            .sum()
    }
}

/// What a decision about one group reads from the directory besides the
/// requester, the target and the target's manager.
#[derive(Debug, Clone, Default)]
pub(crate) struct GroupNeeds {
    /// The people the group's possible stages name (owners, approver-group
    /// members, `user:` entries), by the key the policy writes.
    pub(crate) approvers: Vec<Arc<str>>,
    /// The people the triage stage adds when the group was resolved from a
    /// suggestion only.
    pub(crate) triage_approvers: Vec<Arc<str>>,
    /// Directory groups whose members the stages (triage included) name.
    pub(crate) approver_groups: Vec<DirectoryApprovers>,
    /// The groups separation of duties forbids combining this one with.
    pub(crate) separation_partners: Vec<GroupId>,
}

/// The people `stages` name for `group`, each once.
fn people_of<'a>(
    group: &CompiledGroup,
    stages: impl Iterator<Item = &'a StageRef>,
) -> Vec<Arc<str>> {
    let mut approvers: Vec<Arc<str>> = Vec::new();
    let mut add = |people: &[PolicyApprover]| {
        for p in people {
            if !approvers.iter().any(|a| a.eq_ignore_ascii_case(&p.key)) {
                approvers.push(Arc::clone(&p.key));
            }
        }
    };
    for stage in stages {
        for source in stage.stage.approvers.iter().chain(&stage.stage.alternates) {
            match source {
                ApproverSource::Manager => {}
                ApproverSource::AppOwners => add(&group.app_owners),
                ApproverSource::DataOwners => add(&group.data_owners),
                ApproverSource::Fixed(people) => add(people),
                ApproverSource::Directory(_) => {}
            }
        }
    }
    approvers
}

/// The directory groups `stages` take approvers from, each once.
fn directory_groups_of<'a>(stages: impl Iterator<Item = &'a StageRef>) -> Vec<DirectoryApprovers> {
    let mut out: Vec<DirectoryApprovers> = Vec::new();
    for stage in stages {
        for source in stage.stage.approvers.iter().chain(&stage.stage.alternates) {
            if let ApproverSource::Directory(d) = source
                && !out
                    .iter()
                    .any(|o| o.group.same(&d.group) && o.transitive == d.transitive)
            {
                out.push(d.clone());
            }
        }
    }
    out
}

impl GroupNeeds {
    fn of(
        group: &CompiledGroup,
        groups: &[CompiledGroup],
        person_stages: &[&StageRef],
        triage: &StageRef,
    ) -> GroupNeeds {
        let approvers = people_of(
            group,
            group.stages.iter().chain(person_stages.iter().copied()),
        );
        let triage_approvers = people_of(group, std::iter::once(triage))
            .into_iter()
            .filter(|t| !approvers.iter().any(|a| a.eq_ignore_ascii_case(t)))
            .collect();
        let mut separation_partners: Vec<GroupId> = Vec::new();
        for other in group
            .separations
            .iter()
            .flat_map(|(_, others)| others)
            .filter_map(|o| groups.get(*o))
        {
            if !separation_partners.contains(&other.object_id) {
                separation_partners.push(other.object_id.clone());
            }
        }
        let approver_groups = directory_groups_of(
            group
                .stages
                .iter()
                .chain(person_stages.iter().copied())
                .chain(std::iter::once(triage)),
        );
        GroupNeeds {
            approvers,
            triage_approvers,
            approver_groups,
            separation_partners,
        }
    }
}

/// A stage as it applies somewhere, with the rule that added it there.
#[derive(Debug, Clone)]
pub(crate) struct StageRef {
    pub(crate) stage: Arc<CompiledStage>,
    pub(crate) source: Arc<str>,
}

/// A duration cap and the rule that set it.
#[derive(Debug, Clone)]
pub(crate) struct Cap {
    pub(crate) seconds: i64,
    pub(crate) rule: Arc<str>,
}

/// What applies to contractors or guests.
#[derive(Debug, Clone)]
pub(crate) struct CompiledPersonRule {
    pub(crate) rule: Arc<str>,
    pub(crate) employee_types: Vec<String>,
    pub(crate) end_date_required: bool,
    pub(crate) cap: Option<Cap>,
    pub(crate) stages: Vec<StageRef>,
}

/// A group with every rule that applies to it folded in.
#[derive(Debug, Clone)]
pub(crate) struct CompiledGroup {
    /// What decisions about this group say about it.
    pub(crate) info: Arc<GroupInfo>,
    pub(crate) key: Arc<str>,
    /// `groups[<key>]`, the rule name group-level reasons cite.
    pub(crate) rule: Arc<str>,
    pub(crate) object_id: GroupId,
    pub(crate) managed: bool,
    /// Drift in this group is removed, not only reported.
    pub(crate) enforce: bool,
    pub(crate) risk: RiskTier,
    pub(crate) tags: Arc<[Arc<str>]>,
    pub(crate) app_owners: Arc<[PolicyApprover]>,
    pub(crate) data_owners: Arc<[PolicyApprover]>,
    /// The group's own stages, then each matching tag rule's, in policy order.
    pub(crate) stages: Vec<StageRef>,
    /// Rules (group or tag) that require an end date.
    pub(crate) end_date_rules: Vec<Arc<str>>,
    /// The shortest cap of the group and its tag rules.
    pub(crate) cap: Option<Cap>,
    pub(crate) allowed_user_types: Option<Vec<UserType>>,
    pub(crate) allowed_employee_types: Option<Vec<String>>,
    /// Index into `windows`; `None` is always open.
    pub(crate) window: Option<usize>,
    /// Separation-of-duties rules: (rule name, the other groups' indexes).
    pub(crate) separations: Vec<(Arc<str>, Vec<usize>)>,
    /// What a decision about this group reads from the directory.
    pub(crate) needs: Arc<GroupNeeds>,
    /// Where its approvals are asked (empty: every configured channel).
    pub(crate) channels: Arc<[Arc<str>]>,
}

/// Where a group's approvals are asked: its own channels, else those of
/// every matching tag rule combined, else the policy's default.
fn group_channels(doc: &PolicyDocument, g: &super::GroupRule) -> Arc<[Arc<str>]> {
    let names: Vec<&String> = match &g.approval_channels {
        Some(own) => own.iter().collect(),
        None => {
            let from_tags: Vec<&String> = doc
                .tag_rules
                .iter()
                .filter(|t| g.tags.contains(&t.tag))
                .filter_map(|t| t.approval_channels.as_ref())
                .flatten()
                .collect();
            if from_tags.is_empty() {
                doc.approvals.channels.iter().collect()
            } else {
                from_tags
            }
        }
    };
    let mut out: Vec<Arc<str>> = Vec::with_capacity(names.len());
    for n in names {
        let n = n.trim().to_ascii_lowercase();
        if !out.iter().any(|o| **o == *n) {
            out.push(Arc::from(n));
        }
    }
    out.into()
}

/// `enforce` removes members: only of a group the ticket path may change.
fn check_enforce(doc: &PolicyDocument, diags: &mut Vec<Diagnostic>) {
    for (i, g) in doc.groups.iter().enumerate() {
        if g.enforce && !g.managed_via_itsm {
            diags.push(
                Diagnostic::error(
                    "enforce-unmanaged",
                    format!("groups[{i}].enforce"),
                    format!(
                        "`{}` is not managed_via_itsm, so groupgate may not remove its members",
                        g.id
                    ),
                )
                .with_help(
                    "set `managed_via_itsm: true`, or drop `enforce` to have drift reported only",
                ),
            );
        }
    }
}

/// Every channel name must be one groupgate knows.
fn check_channels(doc: &PolicyDocument, diags: &mut Vec<Diagnostic>) {
    let mut lists: Vec<(String, &Vec<String>)> = Vec::new();
    for (i, g) in doc.groups.iter().enumerate() {
        if let Some(c) = &g.approval_channels {
            lists.push((format!("groups[{i}].approval_channels"), c));
        }
    }
    for (i, t) in doc.tag_rules.iter().enumerate() {
        if let Some(c) = &t.approval_channels {
            lists.push((format!("tag_rules[{i}].approval_channels"), c));
        }
    }
    lists.push(("approvals.channels".to_owned(), &doc.approvals.channels));
    for (field, names) in lists {
        for (j, name) in names.iter().enumerate() {
            let known = super::document::APPROVAL_CHANNELS
                .iter()
                .any(|k| k.eq_ignore_ascii_case(name.trim()));
            if !known {
                diags.push(
                    Diagnostic::error(
                        "unknown-channel",
                        format!("{field}[{j}]"),
                        format!("`{name}` is not an approval channel"),
                    )
                    .with_help("use `servicenow`, `teams` or `slack`"),
                );
            }
        }
    }
}

/// A standard change, compiled.
#[derive(Debug, Clone)]
pub(crate) struct CompiledStandardChange {
    pub(crate) name: Arc<str>,
    /// The groups it covers, sorted (`None`: every group).
    pub(crate) groups: Option<Vec<usize>>,
    pub(crate) max_risk: RiskTier,
    pub(crate) requester_is_target_manager: bool,
    pub(crate) target_user_types: Option<Vec<UserType>>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) document: PolicyDocument,
    pub(crate) digest: Arc<str>,
    pub(crate) groups: Vec<CompiledGroup>,
    pub(crate) group_by_key: FxHashMap<String, usize>,
    /// Lowercased object id → group index.
    pub(crate) group_by_object: FxHashMap<String, usize>,
    pub(crate) catalog: CatalogIndex,
    /// Whether each group has at least one catalog entry.
    pub(crate) catalogued: Vec<bool>,
    pub(crate) standard_changes: Vec<CompiledStandardChange>,
    pub(crate) windows: Vec<CompiledWindow>,
    pub(crate) approval_expiry: PolicyDuration,
    pub(crate) contractors: Option<CompiledPersonRule>,
    pub(crate) guests: Option<CompiledPersonRule>,
    /// The stage added when only a suggestion named the group.
    pub(crate) triage: StageRef,
    /// The `manager` role string, shared by every decision.
    pub(crate) manager_role: Arc<str>,
    /// The zone dates without a time are read in.
    pub(crate) timezone: chrono_tz::Tz,
}

/// A validated policy, indexed for evaluation. Cheap to clone and share
/// across threads (`Send + Sync`).
///
/// ```
/// use groupgate_core::CompiledPolicy;
/// let policy = CompiledPolicy::from_yaml_str(r#"
/// version: 1
/// groups:
///   - id: GRP-TEAM-ALPHA
///     object_id: 00000000-0000-0000-0000-0000000000a1
///     managed_via_itsm: true
///     approval:
///       - name: manager
///         approvers: [manager]
/// catalog:
///   - name: Team Alpha
///     group: GRP-TEAM-ALPHA
/// "#, "inline.yaml").unwrap();
/// assert!(policy.digest().starts_with("sha256:"));
/// ```
#[derive(Debug, Clone)]
pub struct CompiledPolicy {
    pub(crate) inner: Arc<Inner>,
}

impl CompiledPolicy {
    /// Parses, validates and compiles YAML policy text. `source_name` (usually
    /// the file name) appears in error messages.
    pub fn from_yaml_str(text: &str, source_name: &str) -> Result<Self, PolicyError> {
        Self::from_str_as(text, PolicyFormat::Yaml, source_name)
    }

    /// Parses, validates and compiles JSON policy text.
    pub fn from_json_str(text: &str, source_name: &str) -> Result<Self, PolicyError> {
        Self::from_str_as(text, PolicyFormat::Json, source_name)
    }

    /// Parses, validates and compiles policy text of the given format.
    pub fn from_str_as(
        text: &str,
        format: PolicyFormat,
        source_name: &str,
    ) -> Result<Self, PolicyError> {
        Self::from_str_with_limits(text, format, source_name, &Limits::default())
    }

    /// [`CompiledPolicy::from_str_as`] within `limits` (size, nesting,
    /// nodes with aliases expanded, string length); an input beyond one is
    /// an `input-limit` error naming the limit and how to raise it.
    pub fn from_str_with_limits(
        text: &str,
        format: PolicyFormat,
        source_name: &str,
        limits: &Limits,
    ) -> Result<Self, PolicyError> {
        let document = parse_document(text, format, source_name, limits)?;
        Self::build(document, Some(text), source_name)
    }

    /// Validates and compiles an already parsed document (errors carry fields
    /// but no line numbers).
    pub fn from_document(document: PolicyDocument) -> Result<Self, PolicyError> {
        Self::build(document, None, "<document>")
    }

    fn build(
        document: PolicyDocument,
        text: Option<&str>,
        source_name: &str,
    ) -> Result<Self, PolicyError> {
        let mut diags = Vec::new();
        let inner = compile(document, &mut diags);
        match inner {
            Some(inner) if !diags.iter().any(|d| d.severity == Severity::Error) => {
                // The close-match index is built now, not on the first
                // unresolved request: no decision after a load waits for it.
                inner.catalog.fuzzy_index();
                Ok(Self {
                    inner: Arc::new(inner),
                })
            }
            _ => {
                let mut diagnostics: Vec<Diagnostic> = diags
                    .into_iter()
                    .filter(|d| d.severity == Severity::Error)
                    .collect();
                locate(&mut diagnostics, text);
                Err(PolicyError {
                    source_name: source_name.to_owned(),
                    diagnostics,
                })
            }
        }
    }

    /// The parsed document.
    pub fn document(&self) -> &PolicyDocument {
        &self.inner.document
    }

    /// `sha256:<hex>` over the canonical form; every decision records it.
    pub fn digest(&self) -> &str {
        &self.inner.digest
    }

    /// How many catalog entries the policy has.
    pub fn catalog_len(&self) -> usize {
        self.inner.catalog.entries.len()
    }

    /// Resolves the request's resource (and, failing that, its suggestion) to a
    /// group, so the caller knows which group's facts to gather.
    ///
    /// ```
    /// # let policy = groupgate_core::CompiledPolicy::from_yaml_str("version: 1\ngroups:\n  - {id: G, object_id: oid-g, managed_via_itsm: true, approval: [{name: m, approvers: [manager]}]}\ncatalog:\n  - {name: Team Alpha, group: G}\n", "p").unwrap();
    /// use groupgate_core::{Request, Resolution};
    /// let request: Request = serde_json::from_str(r#"{"ticket":"T1","requester":"a","target":"b","resource":"Add me to team alpha"}"#).unwrap();
    /// assert_eq!(policy.resolve(&request).object_id(), Some("oid-g"));
    /// ```
    pub fn resolve(&self, request: &Request) -> Resolution {
        let inner = &self.inner;
        match inner.lookup_request(request) {
            RequestLookup::Catalog(Lookup::Found {
                entry,
                group,
                kind,
                matched,
            }) => inner.resolution(
                group,
                inner.catalog.entries.get(entry).map(|e| e.name.to_string()),
                kind,
                matched.to_string(),
            ),
            RequestLookup::Catalog(Lookup::Ambiguous { groups }) => Resolution::Ambiguous {
                groups: groups
                    .iter()
                    .filter_map(|g| inner.groups.get(*g))
                    .map(|g| g.key.to_string())
                    .collect(),
            },
            RequestLookup::Suggested(group) => {
                let matched = request
                    .suggestion
                    .as_ref()
                    .map(|s| s.group.clone())
                    .unwrap_or_default();
                inner.resolution(group, None, MatchKind::Suggestion, matched)
            }
            RequestLookup::Catalog(Lookup::NotFound) | RequestLookup::SuggestionOutside => {
                Resolution::Unresolved
            }
        }
    }

    /// Evaluates a request against this policy. Pure: no I/O, no clock; the
    /// same inputs always give the same decision.
    pub fn evaluate(&self, request: &Request, facts: &Facts, now: DateTime<Utc>) -> Decision {
        evaluate::evaluate(&self.inner, request, facts, now)
    }

    /// The object ids of every group the policy governs (the groups the
    /// engine reads the target's memberships of, for separation of duties and
    /// offboarding).
    pub fn governed_group_ids(&self) -> Vec<GroupId> {
        self.inner
            .groups
            .iter()
            .map(|g| g.object_id.clone())
            .collect()
    }

    /// Every group the policy governs, as decisions describe it (key,
    /// object id, display name, risk, tags), in policy order.
    pub fn governed_groups(&self) -> Vec<Arc<GroupInfo>> {
        self.inner.groups.iter().map(|g| g.info.clone()).collect()
    }

    /// Whether the drift report removes unaccounted members of `group`
    /// (`enforce: true`) rather than only reporting them.
    pub fn enforces(&self, group: &GroupId) -> bool {
        self.inner
            .groups
            .iter()
            .any(|g| g.enforce && g.object_id.same(group))
    }

    /// Warnings about a valid policy (see `groupgate policy lint`).
    pub fn lint(&self) -> Vec<Diagnostic> {
        super::lint::lint(&self.inner)
    }
}

/// How the request's text and suggestion were looked up.
pub(crate) enum RequestLookup {
    Catalog(Lookup),
    /// Unresolved text; the suggestion names this catalogued group.
    Suggested(usize),
    /// Unresolved text; the suggestion names no catalogued group.
    SuggestionOutside,
}

impl Inner {
    pub(crate) fn lookup_request(&self, request: &Request) -> RequestLookup {
        let found = self.catalog.lookup(&normalize(&request.resource));
        match (&found, &request.suggestion) {
            (Lookup::NotFound, Some(s)) => match self.suggested_group(&s.group) {
                Some(g) => RequestLookup::Suggested(g),
                None => RequestLookup::SuggestionOutside,
            },
            _ => RequestLookup::Catalog(found),
        }
    }

    /// The catalogued group a suggestion names, by key, object id, or catalog name/alias.
    pub(crate) fn suggested_group(&self, text: &str) -> Option<usize> {
        let trimmed = text.trim();
        let by_id = self
            .group_by_key
            .get(trimmed)
            .or_else(|| self.group_by_object.get(&trimmed.to_ascii_lowercase()))
            .copied();
        let group = by_id.or_else(|| self.catalog.lookup_exact(&normalize(trimmed)))?;
        self.catalogued
            .get(group)
            .copied()
            .unwrap_or(false)
            .then_some(group)
    }

    fn resolution(
        &self,
        group: usize,
        entry: Option<String>,
        kind: MatchKind,
        matched: String,
    ) -> Resolution {
        match self.groups.get(group) {
            Some(g) => Resolution::Resolved {
                group: g.key.to_string(),
                object_id: g.object_id.to_string(),
                entry,
                kind,
                matched,
            },
            None => Resolution::Unresolved,
        }
    }
}

/// Fills in line and column for each diagnostic from the source text.
pub(crate) fn locate(diags: &mut [Diagnostic], text: Option<&str>) {
    let Some(text) = text else { return };
    if diags.is_empty() {
        return;
    }
    let locator = Locator::new(text, &Limits::default());
    for d in diags.iter_mut() {
        if d.location.is_none() {
            d.location = locator.find(&d.field);
        }
    }
}

/// Validates `doc`, pushing every problem to `diags`; returns the compiled
/// form when nothing fatal was found.
pub(crate) fn compile(doc: PolicyDocument, diags: &mut Vec<Diagnostic>) -> Option<Inner> {
    if doc.version != 1 {
        diags.push(
            Diagnostic::error(
                "unsupported-version",
                "version",
                format!("policy format version `{}` is not supported", doc.version),
            )
            .with_help("this groupgate reads `version: 1`"),
        );
        return None;
    }
    if !(0.0..=1.0).contains(&doc.matching.min_suggestion_score) {
        diags.push(Diagnostic::error(
            "out-of-range",
            "matching.min_suggestion_score",
            format!("`{}` is outside 0–1", doc.matching.min_suggestion_score),
        ));
    }

    // Approver groups.
    let mut approver_groups: FxHashMap<&str, &super::ApproverGroup> = FxHashMap::default();
    for (i, ag) in doc.approver_groups.iter().enumerate() {
        let field = format!("approver_groups[{i}]");
        if BUILT_IN_ROLES.contains(&ag.name.as_str()) || ag.name.starts_with("user:") {
            diags.push(Diagnostic::error(
                "reserved-name",
                format!("{field}.name"),
                format!(
                    "`{}` is a built-in approver role and cannot name an approver group",
                    ag.name
                ),
            ));
        }
        match (&ag.directory_group, ag.members.is_empty()) {
            (None, true) => diags.push(
                Diagnostic::error(
                    "empty-approver-group",
                    format!("{field}.members"),
                    format!("approver group `{}` has no members", ag.name),
                )
                .with_help("list `members`, or name an Entra ID group with `directory_group`"),
            ),
            (Some(_), false) => diags.push(
                Diagnostic::error(
                    "conflicting-approvers",
                    format!("{field}.directory_group"),
                    format!(
                        "approver group `{}` names both `members` and a `directory_group`",
                        ag.name
                    ),
                )
                .with_help("keep one: the directory group's members, or the list"),
            ),
            (Some(id), true) if !crate::model::is_object_id(id) => diags.push(
                Diagnostic::error(
                    "invalid-object-id",
                    format!("{field}.directory_group"),
                    format!("`{id}` is not a directory object id"),
                )
                .with_help("copy the group's Object ID from Entra ID"),
            ),
            _ => {}
        }
        if ag.directory_group.is_none() && (ag.transitive || ag.max_members.is_some()) {
            let setting = if ag.transitive {
                "transitive"
            } else {
                "max_members"
            };
            diags.push(
                Diagnostic::error(
                    "stray-setting",
                    format!("{field}.{setting}"),
                    format!(
                        "`{setting}` applies to a `directory_group`; approver group `{}` has none",
                        ag.name
                    ),
                )
                .with_help("remove it, or name the Entra ID group with `directory_group`"),
            );
        }
        if let Some(max) = ag.max_members
            && !(1..=MAX_DIRECTORY_APPROVERS).contains(&max)
        {
            diags.push(
                Diagnostic::error(
                    "out-of-range",
                    format!("{field}.max_members"),
                    format!("`max_members` is {max}; it must be 1 to {MAX_DIRECTORY_APPROVERS}"),
                )
                .with_help("approvers are people who answer a card: a few hundred at most"),
            );
        }
        if approver_groups.insert(ag.name.as_str(), ag).is_some() {
            diags.push(Diagnostic::error(
                "duplicate-name",
                format!("{field}.name"),
                format!("approver group `{}` is defined twice", ag.name),
            ));
        }
    }

    // Change windows.
    let mut windows = Vec::new();
    let mut window_by_name: FxHashMap<&str, usize> = FxHashMap::default();
    for (i, w) in doc.change_windows.iter().enumerate() {
        let field = format!("change_windows[{i}]");
        if w.name == ALWAYS {
            diags.push(Diagnostic::error(
                "reserved-name",
                format!("{field}.name"),
                "`always` is reserved for \"no change window\"",
            ));
        }
        if window_by_name.contains_key(w.name.as_str()) {
            diags.push(Diagnostic::error(
                "duplicate-name",
                format!("{field}.name"),
                format!("change window `{}` is defined twice", w.name),
            ));
        }
        if let Some(cw) = CompiledWindow::compile(w, &field, diags) {
            window_by_name.insert(w.name.as_str(), windows.len());
            windows.push(cw);
        }
    }
    let find_window = |name: &str, field: String, diags: &mut Vec<Diagnostic>| -> Option<usize> {
        if name == ALWAYS {
            return None;
        }
        match window_by_name.get(name) {
            Some(i) => Some(*i),
            None => {
                diags.push(
                    Diagnostic::error(
                        "unknown-window",
                        field,
                        format!("change window `{name}` is not defined in `change_windows`"),
                    )
                    .with_help("define it, or use `always` for no window"),
                );
                None
            }
        }
    };
    let default_window = doc
        .default_change_window
        .as_deref()
        .and_then(|name| find_window(name, "default_change_window".to_owned(), diags));

    // Groups.
    let mut group_by_key: FxHashMap<String, usize> = FxHashMap::default();
    let mut group_by_object: FxHashMap<String, usize> = FxHashMap::default();
    for (i, g) in doc.groups.iter().enumerate() {
        let field = format!("groups[{i}]");
        if g.id.trim().is_empty() {
            diags.push(Diagnostic::error(
                "empty-value",
                format!("{field}.id"),
                "the group key is empty",
            ));
        }
        if g.object_id.trim().is_empty() {
            diags.push(
                Diagnostic::error(
                    "empty-value",
                    format!("{field}.object_id"),
                    "the object id is empty",
                )
                .with_help("copy the group's Object ID from Entra ID"),
            );
        }
        if group_by_key.insert(g.id.clone(), i).is_some() {
            diags.push(Diagnostic::error(
                "duplicate-name",
                format!("{field}.id"),
                format!("group `{}` is defined twice", g.id),
            ));
        }
        if group_by_object
            .insert(g.object_id.to_ascii_lowercase(), i)
            .is_some()
        {
            diags.push(Diagnostic::error(
                "duplicate-object-id",
                format!("{field}.object_id"),
                format!("object id `{}` belongs to two group entries", g.object_id),
            ));
        }
    }

    let ctx = StageContext {
        approver_groups: &approver_groups,
    };
    // Validate every approver reference once, where it is written.
    for (i, g) in doc.groups.iter().enumerate() {
        for (j, s) in g.approval.iter().enumerate() {
            ctx.check(s, &format!("groups[{i}].approval[{j}]"), diags);
        }
    }
    for (i, t) in doc.tag_rules.iter().enumerate() {
        if t.tag.trim().is_empty() {
            diags.push(Diagnostic::error(
                "empty-value",
                format!("tag_rules[{i}].tag"),
                "the tag is empty",
            ));
        }
        for (j, s) in t.add_stages.iter().enumerate() {
            ctx.check(s, &format!("tag_rules[{i}].add_stages[{j}]"), diags);
        }
    }
    for (name, rule) in [
        ("contractors", &doc.people.contractors),
        ("guests", &doc.people.guests),
    ] {
        if let Some(rule) = rule {
            for (j, s) in rule.add_stages.iter().enumerate() {
                ctx.check(s, &format!("people.{name}.add_stages[{j}]"), diags);
            }
        }
    }
    if let Some(s) = &doc.approvals.triage_stage {
        ctx.check(s, "approvals.triage_stage", diags);
    }

    let default_triage = StageSpec {
        name: "triage".to_owned(),
        approvers: vec!["app_owner".to_owned()],
        require: Require::One,
        alternates: Vec::new(),
        escalate_after: None,
    };
    let triage_spec = doc
        .approvals
        .triage_stage
        .as_ref()
        .unwrap_or(&default_triage);
    let mut stage_cache: FxHashMap<StageSpec, Arc<CompiledStage>> = FxHashMap::default();
    let mut compiled_stage = |spec: &StageSpec| -> Arc<CompiledStage> {
        if let Some(stage) = stage_cache.get(spec) {
            return Arc::clone(stage);
        }
        let stage = Arc::new(ctx.resolve(spec));
        stage_cache.insert(spec.clone(), Arc::clone(&stage));
        stage
    };
    let triage = StageRef {
        stage: compiled_stage(triage_spec),
        source: Arc::from("approvals.triage_stage"),
    };

    // Tag rules and people rules: compiled once, shared by reference.
    let tag_rules: Vec<(Arc<str>, Vec<StageRef>)> = doc
        .tag_rules
        .iter()
        .map(|t| {
            let rule: Arc<str> = Arc::from(format!("tag_rules[{}]", t.tag));
            let stages = t
                .add_stages
                .iter()
                .map(|s| StageRef {
                    stage: compiled_stage(s),
                    source: Arc::clone(&rule),
                })
                .collect();
            (rule, stages)
        })
        .collect();
    let mut person = |name: &str, rule: &Option<super::PersonRule>| {
        rule.as_ref().map(|r| {
            let rule_name: Arc<str> = Arc::from(format!("people.{name}"));
            CompiledPersonRule {
                employee_types: r.employee_types.clone(),
                end_date_required: r.end_date_required,
                cap: r.max_duration.map(|d| Cap {
                    seconds: d.as_seconds(),
                    rule: Arc::clone(&rule_name),
                }),
                stages: r
                    .add_stages
                    .iter()
                    .map(|s| StageRef {
                        stage: compiled_stage(s),
                        source: Arc::clone(&rule_name),
                    })
                    .collect(),
                rule: rule_name,
            }
        })
    };
    let contractors = person("contractors", &doc.people.contractors);
    let guests = person("guests", &doc.people.guests);

    // Role names are shared by every approver that holds them.
    let app_owner_role: Arc<str> = Arc::from("app_owner");
    let data_owner_role: Arc<str> = Arc::from("data_owner");
    // Identical tag lists are shared too.
    let mut tag_lists: FxHashMap<Vec<String>, Arc<[Arc<str>]>> = FxHashMap::default();
    let mut groups = Vec::with_capacity(doc.groups.len());
    for (i, g) in doc.groups.iter().enumerate() {
        let rule: Arc<str> = Arc::from(format!("groups[{}]", g.id));
        let mut stages: Vec<StageRef> = Vec::with_capacity(g.approval.len() + 1);
        for (j, spec) in g.approval.iter().enumerate() {
            let stage = compiled_stage(spec);
            let people = stage.people(g.app_owners.len(), g.data_owners.len());
            if let Require::AtLeast(n) = stage.require
                && people < n as usize
            {
                diags.push(
                    Diagnostic::error(
                        "unsatisfiable-stage",
                        format!("groups[{i}].approval[{j}].require"),
                        format!(
                            "stage `{}` needs {n} approvers but names only {people}",
                            stage.name
                        ),
                    )
                    .with_help("lower `require`, or name more approvers"),
                );
            }
            stages.push(StageRef {
                stage,
                source: Arc::clone(&rule),
            });
        }
        let mut end_date_rules = Vec::new();
        if g.end_date_required {
            end_date_rules.push(Arc::clone(&rule));
        }
        let mut cap = g.max_duration.map(|d| Cap {
            seconds: d.as_seconds(),
            rule: Arc::clone(&rule),
        });
        for (t, (tag_rule, tag_stages)) in doc.tag_rules.iter().zip(&tag_rules) {
            if !g.tags.contains(&t.tag) {
                continue;
            }
            stages.extend(tag_stages.iter().cloned());
            if t.end_date_required {
                end_date_rules.push(Arc::clone(tag_rule));
            }
            if let Some(d) = t.max_duration {
                tighten(&mut cap, d, tag_rule);
            }
        }
        let window = match &g.change_window {
            Some(name) => find_window(name, format!("groups[{i}].change_window"), diags),
            None => default_window,
        };
        let channels = group_channels(&doc, g);
        let owners = |people: &[String], role: &Arc<str>| -> Arc<[PolicyApprover]> {
            dedupe(people.iter().map(|id| PolicyApprover {
                key: Arc::from(id.trim()),
                role: Arc::clone(role),
            }))
        };
        let key: Arc<str> = Arc::from(g.id.as_str());
        let object_id = GroupId::new(&g.object_id);
        let display_name: Option<Arc<str>> = g.display_name.as_deref().map(Arc::from);
        let tags: Arc<[Arc<str>]> = Arc::clone(
            tag_lists
                .entry(g.tags.clone())
                .or_insert_with(|| g.tags.iter().map(|t| Arc::from(t.as_str())).collect()),
        );
        groups.push(CompiledGroup {
            info: Arc::new(GroupInfo {
                key: Arc::clone(&key),
                object_id: object_id.clone(),
                display_name: display_name.clone(),
                risk: g.risk,
                tags: Arc::clone(&tags),
            }),
            key,
            rule,
            object_id,
            managed: g.managed_via_itsm,
            enforce: g.enforce,
            risk: g.risk,
            tags,
            app_owners: owners(&g.app_owners, &app_owner_role),
            data_owners: owners(&g.data_owners, &data_owner_role),
            stages,
            end_date_rules,
            cap,
            allowed_user_types: g.allowed_user_types.clone(),
            allowed_employee_types: g.allowed_employee_types.clone(),
            window,
            separations: Vec::new(),
            needs: Arc::default(),
            channels,
        });
    }
    check_channels(&doc, diags);
    check_enforce(&doc, diags);

    // Separation of duties.
    for (i, rule) in doc.separation_of_duties.iter().enumerate() {
        let mut members = Vec::new();
        for (j, key) in rule.groups.iter().enumerate() {
            match group_by_key.get(key) {
                Some(g) => members.push(*g),
                None => diags.push(unknown_group(
                    key,
                    format!("separation_of_duties[{i}].groups[{j}]"),
                )),
            }
        }
        if rule.groups.len() < 2 {
            diags.push(Diagnostic::error(
                "too-few-groups",
                format!("separation_of_duties[{i}].groups"),
                format!("rule `{}` needs at least two groups to separate", rule.name),
            ));
        }
        for &g in &members {
            let others: Vec<usize> = members.iter().copied().filter(|o| *o != g).collect();
            if let Some(group) = groups.get_mut(g) {
                group.separations.push((
                    Arc::from(format!("separation_of_duties[{}]", rule.name)),
                    others,
                ));
            }
        }
    }

    // What each group's decisions read from the directory, computed once.
    let person_stages: Vec<&StageRef> = contractors
        .iter()
        .chain(guests.iter())
        .flat_map(|r| r.stages.iter())
        .collect();
    let needs: Vec<Arc<GroupNeeds>> = groups
        .iter()
        .map(|g| Arc::new(GroupNeeds::of(g, &groups, &person_stages, &triage)))
        .collect();
    for (group, needs) in groups.iter_mut().zip(needs) {
        group.needs = needs;
    }

    // Standard changes.
    let mut standard_changes = Vec::new();
    for (i, sc) in doc.standard_changes.iter().enumerate() {
        let groups_idx = sc.groups.as_ref().map(|keys| {
            let mut idx: Vec<usize> = keys
                .iter()
                .enumerate()
                .filter_map(|(j, key)| {
                    let found = group_by_key.get(key).copied();
                    if found.is_none() {
                        diags.push(unknown_group(
                            key,
                            format!("standard_changes[{i}].groups[{j}]"),
                        ));
                    }
                    found
                })
                .collect();
            // Sorted, so a decision finds its group in O(log n).
            idx.sort_unstable();
            idx.dedup();
            idx
        });
        standard_changes.push(CompiledStandardChange {
            name: Arc::from(sc.name.as_str()),
            groups: groups_idx,
            max_risk: sc.max_risk,
            requester_is_target_manager: sc.requester_is_target_manager,
            target_user_types: sc.target_user_types.clone(),
        });
    }

    // Catalog.
    let mut catalog = CatalogIndex::new(doc.matching.phrase_match);
    let mut catalogued = vec![false; groups.len()];
    let mut pattern_texts = Vec::new();
    let mut pattern_owners = Vec::new();
    for (i, entry) in doc.catalog.iter().enumerate() {
        let field = format!("catalog[{i}]");
        let Some(&group) = group_by_key.get(&entry.group) else {
            diags.push(unknown_group(&entry.group, format!("{field}.group")));
            continue;
        };
        if normalize(&entry.name).is_empty() {
            diags.push(Diagnostic::error(
                "empty-value",
                format!("{field}.name"),
                "the name has no letters or digits, so nothing can match it",
            ));
        }
        catalogued[group] = true;
        let index = catalog.add_entry(&entry.name, group, &entry_keys(&entry.name, &entry.aliases));
        for (j, pattern) in entry.patterns.iter().enumerate() {
            match regex::Regex::new(pattern) {
                Ok(_) => {
                    pattern_texts.push(pattern.clone());
                    pattern_owners.push((index, Arc::from(pattern.as_str())));
                }
                Err(e) => diags.push(
                    Diagnostic::error(
                        "invalid-pattern",
                        format!("{field}.patterns[{j}]"),
                        format!("`{pattern}` is not a valid regular expression: {}", first_line(&e.to_string())),
                    )
                    .with_help("patterns use Rust `regex` syntax and match lowercase, punctuation-free text"),
                ),
            }
        }
    }
    if !pattern_texts.is_empty() {
        match RegexSet::new(&pattern_texts) {
            Ok(set) => catalog.set_patterns(set, pattern_owners),
            Err(e) => diags.push(Diagnostic::error(
                "invalid-pattern",
                "catalog",
                format!(
                    "the catalog's patterns together are too large: {}",
                    first_line(&e.to_string())
                ),
            )),
        }
    }

    if diags.iter().any(|d| d.severity == Severity::Error) {
        return None;
    }
    let timezone = match &doc.timezone {
        Some(name) => match name.parse::<chrono_tz::Tz>() {
            Ok(tz) => tz,
            Err(_) => {
                diags.push(
                    Diagnostic::error(
                        "unknown-timezone",
                        "timezone",
                        format!("`{name}` is not an IANA time zone"),
                    )
                    .with_help("write a zone such as `Europe/Berlin` or `UTC`"),
                );
                return None;
            }
        },
        None => default_window
            .and_then(|w| windows.get(w))
            .map(|w: &CompiledWindow| w.tz)
            .unwrap_or(chrono_tz::UTC),
    };
    let digest = Arc::from(policy_digest(&doc));
    Some(Inner {
        timezone,
        manager_role: Arc::from("manager"),
        contractors,
        guests,
        triage,
        approval_expiry: doc.approvals.expire_after,
        document: doc,
        digest,
        groups,
        group_by_key,
        group_by_object,
        catalog,
        catalogued,
        standard_changes,
        windows,
    })
}

fn first_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn tighten(cap: &mut Option<Cap>, duration: PolicyDuration, rule: &Arc<str>) {
    let seconds = duration.as_seconds();
    if cap.as_ref().is_none_or(|c| seconds < c.seconds) {
        *cap = Some(Cap {
            seconds,
            rule: Arc::clone(rule),
        });
    }
}

/// Approvers without repeats (ids compared case-insensitively), in order.
fn dedupe(people: impl Iterator<Item = PolicyApprover>) -> Arc<[PolicyApprover]> {
    let mut out: Vec<PolicyApprover> = Vec::new();
    for p in people {
        if !out.iter().any(|o| o.key.eq_ignore_ascii_case(&p.key)) {
            out.push(p);
        }
    }
    out.into()
}

fn unknown_group(key: &str, field: String) -> Diagnostic {
    Diagnostic::error(
        "unknown-group",
        field,
        format!("`{key}` is not a group `id` in `groups`"),
    )
    .with_help("add the group to `groups`, or fix the spelling of its key")
}

struct StageContext<'a> {
    approver_groups: &'a FxHashMap<&'a str, &'a super::ApproverGroup>,
}

impl StageContext<'_> {
    /// Reports stage names and approver references that point nowhere.
    fn check(&self, stage: &StageSpec, field: &str, diags: &mut Vec<Diagnostic>) {
        if stage.name.trim().is_empty() {
            diags.push(Diagnostic::error(
                "empty-value",
                format!("{field}.name"),
                "the stage has no name",
            ));
        }
        if stage.approvers.is_empty() {
            diags.push(Diagnostic::error(
                "no-approvers",
                format!("{field}.approvers"),
                format!("stage `{}` names no approvers", stage.name),
            ));
        }
        for (list, refs) in [
            ("approvers", &stage.approvers),
            ("alternates", &stage.alternates),
        ] {
            for (k, r) in refs.iter().enumerate() {
                if !self.is_known(r) {
                    let mut known: Vec<&str> = self.approver_groups.keys().copied().collect();
                    known.sort_unstable();
                    diags.push(
                        Diagnostic::error(
                            "unknown-approver",
                            format!("{field}.{list}[{k}]"),
                            format!("`{r}` is not an approver role"),
                        )
                        .with_help(format!(
                            "use `manager`, `app_owner`, `data_owner`, `user:<upn>`, or an approver group ({})",
                            if known.is_empty() { "none defined".to_owned() } else { known.join(", ") }
                        )),
                    );
                }
            }
        }
        if !stage.alternates.is_empty() && stage.escalate_after.is_none() {
            diags.push(
                Diagnostic::error(
                    "missing-escalation",
                    format!("{field}.escalate_after"),
                    format!(
                        "stage `{}` names alternates but not when to escalate to them",
                        stage.name
                    ),
                )
                .with_help("add `escalate_after: 2d` (or another duration)"),
            );
        }
    }

    fn is_known(&self, r: &str) -> bool {
        BUILT_IN_ROLES.contains(&r)
            || r.strip_prefix("user:")
                .is_some_and(|u| !u.trim().is_empty())
            || self.approver_groups.contains_key(r)
    }

    fn resolve(&self, stage: &StageSpec) -> CompiledStage {
        CompiledStage {
            name: Arc::from(stage.name.as_str()),
            require: stage.require,
            approvers: self.resolve_refs(&stage.approvers),
            alternates: self.resolve_refs(&stage.alternates),
            escalate_after: stage.escalate_after.map(|d| d.as_seconds()),
        }
    }

    /// Built-in roles stay symbolic; named people are fixed now.
    fn resolve_refs(&self, refs: &[String]) -> Vec<ApproverSource> {
        let mut out: Vec<ApproverSource> = Vec::new();
        for r in refs {
            let source = match r.as_str() {
                "manager" => ApproverSource::Manager,
                "app_owner" => ApproverSource::AppOwners,
                "data_owner" => ApproverSource::DataOwners,
                other => match other.strip_prefix("user:") {
                    Some(user) => ApproverSource::Fixed(Arc::from([PolicyApprover {
                        key: Arc::from(user.trim()),
                        role: Arc::from("user"),
                    }])),
                    None => {
                        let role: Arc<str> = Arc::from(format!("group:{other}"));
                        match self.approver_groups.get(other) {
                            Some(super::ApproverGroup {
                                directory_group: Some(id),
                                transitive,
                                max_members,
                                ..
                            }) => ApproverSource::Directory(DirectoryApprovers {
                                group: GroupId::new(id),
                                transitive: *transitive,
                                max_members: max_members.unwrap_or(DEFAULT_DIRECTORY_APPROVERS),
                                role,
                            }),
                            Some(ag) => {
                                ApproverSource::Fixed(dedupe(ag.members.iter().map(|id| {
                                    PolicyApprover {
                                        key: Arc::from(id.trim()),
                                        role: Arc::clone(&role),
                                    }
                                })))
                            }
                            None => ApproverSource::Fixed(Arc::from([])),
                        }
                    }
                },
            };
            if !out.contains(&source) {
                out.push(source);
            }
        }
        out
    }
}
