//! The catalog index: resolves what a person typed to exactly one group, or
//! says why it cannot (ambiguous, unknown), never guessing.

use super::fuzzy::FuzzyIndex;
use super::normalize;
use regex::RegexSet;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How the requested resource was matched to a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    /// The whole text is a catalog entry's name.
    Name,
    /// The whole text is one of an entry's aliases.
    Alias,
    /// A name or alias appears as a whole phrase inside the text.
    Phrase,
    /// One of an entry's patterns matched the normalised text.
    Pattern,
    /// Not resolved from the text; the suggested group was accepted with an
    /// added triage stage.
    Suggestion,
}

/// The outcome of looking a request's resource text up in the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Resolution {
    /// Exactly one group.
    Resolved {
        /// The group's key in the policy.
        group: String,
        /// The group's object id, for the engine to fetch its facts.
        object_id: String,
        /// The catalog entry that matched (absent for a suggestion).
        entry: Option<String>,
        /// How it matched.
        kind: MatchKind,
        /// The matched text (normalised name, alias, phrase or pattern).
        matched: String,
    },
    /// Several groups match; never guessed.
    Ambiguous {
        /// The matching groups' keys, in policy order.
        groups: Vec<String>,
    },
    /// Nothing matches.
    Unresolved,
}

impl Resolution {
    /// The resolved group's object id, if one group was resolved.
    pub fn object_id(&self) -> Option<&str> {
        match self {
            Resolution::Resolved { object_id, .. } => Some(object_id),
            _ => None,
        }
    }
}

/// The most words a resource text within its bound (512 characters, see
/// [`crate::Request::FIELD_LIMITS`]) can hold: phrase matching reads all of
/// them, wherever in the text a name stands.
const MAX_PHRASE_WORDS: usize = 512 / 2 + 1;

#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyHit {
    pub(crate) entry: u32,
    pub(crate) alias: bool,
}

/// The entries claiming one key: almost always one, stored inline so a lookup
/// touches no further memory.
#[derive(Debug, Clone)]
pub(crate) enum Claims {
    One(KeyHit),
    Many(Vec<KeyHit>),
}

impl Claims {
    pub(crate) fn as_slice(&self) -> &[KeyHit] {
        match self {
            Claims::One(hit) => std::slice::from_ref(hit),
            Claims::Many(hits) => hits,
        }
    }

