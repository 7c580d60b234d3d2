// The engine over JavaScript ports: a whole ticket (memberships, every
// ticket note and state, the audit trail), offboarding, failures of the
// caller's code, and the event loop staying free while the engine works.
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { Engine, Policy, TransientError, WorkflowError, NotFoundError, InvalidRequestError } from '../index.mjs'
import { ADA, FINANCE, financeBi, makeWorld, Directory } from './world.mjs'
import { example } from './helpers.mjs'

function verifyChain(records) {
  // Every record names the one before it: the trail is one unbroken chain.
  assert.ok(records.length > 0)
  for (let i = 1; i < records.length; i++) {
    assert.equal(records[i].prev_hash, records[i - 1].hash, `record ${i} does not follow record ${i - 1}`)
  }
}

test('a whole ticket through JavaScript ports: approvals, the change, notes and the trail', async () => {
  const { engine, directory, tickets, approvals, clock } = makeWorld()
  tickets.open(financeBi())
  let wf = await engine.processTicket('RITM1')
  assert.equal(wf.phase, 'awaiting_approval')
  assert.equal(wf.stage, 0)
  assert.equal(tickets.state.get('RITM1'), 'approval_required')
  assert.deepEqual(approvals.asks[0].approvers.map((a) => a.name), ['grace.hopper@contoso.com'])

  // Ada approving her own access does not count, and says why.
  let outcome = await engine.recordApproval('RITM1', { approver: 'ada.lovelace@contoso.com', verdict: 'approve' })
  assert.equal(outcome.counted, false)
  assert.match(outcome.refusal, /own/)

  clock.advance(300)
  outcome = await engine.recordApproval('RITM1', {
    approver: 'grace.hopper@contoso.com', verdict: 'approve', channel: 'teams', comment: 'fine',
  })
  assert.equal(outcome.counted, true)
  assert.equal(outcome.workflow.stage, 1)
  assert.deepEqual(approvals.asks.at(-1).approvers.map((a) => a.name), ['dora.data@contoso.com'])
  clock.advance(300)
  outcome = await engine.recordApproval('RITM1', { approver: 'dora.data@contoso.com', verdict: 'approve', channel: 'slack' })
  assert.equal(outcome.counted, true)
  wf = outcome.workflow
  assert.equal(wf.phase, 'active')
  assert.equal(wf.group, FINANCE)
  assert.equal(wf.target, ADA)
  assert.equal(wf.decision.outcome, 'needs_approval')
  assert.ok(directory.isMember(FINANCE, ADA))

  assert.equal(tickets.state.get('RITM1'), 'closed_complete')
  const notes = tickets.notes.get('RITM1')
  const text = notes.join('\n')
  assert.match(text, /refused an answer from `ada\.lovelace@contoso\.com`/)
  assert.match(text, /approval record: grace\.hopper@contoso\.com approve manager via teams/)
  assert.match(text, /approval record: dora\.data@contoso\.com approve data-owner via slack/)
  assert.equal(notes.filter((n) => n.includes('executed at')).length, 1)
  assert.equal(new Set(notes).size, notes.length, 'a note written twice')
  assert.equal(approvals.notices.at(-1).kind, 'success')

  const rows = await engine.workflows({ open: true })
  assert.deepEqual(rows.map((r) => [r.id, r.phase]), [['RITM1', 'active']])
  assert.ok(rows[0].next_wake > '2027', 'the 180-day cap is the next wake')
  const records = await engine.auditTrail()
  verifyChain(records)
  assert.equal(records.filter((r) => r.event && r.event.event === 'answered').length, 3)
  // The same ticket again is the same workflow.
  assert.equal((await engine.processTicket('RITM1')).phase, 'active')
})

test('offboarding ends the access and the workflow', async () => {
  const { engine, directory, tickets } = makeWorld()
  tickets.open(financeBi())
  await engine.processTicket('RITM1')
  await engine.recordApproval('RITM1', { approver: 'grace.hopper@contoso.com', verdict: 'approve' })
  await engine.recordApproval('RITM1', { approver: 'dora.data@contoso.com', verdict: 'approve' })
  assert.ok(directory.isMember(FINANCE, ADA))
  const report = await engine.offboard('ada.lovelace@contoso.com', 'hr')
  assert.deepEqual(report.removed.map((r) => r.group), [FINANCE])
  assert.deepEqual(report.failed, [])
  assert.ok(!directory.isMember(FINANCE, ADA))
  assert.equal((await engine.workflow('RITM1')).phase, 'removed')
  verifyChain(await engine.auditTrail())
})

