//! The evaluation steps, in order. Every applicable reason is recorded, not
//! just the first, so one decision explains everything wrong with a request.

use super::stages::{StageInputs, plan_stages};
use super::{
    ApprovalStage, CatalogSuggestion, Decision, Effect, Expiry, Outcome, Reason, ReasonCode,
    ResolvedGroup,
};
use crate::model::{Facts, GroupKind, MembershipState, Request, User, UserType};
use crate::policy::catalog::Lookup;
use crate::policy::compile::{Cap, CompiledGroup, CompiledPersonRule, Inner, RequestLookup};
use crate::policy::{MatchKind, normalize};
use chrono::{DateTime, Utc};
use std::sync::Arc;

pub(crate) fn evaluate(
    p: &Inner,
    request: &Request,
    facts: &Facts,
    now: DateTime<Utc>,
) -> Decision {
    let mut reasons: Vec<Reason> = Vec::with_capacity(8);
    let oversized = request.oversized_fields();
    if !oversized.is_empty() {
        // Nothing of an oversized request is read further: no resolution,
        // no copy of the text into the reasons.
        for (field, length, limit) in oversized {
            reasons.push(
                Reason::new(ReasonCode::RequestFieldTooLong)
                    .detail("field", field)
                    .detail("length", length as i64)
                    .detail("limit", limit as i64),
            );
        }
        return finish(p, now, Outcome::Deny, reasons, Plan::default(), Vec::new());
    }
    check_person(
        Role::Requester,
        &request.requester,
        &facts.requester,
        &mut reasons,
    );
    check_person(Role::Target, &request.target, &facts.target, &mut reasons);

    let resolved = resolve(p, request, &mut reasons);
    let Some(group) = resolved.group.and_then(|g| p.groups.get(g)) else {
        return finish(
            p,
            now,
            Outcome::Deny,
            reasons,
            Plan::default(),
            resolved.suggestions,
        );
    };
    let described = resolved.described;

    check_group(group, facts, &mut reasons);
    // Already a member: nothing will change, so approvals, windows and expiry
    // do not apply; only the checks above (people, resolution, group) can deny.
    if facts.membership != MembershipState::NotMember {
        let code = if facts.membership == MembershipState::Direct {
            ReasonCode::AlreadyMember
        } else {
            ReasonCode::AlreadyTransitiveMember
        };
        reasons.push(Reason::new(code).detail("group", &group.key));
        let outcome = if has_deny(&reasons) {
            Outcome::Deny
        } else {
            Outcome::AlreadyMember
        };
        let plan = Plan {
            group: described,
            ..Plan::default()
        };
        return finish(p, now, outcome, reasons, plan, Vec::new());
    }

    let people = person_rules(p, facts.target.as_ref(), &mut reasons);
    if let Some(target) = &facts.target {
        check_target_type(group, target, &mut reasons);
    }
    check_separation(p, group, facts, &mut reasons);
    let cap = check_end_date(group, &people, request, p.timezone, now, &mut reasons);

    let standard = if resolved.via_suggestion {
        None
    } else {
        standard_change(p, resolved.group.unwrap_or_default(), group, request, facts)
    };
    let stages = match &standard {
        Some(name) => {
            reasons.push(
                Reason::new(ReasonCode::StandardChange)
                    .rule(&Arc::from(format!("standard_changes[{name}]")))
                    .detail("standard_change", name),
            );
            Vec::new()
        }
        None => {
            let triage = resolved.via_suggestion.then_some(&p.triage);
            let compiled = group
                .stages
                .iter()
                .chain(people.iter().flat_map(|r| r.stages.iter()))
                .chain(triage);
            let inputs = StageInputs {
                group,
                request,
                facts,
                manager_role: &p.manager_role,
            };
            let stages = plan_stages(compiled, &inputs, &mut reasons);
            if stages.is_empty() {
                reasons.push(Reason::new(ReasonCode::NoApprovalPath).detail("group", &group.key));
            }
            stages
        }
    };

    let earliest = window_opening(p, group, now, &mut reasons);
    let end_date = request.end_date.map(|e| e.resolve(p.timezone));
    let expiry = earliest.and_then(|at| plan_expiry(end_date, cap.as_ref(), at, &mut reasons));

    let outcome = if has_deny(&reasons) {
        Outcome::Deny
    } else if standard.is_some() {
        Outcome::PreApproved
    } else {
        Outcome::NeedsApproval
    };
    let plan = Plan {
        group: described,
        stages,
        expiry,
        earliest,
    };
    finish(p, now, outcome, reasons, plan, Vec::new())
}

