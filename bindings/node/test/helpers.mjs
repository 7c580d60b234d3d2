// Shared helpers of the Node package's tests: the repository's example
// files, and groupgate's emulators (`groupgate sim …`) started on 127.0.0.1.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
export const GRAPH_SECRET = 'node-graph-secret'
export const SNOW_PASSWORD = 'node-snow-password'
export const TEAMS_SECRET = 'node-teams-secret'
export const TOKEN_KEY = 'node-test-action-token-key-0123456789abcdef'

export function example(name) {
  return join(ROOT, 'examples', name)
}

export function groupgateBinary() {
  const binary = process.env.GROUPGATE_BIN || join(ROOT, 'target', 'debug', 'groupgate')
  if (!existsSync(binary)) throw new Error(`${binary} is missing: build it with \`cargo build -p groupgate-cli\``)
  return binary
}

/** Starts `groupgate sim <args>` and waits for the line starting with `lastLine`. */
export function startEmulator(args, lastLine) {
  return new Promise((resolve, reject) => {
    const child = spawn(groupgateBinary(), ['sim', ...args, '--port', '0'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const settings = {}
    const lines = createInterface({ input: child.stdout })
    lines.on('line', (line) => {
      const at = line.indexOf('=')
      if (line.startsWith('GROUPGATE_') && at > 0) settings[line.slice(0, at)] = line.slice(at + 1)
      if (line.startsWith(lastLine)) resolve({ child, settings, stop: () => child.kill() })
    })
    child.on('exit', (code) => reject(new Error(`the emulator stopped before it was ready (${code}): ${args}`)))
    child.on('error', reject)
  })
}

export const startGraph = () =>
  startEmulator(['graph', '--tenant', 'examples/directory.yaml', '--client-secret', GRAPH_SECRET], '(the client secret')
export const startServicenow = () =>
  startEmulator(['servicenow', '--data', 'examples/servicenow.yaml', '--password', SNOW_PASSWORD], '(the password')
export const startTeams = () =>
  startEmulator(['teams', '--tenant', 'examples/directory.yaml', '--app-secret', TEAMS_SECRET], '(the app secret')

/** The example policy with its business-hours window opened (the tests run on the wall clock). */
export function wallClockPolicy(dir) {
  const text = readFileSync(example('policy.yaml'), 'utf8')
  const window = 'default_change_window: business-hours'
  if (!text.includes(window)) throw new Error('the example policy no longer names its default window')
  const path = join(dir, 'policy.yaml')
  writeFileSync(path, text.replace(window, 'default_change_window: always'))
  return path
}

/** A worker settings file over the emulators (Teams approvals when `teams` is given). */
export function settingsFile(dir, graph, servicenow, teams) {
  const g = graph.settings
  const s = servicenow.settings
  let text = `policy: ${wallClockPolicy(dir)}
store: {path: ${join(dir, 'groupgate.db')}, durability: normal}
graph:
  tenant_id: ${g.GROUPGATE_GRAPH_TENANT_ID}
  client_id: ${g.GROUPGATE_GRAPH_CLIENT_ID}
  base_url: ${g.GROUPGATE_GRAPH_BASE_URL}
  authority_url: ${g.GROUPGATE_GRAPH_AUTHORITY_URL}
  allow_insecure_loopback: true
servicenow:
  instance_url: ${s.GROUPGATE_SNOW_INSTANCE_URL}
  user: ${s.GROUPGATE_SNOW_USER}
  allow_insecure_loopback: true
  catalog:
    Request access to application:
      resource: requested_resource
      end_date: end_date
      justification: justification
`
  if (teams) {
    const t = teams.settings
    // (`listen` is where `groupgate worker` would serve the clicks; an
    // embedding bot serves them itself, through Engine.handleTeamsActivity.)
    text += `listen: "127.0.0.1:0"
chat:
  teams:
    app_id: "${t.GROUPGATE_TEAMS_APP_ID}"
    tenant_id: "${t.GROUPGATE_TEAMS_TENANT_ID}"
    channel_id: "${t.GROUPGATE_TEAMS_CHANNEL_ID}"
    service_url: ${t.GROUPGATE_TEAMS_SERVICE_URL}
    token_url: ${t.GROUPGATE_TEAMS_TOKEN_URL}
    openid_metadata_url: ${t.GROUPGATE_TEAMS_OPENID_METADATA_URL}
    allow_insecure_loopback: true
`
  }
  const path = join(dir, 'groupgate.yaml')
  writeFileSync(path, text)
  return path
}

/** Sets the secrets the adapters read from the environment. */
export function serviceEnvironment() {
  process.env.GROUPGATE_GRAPH_CLIENT_SECRET = GRAPH_SECRET
  process.env.GROUPGATE_SNOW_PASSWORD = SNOW_PASSWORD
  process.env.GROUPGATE_TEAMS_APP_SECRET = TEAMS_SECRET
  process.env.GROUPGATE_CHAT_TOKEN_KEY = TOKEN_KEY
}

/** Rows of a ServiceNow table, read through the Table API as any client reads them. */
export async function snowGet(servicenow, table, query) {
  const s = servicenow.settings
  const url = `${s.GROUPGATE_SNOW_INSTANCE_URL}/api/now/table/${table}?` +
    new URLSearchParams({ sysparm_query: query, sysparm_exclude_reference_link: 'true' })
  const auth = Buffer.from(`${s.GROUPGATE_SNOW_USER}:${SNOW_PASSWORD}`).toString('base64')
  const answer = await fetch(url, { headers: { authorization: `Basic ${auth}` } })
  return (await answer.json()).result
}

/** A group's direct member ids, read through Graph. */
export async function graphMembers(graph, group) {
  const g = graph.settings
  const form = new URLSearchParams({
    client_id: g.GROUPGATE_GRAPH_CLIENT_ID,
    client_secret: GRAPH_SECRET,
    grant_type: 'client_credentials',
    scope: 'https://graph.microsoft.com/.default',
  })
  const tokenUrl = `${g.GROUPGATE_GRAPH_AUTHORITY_URL}/${g.GROUPGATE_GRAPH_TENANT_ID}/oauth2/v2.0/token`
  const token = (await (await fetch(tokenUrl, { method: 'POST', body: form })).json()).access_token
  const answer = await fetch(`${g.GROUPGATE_GRAPH_BASE_URL}/groups/${group}/members?$select=id`, {
    headers: { authorization: `Bearer ${token}` },
  })
  return (await answer.json()).value.map((m) => m.id)
}