test('a transient failure thrown by a port is retried; the access is granted once', async () => {
  const { engine, directory, tickets, clock } = makeWorld()
  tickets.open(financeBi())
  await engine.processTicket('RITM1')
  await engine.recordApproval('RITM1', { approver: 'grace.hopper@contoso.com', verdict: 'approve' })
  directory.fail.set('add_member', new TransientError('Graph is throttling', { retryAfter: 30 }))
  const outcome = await engine.recordApproval('RITM1', { approver: 'dora.data@contoso.com', verdict: 'approve' })
  assert.equal(outcome.counted, true)
  assert.notEqual(outcome.workflow.phase, 'active')
  assert.ok(!directory.isMember(FINANCE, ADA))
  // Not before its retry-after; then it goes through.
  clock.advance(5)
  await engine.runDue()
  assert.ok(!directory.isMember(FINANCE, ADA))
  clock.advance(120)
  const pass = await engine.runDue()
  assert.ok(pass.stepped >= 1)
  assert.ok(directory.isMember(FINANCE, ADA))
  assert.equal((await engine.workflow('RITM1')).phase, 'active')
  assert.equal(directory.calls.filter((c) => c === 'add_member').length, 2)
  const notes = tickets.notes.get('RITM1')
  assert.equal(notes.filter((n) => n.includes('executed at')).length, 1)
  verifyChain(await engine.auditTrail())
})

test('errors reach the caller as groupgate errors with codes', async () => {
  const { engine, tickets } = makeWorld()
  await assert.rejects(engine.workflow('RITM404'), (e) => e instanceof WorkflowError && e.code === 'GROUPGATE_WORKFLOW' && e.workflow === 'RITM404')
  await assert.rejects(engine.processTicket('RITM404'), (e) => e instanceof NotFoundError && e.code === 'GROUPGATE_NOT_FOUND' && /RITM404/.test(e.message))
  tickets.open(financeBi())
  await engine.processTicket('RITM1')
  await assert.rejects(
    engine.recordApproval('RITM1', { approver: 'grace.hopper@contoso.com', verdict: 'maybe' }),
    (e) => e instanceof InvalidRequestError && e.field === 'verdict',
  )
  assert.throws(() => new Engine(Policy.fromFile(example('policy.yaml')), { directory: {}, tickets: {} }),
    (e) => e instanceof InvalidRequestError && e.field === 'approvals')
})

test('a port that throws something else is a permanent failure, and nothing is executed', async () => {
  const { engine, directory, tickets } = makeWorld()
  tickets.open(financeBi())
  await engine.processTicket('RITM1')
  await engine.recordApproval('RITM1', { approver: 'grace.hopper@contoso.com', verdict: 'approve' })
  directory.fail.set('add_member', new RangeError('bug in the caller'))
  const outcome = await engine.recordApproval('RITM1', { approver: 'dora.data@contoso.com', verdict: 'approve' })
  assert.equal(outcome.counted, true)
  assert.ok(!directory.isMember(FINANCE, ADA))
  const wf = await engine.workflow('RITM1')
  assert.notEqual(wf.phase, 'active')
  const trail = JSON.stringify(await engine.auditTrail())
  assert.match(trail, /RangeError: bug in the caller/)
})

test('the event loop keeps running while the engine waits on slow ports', async () => {
  const directory = new Directory()
  directory.delayMs = 40
  const { engine, tickets } = makeWorld({ directory })
  tickets.open(financeBi())
  let ticks = 0
  const timer = setInterval(() => { ticks += 1 }, 5)
  const started = Date.now()
  const wf = await engine.processTicket('RITM1')
  clearInterval(timer)
  const elapsed = Date.now() - started
  assert.equal(wf.phase, 'awaiting_approval')
  assert.ok(elapsed >= 120, `the slow ports took ${elapsed} ms`)
  // A 5 ms timer fired all along (at least a third of the possible ticks).
  assert.ok(ticks >= elapsed / 15, `${ticks} ticks in ${elapsed} ms`)
})

test('a store file keeps workflows across engines', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'groupgate-node-'))
  const store = join(dir, 'groupgate.db')
  const first = makeWorld({ store })
  first.tickets.open(financeBi())
  await first.engine.processTicket('RITM1')
  const second = makeWorld({ store })
  const wf = await second.engine.workflow('RITM1')
  assert.equal(wf.phase, 'awaiting_approval')
  assert.equal(wf.toJSON().id, 'RITM1')
})