fn has_deny(reasons: &[Reason]) -> bool {
    reasons.iter().any(|r| r.effect == Effect::Deny)
}

#[derive(Default)]
struct Plan {
    group: Option<ResolvedGroup>,
    stages: Vec<ApprovalStage>,
    expiry: Option<Expiry>,
    earliest: Option<DateTime<Utc>>,
}

fn finish(
    p: &Inner,
    now: DateTime<Utc>,
    outcome: Outcome,
    reasons: Vec<Reason>,
    plan: Plan,
    suggestions: Vec<CatalogSuggestion>,
) -> Decision {
    let allowed = matches!(outcome, Outcome::NeedsApproval | Outcome::PreApproved);
    let approval_deadline = (outcome == Outcome::NeedsApproval)
        .then(|| now.checked_add_signed(p.approval_expiry.to_chrono()))
        .flatten();
    Decision {
        outcome,
        group: plan.group,
        stages: if outcome == Outcome::NeedsApproval {
            plan.stages
        } else {
            Vec::new()
        },
        expiry: if allowed { plan.expiry } else { None },
        earliest_execution: if allowed { plan.earliest } else { None },
        approval_deadline,
        reasons,
        suggestions,
        policy_digest: Arc::clone(&p.digest),
        evaluated_at: now,
    }
}

#[derive(Clone, Copy)]
enum Role {
    Requester,
    Target,
}

/// Requester and target: found, the person named, enabled.
fn check_person(role: Role, key: &str, user: &Option<User>, reasons: &mut Vec<Reason>) {
    let (name, not_found, disabled) = match role {
        Role::Requester => (
            "requester",
            ReasonCode::RequesterNotFound,
            ReasonCode::RequesterDisabled,
        ),
        Role::Target => (
            "target",
            ReasonCode::TargetNotFound,
            ReasonCode::TargetDisabled,
        ),
    };
    match user {
        None => reasons.push(Reason::new(not_found).detail(name, key)),
        Some(u) if !u.is_named_by(key) => reasons.push(
            Reason::new(not_found)
                .detail(name, key)
                .detail("described", &u.upn),
        ),
        Some(u) if !u.enabled => reasons.push(Reason::new(disabled).detail(name, &u.upn)),
        Some(_) => {}
    }
}

/// What resolution produced.
struct Resolved {
    group: Option<usize>,
    described: Option<ResolvedGroup>,
    via_suggestion: bool,
    suggestions: Vec<CatalogSuggestion>,
}

