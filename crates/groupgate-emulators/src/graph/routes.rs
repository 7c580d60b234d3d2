//! (see the parent module)

use super::*;

/// A path's segments, percent-decoded, with OData key syntax split off:
/// `users('$ada@contoso.com')` is `users` and the key `$ada@contoso.com`
/// (quotes inside doubled). A key in its own segment (`/users/('…')`) is not
/// key syntax, as on Graph.
pub(super) fn path_segments(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    for raw in path.split('/').filter(|s| !s.is_empty()) {
        let segment = percent_decode(raw);
        let keyed = segment
            .split_once("('")
            .filter(|(name, rest)| !name.is_empty() && rest.ends_with("')"));
        match keyed {
            Some((name, rest)) => {
                out.push(name.to_owned());
                out.push(rest[..rest.len() - 2].replace("''", "'"));
            }
            None => out.push(segment),
        }
    }
    out
}

pub(super) fn user_json(
    dir: &DirectorySnapshot,
    key: &str,
    select: Option<&String>,
) -> Option<Value> {
    let u = dir.find_user(key)?;
    let full = json!({
        "@odata.type": "#microsoft.graph.user",
        "id": u.id, "userPrincipalName": u.upn, "displayName": u.display_name, "mail": u.upn,
        "accountEnabled": u.enabled, "userType": if u.user_type == groupgate_core::UserType::Guest { "Guest" } else { "Member" },
        "employeeType": u.employee_type,
    });
    // Without $select only the default set comes back (no accountEnabled, userType, employeeType).
    let fields: Vec<&str> = match select {
        Some(s) => s.split(',').map(str::trim).collect(),
        None => vec!["id", "userPrincipalName", "displayName", "mail"],
    };
    let mut out = serde_json::Map::new();
    out.insert("@odata.type".to_owned(), full["@odata.type"].clone());
    for f in fields {
        if let Some(v) = full.get(f) {
            out.insert(f.to_owned(), v.clone());
        }
    }
    Some(Value::Object(out))
}

/// The directory objects in a group: its users as they are visible now
/// (with `$select`), and its nested groups (`id`, `displayName`); with
/// `transitive`, also everything in the nested groups, each object once.
pub(super) fn member_objects(
    t: &Tenant,
    group: &str,
    transitive: bool,
    query: &HashMap<String, String>,
    now: DateTime<Utc>,
) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let mut users_seen: Vec<&str> = Vec::new();
    let groups = t.dir.nested_groups(group, transitive);
    for g in &groups {
        for m in &g.members {
            let Some(u) = t.dir.find_user(m) else {
                continue;
            };
            let state = visible(t, group, &u.id, now);
            let shown = match state {
                MembershipState::Direct => true,
                MembershipState::Transitive => transitive,
                MembershipState::NotMember => false,
            };
            if !shown || users_seen.iter().any(|s| s.eq_ignore_ascii_case(&u.id)) {
                continue;
            }
            users_seen.push(&u.id);
            if let Some(v) = user_json(&t.dir, &u.id, query.get("$select")) {
                out.push(v);
            }
        }
    }
    let nested: Vec<&str> = if transitive {
        groups.iter().skip(1).map(|g| g.id.as_str()).collect()
    } else {
        groups
            .first()
            .map(|g| g.member_groups.iter().map(String::as_str).collect())
            .unwrap_or_default()
    };
    for id in nested {
        if let Some(g) = t.dir.find_group(id) {
            out.push(json!({"@odata.type": "#microsoft.graph.group", "id": g.id, "displayName": g.display_name}));
        }
    }
    out
}

pub(super) fn visible(t: &Tenant, group: &str, user: &str, now: DateTime<Utc>) -> MembershipState {
    let truth = t.dir.membership(user, group);
    t.replication.visible(truth, group, user, now)
}

