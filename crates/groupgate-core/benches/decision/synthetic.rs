//! A synthetic but realistic policy and request pool of any size.

use chrono::{DateTime, TimeDelta, Utc};
use groupgate_core::{
    CompiledPolicy, Facts, Group, MembershipState, Request, Suggestion, User, UserType,
};
use std::fmt::Write;

const SYLLABLES: &[&str] = &[
    "fin", "ance", "sales", "ops", "data", "hr", "pay", "roll", "cloud", "port", "al", "dash",
    "board", "lake", "ware", "house", "crm", "erp", "desk", "team", "mar", "ket", "ing", "legal",
    "audit", "risk", "vault", "core", "edge", "net", "work", "flow", "sync", "hub", "base",
    "analyt", "ics", "pro", "ject", "site",
];

/// A deterministic pseudo-random sequence (no randomness in benchmarks).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
}

fn word(rng: &mut Lcg) -> String {
    let n = 2 + rng.next() % 2;
    let mut w = String::new();
    for _ in 0..n {
        w.push_str(SYLLABLES[rng.next() % SYLLABLES.len()]);
    }
    let mut c = w.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// The display name of catalog entry `i`: two words and a number, unique.
pub(crate) fn entry_name(i: usize) -> String {
    let mut rng = Lcg(i as u64 * 7919 + 17);
    format!("{} {} {i}", word(&mut rng), word(&mut rng))
}

pub(crate) fn object_id(i: usize) -> String {
    format!("00000000-0000-0000-0000-{i:012}")
}

/// A policy with `n` catalog entries (one group each, two aliases each).
pub(crate) fn policy_yaml(n: usize) -> String {
    let mut y = String::with_capacity(n * 400);
    y.push_str("version: 1\nname: synthetic\n");
    y.push_str(
        "approver_groups:\n  - name: security\n    members: [sec1@contoso.com, sec2@contoso.com]\n",
    );
    y.push_str("change_windows:\n  - name: business-hours\n    timezone: Europe/Berlin\n    weekly:\n      - {days: [mon-fri], from: '07:00', to: '19:00'}\n    blackouts:\n      - {from: 2026-12-23, to: 2027-01-04, reason: freeze}\n");
    y.push_str("default_change_window: business-hours\n");
    y.push_str("tag_rules:\n  - tag: financial-data\n    add_stages: [{name: data-owner, approvers: [data_owner]}]\n    max_duration: 180d\n");
    y.push_str("people:\n  contractors: {employee_types: [Contractor], end_date_required: true, max_duration: 90d}\n  guests: {end_date_required: true, max_duration: 30d, add_stages: [{name: security, approvers: [security]}]}\n");
    y.push_str("standard_changes:\n  - {name: low-risk-by-manager, max_risk: low, requester_is_target_manager: true}\n");
    y.push_str("groups:\n");
    for i in 0..n {
        let tags = if i % 10 == 0 {
            "[financial-data]"
        } else {
            "[]"
        };
        let risk = ["low", "medium", "high"][i % 3];
        let window = if i % 4 == 0 {
            ", change_window: always"
        } else {
            ""
        };
        let _ = writeln!(
            y,
            "  - {{id: GRP-{i}, object_id: {}, managed_via_itsm: true, risk: {risk}, tags: {tags}, app_owners: [owner{i}@contoso.com], data_owners: [data{i}@contoso.com], approval: [{{name: manager, approvers: [manager]}}, {{name: app-owner, approvers: [app_owner]}}]{window}}}",
            object_id(i)
        );
    }
    y.push_str("catalog:\n");
    let patterns = (n / 1000).max(5).min(n);
    for i in 0..n {
        let name = entry_name(i);
        let pattern = if i < patterns {
            format!(", patterns: ['^zz{i}x\\b']")
        } else {
            String::new()
        };
        let _ = writeln!(
            y,
            "  - {{name: '{name}', aliases: ['{name} app', 'APP-{i}'], group: GRP-{i}{pattern}}}"
        );
    }
    y
}

fn user(name: &str, employee_type: &str, user_type: UserType) -> User {
    User {
        id: format!("id-{name}").into(),
        upn: format!("{name}@contoso.com").into(),
        display_name: None,
        enabled: true,
        user_type,
        employee_type: Some(employee_type.into()),
    }
}

/// One request with its facts and evaluation time.
pub(crate) type Case = (Request, Facts, DateTime<Utc>);

/// The kinds of request in the pool, one per slot of 20.
const KINDS: [&str; 20] = [
    "exact name",
    "exact name",
    "exact name",
    "exact name",
    "exact name",
    "exact name",
    "phrase in text",
    "phrase in text",
    "alias",
    "alias",
    "typo (unresolved)",
    "typo (unresolved)",
    "unknown name",
    "contractor",
    "contractor",
    "guest",
    "after hours",
    "standard change",
    "already member",
    "exact name",
];

/// The kind of the pool's `k`-th request, for per-kind reporting.
pub(crate) fn kind_name(k: usize) -> &'static str {
    KINDS[k % KINDS.len()]
}