/// Catalog first; the suggestion only when the catalog finds nothing.
fn resolve(p: &Inner, request: &Request, reasons: &mut Vec<Reason>) -> Resolved {
    let describe = |g: usize, kind: MatchKind, matched: Arc<str>, entry: Option<Arc<str>>| {
        p.groups.get(g).map(|group| ResolvedGroup {
            info: Arc::clone(&group.info),
            matched_by: kind,
            matched,
            catalog_entry: entry,
        })
    };
    let unresolved = |reasons: &mut Vec<Reason>| {
        reasons.push(
            Reason::new(ReasonCode::ResourceUnresolved)
                .detail("resource", request.resource.as_str()),
        );
        Resolved {
            group: None,
            described: None,
            via_suggestion: false,
            suggestions: suggest(p, request),
        }
    };
    match p.lookup_request(request) {
        RequestLookup::Catalog(Lookup::Found {
            entry,
            group,
            kind,
            matched,
        }) => {
            let entry_name = p.catalog.entries.get(entry).map(|e| Arc::clone(&e.name));
            let code = match kind {
                MatchKind::Name => ReasonCode::ResolvedByName,
                MatchKind::Alias => ReasonCode::ResolvedByAlias,
                MatchKind::Pattern => ReasonCode::ResolvedByPattern,
                MatchKind::Phrase | MatchKind::Suggestion => ReasonCode::ResolvedByPhrase,
            };
            let key = p
                .groups
                .get(group)
                .map(|g| Arc::clone(&g.key))
                .unwrap_or_else(|| Arc::from(""));
            let mut reason = Reason::new(code)
                .detail("resource", request.resource.as_str())
                .detail("group", &key)
                .detail("matched", &matched);
            if let Some(e) = &entry_name {
                reason = reason.detail("entry", e);
            }
            reasons.push(reason);
            if let Some(s) = &request.suggestion {
                let code = if p.suggested_group(&s.group) == Some(group) {
                    ReasonCode::SuggestionConfirmed
                } else {
                    ReasonCode::SuggestionMismatch
                };
                reasons.push(
                    Reason::new(code)
                        .detail("suggested", s.group.as_str())
                        .detail("source", s.source.as_str())
                        .detail("group", &key),
                );
            }
            Resolved {
                group: Some(group),
                described: describe(group, kind, matched, entry_name),
                via_suggestion: false,
                suggestions: Vec::new(),
            }
        }
        RequestLookup::Catalog(Lookup::Ambiguous { groups }) => {
            let keys: Vec<&str> = groups
                .iter()
                .filter_map(|g| p.groups.get(*g))
                .map(|g| &*g.key)
                .collect();
            reasons.push(
                Reason::new(ReasonCode::ResourceAmbiguous)
                    .detail("resource", request.resource.as_str())
                    .detail("groups", keys.join(",").as_str()),
            );
            Resolved {
                group: None,
                described: None,
                via_suggestion: false,
                suggestions: suggest(p, request),
            }
        }
        RequestLookup::Suggested(group) => {
            let (suggested, source) = request
                .suggestion
                .as_ref()
                .map(|s| (s.group.as_str(), s.source.as_str()))
                .unwrap_or_default();
            let key = p
                .groups
                .get(group)
                .map(|g| Arc::clone(&g.key))
                .unwrap_or_else(|| Arc::from(""));
            reasons.push(
                Reason::new(ReasonCode::ResolvedBySuggestion)
                    .detail("resource", request.resource.as_str())
                    .detail("group", &key)
                    .detail("source", source),
            );
            Resolved {
                group: Some(group),
                described: describe(group, MatchKind::Suggestion, Arc::from(suggested), None),
                via_suggestion: true,
                suggestions: Vec::new(),
            }
        }
        RequestLookup::SuggestionOutside => {
            let resolved = unresolved(reasons);
            if let Some(s) = &request.suggestion {
                reasons.push(
                    Reason::new(ReasonCode::SuggestionNotInCatalog)
                        .detail("suggested", s.group.as_str())
                        .detail("source", s.source.as_str()),
                );
            }
            resolved
        }
        RequestLookup::Catalog(Lookup::NotFound) => unresolved(reasons),
    }
}

fn suggest(p: &Inner, request: &Request) -> Vec<CatalogSuggestion> {
    let m = &p.document.matching;
    p.catalog
        .suggest(
            &normalize(&request.resource),
            &m.ignore_words,
            m.max_suggestions,
            m.min_suggestion_score,
        )
        .into_iter()
        .filter_map(|(entry, matched, score)| {
            let e = p.catalog.entries.get(entry)?;
            Some(CatalogSuggestion {
                entry: Arc::clone(&e.name),
                group: Arc::clone(&p.groups.get(e.group)?.key),
                matched,
                score,
            })
        })
        .collect()
}

