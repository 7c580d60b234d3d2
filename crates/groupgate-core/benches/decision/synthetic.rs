//! A synthetic but realistic policy and request pool of any size.

use chrono::{DateTime, TimeDelta, Utc};
use groupgate_core::{CompiledPolicy, Facts, Group, Request, Suggestion, User, UserType};
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

fn user(id: &str, employee_type: &str, user_type: UserType) -> User {
    User {
        id: id.into(),
        upn: format!("{id}@contoso.com"),
        display_name: None,
        enabled: true,
        user_type,
        employee_type: Some(employee_type.to_owned()),
    }
}

/// One request with its facts and evaluation time.
pub(crate) type Case = (Request, Facts, DateTime<Utc>);

/// The kind of the pool's `k`-th request, for per-kind reporting.
pub(crate) fn kind_name(k: usize) -> &'static str {
    match k % 20 {
        0..=7 => "exact name",
        8..=10 => "phrase in text",
        11 | 12 => "alias",
        13 | 14 => "typo (unresolved)",
        15 | 16 => "contractor",
        17 => "guest",
        _ => "after hours",
    }
}

/// A mixed pool: exact names, phrases, aliases, typos (unresolved), AI
/// suggestions, contractors, guests, and requests outside the change window.
pub(crate) fn request_pool(policy: &CompiledPolicy, n: usize, size: usize) -> Vec<Case> {
    let mut rng = Lcg(42);
    let day: DateTime<Utc> = "2026-11-25T10:00:00Z".parse().unwrap_or_default();
    (0..size)
        .map(|k| {
            let i = rng.next() % n;
            let name = entry_name(i);
            let kind = k % 20;
            let (resource, target_kind, now) = match kind {
                0..=7 => (name.clone(), "Employee", day),
                8..=10 => (format!("Access to {name} please"), "Employee", day),
                11 | 12 => (format!("APP-{i}"), "Employee", day),
                13 | 14 => (
                    name.replacen('a', "e", 2).replace(char::is_numeric, ""),
                    "Employee",
                    day,
                ),
                15 | 16 => (name.clone(), "Contractor", day),
                17 => (name.clone(), "Guest", day),
                _ => (name.clone(), "Employee", day + TimeDelta::hours(11)),
            };
            let user_type = if target_kind == "Guest" {
                UserType::Guest
            } else {
                UserType::Member
            };
            let request = Request {
                ticket: format!("RITM{k:07}").into(),
                requester: "req@contoso.com".into(),
                target: "tgt@contoso.com".into(),
                resource,
                end_date: (target_kind != "Employee").then(|| (now + TimeDelta::days(60)).into()),
                justification: "benchmark".into(),
                suggestion: (kind == 14).then(|| Suggestion {
                    group: format!("GRP-{i}"),
                    source: "ai-triage".into(),
                    confidence: Some(0.8),
                }),
            };
            let object = policy.resolve(&request).object_id().map(str::to_owned);
            let facts = Facts {
                requester: Some(user("req", "Employee", UserType::Member)),
                target: Some(user("tgt", target_kind, user_type)),
                target_manager: Some(user("mgr", "Employee", UserType::Member)),
                group: object.map(|o| Group::security(o, "g")),
                ..Facts::default()
            };
            (request, facts, now)
        })
        .collect()
}
