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
        };
        for (gram, key) in pairs {
            if !index.slots.contains_key(&gram) {
                index.slots.insert(gram, index.offsets.len() as u32);
                index.offsets.push(index.postings.len() as u32);
            }
            index.postings.push(key);
        }
        index.offsets.push(index.postings.len() as u32);
        index
    }

    fn posting(&self, gram: &Gram) -> Option<&[u32]> {
        let slot = *self.slots.get(gram)? as usize;
        let (start, end) = (
            *self.offsets.get(slot)? as usize,
            *self.offsets.get(slot + 1)? as usize,
        );
        self.postings.get(start..end)
    }

    /// The best keys for `query`, best first, scored against `key_text(id)`.
    pub(crate) fn search<'a>(
        &self,
        query: &str,
        key_text: impl Fn(u32) -> &'a str,
        min_score: f64,
    ) -> Vec<FuzzyHit> {
        let query_grams = grams(query);
        if query_grams.is_empty() {
            return Vec::new();
        }
        let mut lists: Vec<&[u32]> = query_grams.iter().filter_map(|g| self.posting(g)).collect();
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
                score: dice_against(&query_grams, key_text(key)),
            })
            .filter(|h| h.score >= min_score)
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.key.cmp(&b.key)));
        hits
    }
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

/// Sørensen–Dice of the sorted, distinct `query` grams against `text`'s grams,
/// computed on the stack for texts up to 64 characters.
fn dice_against(query: &[Gram], text: &str) -> f64 {
    let mut buf = [0 as Gram; 66];
    let mut len = 0;
    let mut window = [' ', ' ', ' '];
    let mut chars = text.chars().chain(std::iter::once(' '));
    match chars.next() {
        Some(first) => window[2] = first,
        None => return dice(query, &[]),
    }
    for c in chars {
        window = [window[1], window[2], c];
        if len == buf.len() {
            // A long key: fall back to the allocating path.
            return dice(query, &grams(text));
        }
        buf[len] = pack(window);
        len += 1;
    }
    let own = &mut buf[..len];
    own.sort_unstable();
    let mut distinct = 0;
    for i in 0..own.len() {
        if i == 0 || own[i] != own[i - 1] {
            own[distinct] = own[i];
            distinct += 1;
        }
    }
    dice(query, &own[..distinct])
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
fn dice(a: &[Gram], b: &[Gram]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let score = 2.0 * common as f64 / (a.len() + b.len()) as f64;
    (score * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos_and_ranks_them() {
        let keys = ["finance bi", "finance ledger", "team alpha", "hr portal"];
        let index = FuzzyIndex::build(&keys);
        let hits = index.search("finanse bi", |k| keys[k as usize], 0.3);
        assert_eq!(hits[0].key, 0);
        assert!(hits[0].score > 0.5, "{hits:?}");
        assert!(hits.iter().all(|h| h.key != 3));
        assert!(index.search("zzzz", |k| keys[k as usize], 0.3).is_empty());
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
    fn stack_scoring_matches_the_allocating_one() {
        let q = grams("finanse bi");
        for text in [
            "finance bi",
            "x",
            "",
            "a very long catalog entry name that goes on and on past sixty four chars",
        ] {
            assert_eq!(dice_against(&q, text), dice(&q, &grams(text)), "{text}");
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