    fn push(&mut self, hit: KeyHit) {
        match self {
            Claims::One(first) => *self = Claims::Many(vec![*first, hit]),
            Claims::Many(hits) => hits.push(hit),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct IndexedEntry {
    pub(crate) name: Arc<str>,
    pub(crate) group: usize,
}

/// What the text lookup found (by index).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Lookup {
    Found {
        entry: usize,
        group: usize,
        kind: MatchKind,
        matched: Arc<str>,
    },
    Ambiguous {
        groups: Vec<usize>,
    },
    NotFound,
}

/// Catalog names, aliases and patterns, indexed.
#[derive(Debug, Clone, Default)]
pub(crate) struct CatalogIndex {
    pub(crate) entries: Vec<IndexedEntry>,
    /// Normalised name or alias → the entries claiming it.
    keys: FxHashMap<Arc<str>, Claims>,
    /// Key texts by fuzzy id.
    key_texts: Vec<Arc<str>>,
    max_words: usize,
    patterns: Option<RegexSet>,
    /// For each pattern in `patterns`, its entry and source text.
    pattern_entries: Vec<(usize, Arc<str>)>,
    /// Built on the first unresolved request (or by `prepare_suggestions`):
    /// only requests that match nothing need it.
    fuzzy: std::sync::OnceLock<FuzzyIndex>,
    phrase_match: bool,
}

impl CatalogIndex {
    pub(crate) fn new(phrase_match: bool) -> Self {
        Self {
            phrase_match,
            ..Self::default()
        }
    }

    /// Adds an entry; `keys` are its normalised name (first) and aliases.
    pub(crate) fn add_entry(&mut self, name: &str, group: usize, keys: &[(String, bool)]) -> usize {
        let entry = self.entries.len();
        self.entries.push(IndexedEntry {
            name: Arc::from(name),
            group,
        });
        for (key, alias) in keys {
            if key.is_empty() {
                continue;
            }
            let hit = KeyHit {
                entry: entry as u32,
                alias: *alias,
            };
            match self.keys.get_mut(key.as_str()) {
                Some(claims) => {
                    if !claims.as_slice().iter().any(|h| h.entry as usize == entry) {
                        claims.push(hit);
                    }
                }
                None => {
                    let text: Arc<str> = Arc::from(key.as_str());
                    self.key_texts.push(Arc::clone(&text));
                    self.keys.insert(text, Claims::One(hit));
                }
            }
            self.max_words = self.max_words.max(key.split(' ').count());
        }
        entry
    }

    pub(crate) fn set_patterns(&mut self, set: RegexSet, owners: Vec<(usize, Arc<str>)>) {
        self.patterns = Some(set);
        self.pattern_entries = owners;
    }

    /// The trigram index over every key, built once on first use.
    pub(crate) fn fuzzy_index(&self) -> &FuzzyIndex {
        self.fuzzy
            .get_or_init(|| FuzzyIndex::build(&self.key_texts))
    }

    /// The entries claiming a normalised key.
    pub(crate) fn claims(&self, key: &str) -> &[KeyHit] {
        self.keys.get(key).map(Claims::as_slice).unwrap_or(&[])
    }

    /// Every normalised key with its claimants, in no particular order.
    pub(crate) fn all_keys(&self) -> impl Iterator<Item = (&str, &[KeyHit])> {
        self.keys.iter().map(|(k, v)| (k.as_ref(), v.as_slice()))
    }

    /// The single group whose name or alias is exactly `key` (normalised).
    pub(crate) fn lookup_exact(&self, key: &str) -> Option<usize> {
        let claims = self.claims(key);
        let first = self.entries.get(claims.first()?.entry as usize)?.group;
        claims
            .iter()
            .all(|h| {
                self.entries
                    .get(h.entry as usize)
                    .is_some_and(|e| e.group == first)
            })
            .then_some(first)
    }

    /// Resolves already-normalised text. Allocation-free unless ambiguous.
    pub(crate) fn lookup(&self, text: &str) -> Lookup {
        if text.is_empty() {
            return Lookup::NotFound;
        }
        let mut acc = Settle::default();
        // 1. The whole text is a name or alias.
        if let Some((key, whole)) = self.keys.get_key_value(text) {
            let whole = whole.as_slice();
            let kind = if whole.iter().all(|h| h.alias) {
                MatchKind::Alias
            } else {
                MatchKind::Name
            };
            for h in whole {
                acc.add(self, h.entry as usize, kind, key);
            }
            return acc.finish();
        }
        // 2. Maximal phrases inside the text, and patterns.
        if self.phrase_match {
            self.phrases(text, |key, hits| {
                for h in hits {
                    acc.add(self, h.entry as usize, MatchKind::Phrase, key);
                }
            });
        }
        if let Some(set) = &self.patterns {
            for i in set.matches(text).iter() {
                if let Some((entry, pattern)) = self.pattern_entries.get(i) {
                    acc.add(self, *entry, MatchKind::Pattern, pattern);
                }
            }
        }
        acc.finish()
    }

    /// Calls `found` with each maximal word span of `text` that is a name or alias.
    fn phrases<'s>(&'s self, text: &str, mut found: impl FnMut(&'s Arc<str>, &'s [KeyHit])) {
        let mut bounds = [(0usize, 0usize); MAX_PHRASE_WORDS];
        let mut words = 0;
        let mut start = 0;
        for (i, ch) in text.char_indices() {
            if ch == ' ' && words < MAX_PHRASE_WORDS {
                bounds[words] = (start, i);
                words += 1;
                start = i + 1;
            }
        }
        if words < MAX_PHRASE_WORDS {
            bounds[words] = (start, text.len());
            words += 1;
        }
        let mut spans = [(0usize, 0usize); MAX_PHRASE_WORDS];
        let mut found_spans = 0;
        for n in (1..=self.max_words.min(words)).rev() {
            for i in 0..=(words - n) {
                let j = i + n - 1;
                if spans[..found_spans].iter().any(|&(a, b)| a <= i && j <= b) {
                    continue;
                }
                let slice = &text[bounds[i].0..bounds[j].1];
                if let Some((key, hits)) = self.keys.get_key_value(slice) {
                    if found_spans < MAX_PHRASE_WORDS {
                        spans[found_spans] = (i, j);
                        found_spans += 1;
                    }
                    found(key, hits.as_slice());
                }
            }
        }
    }

    /// Close keys for unresolved text, as (entry, matched key, score), best first.
    pub(crate) fn suggest(
        &self,
        text: &str,
        ignore_words: &[String],
        limit: usize,
        min_score: f64,
    ) -> Vec<(usize, Arc<str>, f64)> {
        if limit == 0 {
            return Vec::new();
        }
        let query: Vec<&str> = text
            .split(' ')
            .filter(|w| !w.is_empty() && !ignore_words.iter().any(|i| i == w))
            .collect();
        let query = if query.is_empty() {
            text.to_owned()
        } else {
            query.join(" ")
        };
        let hits = self.fuzzy_index().search(&query, min_score);
        let mut out: Vec<(usize, Arc<str>, f64)> = Vec::new();
        for hit in hits {
            let Some(key) = self.key_texts.get(hit.key as usize) else {
                continue;
            };
            for claim in self.claims(key) {
                let entry = claim.entry as usize;
                if !out.iter().any(|(e, _, _)| *e == entry) {
                    out.push((entry, Arc::clone(key), hit.score));
                }
            }
            if out.len() >= limit {
                break;
            }
        }
        out.truncate(limit);
        out
    }
}

/// Accumulates catalog hits: the first one names the match; more groups make it ambiguous.
#[derive(Default)]
struct Settle {
    first: Option<(usize, usize, MatchKind, Arc<str>)>,
    others: Vec<usize>,
}

impl Settle {
    fn add(&mut self, index: &CatalogIndex, entry: usize, kind: MatchKind, matched: &Arc<str>) {
        let Some(group) = index.entries.get(entry).map(|e| e.group) else {
            return;
        };
        match &self.first {
            None => self.first = Some((entry, group, kind, Arc::clone(matched))),
            Some((_, g, _, _)) if *g == group => {}
            Some(_) => {
                if !self.others.contains(&group) {
                    self.others.push(group);
                }
            }
        }
    }

