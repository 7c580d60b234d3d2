//! (see the parent module)

use super::*;

/// One condition of an encoded query.
pub(super) enum Cond {
    Eq(String, String),
    Ne(String, String),
    In(String, Vec<String>),
    Like(String, String),
    Starts(String, String),
}

pub(super) fn parse_cond(c: &str) -> Option<Cond> {
    for (op, make) in [
        ("STARTSWITH", 0u8),
        ("LIKE", 1),
        ("IN", 2),
        ("!=", 3),
        ("=", 4),
    ] {
        if let Some(pos) = c.find(op) {
            let (field, value) = (c[..pos].to_owned(), c[pos + op.len()..].to_owned());
            if field.is_empty()
                || !field
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '.')
            {
                continue;
            }
            return Some(match make {
                0 => Cond::Starts(field, value),
                1 => Cond::Like(field, value),
                2 => Cond::In(field, value.split(',').map(str::to_owned).collect()),
                3 => Cond::Ne(field, value),
                _ => Cond::Eq(field, value),
            });
        }
    }
    None
}

pub(super) fn cond_field(c: &Cond) -> &str {
    match c {
        Cond::Eq(f, _)
        | Cond::Ne(f, _)
        | Cond::In(f, _)
        | Cond::Like(f, _)
        | Cond::Starts(f, _) => f,
    }
}

pub(super) fn matches(c: &Cond, r: &Row) -> bool {
    match c {
        Cond::Eq(f, v) => text(r, f) == *v,
        Cond::Ne(f, v) => text(r, f) != *v,
        Cond::In(f, vs) => vs.contains(&text(r, f)),
        Cond::Like(f, v) => text(r, f).contains(v.as_str()),
        Cond::Starts(f, v) => text(r, f).starts_with(v.as_str()),
    }
}

