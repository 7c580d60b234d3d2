//! (see the parent module)

use super::*;

pub(super) fn write_allowed(shared: &Shared, t: &mut Tenant, now: DateTime<Utc>) -> bool {
    let budget = shared.options.write_budget;
    if budget == 0 {
        return true;
    }
    while t
        .writes
        .front()
        .is_some_and(|w| *w + shared.options.write_window <= now)
    {
        t.writes.pop_front();
    }
    if t.writes.len() as u32 >= budget {
        return false;
    }
    t.writes.push_back(now);
    true
}

pub(super) fn add_member(
    shared: &Shared,
    t: &mut Tenant,
    group: &str,
    member: &str,
    now: DateTime<Utc>,
) -> Reply {
    let Some(g) = t.dir.find_group(group).cloned() else {
        return not_found(group);
    };
    let Some(user) = t
        .dir
        .users
        .iter()
        .find(|u| u.id.eq_ignore_ascii_case(member))
        .cloned()
    else {
        return not_found(member);
    };
    if g.role_assignable || g.dynamic_membership {
        return graph_error(
            403,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        );
    }
    if g.on_premises_synced {
        return bad(
            "Unable to update the specified properties for objects that have originated within an external service.",
        );
    }
    if g.mail_enabled && !g.unified {
        return bad("Cannot Update a mail-enabled security groups and or distribution list.");
    }
    if t.dir.membership(&user.id, group) == MembershipState::Direct {
        return bad(
            "One or more added object references already exist for the following modified properties: 'members'.",
        );
    }
    if !write_allowed(shared, t, now) {
        return graph_error(429, "TooManyRequests", "Please retry again later.");
    }
    if let Some(target) = t.dir.find_group_mut(group) {
        target.members.push(user.id.clone());
    }
    t.changes.push(format!(
        "add {} {}",
        group.to_ascii_lowercase(),
        user.id.to_ascii_lowercase()
    ));
    t.replication.added(group, &user.id, now);
    (204, None)
}

pub(super) fn remove_member(
    shared: &Shared,
    t: &mut Tenant,
    group: &str,
    member: &str,
    now: DateTime<Utc>,
) -> Reply {
    if t.dir.find_group(group).is_none() {
        return not_found(group);
    }
    let upn = t
        .dir
        .users
        .iter()
        .find(|u| u.id.eq_ignore_ascii_case(member))
        .map(|u| u.upn.clone())
        .unwrap_or_default();
    if t.dir.membership(member, group) != MembershipState::Direct {
        return not_found(member);
    }
    if !write_allowed(shared, t, now) {
        return graph_error(429, "TooManyRequests", "Please retry again later.");
    }
    if let Some(g) = t.dir.find_group_mut(group) {
        g.members
            .retain(|m| !m.eq_ignore_ascii_case(member) && !m.eq_ignore_ascii_case(&upn));
    }
    t.changes.push(format!(
        "remove {} {}",
        group.to_ascii_lowercase(),
        member.to_ascii_lowercase()
    ));
    t.replication.removed(group, member, now);
    (204, None)
}

/// `$batch`: at most 20 requests, answered in reverse order (Graph answers in
/// any order), each with its own status; a throttled item carries its own
/// `Retry-After`.
pub(super) fn batch(shared: &Shared, t: &mut Tenant, body: &Value, now: DateTime<Utc>) -> Reply {
    let requests = body
        .get("requests")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if requests.is_empty() || requests.len() > 20 {
        return graph_error(
            400,
            "BadRequest",
            "A batch holds between 1 and 20 requests.",
        );
    }
    let mut ids: Vec<String> = Vec::new();
    for r in &requests {
        let id = r
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_ascii_lowercase();
        if id.is_empty() || ids.contains(&id) {
            return graph_error(
                400,
                "BadRequest",
                "Batch request ids must be present and unique.",
            );
        }
        ids.push(id);
    }
    // Items run in the order given (a `dependsOn` must name an earlier
    // item); one whose dependency failed answers 424. Responses come back in
    // another order, as Graph's may.
    let mut statuses: HashMap<String, u16> = HashMap::new();
    let mut responses = Vec::new();
    for r in &requests {
        let id = r
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let failed_dependency = r
            .get("dependsOn")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .any(|d| {
                statuses
                    .get(&d.to_ascii_lowercase())
                    .is_none_or(|s| *s >= 400)
            });
        if failed_dependency {
            statuses.insert(id.to_ascii_lowercase(), 424);
            responses.push(json!({"id": id, "status": 424, "headers": {"Content-Type": "application/json"},
                "body": {"error": {"code": "FailedDependency", "message": "A request this one depends on failed."}}}));
            continue;
        }
        let method = r
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_ascii_uppercase();
        let url = r.get("url").and_then(Value::as_str).unwrap_or_default();
        let (path, query_string) = url.split_once('?').unwrap_or((url, ""));
        let segs = path_segments(path);
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        let query: HashMap<String, String> = query_string
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (percent_decode(k), percent_decode(&v.replace('+', " ")))
            })
            .collect();
        let eventual = r
            .get("headers")
            .and_then(Value::as_object)
            .and_then(|h| {
                h.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("consistencylevel"))
            })
            .and_then(|(_, v)| v.as_str())
            .is_some_and(|v| v.eq_ignore_ascii_case("eventual"));
        let item_body = r.get("body").cloned().unwrap_or(Value::Null);
        if shared.options.fault_rate > 0.0 && t.rng.random::<f64>() < shared.options.fault_rate {
            statuses.insert(id.to_ascii_lowercase(), 429);
            responses.push(json!({"id": id, "status": 429, "headers": {"Retry-After": shared.options.retry_after_seconds.to_string()},
                "body": {"error": {"code": "TooManyRequests", "message": "Please retry again later."}}}));
            continue;
        }
        let method = Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET);
        let (status, body) = serve(shared, t, &method, &segs, &query, &item_body, eventual, now);
        statuses.insert(id.to_ascii_lowercase(), status);
        responses.push(json!({"id": id, "status": status, "headers": {"Content-Type": "application/json"}, "body": body}));
    }
    for response in &mut responses {
        t.counter += 1;
        let item_id = format!("emu-{:06}", t.counter);
        if let Some(body) = response.get_mut("body") {
            *body =
                with_inner_error(Some(body.take()), &item_id, &item_id, now).unwrap_or(Value::Null);
        }
    }
    responses.reverse();
    (200, Some(json!({"responses": responses})))
}
