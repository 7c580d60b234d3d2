//! The one normalisation used for catalog names, aliases and request text.

/// Lowercases, turns every run of punctuation and whitespace into one space, and trims.
///
/// ```
/// use groupgate_core::normalize;
/// assert_eq!(normalize("  Finance-BI  (Reporting)!"), "finance bi reporting");
/// assert_eq!(normalize("Team_Alpha"), "team alpha");
/// ```
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for ch in text.chars() {
        if ch.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            if ch.is_ascii() {
                out.push(ch.to_ascii_lowercase());
            } else {
                out.extend(ch.to_lowercase());
            }
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
    fn folds_case_space_and_punctuation() {
        assert_eq!(normalize("FINANCE   bi"), "finance bi");
        assert_eq!(normalize("finance.bi"), "finance bi");
        assert_eq!(normalize("Ünïcode Tëam"), "ünïcode tëam");
        assert_eq!(normalize("---"), "");
    }
}