pub(super) fn list(
    shared: &Shared,
    i: &Instance,
    table: &str,
    query: &HashMap<String, String>,
    base: &str,
    uri: &Uri,
) -> Response {
    let rows: Vec<Row> = i.tables.get(table).cloned().unwrap_or_default();
    let known = |f: &str| {
        rows.iter().any(|r| r.contains_key(f))
            || [
                "sys_id",
                "number",
                "state",
                "active",
                "approval",
                "element",
                "element_id",
                "value",
                "email",
                "user_name",
            ]
            .contains(&f)
    };
    let mut groups: Vec<Vec<Cond>> = vec![Vec::new()];
    // Sort keys in the order given: the first is the primary one.
    let mut order: Vec<(String, bool)> = Vec::new();
    let mut unreadable = false;
    for part in query
        .get("sysparm_query")
        .map(String::as_str)
        .unwrap_or("")
        .split('^')
        .filter(|p| !p.is_empty())
    {
        if let Some(f) = part.strip_prefix("ORDERBYDESC") {
            order.push((f.to_owned(), true));
        } else if let Some(f) = part.strip_prefix("ORDERBY") {
            order.push((f.to_owned(), false));
        } else if let Some(rest) = part.strip_prefix("OR") {
            match parse_cond(rest).filter(|c| known(cond_field(c))) {
                Some(c) => {
                    // OR with the previous condition: keep them as alternatives.
                    let last = groups.last_mut().and_then(|g| g.pop());
                    groups.push(last.into_iter().collect());
                    if let Some(g) = groups.last_mut() {
                        g.push(c);
                    }
                }
                None => unreadable = true,
            }
        } else {
            match parse_cond(part).filter(|c| known(cond_field(c))) {
                Some(c) => groups[0].push(c),
                None => unreadable = true,
            }
        }
    }
    if unreadable && shared.options.strict_queries {
        return page(
            |r| shape(i, table, r, query, base),
            Vec::new(),
            query,
            base,
            uri,
        );
    }
    let (all, alternatives) = groups.split_first().unwrap_or((&groups[0], &[]));
    let mut hits: Vec<Row> = rows
        .into_iter()
        .filter(|r| all.iter().all(|c| matches(c, r)))
        .filter(|r| {
            alternatives
                .iter()
                .all(|alt| alt.iter().any(|c| matches(c, r)))
        })
        .collect();
    hits.sort_by(|a, b| {
        order
            .iter()
            .map(|(f, desc)| {
                let o = text(a, f).cmp(&text(b, f));
                if *desc { o.reverse() } else { o }
            })
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    page(|r| shape(i, table, r, query, base), hits, query, base, uri)
}

pub(super) fn page(
    shown_as: impl Fn(&Row) -> Value,
    hits: Vec<Row>,
    query: &HashMap<String, String>,
    base: &str,
    uri: &Uri,
) -> Response {
    let total = hits.len();
    let limit: usize = query
        .get("sysparm_limit")
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let offset: usize = query
        .get("sysparm_offset")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let shown: Vec<Value> = hits.iter().skip(offset).take(limit).map(shown_as).collect();
    let mut response = axum::Json(json!({"result": shown})).into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&total.to_string()) {
        h.insert("x-total-count", v);
    }
    if total > limit {
        let link = |off: usize, rel: &str| {
            let mut q: Vec<String> = query
                .iter()
                .filter(|(k, _)| *k != "sysparm_offset")
                .map(|(k, v)| {
                    format!(
                        "{k}={}",
                        percent_encoding::utf8_percent_encode(
                            v,
                            percent_encoding::NON_ALPHANUMERIC
                        )
                    )
                })
                .collect();
            q.sort();
            q.push(format!("sysparm_offset={off}"));
            format!("<{base}{}?{}>;rel=\"{rel}\"", uri.path(), q.join("&"))
        };
        let mut links = vec![link(0, "first")];
        if offset > 0 {
            links.push(link(offset.saturating_sub(limit), "prev"));
        }
        if offset + limit < total {
            links.push(link(offset + limit, "next"));
        }
        links.push(link((total - 1) / limit * limit, "last"));
        if let Ok(v) = HeaderValue::from_str(&links.join(",")) {
            h.insert("link", v);
        }
    }
    response
}

/// A row as the Table API shows it: the fields asked for
/// (`sysparm_fields`), raw values, display values (`sysparm_display_value=true`)
/// or both (`all`), and reference links unless
/// `sysparm_exclude_reference_link=true`.
pub(super) fn shape(
    i: &Instance,
    table: &str,
    r: &Row,
    query: &HashMap<String, String>,
    base: &str,
) -> Value {
    let fields: Vec<String> = match query.get("sysparm_fields") {
        Some(f) if !f.is_empty() => f.split(',').map(|s| s.trim().to_owned()).collect(),
        _ => r.keys().cloned().collect(),
    };
    let display = query
        .get("sysparm_display_value")
        .map(|v| v.to_ascii_lowercase())
        .unwrap_or_else(|| "false".to_owned());
    let links = query
        .get("sysparm_exclude_reference_link")
        .map(String::as_str)
        != Some("true");
    let mut out = Map::new();
    for f in fields {
        let value = text(r, &f);
        let link = referenced_table(&f)
            .filter(|_| links && !value.is_empty())
            .map(|t| format!("{base}/api/now/table/{t}/{value}"));
        let shown = match (display.as_str(), link) {
            ("all", Some(link)) => json!({
                "display_value": display_value(i, table, &f, &value), "value": value, "link": link
            }),
            ("all", None) => {
                json!({"display_value": display_value(i, table, &f, &value), "value": value})
            }
            ("true", Some(link)) => {
                json!({"display_value": display_value(i, table, &f, &value), "link": link})
            }
            ("true", None) => Value::String(display_value(i, table, &f, &value)),
            (_, Some(link)) => json!({"link": link, "value": value}),
            (_, None) => Value::String(value),
        };
        out.insert(f, shown);
    }
    Value::Object(out)
}
