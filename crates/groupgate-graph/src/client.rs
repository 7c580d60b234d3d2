//! The Graph client and its `IdentityProvider` implementation.

use crate::errors::{Operation, classify, error_parts};
use crate::paths::{
    entity_path, group_path, member_ref_path, odata_string, query_value, user_path,
};
use crate::token::{TokenCache, without_url};
use crate::{ConfigError, GraphConfig};
use async_trait::async_trait;
use groupgate_core::input::BoundedBytes;
use groupgate_core::ports::{FactsQuery, IdentityProvider, PortError, PortResult, WriteReceipt};
use groupgate_core::{
    Facts, Group, GroupId, GroupMembers, MembershipState, User, UserId, UserType,
};
use reqwest::Method;
use serde_json::{Value, json};
use std::ops::ControlFlow;

pub(crate) const USER_FIELDS: &str =
    "id,userPrincipalName,displayName,accountEnabled,userType,employeeType";
pub(crate) const GROUP_FIELDS: &str = "id,displayName,groupTypes,securityEnabled,mailEnabled,membershipRule,onPremisesSyncEnabled,isAssignableToRole";

/// One HTTP answer.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    request_id: Option<String>,
    retry_after: Option<String>,
    body: String,
}

impl Answer {
    pub(crate) fn json(&self) -> PortResult<Value> {
        serde_json::from_str(&self.body).map_err(|e| {
            let error = PortError::permanent(format!(
                "Graph answered {} with a body that is not JSON: {e}",
                self.status
            ));
            match &self.request_id {
                Some(id) => error.with_correlation(id.clone()),
                None => error,
            }
        })
    }

    pub(crate) fn fail(&self, op: Operation) -> PortError {
        classify(
            self.status,
            self.retry_after.as_deref(),
            &self.body,
            self.request_id.as_deref(),
            op,
        )
    }
}

/// One request inside a `$batch`: its URL is relative to the base URL.
#[derive(Debug, Clone)]
pub(crate) struct BatchItem {
    pub(crate) method: Method,
    pub(crate) url: String,
    pub(crate) body: Option<Value>,
    /// An advanced query: the item carries `ConsistencyLevel: eventual`.
    pub(crate) eventual: bool,
}

impl BatchItem {
    pub(crate) fn get(url: String) -> Self {
        Self {
            method: Method::GET,
            url,
            body: None,
            eventual: false,
        }
    }
}

/// Microsoft Graph as groupgate's directory.
#[derive(Debug)]
pub struct GraphClient {
    http: reqwest::Client,
    config: GraphConfig,
    token: TokenCache,
}

impl GraphClient {
    /// A client for `config` (rustls; no OpenSSL).
    /// Fails when an endpoint is not `https` (see [`GraphConfig::validate`]).
    pub fn new(config: GraphConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        // No redirects (Graph's calls on groupgate's path never redirect, and
        // a redirect is where a token could leave), and https only unless
        // loopback http is explicitly allowed.
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent(config.user_agent.clone())
            .redirect(reqwest::redirect::Policy::none())
            .https_only(config.transport == groupgate_core::endpoint::Transport::HttpsOnly)
            .build()
            .map_err(|_| ConfigError::BadUrl {
                name: "http client",
                value: "could not be built".to_owned(),
            })?;
        Ok(Self {
            http,
            config,
            token: TokenCache::default(),
        })
    }

    fn url(&self, path_and_query: &str) -> String {
        format!(
            "{}{path_and_query}",
            self.config.base_url.trim_end_matches('/')
        )
    }

