//! The evaluation steps, in order. Every applicable reason is recorded, not
//! just the first, so one decision explains everything wrong with a request.

use super::stages::plan_stages;
use super::{
    ApprovalStage, CatalogSuggestion, Decision, Effect, Expiry, Outcome, Reason, ReasonCode,
    ResolvedGroup,
};
use crate::model::{Facts, GroupKind, MembershipState, Request, User, UserType};
use crate::policy::catalog::Lookup;
use crate::policy::compile::{Cap, CompiledGroup, CompiledPersonRule, Inner, RequestLookup};
use crate::policy::{MatchKind, normalize};
use chrono::{DateTime, TimeDelta, Utc};

pub(crate) fn evaluate(
    p: &Inner,
    request: &Request,
    facts: &Facts,
    now: DateTime<Utc>,
) -> Decision {
    let mut reasons: Vec<Reason> = Vec::with_capacity(8);
    check_person(
        "requester",
        &request.requester,
        &facts.requester,
        &mut reasons,
    );
    check_person("target", &request.target, &facts.target, &mut reasons);

    let (group_idx, resolved, via_suggestion, suggestions) = resolve(p, request, &mut reasons);
    let Some(group) = group_idx.and_then(|g| p.groups.get(g)) else {
        return finish(p, now, Outcome::Deny, reasons, Plan::default(), suggestions);
    };

    check_group(group, facts, &mut reasons);
    match facts.membership {
        MembershipState::Direct => reasons.push(Reason::new(
            ReasonCode::AlreadyMember,
            format!("the target already is a direct member of `{}`", group.key),
        )),
        MembershipState::Transitive => reasons.push(Reason::new(
            ReasonCode::AlreadyTransitiveMember,
            format!(
                "the target already has access to `{}` through a nested group",
                group.key
            ),
        )),
        MembershipState::NotMember => {}
    }

    // Already a member: nothing will change, so approvals, windows and expiry
    // do not apply; only the checks above (people, resolution, group) can deny.
    if facts.membership != MembershipState::NotMember {
        let outcome = if reasons.iter().any(|r| r.effect == Effect::Deny) {
            Outcome::Deny
        } else {
            Outcome::AlreadyMember
        };
        let plan = Plan {
            group: resolved,
            ..Plan::default()
        };
        return finish(p, now, outcome, reasons, plan, suggestions);
    }

    let people = person_rules(group, facts.target.as_ref(), &mut reasons);
    if let Some(target) = &facts.target {
        check_target_type(group, target, &mut reasons);
    }
    check_separation(p, group, facts, &mut reasons);
    let cap = check_end_date(group, &people, request, now, &mut reasons);

    let standard = if via_suggestion {
        None
    } else {
        standard_change(p, group_idx.unwrap_or_default(), group, request, facts)
    };
    let stages = match &standard {
        Some(name) => {
            reasons.push(
                Reason::new(
                    ReasonCode::StandardChange,
                    format!(
                        "standard change `{name}` pre-approves this request; no approval stages"
                    ),
                )
                .rule(format!("standard_changes[{name}]")),
            );
            Vec::new()
        }
        None => {
            let triage = via_suggestion.then_some(&group.triage);
            let compiled = group
                .stages
                .iter()
                .chain(people.iter().flat_map(|r| r.stages.iter()))
                .chain(triage);
            let stages = plan_stages(compiled, request, facts, &mut reasons);
            if stages.is_empty() {
                reasons.push(Reason::new(
                    ReasonCode::NoApprovalPath,
                    format!(
                        "no approval stage or standard change applies to `{}`",
                        group.key
                    ),
                ));
            }
            stages
        }
    };

    let earliest = window_opening(p, group, now, &mut reasons);
    let expiry =
        earliest.and_then(|at| plan_expiry(request.end_date, cap.as_ref(), at, &mut reasons));

    let outcome = if reasons.iter().any(|r| r.effect == Effect::Deny) {
        Outcome::Deny
    } else if standard.is_some() {
        Outcome::PreApproved
    } else {
        Outcome::NeedsApproval
    };
    let plan = Plan {
        group: resolved,
        stages,
        expiry,
        earliest,
    };
    finish(p, now, outcome, reasons, plan, suggestions)
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
        policy_digest: p.digest.clone(),
        evaluated_at: now,
    }
}