/// Managed via ITSM, and a kind of group the directory lets groupgate change.
fn check_group(group: &CompiledGroup, facts: &Facts, reasons: &mut Vec<Reason>) {
    if !group.managed {
        reasons.push(
            Reason::new(ReasonCode::GroupNotManaged)
                .rule(&group.rule)
                .detail("group", &group.key),
        );
    }
    let Some(g) = &facts.group else {
        reasons.push(
            Reason::new(ReasonCode::GroupNotInDirectory)
                .detail("group", &group.key)
                .detail("object_id", group.object_id.as_str()),
        );
        return;
    };
    if !g.id.as_str().eq_ignore_ascii_case(group.object_id.as_str()) {
        reasons.push(
            Reason::new(ReasonCode::GroupFactsMismatch)
                .detail("expected", group.object_id.as_str())
                .detail("found", g.id.as_str()),
        );
        return;
    }
    let kind = g.kind();
    let checks = [
        (g.role_assignable, ReasonCode::GroupRoleAssignable),
        (g.dynamic_membership, ReasonCode::GroupDynamicMembership),
        (g.on_premises_synced, ReasonCode::GroupOnPremisesSynced),
        (
            kind == GroupKind::MailEnabledSecurity,
            ReasonCode::GroupMailEnabledSecurity,
        ),
        (
            kind == GroupKind::Distribution,
            ReasonCode::GroupDistributionList,
        ),
    ];
    for (applies, code) in checks {
        if applies {
            reasons.push(Reason::new(code).detail("group", &group.key));
        }
    }
}

/// The contractor and guest rules that apply to the target.
fn person_rules<'p>(
    p: &'p Inner,
    target: Option<&User>,
    reasons: &mut Vec<Reason>,
) -> Vec<&'p CompiledPersonRule> {
    let Some(target) = target else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(rule) = &p.contractors
        && rule
            .employee_types
            .iter()
            .any(|t| target.is_employee_type(t))
    {
        reasons.push(
            Reason::new(ReasonCode::ContractorRule)
                .rule(&rule.rule)
                .detail("target", &target.upn)
                .detail(
                    "employee_type",
                    target.employee_type.as_deref().unwrap_or_default(),
                ),
        );
        out.push(rule);
    }
    if let Some(rule) = &p.guests
        && target.user_type == UserType::Guest
    {
        reasons.push(
            Reason::new(ReasonCode::GuestRule)
                .rule(&rule.rule)
                .detail("target", &target.upn),
        );
        out.push(rule);
    }
    out
}

fn check_target_type(group: &CompiledGroup, target: &User, reasons: &mut Vec<Reason>) {
    if let Some(allowed) = &group.allowed_user_types
        && !allowed.contains(&target.user_type)
    {
        let user_type = match target.user_type {
            UserType::Member => "Member",
            UserType::Guest => "Guest",
        };
        reasons.push(
            Reason::new(ReasonCode::UserTypeNotAllowed)
                .rule(&group.rule)
                .detail("target", &target.upn)
                .detail("group", &group.key)
                .detail("user_type", user_type),
        );
    }
    if let Some(allowed) = &group.allowed_employee_types
        && !allowed.iter().any(|t| target.is_employee_type(t))
    {
        reasons.push(
            Reason::new(ReasonCode::EmployeeTypeNotAllowed)
                .rule(&group.rule)
                .detail(
                    "employee_type",
                    target.employee_type.as_deref().unwrap_or("none"),
                )
                .detail("group", &group.key)
                .detail("allowed", allowed.join(", ").as_str()),
        );
    }
}

fn check_separation(p: &Inner, group: &CompiledGroup, facts: &Facts, reasons: &mut Vec<Reason>) {
    for (rule, others) in &group.separations {
        for other in others.iter().filter_map(|o| p.groups.get(*o)) {
            let held = facts
                .target_groups
                .iter()
                .any(|g| g.as_str().eq_ignore_ascii_case(other.object_id.as_str()));
            if held {
                reasons.push(
                    Reason::new(ReasonCode::SeparationOfDuties)
                        .rule(rule)
                        .detail("group", &group.key)
                        .detail("conflicting_group", &other.key),
                );
            }
        }
    }
}