    /// Sends one call with a fresh `client-request-id`; a 401 refreshes the
    /// token once and retries.
    pub(crate) async fn call(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&Value>,
        eventual: bool,
    ) -> PortResult<Answer> {
        let url = self.url(path_and_query);
        let mut refreshed = false;
        loop {
            let token = self.token.get(&self.http, &self.config, refreshed).await?;
            let client_request_id = uuid::Uuid::new_v4().to_string();
            let mut request = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(token.expose())
                .header("client-request-id", &client_request_id);
            if eventual {
                request = request.header("ConsistencyLevel", "eventual");
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            let began = std::time::Instant::now();
            let sent = request.send().await;
            metrics::histogram!("groupgate_http_request_duration_seconds", "service" => "graph")
                .record(began.elapsed().as_secs_f64());
            metrics::counter!(
                "groupgate_http_requests_total",
                "service" => "graph",
                "method" => method.to_string(),
                "status" => sent.as_ref().map_or_else(|_| "unreachable".to_owned(), |r| r.status().as_u16().to_string()),
            )
            .increment(1);
            let response = sent.map_err(|e| {
                PortError::transient(
                    format!("Graph {method} unreachable: {}", without_url(&e)),
                    None,
                )
                .with_correlation(client_request_id.clone())
            })?;
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let answer = Answer {
                status: response.status().as_u16(),
                request_id: header("request-id").or(Some(client_request_id)),
                retry_after: header("retry-after"),
                body: String::new(),
            };
            let body = read_body(response).await?;
            let answer = Answer { body, ..answer };
            if answer.status == 401 && !refreshed {
                refreshed = true;
                continue;
            }
            return Ok(answer);
        }
    }

    /// Sends `items` through `$batch`, 20 a request, and re-sends throttled
    /// items after their `Retry-After` (up to `max_batch_wait`, a few rounds).
    /// One answer per item, in order; an item still throttled answers 429.
    pub(crate) async fn batch(&self, items: Vec<BatchItem>) -> PortResult<Vec<PortResult<Answer>>> {
        let mut results: Vec<Option<PortResult<Answer>>> = (0..items.len()).map(|_| None).collect();
        let mut pending: Vec<usize> = (0..items.len()).collect();
        for round in 0..4 {
            let mut throttled: Vec<(usize, Answer)> = Vec::new();
            for chunk in pending.chunks(20) {
                let requests: Vec<Value> = chunk
                    .iter()
                    .map(|&i| {
                        let item = &items[i];
                        let mut r = json!({ "id": i.to_string(), "method": item.method.as_str(), "url": item.url });
                        let mut headers = serde_json::Map::new();
                        if let Some(b) = &item.body {
                            r["body"] = b.clone();
                            headers.insert("Content-Type".into(), json!("application/json"));
                        }
                        if item.eventual {
                            headers.insert("ConsistencyLevel".into(), json!("eventual"));
                        }
                        if !headers.is_empty() {
                            r["headers"] = Value::Object(headers);
                        }
                        r
                    })
                    .collect();
                let answer = self
                    .call(
                        Method::POST,
                        "/$batch",
                        Some(&json!({ "requests": requests })),
                        false,
                    )
                    .await?;
                // A batch with failed items may come back 424; its responses still count.
                if answer.status != 200 && answer.status != 424 {
                    let error = answer.fail(Operation::WriteMembership);
                    for &i in chunk {
                        results[i] = Some(Err(error.clone()));
                    }
                    continue;
                }
                let value = answer.json()?;
                for item in value
                    .get("responses")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let Some(i) = item
                        .get("id")
                        .and_then(Value::as_str)
                        .and_then(|id| id.parse::<usize>().ok())
                    else {
                        continue;
                    };
                    if !chunk.contains(&i) {
                        continue;
                    }
                    let header = |name: &str| {
                        item.get("headers")
                            .and_then(Value::as_object)
                            .and_then(|h| h.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
                            .and_then(|(_, v)| v.as_str().map(str::to_owned))
                    };
                    let item_answer = Answer {
                        status: item
                            .get("status")
                            .and_then(Value::as_u64)
                            .and_then(|s| u16::try_from(s).ok())
                            .unwrap_or(500),
                        request_id: header("request-id").or_else(|| answer.request_id.clone()),
                        retry_after: header("retry-after"),
                        body: item.get("body").map(Value::to_string).unwrap_or_default(),
                    };
                    // Re-sent here only when its Retry-After fits in
                    // `max_batch_wait`; otherwise it goes back as transient
                    // with its Retry-After, for the engine to wait on: an
                    // early re-send would only be throttled again.
                    let wait =
                        crate::errors::retry_after_seconds(item_answer.retry_after.as_deref())
                            .map(std::time::Duration::from_secs)
                            .unwrap_or(std::time::Duration::from_secs(1));
                    if item_answer.status == 429 && round < 3 && wait <= self.config.max_batch_wait
                    {
                        throttled.push((i, item_answer));
                    } else {
                        results[i] = Some(Ok(item_answer));
                    }
                }
            }
            if throttled.is_empty() {
                break;
            }
            let wait = throttled
                .iter()
                .filter_map(|(_, a)| crate::errors::retry_after_seconds(a.retry_after.as_deref()))
                .max()
                .map(std::time::Duration::from_secs)
                .unwrap_or(std::time::Duration::from_secs(1))
                .min(self.config.max_batch_wait);
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            pending = throttled.iter().map(|(i, _)| *i).collect();
        }
        Ok(results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(PortError::transient(
                        "Graph $batch did not answer this item",
                        None,
                    ))
                })
            })
            .collect())
    }

    /// Adds `user` to every group in `groups` through `$batch` (for
    /// reconciliation). One result per group, in order; an existing membership
    /// is success with `already: true`.
    pub async fn add_memberships(
        &self,
        user: &UserId,
        groups: &[GroupId],
    ) -> PortResult<Vec<PortResult<WriteReceipt>>> {
        let reference = json!({ "@odata.id": format!("{}{}", self.config.base_url.trim_end_matches('/'), entity_path("/directoryObjects", user)) });
        let items: Vec<BatchItem> = groups
            .iter()
            .map(|g| BatchItem {
                method: Method::POST,
                url: format!("{}/members/$ref", group_path(g)),
                body: Some(reference.clone()),
                eventual: false,
            })
            .collect();
        let answers = self.batch(items).await?;
        Ok(answers
            .into_iter()
            .map(|a| a.and_then(|a| addition_receipt(&a)))
            .collect())
    }

    /// Reads a collection from `path` through every `@odata.nextLink`,
    /// calling `each` per item until it answers `Break`. Links are followed
    /// exactly as given, but only on this client's own base URL (the token is
    /// never sent elsewhere), and at most `MAX_PAGES` of them.
    pub(crate) async fn each_page(
        &self,
        path: &str,
        op: Operation,
        mut each: impl FnMut(&Value) -> ControlFlow<()>,
    ) -> PortResult<()> {
        const MAX_PAGES: usize = 1000;
        let mut next = Some(path.to_owned());
        let mut pages = 0;
        while let Some(path) = next.take() {
            pages += 1;
            if pages > MAX_PAGES {
                return Err(PortError::permanent(format!(
                    "Graph paged more than {MAX_PAGES} times through `{}`",
                    path.split('?').next().unwrap_or_default()
                )));
            }
            let answer = self.call(Method::GET, &path, None, false).await?;
            if answer.status != 200 {
                return Err(answer.fail(op));
            }
            let value = answer.json()?;
            if page_items(&value).try_for_each(&mut each).is_break() {
                return Ok(());
            }
            next = self.next_link(&value)?;
        }
        Ok(())
    }

    /// A page's `@odata.nextLink` as a path on this client's base URL; a link
    /// elsewhere is an error (the token is never sent there).
    pub(crate) fn next_link(&self, page: &Value) -> PortResult<Option<String>> {
        page.get("@odata.nextLink")
            .and_then(Value::as_str)
            .map(|link| self.own_link(link, "@odata.nextLink"))
            .transpose()
    }

    /// `link` as a path on this client's base URL; a link elsewhere is an
    /// error (the token is never sent there).
    pub(crate) fn own_link(&self, link: &str, what: &str) -> PortResult<String> {
        let base = self.config.base_url.trim_end_matches('/');
        link.strip_prefix(base)
            .filter(|rest| rest.starts_with('/'))
            .map(str::to_owned)
            .ok_or_else(|| {
                PortError::permanent(format!(
                    "Graph answered an {what} outside its base URL; it is not followed"
                ))
            })
    }

    pub(crate) fn user_from(value: &Value) -> PortResult<User> {
        let text = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_owned);
        let id = text("id").ok_or_else(|| PortError::permanent("Graph user without an id"))?;
        Ok(User {
            id: UserId::new(id),
            upn: text("userPrincipalName").unwrap_or_default().into(),
            display_name: text("displayName").map(Into::into),
            enabled: value
                .get("accountEnabled")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            user_type: if text("userType").is_some_and(|t| t.eq_ignore_ascii_case("guest")) {
                UserType::Guest
            } else {
                UserType::Member
            },
            employee_type: text("employeeType").map(Into::into),
        })
    }

    /// Whether `user` is a *direct* member of `group` (advanced query, which
    /// Graph answers from an index that may lag behind recent writes).
    pub(crate) async fn direct_member(&self, group: &GroupId, user: &UserId) -> PortResult<bool> {
        let filter = query_value(&format!("id eq {}", odata_string(user)));
        let path = format!(
            "{}/members?$filter={filter}&$count=true&$select=id",
            group_path(group)
        );
        let answer = self.call(Method::GET, &path, None, true).await?;
        if answer.status != 200 {
            return Err(answer.fail(Operation::ReadMembership));
        }
        let value = answer.json()?;
        Ok(value
            .get("value")
            .and_then(Value::as_array)
            .is_some_and(|v| !v.is_empty()))
    }

    async fn check_member_groups(
        &self,
        user: &UserId,
        groups: &[GroupId],
    ) -> PortResult<Vec<GroupId>> {
        let mut found = Vec::new();
        for chunk in groups.chunks(20) {
            let body = json!({ "groupIds": chunk.iter().map(|g| g.as_str()).collect::<Vec<_>>() });
            let answer = self
                .call(
                    Method::POST,
                    &format!("{}/checkMemberGroups", user_path(user)),
                    Some(&body),
                    false,
                )
                .await?;
            if answer.status != 200 {
                return Err(answer.fail(Operation::ReadMembership));
            }
            found.extend(matched_groups(&answer.json()?, chunk));
        }
        Ok(found)
    }
}