/// Requester and target: found, the named person, enabled.
fn check_person(role: &str, key: &str, user: &Option<User>, reasons: &mut Vec<Reason>) {
    let (not_found, disabled) = if role == "requester" {
        (ReasonCode::RequesterNotFound, ReasonCode::RequesterDisabled)
    } else {
        (ReasonCode::TargetNotFound, ReasonCode::TargetDisabled)
    };
    match user {
        None => reasons.push(
            Reason::new(
                not_found,
                format!("the {role} `{key}` was not found in the directory"),
            )
            .detail(role, key),
        ),
        Some(u) if !u.is_named_by(key) => reasons.push(
            Reason::new(
                not_found,
                format!(
                    "the directory facts describe `{}`, not the {role} `{key}`",
                    u.upn
                ),
            )
            .detail(role, key),
        ),
        Some(u) if !u.enabled => reasons.push(
            Reason::new(
                disabled,
                format!("the {role} `{}` is disabled in the directory", u.upn),
            )
            .detail(role, u.upn.clone()),
        ),
        Some(_) => {}
    }
}

type Resolved = (
    Option<usize>,
    Option<ResolvedGroup>,
    bool,
    Vec<CatalogSuggestion>,
);

/// Catalog first; the suggestion only when the catalog finds nothing.
fn resolve(p: &Inner, request: &Request, reasons: &mut Vec<Reason>) -> Resolved {
    let describe = |g: usize, kind: MatchKind, matched: String, entry: Option<String>| {
        p.groups.get(g).map(|group| ResolvedGroup {
            key: group.key.clone(),
            object_id: group.object_id.as_str().into(),
            display_name: group.display_name.clone(),
            matched_by: kind,
            matched,
            catalog_entry: entry,
            risk: group.risk,
            tags: group.tags.clone(),
        })
    };
    match p.lookup_request(request) {
        RequestLookup::Catalog(Lookup::Found {
            entry,
            group,
            kind,
            matched,
        }) => {
            let entry_name = p.catalog.entries.get(entry).map(|e| e.name.clone());
            let code = match kind {
                MatchKind::Name => ReasonCode::ResolvedByName,
                MatchKind::Alias => ReasonCode::ResolvedByAlias,
                MatchKind::Pattern => ReasonCode::ResolvedByPattern,
                MatchKind::Phrase | MatchKind::Suggestion => ReasonCode::ResolvedByPhrase,
            };
            let key = p
                .groups
                .get(group)
                .map(|g| g.key.as_str())
                .unwrap_or_default();
            reasons.push(
                Reason::new(
                    code,
                    format!(
                        "`{}` resolves to `{key}` through catalog entry `{}` (matched `{matched}`)",
                        request.resource,
                        entry_name.as_deref().unwrap_or_default()
                    ),
                )
                .detail("matched", matched.clone()),
            );
            if let Some(s) = &request.suggestion {
                let same = p.suggested_group(&s.group) == Some(group)
                    || p.group_by_key.get(s.group.trim()) == Some(&group);
                let (code, message) = if same {
                    (
                        ReasonCode::SuggestionConfirmed,
                        format!("the suggestion from `{}` names the same group", s.source),
                    )
                } else {
                    (
                        ReasonCode::SuggestionMismatch,
                        format!(
                            "the suggestion `{}` from `{}` differs; the catalog's `{key}` is used",
                            s.group, s.source
                        ),
                    )
                };
                reasons.push(
                    Reason::new(code, message)
                        .detail("suggested", s.group.clone())
                        .detail("source", s.source.clone()),
                );
            }
            (
                Some(group),
                describe(group, kind, matched, entry_name),
                false,
                Vec::new(),
            )
        }
        RequestLookup::Catalog(Lookup::Ambiguous { groups }) => {
            let keys: Vec<&str> = groups
                .iter()
                .filter_map(|g| p.groups.get(*g))
                .map(|g| g.key.as_str())
                .collect();
            reasons.push(
                Reason::new(
                    ReasonCode::ResourceAmbiguous,
                    format!(
                        "`{}` matches several groups ({}); it is never guessed",
                        request.resource,
                        keys.join(", ")
                    ),
                )
                .detail("groups", keys.join(",")),
            );
            (None, None, false, suggest(p, request))
        }
        RequestLookup::Suggested(group) => {
            let s = request.suggestion.as_ref();
            let key = p
                .groups
                .get(group)
                .map(|g| g.key.as_str())
                .unwrap_or_default();
            reasons.push(
                Reason::new(
                    ReasonCode::ResolvedBySuggestion,
                    format!(
                        "`{}` is not in the catalog; the suggested group `{key}` goes forward only with a triage approval",
                        request.resource
                    ),
                )
                .detail("source", s.map(|s| s.source.clone()).unwrap_or_default()),
            );
            let matched = s.map(|s| s.group.clone()).unwrap_or_default();
            (
                Some(group),
                describe(group, MatchKind::Suggestion, matched, None),
                true,
                Vec::new(),
            )
        }
        RequestLookup::SuggestionOutside => {
            let s = request.suggestion.as_ref();
            reasons.push(unresolved(request));
            reasons.push(
                Reason::new(
                    ReasonCode::SuggestionNotInCatalog,
                    format!(
                        "the suggested group `{}` is not in the catalog",
                        s.map(|s| s.group.as_str()).unwrap_or_default()
                    ),
                )
                .detail("source", s.map(|s| s.source.clone()).unwrap_or_default()),
            );
            (None, None, false, suggest(p, request))
        }
        RequestLookup::Catalog(Lookup::NotFound) => {
            reasons.push(unresolved(request));
            (None, None, false, suggest(p, request))
        }
    }
}

