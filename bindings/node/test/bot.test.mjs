// The Teams bot example end to end: a RITM from the ServiceNow emulator,
// cards posted to the Teams emulator, clicks played by Teams' side (signed
// Bot Framework tokens) to the bot in examples/node, the approvals written
// back to ServiceNow, the membership in the Graph emulator, the trail.
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { DirectorySnapshot, Engine } from '../index.mjs'
import { createBot } from '../../../examples/node/teams-bot.mjs'
import {
  example, graphMembers, serviceEnvironment, settingsFile, snowGet, startGraph, startServicenow, startTeams,
} from './helpers.mjs'

const FINANCE = 'aaaaaaaa-0000-0000-0000-000000000001'
const ADA = '11111111-0000-0000-0000-00000000000a'
let graph, servicenow, teams

before(async () => {
  ;[graph, servicenow, teams] = await Promise.all([startGraph(), startServicenow(), startTeams()])
})

after(() => {
  for (const emulator of [graph, servicenow, teams]) emulator?.stop()
})

function userId(upn) {
  const users = DirectorySnapshot.fromFile(example('directory.yaml')).toJSON().users
  return users.find((u) => u.upn === upn).id
}

async function activities() {
  return (await fetch(`${teams.settings.GROUPGATE_TEAMS_CONTROL_URL}/activities`)).json()
}

async function click(activityId, verb, upn, endpoint, extra = {}) {
  const answer = await fetch(`${teams.settings.GROUPGATE_TEAMS_CONTROL_URL}/click`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ activity_id: activityId, verb, user: userId(upn), endpoint, ...extra }),
  })
  assert.equal(answer.status, 200, await answer.clone().text())
  return answer.json()
}

async function eventually(check, what) {
  for (let i = 0; i < 100; i++) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  assert.fail(`timed out waiting for ${what}`)
}

test('an approval clicked in Teams reaches the bot, ServiceNow and Graph', async () => {
  serviceEnvironment()
  const dir = mkdtempSync(join(tmpdir(), 'groupgate-bot-'))
  const engine = Engine.fromConfig(settingsFile(dir, graph, servicenow, teams))
  const replies = []
  const bot = createBot(engine, { log: (r) => replies.push(r) })
  await new Promise((resolve) => bot.listen(0, '127.0.0.1', resolve))
  const endpoint = `http://127.0.0.1:${bot.address().port}/api/messages`
  try {
    const wf = await engine.processTicket('RITM0010001')
    assert.equal(wf.phase, 'awaiting_approval')
    const cards = (await activities()).filter((a) => !a.reply)
    assert.equal(cards.length, 1, 'one card for the first stage')
    const first = cards[0]
    assert.match(JSON.stringify(first.card), /RITM0010001/)

    // A request without the Bot Framework's token is refused.
    const unsigned = await click(first.activity_id, 'groupgate.approve', 'grace.hopper@contoso.com', endpoint, { unsigned: true })
    assert.equal(unsigned.status, 401)
    // Ada may not approve her own request: the card says so, nothing counts.
    const own = await click(first.activity_id, 'groupgate.approve', 'ada.lovelace@contoso.com', endpoint)
    assert.equal(own.status, 200, JSON.stringify(own))
    assert.match(JSON.stringify(own.body), /not recorded|did not count|own/)
    assert.equal((await engine.workflow('RITM0010001')).stage, 0)

    // Grace approves: the invoke is answered with the card closed.
    const grace = await click(first.activity_id, 'groupgate.approve', 'grace.hopper@contoso.com', endpoint)
    assert.equal(grace.status, 200)
    assert.equal(grace.body.statusCode, 200)
    assert.match(JSON.stringify(grace.body), /grace|Grace/)
    assert.ok(replies.some((r) => r.ticket === 'RITM0010001' && r.counted === true))
    // The same button again does not count twice.
    const again = await click(first.activity_id, 'groupgate.approve', 'grace.hopper@contoso.com', endpoint)
    assert.match(JSON.stringify(again.body), /already used|not recorded/)

    // The next stage's card (the data owner) follows; Dora approves.
    let second
    await eventually(async () => {
      second = (await activities()).find((a) => !a.reply && a.activity_id !== first.activity_id)
      return second !== undefined
    }, 'the data owner card')
    const dora = await click(second.activity_id, 'groupgate.approve', 'dora.data@contoso.com', endpoint)
    assert.equal(dora.status, 200)
    await eventually(async () => (await graphMembers(graph, FINANCE)).includes(ADA), 'the membership in Graph')
    await eventually(async () => (await engine.workflow('RITM0010001')).phase === 'active', 'the workflow to be active')

    // ServiceNow has both approvals (via teams) and the notes, each once.
    const ritm = (await snowGet(servicenow, 'sc_req_item', 'number=RITM0010001'))[0]
    await eventually(async () => (await snowGet(servicenow, 'sc_req_item', 'number=RITM0010001'))[0].state === '3', 'the RITM closed')
    const records = await snowGet(servicenow, 'sysapproval_approver', `sysapproval=${ritm.sys_id}`)
    assert.deepEqual(records.map((r) => r.state).sort(), ['approved', 'approved'])
    const notes = (await snowGet(servicenow, 'sys_journal_field', `element_id=${ritm.sys_id}^element=work_notes`)).map((j) => j.value)
    assert.ok(notes.some((n) => n.includes('executed at')), notes.join('\n'))
    assert.ok(notes.some((n) => /via teams/.test(n)), notes.join('\n'))
    assert.equal(new Set(notes).size, notes.length, 'a note written twice')

    // The trail: the answers, the refusals, one chain.
    const trail = await engine.auditTrail()
    for (let i = 1; i < trail.length; i++) assert.equal(trail[i].prev_hash, trail[i - 1].hash)
    const text = JSON.stringify(trail)
    assert.match(text, /Teams request refused/)
    assert.equal(trail.filter((r) => r.event && r.event.event === 'answered').length, 3)
  } finally {
    await new Promise((resolve) => bot.close(resolve))
  }
})
