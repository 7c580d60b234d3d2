//! `groupgate sim graph|servicenow|teams`: the emulators as standalone servers.

use crate::error::{CliError, Exit};
use crate::files;
use chrono::TimeDelta;
use groupgate_core::DirectorySnapshot;
use groupgate_core::ports::SystemClock;
use groupgate_emulators::{
    GraphEmulator, GraphEmulatorOptions, SnowData, SnowEmulator, SnowEmulatorOptions, TeamsEmuUser,
    TeamsEmulator, TeamsEmulatorOptions,
};
use std::path::Path;
use std::sync::Arc;

/// Who the emulator's token endpoint accepts.
pub(crate) struct Credentials {
    pub(crate) tenant_id: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
}

pub(crate) fn graph(
    tenant: &Path,
    port: u16,
    creds: Credentials,
    fault_rate: f64,
    seed: u64,
    lag_ms: i64,
) -> Result<Exit, CliError> {
    let fault_rate = super::fault_rate(fault_rate)?;
    let dir: DirectorySnapshot = files::load_as(
        tenant,
        "a directory snapshot (users, groups)",
        files::Input::Large,
    )?;
    let options = GraphEmulatorOptions {
        tenant_id: creds.tenant_id,
        client_id: creds.client_id,
        client_secret: creds.client_secret,
        fault_rate,
        seed,
        replication_lag: TimeDelta::milliseconds(lag_ms.max(0)),
        ..GraphEmulatorOptions::default()
    };
    let runtime = super::runtime()?;
    runtime.block_on(async move {
        let emu = GraphEmulator::start(
            &format!("127.0.0.1:{port}"),
            dir,
            options.clone(),
            Arc::new(SystemClock),
        )
        .await
        .map_err(|e| CliError::Argument(format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
        println!("graph emulator listening on {}", emu.addr());
        println!("GROUPGATE_GRAPH_BASE_URL={}", emu.base_url());
        println!("GROUPGATE_GRAPH_AUTHORITY_URL={}", emu.authority_url());
        println!("GROUPGATE_GRAPH_TENANT_ID={}", options.tenant_id);
        println!("GROUPGATE_GRAPH_CLIENT_ID={}", options.client_id);
        println!("GROUPGATE_GRAPH_ALLOW_INSECURE_LOOPBACK=true");
        println!("(the client secret is the one given with --client-secret; press Ctrl-C to stop)");
        let _ = tokio::signal::ctrl_c().await;
        Ok(Exit::Success)
    })
}

pub(crate) fn servicenow(
    data: &Path,
    port: u16,
    password: String,
    strict_queries: bool,
    fault_rate: f64,
) -> Result<Exit, CliError> {
    let fault_rate = super::fault_rate(fault_rate)?;
    let data: SnowData = files::load_as(
        data,
        "ServiceNow emulator data (users, catalog_items, ritms)",
        files::Input::Large,
    )?;
    let options = SnowEmulatorOptions {
        password,
        strict_queries,
        fault_rate,
        ..SnowEmulatorOptions::default()
    };
    let runtime = super::runtime()?;
    runtime.block_on(async move {
        let emu = SnowEmulator::start(&format!("127.0.0.1:{port}"), data, options.clone(), Arc::new(SystemClock))
            .await
            .map_err(|e| CliError::Argument(format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
        println!("servicenow emulator listening on {}", emu.addr());
        println!("GROUPGATE_SNOW_INSTANCE_URL={}", emu.instance_url());
        println!("GROUPGATE_SNOW_USER={}", options.user);
        println!("GROUPGATE_SNOW_CLIENT_ID={}", options.client_id);
        println!("GROUPGATE_SNOW_ALLOW_INSECURE_LOOPBACK=true");
        println!("(the password is the one given with --password; the OAuth client secret is `{}`; press Ctrl-C to stop)", options.client_secret);
        let _ = tokio::signal::ctrl_c().await;
        Ok(Exit::Success)
    })
}

pub(crate) fn teams(tenant: &Path, port: u16, app_secret: String) -> Result<Exit, CliError> {
    let dir: DirectorySnapshot = files::load_as(
        tenant,
        "a directory snapshot (users, groups)",
        files::Input::Large,
    )?;
    let users = dir
        .users
        .iter()
        .map(|u| TeamsEmuUser {
            aad_object_id: u.id.clone(),
            teams_id: format!("29:{}", u.id),
            name: u.display_name.clone().unwrap_or_else(|| u.upn.clone()),
        })
        .collect();
    let options = TeamsEmulatorOptions {
        app_secret,
        users,
        ..TeamsEmulatorOptions::default()
    };
    let runtime = super::runtime()?;
    runtime.block_on(async move {
        let emu = TeamsEmulator::start(&format!("127.0.0.1:{port}"), options.clone())
            .await
            .map_err(|e| CliError::Argument(format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
        let base = emu.service_url();
        println!("teams emulator listening on {base}");
        println!("GROUPGATE_TEAMS_APP_ID={}", options.app_id);
        println!("GROUPGATE_TEAMS_TENANT_ID={}", options.tenant_id);
        println!("GROUPGATE_TEAMS_CHANNEL_ID={}", options.channel_id);
        println!("GROUPGATE_TEAMS_SERVICE_URL={base}");
        println!("GROUPGATE_TEAMS_TOKEN_URL={}", emu.token_url());
        println!("GROUPGATE_TEAMS_OPENID_METADATA_URL={}", emu.openid_url());
        println!("GROUPGATE_TEAMS_CONTROL_URL={base}_emulator");
        println!("(the app secret is the one given with --app-secret; press Ctrl-C to stop)");
        let _ = tokio::signal::ctrl_c().await;
        Ok(Exit::Success)
    })
}
