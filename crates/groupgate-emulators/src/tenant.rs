//! A whole tenant on loopback: the Graph, ServiceNow, Slack and Teams
//! emulators started together on one clock, with the settings a groupgate
//! worker needs to reach them and the secrets it reads from the
//! environment. Used by the worker's tests and by `groupgate demo`.

use crate::{
    GraphEmulator, GraphEmulatorOptions, SlackEmuUser, SlackEmulator, SlackEmulatorOptions,
    SnowData, SnowEmulator, SnowEmulatorOptions, TeamsEmuUser, TeamsEmulator, TeamsEmulatorOptions,
};
use groupgate_core::DirectorySnapshot;
use groupgate_core::ports::Clock;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The four emulators of one tenant.
#[derive(Debug)]
pub struct LoopbackTenant {
    /// Microsoft Graph.
    pub graph: GraphEmulator,
    /// ServiceNow.
    pub snow: SnowEmulator,
    /// Slack.
    pub slack: SlackEmulator,
    /// Teams (the Bot Framework connector and its keys).
    pub teams: TeamsEmulator,
}

impl LoopbackTenant {
    /// Starts the emulators on 127.0.0.1 (ephemeral ports): Graph over
    /// `directory`, ServiceNow over `snow`, Slack knowing `slack_users`,
    /// Teams knowing `teams_users`, all on `clock`.
    pub async fn start(
        directory: DirectorySnapshot,
        snow: SnowData,
        slack_users: Vec<SlackEmuUser>,
        teams_users: Vec<TeamsEmuUser>,
        clock: Arc<dyn Clock>,
    ) -> std::io::Result<Self> {
        let graph = GraphEmulator::start(
            "127.0.0.1:0",
            directory,
            GraphEmulatorOptions::default(),
            clock.clone(),
        )
        .await?;
        let snow =
            SnowEmulator::start("127.0.0.1:0", snow, SnowEmulatorOptions::default(), clock).await?;
        let slack = SlackEmulator::start(
            "127.0.0.1:0",
            SlackEmulatorOptions {
                users: slack_users,
                ..Default::default()
            },
        )
        .await?;
        let teams = TeamsEmulator::start(
            "127.0.0.1:0",
            TeamsEmulatorOptions {
                users: teams_users,
                ..Default::default()
            },
        )
        .await?;
        Ok(Self {
            graph,
            snow,
            slack,
            teams,
        })
    }

    /// The worker settings (YAML) that reach these emulators: `graph`,
    /// `servicenow` and `chat` (Teams posting to the emulator's channel,
    /// Slack messaging approvers with `C0APPROVALS` as the fallback), plain
    /// http allowed to loopback only. `ticket_url` links the cards.
    pub fn settings_yaml(&self, ticket_url: &str) -> String {
        let g = self.graph.options();
        let t = self.teams.options();
        format!(
            "graph:
  tenant_id: {}
  client_id: {}
  base_url: '{}'
  authority_url: '{}'
  allow_insecure_loopback: true
servicenow:
  instance_url: '{}'
  user: {}
  allow_insecure_loopback: true
chat:
  ticket_url: '{ticket_url}'
  teams:
    app_id: '{}'
    tenant_id: '{}'
    channel_id: '{}'
    service_url: '{}'
    token_url: '{}'
    openid_metadata_url: '{}'
    allow_insecure_loopback: true
  slack:
    api_url: '{}'
    fallback_channel: C0APPROVALS
    allow_insecure_loopback: true
",
            g.tenant_id,
            g.client_id,
            self.graph.base_url(),
            self.graph.authority_url(),
            self.snow.instance_url(),
            self.snow.options().user,
            t.app_id,
            t.tenant_id,
            t.channel_id,
            self.teams.service_url(),
            self.teams.token_url(),
            self.teams.openid_url(),
            self.slack.api_url(),
        )
    }

    /// The secrets a worker reads from the environment to reach these
    /// emulators, by variable name (the chat token key and the webhook
    /// secret are the caller's own).
    pub fn secrets(&self) -> BTreeMap<&'static str, String> {
        BTreeMap::from([
            (
                "GROUPGATE_GRAPH_CLIENT_SECRET",
                self.graph.options().client_secret.clone(),
            ),
            (
                "GROUPGATE_SNOW_PASSWORD",
                self.snow.options().password.clone(),
            ),
            (
                "GROUPGATE_TEAMS_APP_SECRET",
                self.teams.options().app_secret.clone(),
            ),
            (
                "GROUPGATE_SLACK_BOT_TOKEN",
                self.slack.options().bot_token.clone(),
            ),
            (
                "GROUPGATE_SLACK_SIGNING_SECRET",
                self.slack.options().signing_secret.clone(),
            ),
        ])
    }
}
