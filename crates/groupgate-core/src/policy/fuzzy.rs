//! Close-match suggestions for unresolved requests: a trigram index over
//! catalog names and aliases, scored with the Sørensen–Dice coefficient.
//!
//! The index keeps lookups flat as the catalog grows: a query reads the
//! posting lists of its rarest trigrams only, each capped, and scores at most
//! a fixed number of candidates exactly.

use rustc_hash::FxHashMap;

/// Trigrams whose posting lists are read per query (the rarest ones).
const PROBE_GRAMS: usize = 6;
/// Postings read per probed trigram.
const POSTINGS_PER_GRAM: usize = 24;
const _: () = assert!(PROBE_GRAMS * POSTINGS_PER_GRAM * 2 <= TABLE);
/// Candidates scored exactly.
const SCORED_CANDIDATES: usize = 6;

/// A trigram of characters packed into one integer (21 bits per `char`).
type Gram = u64;

/// Posting lists in one flat array: `postings[offsets[g]..offsets[g + 1]]`
/// holds the keys containing gram `grams[g]`.
#[derive(Debug, Default, Clone)]
pub(crate) struct FuzzyIndex {
    slots: FxHashMap<Gram, u32>,
    offsets: Vec<u32>,
    postings: Vec<u32>,
    /// Each key's distinct grams as sorted slot numbers:
    /// `key_slots[key_offsets[k]..key_offsets[k + 1]]`, so scoring a
    /// candidate is one merge, with nothing to split or sort.
    key_offsets: Vec<u32>,
    key_slots: Vec<u32>,
}

/// A scored key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct FuzzyHit {
    pub(crate) key: u32,
    pub(crate) score: f64,
}

impl FuzzyIndex {
    /// Indexes `keys`; a key's id is its position.
    pub(crate) fn build<T: AsRef<str>>(keys: &[T]) -> Self {
        let mut pairs: Vec<(Gram, u32)> = Vec::with_capacity(keys.len() * 16);
        let mut buf = Vec::new();
        for (id, key) in keys.iter().enumerate() {
            grams_into(key.as_ref(), &mut buf);
            pairs.extend(buf.iter().map(|g| (*g, id as u32)));
        }
        pairs.sort_unstable();
        let mut index = FuzzyIndex {
            slots: FxHashMap::default(),
            offsets: Vec::new(),
            postings: Vec::with_capacity(pairs.len()),
            key_offsets: Vec::with_capacity(keys.len() + 1),
            key_slots: Vec::with_capacity(pairs.len()),
        };
        // Grams in sorted order get increasing slots; each key's grams,
        // gathered per key, are then sorted by slot as they are pushed.
        let mut per_key: Vec<Vec<u32>> = vec![Vec::new(); keys.len()];
        for (gram, key) in pairs {
            let slot = match index.slots.get(&gram) {
                Some(&slot) => slot,
                None => {
                    let slot = index.offsets.len() as u32;
                    index.slots.insert(gram, slot);
                    index.offsets.push(index.postings.len() as u32);
                    slot
                }
            };
            index.postings.push(key);
            if let Some(list) = per_key.get_mut(key as usize) {
                list.push(slot);
            }
        }
        index.offsets.push(index.postings.len() as u32);
        for list in per_key {
            index.key_offsets.push(index.key_slots.len() as u32);
            index.key_slots.extend(list);
        }
        index.key_offsets.push(index.key_slots.len() as u32);
        index
    }

    /// The sorted gram slots of key `key`.
    fn key_grams(&self, key: u32) -> &[u32] {
        let k = key as usize;
        match (self.key_offsets.get(k), self.key_offsets.get(k + 1)) {
            (Some(&start), Some(&end)) => self
                .key_slots
                .get(start as usize..end as usize)
                .unwrap_or(&[]),
            _ => &[],
        }
    }

    /// The best keys for `query`, best first, with their Dice scores.
    pub(crate) fn search(&self, query: &str, min_score: f64) -> Vec<FuzzyHit> {
        let query_grams = grams(query);
        if query_grams.is_empty() {
            return Vec::new();
        }
        // The query's grams the index knows, as sorted slots; grams it does
        // not know count in the query's size but can match nothing.
        let mut query_slots: Vec<u32> = Vec::with_capacity(query_grams.len());
        let mut lists: Vec<&[u32]> = Vec::with_capacity(query_grams.len());
        for g in &query_grams {
            if let Some(&slot) = self.slots.get(g) {
                query_slots.push(slot);
                if let Some(list) = self.posting_of(slot) {
                    lists.push(list);
                }
            }
        }
        query_slots.sort_unstable();
        lists.sort_by_key(|l| l.len());
        // Count how many probed grams each key shares, in a small fixed table.
        let mut table = CountTable::default();
        for list in lists.iter().take(PROBE_GRAMS) {
            for key in list.iter().take(POSTINGS_PER_GRAM) {
                table.add(*key);
            }
        }
        let mut counted = table.entries();
        let order = |a: &(u32, u8), b: &(u32, u8)| b.1.cmp(&a.1).then(a.0.cmp(&b.0));
        if counted.len() > SCORED_CANDIDATES {
            counted.select_nth_unstable_by(SCORED_CANDIDATES, order);
            counted.truncate(SCORED_CANDIDATES);
        }
        let mut hits: Vec<FuzzyHit> = counted
            .into_iter()
            .map(|(key, _)| FuzzyHit {
                key,
                score: dice_counts(
                    common(&query_slots, self.key_grams(key)),
                    query_grams.len(),
                    self.key_grams(key).len(),
                ),
            })
            .filter(|h| h.score >= min_score)
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.key.cmp(&b.key)));
        hits
    }

    fn posting_of(&self, slot: u32) -> Option<&[u32]> {
        let slot = slot as usize;
        let (start, end) = (
            *self.offsets.get(slot)? as usize,
            *self.offsets.get(slot + 1)? as usize,
        );
        self.postings.get(start..end)
    }
}

