//! `GET /users/delta`, as Graph serves it: a first call returns every user
//! (paged with `@odata.nextLink`, then an `@odata.deltaLink`); a call on
//! the delta link returns only what changed since it was issued — a
//! changed `accountEnabled` as the user's id and that property alone, a new
//! user in full, a deleted user as `{"id", "@removed": {"reason":
//! "changed"}}` — then a new delta link. The query given on the first call
//! is kept in the links. A token the tenant no longer knows answers 410
//! `syncStateNotFound` (the client starts again from a full read).

use super::*;
use std::collections::BTreeMap;

/// What the delta sessions and tokens remember.
#[derive(Debug, Default)]
pub(super) struct DeltaState {
    /// Users per page (the default 100 when 0).
    pub(super) page_size: usize,
    /// Each issued token's view of the users: id → accountEnabled.
    tokens: HashMap<String, BTreeMap<String, bool>>,
    /// Open paging sessions: the results and the token to end with.
    sessions: HashMap<String, (Vec<Value>, String)>,
    counter: u64,
}

impl DeltaState {
    fn next_id(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{:08x}", self.counter)
    }

    /// Forgets every token (as the service does after a while).
    pub(super) fn expire(&mut self) {
        self.tokens.clear();
    }
}

fn users_now(t: &Tenant) -> BTreeMap<String, bool> {
    t.dir
        .users
        .iter()
        .map(|u| (u.id.clone(), u.enabled))
        .collect()
}

fn page(shared: &Shared, t: &mut Tenant, session: &str, offset: usize) -> Reply {
    let size = if t.delta.page_size == 0 {
        100
    } else {
        t.delta.page_size
    };
    let Some((results, token)) = t.delta.sessions.get(session).cloned() else {
        return graph_error(
            410,
            "syncStateNotFound",
            "The sync state for this request is not found; start again without a token.",
        );
    };
    let value: Vec<Value> = results.iter().skip(offset).take(size).cloned().collect();
    let base = format!("{}/users/delta", shared.base_url);
    if offset + size < results.len() {
        (
            200,
            Some(json!({
                "@odata.context": format!("{}/$metadata#users", shared.base_url),
                "@odata.nextLink": format!("{base}?$skiptoken={session}-{}", offset + size),
                "value": value,
            })),
        )
    } else {
        t.delta.sessions.remove(session);
        (
            200,
            Some(json!({
                "@odata.context": format!("{}/$metadata#users", shared.base_url),
                "@odata.deltaLink": format!("{base}?$deltatoken={token}"),
                "value": value,
            })),
        )
    }
}

/// Serves `GET /users/delta` with `query`.
pub(super) fn users_delta(
    shared: &Shared,
    t: &mut Tenant,
    query: &HashMap<String, String>,
) -> Reply {
    if let Some(skip) = query.get("$skiptoken") {
        let Some((session, offset)) = skip
            .rsplit_once('-')
            .and_then(|(s, o)| Some((s.to_owned(), o.parse::<usize>().ok()?)))
        else {
            return bad("Request_BadRequest: the $skiptoken is not valid.");
        };
        return page(shared, t, &session, offset);
    }
    let select = query.get("$select").cloned();
    let now = users_now(t);
    let results: Vec<Value> = match query.get("$deltatoken") {
        None => now
            .keys()
            .filter_map(|id| user_json(&t.dir, id, select.as_ref()))
            .collect(),
        Some(token) => {
            let Some(before) = t.delta.tokens.get(token) else {
                return graph_error(
                    410,
                    "syncStateNotFound",
                    "The sync state for this request is not found; start again without a token.",
                );
            };
            let mut out = Vec::new();
            for (id, enabled) in &now {
                match before.get(id) {
                    None => out.extend(user_json(&t.dir, id, select.as_ref())),
                    Some(was) if was != enabled => out.push(json!({
                        "@odata.type": "#microsoft.graph.user",
                        "id": id,
                        "accountEnabled": enabled,
                    })),
                    Some(_) => {}
                }
            }
            for id in before.keys().filter(|id| !now.contains_key(*id)) {
                out.push(json!({"id": id, "@removed": {"reason": "changed"}}));
            }
            out
        }
    };
    let token = t.delta.next_id("emu-delta-");
    t.delta.tokens.insert(token.clone(), now);
    let session = t.delta.next_id("emu-page-");
    t.delta.sessions.insert(session.clone(), (results, token));
    page(shared, t, &session, 0)
}