/// End-date requirements and the end date itself; returns the tightest cap.
fn check_end_date(
    group: &CompiledGroup,
    people: &[&CompiledPersonRule],
    request: &Request,
    timezone: chrono_tz::Tz,
    now: DateTime<Utc>,
    reasons: &mut Vec<Reason>,
) -> Option<Cap> {
    let person_rules = people
        .iter()
        .filter(|r| r.end_date_required)
        .map(|r| &r.rule);
    let mut required = 0;
    for rule in group.end_date_rules.iter().chain(person_rules) {
        reasons.push(Reason::new(ReasonCode::EndDateRequirement).rule(rule));
        required += 1;
    }
    match request.end_date.map(|e| e.resolve(timezone)) {
        None if required > 0 => {
            let by: Vec<&str> = reasons
                .iter()
                .filter(|r| r.code == ReasonCode::EndDateRequirement)
                .filter_map(|r| r.rule.as_deref())
                .collect();
            let by = by.join(", ");
            reasons
                .push(Reason::new(ReasonCode::EndDateRequired).detail("required_by", by.as_str()));
        }
        Some(end) if end <= now => {
            reasons.push(Reason::new(ReasonCode::EndDateNotInFuture).detail("end_date", end))
        }
        _ => {}
    }
    let mut cap = group.cap.clone();
    for c in people.iter().filter_map(|r| r.cap.as_ref()) {
        if cap.as_ref().is_none_or(|cur| c.seconds < cur.seconds) {
            cap = Some(c.clone());
        }
    }
    cap
}

/// The first standard change covering this group, requester and target.
fn standard_change(
    p: &Inner,
    idx: usize,
    group: &CompiledGroup,
    request: &Request,
    facts: &Facts,
) -> Option<Arc<str>> {
    let requester_is_manager = facts.target_manager.as_ref().is_some_and(|m| {
        m.is_named_by(&request.requester) || facts.requester.as_ref().is_some_and(|r| r.id == m.id)
    });
    p.standard_changes
        .iter()
        .find(|sc| {
            sc.groups
                .as_ref()
                .is_none_or(|gs| gs.binary_search(&idx).is_ok())
                && group.risk <= sc.max_risk
                && (!sc.requester_is_target_manager || requester_is_manager)
                && sc.target_user_types.as_ref().is_none_or(|types| {
                    facts
                        .target
                        .as_ref()
                        .is_some_and(|t| types.contains(&t.user_type))
                })
        })
        .map(|sc| Arc::clone(&sc.name))
}

fn window_opening(
    p: &Inner,
    group: &CompiledGroup,
    now: DateTime<Utc>,
    reasons: &mut Vec<Reason>,
) -> Option<DateTime<Utc>> {
    let Some(window) = group.window.and_then(|w| p.windows.get(w)) else {
        return Some(now);
    };
    match window.next_opening(now) {
        None => {
            reasons.push(
                Reason::new(ReasonCode::NoChangeWindow)
                    .rule(&window.rule)
                    .detail("window", &window.name),
            );
            None
        }
        Some(at) if at > now => {
            let mut reason = Reason::new(ReasonCode::ChangeWindowClosed)
                .rule(&window.rule)
                .detail("window", &window.name)
                .detail("next_opening", at);
            if let Some(blackout) = window.blackout_at(now) {
                reason = reason.detail("blackout", blackout);
            }
            reasons.push(reason);
            Some(at)
        }
        Some(at) => Some(at),
    }
}

fn plan_expiry(
    end_date: Option<DateTime<Utc>>,
    cap: Option<&Cap>,
    earliest: DateTime<Utc>,
    reasons: &mut Vec<Reason>,
) -> Option<Expiry> {
    if end_date.is_none() && cap.is_none() {
        return None;
    }
    let mut expiry = Expiry {
        end_date,
        max_duration_seconds: cap.map(|c| c.seconds),
        max_duration_rule: cap.map(|c| Arc::clone(&c.rule)),
        projected: earliest,
    };
    expiry.projected = expiry.expires_at(earliest);
    if let Some(end) = end_date {
        reasons.push(Reason::new(ReasonCode::ExpiryEndDate).detail("end_date", end));
    }
    if let Some(c) = cap {
        reasons.push(
            Reason::new(ReasonCode::ExpiryMaxDuration)
                .rule(&c.rule)
                .detail("max_duration_seconds", c.seconds),
        );
        if end_date.is_some_and(|end| end > expiry.projected) {
            reasons.push(
                Reason::new(ReasonCode::ExpiryCapped)
                    .rule(&c.rule)
                    .detail("expires_at", expiry.projected),
            );
        }
    }
    Some(expiry)
}