/// A mixed pool: exact names, phrases, aliases, typos and unknown names
/// (unresolved; some with AI suggestions), contractors, guests, requests
/// outside the change window, standard changes (the requester is the
/// target's manager, on a low-risk group) and targets who are already
/// members. The facts carry every person the plan names, as the engine
/// gathers them.
pub(crate) fn request_pool(policy: &CompiledPolicy, n: usize, size: usize) -> Vec<Case> {
    let mut rng = Lcg(42);
    let day: DateTime<Utc> = "2026-11-25T10:00:00Z".parse().unwrap_or_default();
    (0..size)
        .map(|k| {
            let kind = kind_name(k);
            // Standard changes need a low-risk group (every third one).
            let i = match kind {
                "standard change" => (rng.next() % n.div_ceil(3)) * 3 % n,
                _ => rng.next() % n,
            };
            let name = entry_name(i);
            let (resource, target_kind, now) = match kind {
                "phrase in text" => (format!("Access to {name} please"), "Employee", day),
                "alias" => (format!("APP-{i}"), "Employee", day),
                "typo (unresolved)" => (
                    name.replacen('a', "e", 2).replace(char::is_numeric, ""),
                    "Employee",
                    day,
                ),
                "unknown name" => (format!("Quantum Flux Portal {k}"), "Employee", day),
                "contractor" => (name.clone(), "Contractor", day),
                "guest" => (name.clone(), "Guest", day),
                "after hours" => (name.clone(), "Employee", day + TimeDelta::hours(11)),
                _ => (name.clone(), "Employee", day),
            };
            let user_type = if target_kind == "Guest" {
                UserType::Guest
            } else {
                UserType::Member
            };
            let requester = if kind == "standard change" {
                "mgr"
            } else {
                "req"
            };
            let request = Request {
                ticket: format!("RITM{k:07}").into(),
                requester: format!("{requester}@contoso.com"),
                target: "tgt@contoso.com".into(),
                resource,
                end_date: (target_kind != "Employee").then(|| (now + TimeDelta::days(60)).into()),
                justification: "benchmark".into(),
                suggestion: (k % 40 == 10).then(|| Suggestion {
                    group: format!("GRP-{i}"),
                    source: "ai-triage".into(),
                    confidence: Some(0.8),
                }),
            };
            let object = policy.resolve(&request).object_id().map(str::to_owned);
            let approvers = [
                "mgr".to_owned(),
                format!("owner{i}"),
                format!("data{i}"),
                "sec1".to_owned(),
                "sec2".to_owned(),
            ]
            .iter()
            .map(|p| user(p, "Employee", UserType::Member))
            .collect();
            let facts = Facts {
                requester: Some(user(requester, "Employee", UserType::Member)),
                target: Some(user("tgt", target_kind, user_type)),
                target_manager: Some(user("mgr", "Employee", UserType::Member)),
                group: object.map(|o| Group::security(o, "g")),
                membership: if kind == "already member" {
                    MembershipState::Direct
                } else {
                    MembershipState::NotMember
                },
                approvers,
                ..Facts::default()
            };
            (request, facts, now)
        })
        .collect()
}
