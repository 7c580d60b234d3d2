//! Building Graph URLs from user input safely.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything but unreserved characters is encoded in a path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'@');

/// A path segment for a user key (object id or UPN). A UPN starting with `$`
/// needs the key syntax `('…')`; quotes inside are doubled; everything is
/// percent-encoded (`#` in B2B UPNs becomes `%23`).
pub(crate) fn user_segment(key: &str) -> String {
    if key.starts_with('$') {
        let literal = key.replace('\'', "''");
        format!("('{}')", utf8_percent_encode(&literal, SEGMENT))
    } else {
        utf8_percent_encode(key, SEGMENT).to_string()
    }
}

/// A path segment for an object id.
pub(crate) fn id_segment(id: &str) -> String {
    utf8_percent_encode(id, SEGMENT).to_string()
}

/// An OData string literal: single quotes doubled, then wrapped in quotes.
pub(crate) fn odata_string(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// A query-string value, percent-encoded.
pub(crate) fn query_value(value: &str) -> String {
    utf8_percent_encode(value, NON_ALPHANUMERIC).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_keys_are_escaped() {
        assert_eq!(user_segment("ada@contoso.com"), "ada@contoso.com");
        assert_eq!(
            user_segment("gus_fabrikam.com#EXT#@contoso.com"),
            "gus_fabrikam.com%23EXT%23@contoso.com"
        );
        assert_eq!(
            user_segment("$admin@contoso.com"),
            "('%24admin@contoso.com')"
        );
        assert_eq!(user_segment("../groups/x"), "..%2Fgroups%2Fx");
        assert_eq!(user_segment("a'b"), "a%27b");
    }

    #[test]
    fn odata_literals_cannot_break_out() {
        assert_eq!(odata_string("o'brien"), "'o''brien'");
        assert_eq!(odata_string("x' or id ne 'y"), "'x'' or id ne ''y'");
        assert_eq!(query_value("id eq 'x'"), "id%20eq%20%27x%27");
    }
}