#[async_trait]
impl IdentityProvider for GraphClient {
    async fn user(&self, key: &str) -> PortResult<Option<User>> {
        let answer = self
            .call(
                Method::GET,
                &format!("{}?$select={USER_FIELDS}", user_path(key)),
                None,
                false,
            )
            .await?;
        match answer.status {
            200 => Self::user_from(&answer.json()?).map(Some),
            404 => Ok(None),
            _ => Err(answer.fail(Operation::ReadUser)),
        }
    }

    async fn manager(&self, user: &UserId) -> PortResult<Option<User>> {
        let path = format!("{}/manager?$select={USER_FIELDS}", user_path(user));
        let answer = self.call(Method::GET, &path, None, false).await?;
        match answer.status {
            200 => manager_from(&answer.json()?),
            // "Resource 'manager' does not exist": no manager set.
            404 => Ok(None),
            _ => Err(answer.fail(Operation::ReadUser)),
        }
    }

    async fn group(&self, group: &GroupId) -> PortResult<Option<Group>> {
        let answer = self
            .call(
                Method::GET,
                &format!("{}?$select={GROUP_FIELDS}", group_path(group)),
                None,
                false,
            )
            .await?;
        match answer.status {
            200 => Ok(Some(group_from(&answer.json()?, group))),
            404 => Ok(None),
            _ => Err(answer.fail(Operation::ReadGroup)),
        }
    }