fn unresolved(request: &Request) -> Reason {
    Reason::new(
        ReasonCode::ResourceUnresolved,
        format!("`{}` matches no catalog entry", request.resource),
    )
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
                entry: e.name.clone(),
                group: p.groups.get(e.group)?.key.clone(),
                matched,
                score,
            })
        })
        .collect()
}

/// Managed via ITSM, and a kind of group the directory lets groupgate change.
fn check_group(group: &CompiledGroup, facts: &Facts, reasons: &mut Vec<Reason>) {
    if !group.managed {
        reasons.push(Reason::new(
            ReasonCode::GroupNotManaged,
            format!("`{}` is not managed via ITSM in the policy", group.key),
        ));
    }
    let Some(g) = &facts.group else {
        reasons.push(Reason::new(
            ReasonCode::GroupNotInDirectory,
            format!(
                "the directory has no group `{}` ({})",
                group.key, group.object_id
            ),
        ));
        return;
    };
    if !g.id.as_str().eq_ignore_ascii_case(&group.object_id) {
        reasons.push(
            Reason::new(
                ReasonCode::GroupFactsMismatch,
                format!(
                    "the directory facts describe group `{}`, not `{}`",
                    g.id, group.object_id
                ),
            )
            .detail("expected", group.object_id.clone()),
        );
        return;
    }
    let checks = [
        (
            g.role_assignable,
            ReasonCode::GroupRoleAssignable,
            "is role-assignable",
        ),
        (
            g.dynamic_membership,
            ReasonCode::GroupDynamicMembership,
            "has dynamic membership",
        ),
        (
            g.on_premises_synced,
            ReasonCode::GroupOnPremisesSynced,
            "is synced from on-premises AD",
        ),
        (
            g.kind() == GroupKind::MailEnabledSecurity,
            ReasonCode::GroupMailEnabledSecurity,
            "is a mail-enabled security group (members read-only through Graph)",
        ),
        (
            g.kind() == GroupKind::Distribution,
            ReasonCode::GroupDistributionList,
            "is a distribution list (members read-only through Graph)",
        ),
    ];
    for (applies, code, what) in checks {
        if applies {
            reasons.push(Reason::new(
                code,
                format!(
                    "`{}` {what}; it is never changed through the ticket path",
                    group.key
                ),
            ));
        }
    }
}

/// The contractor and guest rules that apply to the target.
fn person_rules<'g>(
    group: &'g CompiledGroup,
    target: Option<&User>,
    reasons: &mut Vec<Reason>,
) -> Vec<&'g CompiledPersonRule> {
    let Some(target) = target else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(rule) = &group.contractors
        && rule
            .employee_types
            .iter()
            .any(|t| target.is_employee_type(t))
    {
        reasons.push(
            Reason::new(
                ReasonCode::ContractorRule,
                format!(
                    "`{}` is a contractor (`{}`)",
                    target.upn,
                    target.employee_type.as_deref().unwrap_or_default()
                ),
            )
            .rule(rule.rule.clone()),
        );
        out.push(rule);
    }
    if let Some(rule) = &group.guests
        && target.user_type == UserType::Guest
    {
        reasons.push(
            Reason::new(
                ReasonCode::GuestRule,
                format!("`{}` is a guest", target.upn),
            )
            .rule(rule.rule.clone()),
        );
        out.push(rule);
    }
    out
}

fn check_target_type(group: &CompiledGroup, target: &User, reasons: &mut Vec<Reason>) {
    if let Some(allowed) = &group.allowed_user_types
        && !allowed.contains(&target.user_type)
    {
        reasons.push(
            Reason::new(
                ReasonCode::UserTypeNotAllowed,
                format!(
                    "`{}` may not join `{}` as a {:?}",
                    target.upn, group.key, target.user_type
                ),
            )
            .rule(format!("groups[{}]", group.key)),
        );
    }
    if let Some(allowed) = &group.allowed_employee_types
        && !allowed.iter().any(|t| target.is_employee_type(t))
    {
        reasons.push(
            Reason::new(
                ReasonCode::EmployeeTypeNotAllowed,
                format!(
                    "employee type `{}` may not join `{}` (allowed: {})",
                    target.employee_type.as_deref().unwrap_or("none"),
                    group.key,
                    allowed.join(", ")
                ),
            )
            .rule(format!("groups[{}]", group.key)),
        );
    }
}

