//! The one normalisation used for catalog names, aliases and request text.

use unicode_normalization::UnicodeNormalization;

/// Folds Unicode compatibility forms and case (NFKC, then full case folding,
/// then NFKC again, so `ＦＩＮ ＢＩ`, `Fin BI` and `fin bi` are one text and
/// `STRASSE` matches `Straße`), turns every run of anything but letters and
/// digits into one space, and trims. ASCII text takes a fast path with the
/// same result.
///
/// ```
/// use groupgate_core::normalize;
/// assert_eq!(normalize("  Finance-BI  (Reporting)!"), "finance bi reporting");
/// assert_eq!(normalize("Team_Alpha"), "team alpha");
/// assert_eq!(normalize("ＦＩＮ ＢＩ"), "fin bi");
/// assert_eq!(normalize("Straße"), normalize("STRASSE"));
/// ```
pub fn normalize(text: &str) -> String {
    if text.is_ascii() {
        return collapse(text.chars().map(|c| c.to_ascii_lowercase()), text.len());
    }
    let compat: String = text.nfkc().collect();
    let folded = caseless::default_case_fold_str(&compat);
    collapse(folded.nfkc(), folded.len())
}

/// Keeps letters and digits, one space between runs of them.
fn collapse(chars: impl Iterator<Item = char>, size: usize) -> String {
    let mut out = String::with_capacity(size);
    let mut pending_space = false;
    for ch in chars {
        if ch.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(ch);
        } else {
            pending_space = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn folds_case_space_punctuation_and_compatibility_forms() {
        assert_eq!(normalize("FINANCE   bi"), "finance bi");
        assert_eq!(normalize("finance.bi"), "finance bi");
        assert_eq!(normalize("Ünïcode Tëam"), "ünïcode tëam");
        assert_eq!(normalize("---"), "");
        assert_eq!(normalize("Ｆｉｎａｎｃｅ　ＢＩ"), "finance bi");
        // Decomposed and composed forms are one text.
        assert_eq!(normalize("Te\u{0301}am"), normalize("Téam"));
        assert_eq!(normalize("ΣΊΣΥΦΟΣ"), normalize("σίσυφος"));
        assert_eq!(normalize("ﬁnance"), "finance");
    }
}
