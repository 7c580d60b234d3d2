//! Warnings about a policy that is valid but probably not what its authors meant.

use super::Diagnostic;
use super::catalog::KeyHit;
use super::compile::{Inner, StageRef};
use regex_syntax::hir::{Class, Hir, HirKind};

pub(crate) fn lint(p: &Inner) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    names_claimed_twice(p, &mut out);
    groups_without_approval_path(p, &mut out);
    stages_without_people(p, &mut out);
    unreachable_patterns(p, &mut out);
    unused_tags(p, &mut out);
    catalog_entries_for_unmanaged_groups(p, &mut out);
    out.sort_by(|a, b| a.field.cmp(&b.field).then(a.code.cmp(&b.code)));
    out
}

fn names_claimed_twice(p: &Inner, out: &mut Vec<Diagnostic>) {
    let mut keys: Vec<(&str, &[KeyHit])> = p
        .catalog
        .all_keys()
        .filter(|(_, hits)| hits.len() > 1)
        .collect();
    keys.sort_by_key(|(k, _)| *k);
    for (key, hits) in keys {
        let entries: Vec<&super::catalog::IndexedEntry> = hits
            .iter()
            .filter_map(|h| p.catalog.entries.get(h.entry as usize))
            .collect();
        let names: Vec<String> = entries.iter().map(|e| format!("`{}`", e.name)).collect();
        let first_group = entries.first().map(|e| e.group);
        let same_group = entries.iter().all(|e| Some(e.group) == first_group);
        let field = format!(
            "catalog[{}]",
            hits.last().map(|h| h.entry).unwrap_or_default()
        );
        if same_group {
            out.push(Diagnostic::warning(
                "duplicate-name",
                field,
                format!(
                    "`{key}` is claimed by {} for the same group",
                    names.join(" and ")
                ),
            ));
        } else {
            out.push(
                Diagnostic::warning(
                    "ambiguous-name",
                    field,
                    format!("`{key}` is claimed by {} for different groups; requests naming it are denied as ambiguous", names.join(" and ")),
                )
                .with_help("give each entry a distinct name or alias"),
            );
        }
    }
}

fn groups_without_approval_path(p: &Inner, out: &mut Vec<Diagnostic>) {
    for (i, g) in p.groups.iter().enumerate() {
        if !g.managed || !g.stages.is_empty() {
            continue;
        }
        let standard = p
            .standard_changes
            .iter()
            .any(|sc| sc.groups.as_ref().is_none_or(|gs| gs.contains(&i)) && g.risk <= sc.max_risk);
        if !standard {
            out.push(
                Diagnostic::warning(
                    "no-approval-path",
                    format!("groups[{i}]"),
                    format!("`{}` is managed via ITSM but has no approval stage and no standard change; every request for it is denied", g.key),
                )
                .with_help("add an `approval` stage or a `standard_changes` entry"),
            );
        }
    }
}

fn stages_without_people(p: &Inner, out: &mut Vec<Diagnostic>) {
    let people_stages: Vec<&StageRef> = p
        .contractors
        .iter()
        .chain(p.guests.iter())
        .flat_map(|r| r.stages.iter())
        .collect();
    for (i, g) in p.groups.iter().enumerate() {
        for s in g.stages.iter().chain(people_stages.iter().copied()) {
            if s.stage.people(g.app_owners.len(), g.data_owners.len()) == 0 {
                out.push(
                    Diagnostic::warning(
                        "empty-stage",
                        format!("groups[{i}]"),
                        format!(
                            "stage `{}` (from `{}`) has nobody to ask for `{}`; requests are denied",
                            s.stage.name, s.source, g.key
                        ),
                    )
                    .with_help("list `app_owners` / `data_owners` on the group, or name other approvers"),
                );
            }
        }
    }
}

fn unreachable_patterns(p: &Inner, out: &mut Vec<Diagnostic>) {
    for (i, entry) in p.document.catalog.iter().enumerate() {
        for (j, pattern) in entry.patterns.iter().enumerate() {
            let Ok(hir) = regex_syntax::parse(pattern) else {
                continue;
            };
            if !can_match_normalised(&hir) {
                out.push(
                    Diagnostic::warning(
                        "unreachable-pattern",
                        format!("catalog[{i}].patterns[{j}]"),
                        format!("`{pattern}` needs characters that normalised text never has (uppercase, punctuation, or repeated spaces)"),
                    )
                    .with_help("patterns run on lowercase text with punctuation turned into single spaces"),
                );
            }
        }
    }
}

/// Whether a character can occur in normalised text.
fn normal_char(c: char) -> bool {
    c == ' ' || (c.is_alphanumeric() && !c.is_uppercase())
}

/// Whether `hir` can match some normalised text (a conservative check: `false`
/// only when a required piece can never occur).
fn can_match_normalised(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => true,
        HirKind::Literal(lit) => std::str::from_utf8(&lit.0)
            .map(|s| s.chars().all(normal_char) && !s.contains("  "))
            .unwrap_or(false),
        HirKind::Class(Class::Unicode(cls)) => cls
            .ranges()
            .iter()
            .any(|r| (r.start()..=r.end()).take(4096).any(normal_char)),
        HirKind::Class(Class::Bytes(cls)) => cls
            .ranges()
            .iter()
            .any(|r| (r.start()..=r.end()).any(|b| normal_char(char::from(b)))),
        HirKind::Repetition(rep) => rep.min == 0 || can_match_normalised(&rep.sub),
        HirKind::Capture(cap) => can_match_normalised(&cap.sub),
        HirKind::Concat(parts) => parts.iter().all(can_match_normalised),
        HirKind::Alternation(parts) => parts.iter().any(can_match_normalised),
    }
}

fn unused_tags(p: &Inner, out: &mut Vec<Diagnostic>) {
    for (i, t) in p.document.tag_rules.iter().enumerate() {
        if !p
            .groups
            .iter()
            .any(|g| g.tags.iter().any(|x| **x == *t.tag))
        {
            out.push(Diagnostic::warning(
                "unused-tag-rule",
                format!("tag_rules[{i}].tag"),
                format!(
                    "no group carries tag `{}`, so this rule never applies",
                    t.tag
                ),
            ));
        }
    }
}

fn catalog_entries_for_unmanaged_groups(p: &Inner, out: &mut Vec<Diagnostic>) {
    for (i, entry) in p.document.catalog.iter().enumerate() {
        let unmanaged = p
            .group_by_key
            .get(&entry.group)
            .and_then(|g| p.groups.get(*g))
            .is_some_and(|g| !g.managed);
        if unmanaged {
            out.push(Diagnostic::warning(
                "catalog-unmanaged-group",
                format!("catalog[{i}].group"),
                format!(
                    "`{}` is not managed via ITSM; requests for `{}` are always denied",
                    entry.group, entry.name
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reachable(p: &str) -> bool {
        can_match_normalised(&regex_syntax::parse(p).unwrap())
    }

    #[test]
    fn pattern_reachability() {
        assert!(reachable(r"^fin(ance)?\s*bi\b"));
        assert!(reachable(r"(?i)Finance"));
        assert!(!reachable(r"Finance"));
        assert!(!reachable(r"team-alpha"));
        assert!(reachable(r"team-alpha|team alpha"));
        assert!(reachable(r"a(-)?b"));
    }
}