    fn finish(self) -> Lookup {
        match self.first {
            None => Lookup::NotFound,
            Some((entry, group, kind, matched)) if self.others.is_empty() => Lookup::Found {
                entry,
                group,
                kind,
                matched,
            },
            Some((_, group, _, _)) => {
                let mut groups = self.others;
                groups.push(group);
                groups.sort_unstable();
                Lookup::Ambiguous { groups }
            }
        }
    }
}

/// Normalises every key of an entry: its name first, then its aliases.
pub(crate) fn entry_keys(name: &str, aliases: &[String]) -> Vec<(String, bool)> {
    std::iter::once((normalize(name), false))
        .chain(aliases.iter().map(|a| (normalize(a), true)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> CatalogIndex {
        let mut idx = CatalogIndex::new(true);
        idx.add_entry(
            "Finance BI",
            0,
            &entry_keys("Finance BI", &["FinBI".into()]),
        );
        idx.add_entry("Finance BI Admin", 1, &entry_keys("Finance BI Admin", &[]));
        idx.add_entry("Team Alpha", 2, &entry_keys("Team Alpha", &[]));
        idx.add_entry("Alpha Reports", 3, &entry_keys("Alpha Reports", &[]));
        idx
    }

    #[test]
    fn exact_alias_and_phrase() {
        let idx = index();
        assert!(matches!(
            idx.lookup("finbi"),
            Lookup::Found {
                group: 0,
                kind: MatchKind::Alias,
                ..
            }
        ));
        assert!(matches!(
            idx.lookup("finance bi"),
            Lookup::Found {
                group: 0,
                kind: MatchKind::Name,
                ..
            }
        ));
        match idx.lookup("access to finance bi") {
            Lookup::Found {
                group,
                kind,
                matched,
                ..
            } => {
                assert_eq!(
                    (group, kind, &*matched),
                    (0, MatchKind::Phrase, "finance bi")
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn longest_phrase_wins_over_contained_one() {
        let idx = index();
        assert!(matches!(
            idx.lookup("please add finance bi admin"),
            Lookup::Found { group: 1, .. }
        ));
    }

    #[test]
    fn overlapping_phrases_of_two_groups_are_ambiguous() {
        let idx = index();
        assert_eq!(
            idx.lookup("team alpha reports"),
            Lookup::Ambiguous { groups: vec![2, 3] }
        );
    }

    #[test]
    fn unknown_text_is_not_found() {
        assert_eq!(index().lookup("payroll"), Lookup::NotFound);
        assert_eq!(index().lookup(""), Lookup::NotFound);
    }
}
