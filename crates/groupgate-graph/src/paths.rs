//! Building Graph URLs from user input safely.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything but unreserved characters is encoded in a path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'@');

/// Inside a key literal `('…')`, `$` and the (doubled) quotes stay as they are.
const KEY_LITERAL: &AsciiSet = &SEGMENT.remove(b'$').remove(b'\'');

/// The path of one entity of `collection` (e.g. `/users`) by key. A key
/// starting with `$` needs the key syntax, `/users('$…')` (Graph reads
/// `/users/$…` as a system segment); so does a key of only dots, which as a
/// segment would be a dot segment that URL parsing resolves away (`%2E%2E`
/// included). Quotes inside a key literal are doubled; everything else is
/// percent-encoded, so a key is always exactly one key.
pub(crate) fn entity_path(collection: &str, key: &str) -> String {
    let only_dots = !key.is_empty() && key.bytes().all(|b| b == b'.');
    if key.starts_with('$') || only_dots {
        let literal = key.replace('\'', "''");
        format!(
            "{collection}('{}')",
            utf8_percent_encode(&literal, KEY_LITERAL)
        )
    } else {
        format!("{collection}/{}", utf8_percent_encode(key, SEGMENT))
    }
}

/// The path of a user by object id or UPN (`#` in B2B UPNs becomes `%23`).
pub(crate) fn user_path(key: &str) -> String {
    entity_path("/users", key)
}

/// The path of a group by object id.
pub(crate) fn group_path(id: &str) -> String {
    entity_path("/groups", id)
}

/// The path of a group's membership reference for `member` (always with
/// `/$ref`: without it, a DELETE would remove the user object itself).
pub(crate) fn member_ref_path(group: &str, member: &str) -> String {
    format!(
        "{}{}/$ref",
        group_path(group),
        entity_path("/members", member)
    )
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
        assert_eq!(user_path("ada@contoso.com"), "/users/ada@contoso.com");
        assert_eq!(
            user_path("gus_fabrikam.com#EXT#@contoso.com"),
            "/users/gus_fabrikam.com%23EXT%23@contoso.com"
        );
        assert_eq!(
            user_path("$admin@contoso.com"),
            "/users('$admin@contoso.com')"
        );
        assert_eq!(
            user_path("$o'neil@contoso.com"),
            "/users('$o''neil@contoso.com')"
        );
        assert_eq!(user_path("$a/b#c"), "/users('$a%2Fb%23c')");
        assert_eq!(user_path("../groups/x"), "/users/..%2Fgroups%2Fx");
        assert_eq!(user_path("a'b"), "/users/a%27b");
        assert_eq!(user_path(".."), "/users('..')");
        assert_eq!(user_path("."), "/users('.')");
        assert_eq!(user_path("a.b"), "/users/a.b");
        assert_eq!(group_path(".."), "/groups('..')");
        assert_eq!(member_ref_path("g1", ".."), "/groups/g1/members('..')/$ref");
    }

    #[test]
    fn odata_literals_cannot_break_out() {
        assert_eq!(odata_string("o'brien"), "'o''brien'");
        assert_eq!(odata_string("x' or id ne 'y"), "'x'' or id ne ''y'");
        assert_eq!(query_value("id eq 'x'"), "id%20eq%20%27x%27");
    }
}