#[allow(clippy::too_many_arguments)]
pub(super) fn serve(
    shared: &Shared,
    t: &mut Tenant,
    method: &Method,
    segs: &[&str],
    query: &HashMap<String, String>,
    body: &Value,
    eventual: bool,
    now: DateTime<Utc>,
) -> Reply {
    match (method.as_str(), segs) {
        ("GET", ["users", "delta" | "microsoft.graph.delta"]) => {
            super::delta::users_delta(shared, t, query)
        }
        ("GET", ["users", key]) => match user_json(&t.dir, key, query.get("$select")) {
            Some(v) => (200, Some(v)),
            None => not_found(key),
        },
        ("GET", ["users", key, "manager"]) => {
            let Some(u) = t.dir.find_user(key) else {
                return not_found(key);
            };
            match u
                .manager
                .clone()
                .and_then(|m| user_json(&t.dir, &m, query.get("$select")))
            {
                Some(v) => (200, Some(v)),
                None => not_found("manager"),
            }
        }
        ("GET", ["groups", id]) => match t.dir.find_group(id) {
            Some(g) => {
                let mut types = Vec::new();
                if g.unified {
                    types.push("Unified");
                }
                if g.dynamic_membership {
                    types.push("DynamicMembership");
                }
                (
                    200,
                    Some(
                        json!({"id": g.id, "displayName": g.display_name, "groupTypes": types,
                    "securityEnabled": g.security_enabled, "mailEnabled": g.mail_enabled,
                    "membershipRule": if g.dynamic_membership { Some("user.department -eq \"Sales\"") } else { None },
                    "onPremisesSyncEnabled": if g.on_premises_synced { Some(true) } else { None },
                    "isAssignableToRole": g.role_assignable}),
                    ),
                )
            }
            None => not_found(id),
        },
        ("GET", ["groups", id, "members"]) if query.contains_key("$filter") => {
            let Some(g) = t.dir.find_group(id) else {
                return not_found(id);
            };
            if !eventual || query.get("$count").is_none_or(|c| c != "true") {
                return bad(
                    "Request_UnsupportedQuery: $filter on members requires ConsistencyLevel: eventual and $count=true.",
                );
            }
            let wanted = query
                .get("$filter")
                .and_then(|f| f.strip_prefix("id eq '"))
                .and_then(|f| f.strip_suffix('\''))
                .map(|f| f.replace("''", "'"));
            let Some(wanted) = wanted else {
                return bad(
                    "Request_UnsupportedQuery: the emulator filters members only by `id eq '…'`.",
                );
            };
            let values: Vec<Value> = g
                .members
                .iter()
                .filter_map(|m| t.dir.find_user(m))
                .filter(|u| u.id.eq_ignore_ascii_case(&wanted))
                .filter(|u| visible(t, id, &u.id, now) == MembershipState::Direct)
                .map(|u| json!({"@odata.type": "#microsoft.graph.user", "id": u.id}))
                .collect();
            (
                200,
                Some(json!({"@odata.count": values.len(), "value": values})),
            )
        }
        ("GET", ["groups", id, relation @ ("members" | "transitiveMembers")]) => {
            if t.dir.find_group(id).is_none() {
                return not_found(id);
            }
            let values = member_objects(t, id, *relation == "transitiveMembers", query, now);
            paged(shared, &format!("/groups/{id}/{relation}"), query, values)
        }
        ("GET", ["users", key, "memberOf"]) => {
            let Some(u) = t.dir.find_user(key).cloned() else {
                return not_found(key);
            };
            let values: Vec<Value> = t
                .dir
                .groups
                .iter()
                .filter(|g| visible(t, &g.id, &u.id, now) == MembershipState::Direct)
                .map(|g| json!({"@odata.type": "#microsoft.graph.group", "id": g.id}))
                .collect();
            paged(shared, &format!("/users/{}/memberOf", u.id), query, values)
        }
        ("POST", ["users", key, "checkMemberGroups"]) => {
            let Some(u) = t.dir.find_user(key).cloned() else {
                return not_found(key);
            };
            let ids: Vec<String> = body
                .get("groupIds")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            if ids.len() > 20 {
                return bad("Too many groupIds: at most 20 are allowed.");
            }
            let found: Vec<String> = ids
                .into_iter()
                .filter(|g| visible(t, g, &u.id, now) != MembershipState::NotMember)
                .collect();
            (200, Some(json!({"value": found})))
        }
        ("POST", ["groups", id, "members", "$ref"]) => {
            let reference = body
                .get("@odata.id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let path = reference.split_once("/v1.0").map_or("", |(_, p)| p);
            let Some(member) = (match path_segments(path).as_slice() {
                [collection, id] if collection == "directoryObjects" || collection == "users" => {
                    Some(id.clone())
                }
                _ => None,
            }) else {
                return bad(
                    "Invalid request body: expected {\"@odata.id\": \".../directoryObjects/{id}\"}.",
                );
            };
            add_member(shared, t, id, &member, now)
        }
        ("DELETE", ["groups", id, "members", member, "$ref"]) => {
            remove_member(shared, t, id, member, now)
        }
        ("DELETE", ["groups", _, "members", _]) => bad(
            "groupgate emulator refuses DELETE /groups/{g}/members/{m} without /$ref: with write permission on users it would delete the user object itself.",
        ),
        ("POST", ["$batch"]) => batch(shared, t, body, now),
        _ => bad(&format!(
            "the emulator does not serve {} /{}",
            method,
            segs.join("/")
        )),
    }
}

/// A collection answer, paged as Graph pages: `$top` items (100 by default,
/// at most 999) and an absolute `@odata.nextLink` while more remain.
pub(super) fn paged(
    shared: &Shared,
    path: &str,
    query: &HashMap<String, String>,
    values: Vec<Value>,
) -> Reply {
    let top = query
        .get("$top")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(100)
        .clamp(1, shared.options.max_page_size.clamp(1, 999));
    let skip = query
        .get("$skiptoken")
        .and_then(|t| t.strip_prefix("emu-"))
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(0);
    let page: Vec<Value> = values.iter().skip(skip).take(top).cloned().collect();
    let mut out = json!({ "value": page });
    if skip + top < values.len() {
        let mut params: Vec<String> = query
            .iter()
            .filter(|(k, _)| k.as_str() != "$skiptoken")
            .map(|(k, v)| {
                format!(
                    "{k}={}",
                    percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
                )
            })
            .collect();
        params.sort();
        params.push(format!("$skiptoken=emu-{}", skip + top));
        out["@odata.nextLink"] =
            Value::String(format!("{}{path}?{}", shared.base_url, params.join("&")));
    }
    (200, Some(out))
}
