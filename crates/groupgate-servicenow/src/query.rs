//! Values that go into encoded queries: validated so they cannot change the query.
//!
//! ServiceNow's encoded queries have no escape for `^` (the condition
//! separator), and a malformed condition is silently ignored by default. So
//! groupgate never puts free text into a query: only values of a known shape
//! (RITM numbers, sys_ids, e-mail addresses, state codes), checked first.

/// A value that may not go into an encoded query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {what}; it cannot be used in a ServiceNow query")]
pub struct QueryError {
    value: String,
    what: &'static str,
}

/// A RITM number such as `RITM0010001`.
///
/// ```
/// use groupgate_servicenow::ritm_number;
/// assert!(ritm_number("RITM0010001").is_ok());
/// assert!(ritm_number("RITM0010001^ORnumberISNOTEMPTY").is_err());
/// ```
pub fn ritm_number(value: &str) -> Result<&str, QueryError> {
    let ok = value.len() <= 40
        && value.starts_with("RITM")
        && value.len() > 4
        && value[4..].bytes().all(|b| b.is_ascii_digit());
    if ok {
        Ok(value)
    } else {
        Err(QueryError {
            value: value.to_owned(),
            what: "RITM number",
        })
    }
}

/// A sys_id: 32 lowercase hexadecimal characters.
///
/// ```
/// use groupgate_servicenow::sys_id;
/// assert!(sys_id("b82a0a3b1b1a2010a8d0ed7bbd4bcbfe").is_ok());
/// assert!(sys_id("x^y").is_err());
/// ```
pub fn sys_id(value: &str) -> Result<&str, QueryError> {
    if value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(value)
    } else {
        Err(QueryError {
            value: value.to_owned(),
            what: "sys_id",
        })
    }
}

/// An e-mail address or user name: no query syntax characters.
pub(crate) fn identifier(value: &str) -> Result<&str, QueryError> {
    let ok = !value.is_empty()
        && value.len() <= 200
        && value
            .chars()
            .all(|c| c.is_alphanumeric() || "@.-_+#".contains(c))
        && !value.contains("^");
    if ok {
        Ok(value)
    } else {
        Err(QueryError {
            value: value.to_owned(),
            what: "user name or e-mail address",
        })
    }
}

/// A directory object id (a GUID).
pub(crate) fn object_id(value: &str) -> Result<&str, QueryError> {
    if groupgate_core::is_object_id(value) {
        Ok(value)
    } else {
        Err(QueryError {
            value: value.to_owned(),
            what: "directory object id",
        })
    }
}

/// Whether `name` can be a table field's name.
pub(crate) fn is_field_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 80
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// A catalog item sys_id list for `cat_itemIN…`.
pub(crate) fn sys_id_list(values: &[String]) -> Result<String, QueryError> {
    let checked: Result<Vec<&str>, QueryError> = values.iter().map(|v| sys_id(v)).collect();
    Ok(checked?.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injection_attempts_are_refused() {
        for bad in [
            "RITM1^ORnumberISNOTEMPTY",
            "RITM1\n",
            "RITM",
            "ritm1",
            "RITM1 OR 1=1",
        ] {
            assert!(ritm_number(bad).is_err(), "{bad}");
        }
        assert!(identifier("ada@contoso.com").is_ok());
        assert!(identifier("gus_fabrikam.com#EXT#@contoso.com").is_ok());
        for bad in ["a^b", "a=b", "a,b", "", "a b"] {
            assert!(identifier(bad).is_err(), "{bad}");
        }
    }
}