fn check_separation(p: &Inner, group: &CompiledGroup, facts: &Facts, reasons: &mut Vec<Reason>) {
    for (rule, others) in &group.separations {
        for other in others.iter().filter_map(|o| p.groups.get(*o)) {
            let held = facts
                .target_groups
                .iter()
                .any(|g| g.as_str().eq_ignore_ascii_case(&other.object_id));
            if held {
                reasons.push(
                    Reason::new(
                        ReasonCode::SeparationOfDuties,
                        format!(
                            "the target is in `{}`, which may not be held together with `{}`",
                            other.key, group.key
                        ),
                    )
                    .rule(format!("separation_of_duties[{rule}]"))
                    .detail("conflicting_group", other.key.clone()),
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
    now: DateTime<Utc>,
    reasons: &mut Vec<Reason>,
) -> Option<Cap> {
    let mut rules: Vec<&str> = group.end_date_rules.iter().map(String::as_str).collect();
    rules.extend(
        people
            .iter()
            .filter(|r| r.end_date_required)
            .map(|r| r.rule.as_str()),
    );
    for rule in &rules {
        reasons.push(
            Reason::new(ReasonCode::EndDateRequirement, "an end date is required").rule(*rule),
        );
    }
    match request.end_date {
        None if !rules.is_empty() => reasons.push(Reason::new(
            ReasonCode::EndDateRequired,
            format!(
                "an end date is required (by {}) and the request has none",
                rules.join(", ")
            ),
        )),
        Some(end) if end <= now => reasons.push(
            Reason::new(
                ReasonCode::EndDateNotInFuture,
                format!("the end date {} is not in the future", end.to_rfc3339()),
            )
            .detail("end_date", end.to_rfc3339()),
        ),
        _ => {}
    }
    let mut cap = group.cap.clone();
    for rule in people {
        if let Some(c) = &rule.cap
            && cap.as_ref().is_none_or(|cur| c.seconds < cur.seconds)
        {
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
) -> Option<String> {
    let requester_is_manager = facts.target_manager.as_ref().is_some_and(|m| {
        m.is_named_by(&request.requester) || facts.requester.as_ref().is_some_and(|r| r.id == m.id)
    });
    p.standard_changes
        .iter()
        .find(|sc| {
            sc.groups.as_ref().is_none_or(|gs| gs.contains(&idx))
                && group.risk <= sc.max_risk
                && (!sc.requester_is_target_manager || requester_is_manager)
                && sc.target_user_types.as_ref().is_none_or(|types| {
                    facts
                        .target
                        .as_ref()
                        .is_some_and(|t| types.contains(&t.user_type))
                })
        })
        .map(|sc| sc.name.clone())
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
                Reason::new(
                    ReasonCode::NoChangeWindow,
                    format!(
                        "change window `{}` does not open in the next 400 days",
                        window.name
                    ),
                )
                .rule(format!("change_windows[{}]", window.name)),
            );
            None
        }
        Some(at) if at > now => {
            let mut reason = Reason::new(
                ReasonCode::ChangeWindowClosed,
                format!(
                    "change window `{}` is closed; execution waits until {}",
                    window.name,
                    at.to_rfc3339()
                ),
            )
            .rule(format!("change_windows[{}]", window.name))
            .detail("next_opening", at.to_rfc3339());
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
    let expiry = Expiry {
        end_date,
        max_duration_seconds: cap.map(|c| c.seconds),
        max_duration_rule: cap.map(|c| c.rule.clone()),
        projected: earliest,
    };
    let projected = expiry.expires_at(earliest);
    if let Some(end) = end_date {
        reasons.push(
            Reason::new(
                ReasonCode::ExpiryEndDate,
                format!("access ends at the requested end date {}", end.to_rfc3339()),
            )
            .detail("end_date", end.to_rfc3339()),
        );
    }
    if let Some(c) = cap {
        let days = c.seconds as f64 / 86_400.0;
        reasons.push(
            Reason::new(
                ReasonCode::ExpiryMaxDuration,
                format!("access may last at most {days} day(s), counted from when it is granted"),
            )
            .rule(c.rule.clone())
            .detail("max_duration_seconds", c.seconds.to_string()),
        );
        if let Some(end) = end_date {
            let cap_end = earliest
                .checked_add_signed(TimeDelta::try_seconds(c.seconds).unwrap_or(TimeDelta::MAX))
                .unwrap_or(DateTime::<Utc>::MAX_UTC);
            if end > cap_end {
                reasons.push(
                    Reason::new(
                        ReasonCode::ExpiryCapped,
                        format!(
                            "the end date lies beyond the maximum; access would end at {}",
                            cap_end.to_rfc3339()
                        ),
                    )
                    .rule(c.rule.clone()),
                );
            }
        }
    }
    Some(Expiry {
        projected,
        ..expiry
    })
}