    async fn membership(&self, group: &GroupId, user: &UserId) -> PortResult<MembershipState> {
        // Direct first: a read-back after an add is answered in one call, and
        // a nested path never makes an add look verified.
        if self.direct_member(group, user).await? {
            return Ok(MembershipState::Direct);
        }
        let nested = self
            .check_member_groups(user, std::slice::from_ref(group))
            .await?;
        Ok(if nested.is_empty() {
            MembershipState::NotMember
        } else {
            MembershipState::Transitive
        })
    }

    async fn member_of(&self, user: &UserId, groups: &[GroupId]) -> PortResult<Vec<GroupId>> {
        self.check_member_groups(user, groups).await
    }

    async fn facts(&self, query: &FactsQuery) -> PortResult<Facts> {
        self.gather_facts(query).await
    }

    async fn direct_groups(&self, user: &UserId) -> PortResult<Vec<GroupId>> {
        let first = format!("{}/memberOf?$select=id&$top=999", user_path(user));
        let mut out = Vec::new();
        self.each_page(&first, Operation::ReadMembership, |item| {
            let is_group = item
                .get("@odata.type")
                .and_then(Value::as_str)
                .is_none_or(|t| t.eq_ignore_ascii_case("#microsoft.graph.group"));
            if is_group && let Some(id) = item.get("id").and_then(Value::as_str) {
                out.push(GroupId::new(id));
            }
            ControlFlow::Continue(())
        })
        .await?;
        Ok(out)
    }

    async fn group_members(
        &self,
        group: &GroupId,
        transitive: bool,
        max: u32,
    ) -> PortResult<Option<GroupMembers>> {
        self.read_group_members(group, transitive, max).await
    }

    async fn add_member(&self, group: &GroupId, user: &UserId) -> PortResult<WriteReceipt> {
        let body = json!({ "@odata.id": format!("{}{}", self.config.base_url.trim_end_matches('/'), entity_path("/directoryObjects", user)) });
        let answer = self
            .call(
                Method::POST,
                &format!("{}/members/$ref", group_path(group)),
                Some(&body),
                false,
            )
            .await?;
        addition_receipt(&answer)
    }

    async fn remove_memberships(
        &self,
        user: &UserId,
        groups: &[GroupId],
    ) -> PortResult<Vec<PortResult<WriteReceipt>>> {
        let items: Vec<BatchItem> = groups
            .iter()
            .map(|g| BatchItem {
                method: Method::DELETE,
                url: member_ref_path(g, user),
                body: None,
                eventual: false,
            })
            .collect();
        let answers = self.batch(items).await?;
        Ok(answers
            .into_iter()
            .map(|a| a.and_then(|a| removal_receipt(&a, user)))
            .collect())
    }