/// How many elements two sorted, distinct lists share.
fn common<T: Ord>(a: &[T], b: &[T]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// The Sørensen–Dice coefficient from the shared count and both sizes,
/// rounded to three places (so ties are stable).
fn dice_counts(common: usize, a: usize, b: usize) -> f64 {
    if a == 0 && b == 0 {
        return 1.0;
    }
    let score = 2.0 * common as f64 / (a + b) as f64;
    (score * 1000.0).round() / 1000.0
}

/// Capacity of the counting table: at least `PROBE_GRAMS * POSTINGS_PER_GRAM`
/// distinct keys, a power of two, kept under half full.
const TABLE: usize = 512;

/// Open-addressing counts of key ids, on the stack: no allocation, no sort.
struct CountTable {
    keys: [u32; TABLE],
    counts: [u8; TABLE],
    /// Occupied slots in insertion order.
    used: Vec<u16>,
}

impl Default for CountTable {
    fn default() -> Self {
        Self {
            keys: [0; TABLE],
            counts: [0; TABLE],
            used: Vec::with_capacity(PROBE_GRAMS * POSTINGS_PER_GRAM),
        }
    }
}

impl CountTable {
    fn add(&mut self, key: u32) {
        let mut slot = (key.wrapping_mul(0x9E37_79B1) >> 23) as usize % TABLE;
        loop {
            if self.counts[slot] == 0 {
                self.keys[slot] = key;
                self.counts[slot] = 1;
                self.used.push(slot as u16);
                return;
            }
            if self.keys[slot] == key {
                self.counts[slot] = self.counts[slot].saturating_add(1);
                return;
            }
            slot = (slot + 1) % TABLE;
        }
    }

    fn entries(&self) -> Vec<(u32, u8)> {
        self.used
            .iter()
            .map(|&slot| (self.keys[slot as usize], self.counts[slot as usize]))
            .collect()
    }
}

fn pack(w: [char; 3]) -> Gram {
    ((w[0] as u64) << 42) | ((w[1] as u64) << 21) | (w[2] as u64)
}

/// Distinct trigrams of `text` padded with one space at each end, sorted.
fn grams(text: &str) -> Vec<Gram> {
    let mut out = Vec::new();
    grams_into(text, &mut out);
    out
}

fn grams_into(text: &str, out: &mut Vec<Gram>) {
    out.clear();
    let mut window = [' ', ' ', ' '];
    let push = |c: char, window: &mut [char; 3], out: &mut Vec<Gram>| {
        *window = [window[1], window[2], c];
        out.push(pack(*window));
    };
    let mut first = true;
    for c in text.chars() {
        if first {
            window = [' ', ' ', c];
            first = false;
        } else {
            push(c, &mut window, out);
        }
    }
    if !first {
        push(' ', &mut window, out);
    }
    out.sort_unstable();
    out.dedup();
}

/// Sørensen–Dice coefficient of two sorted, distinct gram lists.
#[cfg(test)]
fn dice(a: &[Gram], b: &[Gram]) -> f64 {
    dice_counts(common(a, b), a.len(), b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos_and_ranks_them() {
        let keys = ["finance bi", "finance ledger", "team alpha", "hr portal"];
        let index = FuzzyIndex::build(&keys);
        let hits = index.search("finanse bi", 0.3);
        assert_eq!(hits[0].key, 0);
        assert!(hits[0].score > 0.5, "{hits:?}");
        assert!(hits.iter().all(|h| h.key != 3));
        assert!(index.search("zzzz", 0.3).is_empty());
    }

    #[test]
    fn grams_are_padded_trigrams() {
        let g = grams("ab");
        // " ab", "ab " — the padded string " ab " has two trigrams.
        assert_eq!(g.len(), 2);
        assert!(grams("").is_empty());
    }

    #[test]
    fn identical_text_scores_one() {
        assert_eq!(dice(&grams("team alpha"), &grams("team alpha")), 1.0);
    }

    #[test]
    fn indexed_scores_equal_scores_from_the_texts() {
        let keys = [
            "finance bi",
            "x",
            "a very long catalog entry name that goes on and on past sixty four chars",
            "finance bill",
        ];
        let index = FuzzyIndex::build(&keys);
        for query in ["finanse bi", "x", "catalog entry", "zzz finance"] {
            for hit in index.search(query, 0.0) {
                let text = keys[hit.key as usize];
                assert_eq!(
                    hit.score,
                    dice(&grams(query), &grams(text)),
                    "{query} / {text}"
                );
            }
        }
    }

    #[test]
    fn count_table_counts() {
        let mut t = CountTable::default();
        for k in [5, 7, 5, 0, 5, 7] {
            t.add(k);
        }
        let mut e = t.entries();
        e.sort_unstable();
        assert_eq!(e, vec![(0, 1), (5, 3), (7, 2)]);
    }
}