    async fn remove_member(&self, group: &GroupId, user: &UserId) -> PortResult<WriteReceipt> {
        // Always the membership reference (`/$ref`): without it, Graph would
        // delete the user object itself.
        let path = member_ref_path(group, user);
        let answer = self.call(Method::DELETE, &path, None, false).await?;
        removal_receipt(&answer, user)
    }
}

/// The longest answer read from Graph (32 MiB: a `$batch` of 20 pages of
/// 999 users is well under it).
pub(crate) const MAX_ANSWER_BYTES: usize = 32 << 20;

/// An answer's text, read up to [`MAX_ANSWER_BYTES`].
pub(crate) async fn read_body(mut response: reqwest::Response) -> PortResult<String> {
    let mut body = BoundedBytes::new(MAX_ANSWER_BYTES);
    let too_large =
        |e: groupgate_core::input::TooLarge| PortError::permanent(format!("Graph: {e}"));
    body.expect_length(response.content_length())
        .map_err(too_large)?;
    while let Some(chunk) = response.chunk().await.map_err(|e| {
        PortError::transient(
            format!("Graph answer unreadable: {}", without_url(&e)),
            None,
        )
    })? {
        body.push(&chunk).map_err(too_large)?;
    }
    Ok(body.into_text())
}

/// The items of a collection page (`value`).
pub(crate) fn page_items(page: &Value) -> impl Iterator<Item = &Value> {
    page.get("value")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// The groups of `asked` a `checkMemberGroups` answer names.
pub(crate) fn matched_groups(value: &Value, asked: &[GroupId]) -> Vec<GroupId> {
    value
        .get("value")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|id| asked.iter().find(|g| g.as_str().eq_ignore_ascii_case(id)))
        .cloned()
        .collect()
}

/// A manager answer: the user, unless the manager is not a user (an
/// organisational contact).
pub(crate) fn manager_from(value: &Value) -> PortResult<Option<User>> {
    let is_user = value
        .get("@odata.type")
        .and_then(Value::as_str)
        .is_none_or(|t| t.eq_ignore_ascii_case("#microsoft.graph.user"));
    if is_user {
        GraphClient::user_from(value).map(Some)
    } else {
        Ok(None)
    }
}

/// A group from its Graph representation (`groupTypes`, flags).
pub(crate) fn group_from(v: &Value, requested: &GroupId) -> Group {
    let types: Vec<&str> = v
        .get("groupTypes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let flag = |k: &str| v.get(k).and_then(Value::as_bool).unwrap_or(false);
    Group {
        id: GroupId::new(v.get("id").and_then(Value::as_str).unwrap_or(requested)),
        display_name: v
            .get("displayName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        security_enabled: flag("securityEnabled"),
        mail_enabled: flag("mailEnabled"),
        unified: types.iter().any(|t| t.eq_ignore_ascii_case("Unified")),
        dynamic_membership: types
            .iter()
            .any(|t| t.eq_ignore_ascii_case("DynamicMembership")),
        on_premises_synced: flag("onPremisesSyncEnabled"),
        role_assignable: flag("isAssignableToRole"),
    }
}

/// An addition's answer as a receipt: "already exist" means "already so".
fn addition_receipt(answer: &Answer) -> PortResult<WriteReceipt> {
    let request_ids: Vec<String> = answer.request_id.iter().cloned().collect();
    match answer.status {
        204 | 200 => Ok(WriteReceipt {
            already: false,
            request_ids,
        }),
        400 if error_parts(&answer.body).is_some_and(|(_, m)| m.contains("already exist")) => {
            Ok(WriteReceipt {
                already: true,
                request_ids,
            })
        }
        _ => Err(answer.fail(Operation::WriteMembership)),
    }
}

/// A removal's answer as a receipt: both "not a member" shapes mean "already so".
fn removal_receipt(answer: &Answer, user: &UserId) -> PortResult<WriteReceipt> {
    let request_ids: Vec<String> = answer.request_id.iter().cloned().collect();
    let message = error_parts(&answer.body)
        .map(|(_, m)| m)
        .unwrap_or_default();
    match answer.status {
        204 | 200 => Ok(WriteReceipt {
            already: false,
            request_ids,
        }),
        404 if message.contains(user.as_str()) => Ok(WriteReceipt {
            already: true,
            request_ids,
        }),
        400 if message.contains("do not exist") => Ok(WriteReceipt {
            already: true,
            request_ids,
        }),
        _ => Err(answer.fail(Operation::WriteMembership)),
    }
}
