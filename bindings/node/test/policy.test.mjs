// Policy decisions from Node: the shared conformance vectors decide exactly
// as in Rust, the snapshot path prints what `groupgate check` prints, and
// bad input gets groupgate's errors with what and where.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { test } from 'node:test'
import * as esm from '../index.mjs'
import {
  DirectorySnapshot, Facts, InputError, InvalidRequestError, Policy, PolicyError, Request,
  lintPolicyText, VERSION,
} from '../index.mjs'
import { ROOT, example, groupgateBinary } from './helpers.mjs'

const VECTORS = readdirSync(join(ROOT, 'tests', 'vectors')).filter((f) => f.endsWith('.json')).sort()
const NOW = '2026-11-25T10:00:00Z'
const FINANCE_BI = {
  ticket: 'RITM1',
  requester: 'ada.lovelace@contoso.com',
  target: 'ada.lovelace@contoso.com',
  resource: 'Access to Finance BI',
}

test('there are vectors', () => {
  assert.ok(VECTORS.length >= 10)
})

for (const name of VECTORS) {
  test(`vector ${name} decides as in Rust`, () => {
    const vector = JSON.parse(readFileSync(join(ROOT, 'tests', 'vectors', name), 'utf8'))
    const policy = Policy.fromFile(join(ROOT, vector.policy))
    const decision = policy.evaluate(vector.request, vector.facts, vector.now)
    assert.deepEqual(decision.toJSON(), vector.decision)
    assert.deepEqual(JSON.parse(JSON.stringify(decision)), vector.decision)
    const expect = vector.expect
    if ('outcome' in expect) assert.equal(decision.outcome, expect.outcome)
    if ('group' in expect) assert.equal(decision.group ? decision.group.key : '', expect.group)
    if ('stages' in expect) assert.deepEqual(decision.stages.map((s) => s.name), expect.stages)
    for (const code of expect.codes || []) assert.ok(decision.hasReason(code), code)
    for (const code of expect.absent_codes || []) assert.ok(!decision.hasReason(code), code)
    // Typed inputs read once decide the same.
    const typed = policy.evaluate(new Request(vector.request), new Facts(vector.facts), new Date(vector.now))
    assert.ok(typed.equals(decision))
  })
}

test('evaluateMany decides a batch as evaluate does one by one, and names a bad case', () => {
  const policy = Policy.fromFile(example('policy.yaml'))
  const vectors = VECTORS.map((name) => JSON.parse(readFileSync(join(ROOT, 'tests', 'vectors', name), 'utf8')))
    .filter((v) => v.policy === 'examples/policy.yaml')
  assert.ok(vectors.length >= 5)
  const now = vectors[0].now
  const cases = vectors.map((v, i) => (i % 2 === 0 ? [v.request, v.facts] : [new Request(v.request), new Facts(v.facts)]))
  const batch = policy.evaluateMany(cases, now)
  assert.equal(batch.length, cases.length)
  batch.forEach((d, i) => assert.ok(d.equals(policy.evaluate(vectors[i].request, vectors[i].facts, now)), `case ${i}`))
  assert.deepEqual(policy.evaluateMany([], now), [])
  assert.throws(() => policy.evaluateMany([[FINANCE_BI, {}], [{ ...FINANCE_BI, ticket: 1 }, {}]], now),
    (e) => e instanceof InvalidRequestError && e.field === 'ticket')
  assert.throws(() => policy.evaluateMany([[FINANCE_BI]], now),
    (e) => e instanceof InvalidRequestError && e.field === '[0][1]')
})

test('the decision from a snapshot is what groupgate check prints, byte for byte', () => {
  const policy = Policy.fromFile(example('policy.yaml'))
  const directory = DirectorySnapshot.fromFile(example('directory.yaml'))
  const out = execFileSync(groupgateBinary(), [
    'check', '--policy', example('policy.yaml'), '--request', example('requests/finance-bi.yaml'),
    '--facts', example('directory.yaml'), '--now', NOW, '--json',
  ], { encoding: 'utf8' })
  const request = {
    ticket: 'RITM0010001',
    requester: 'ada.lovelace@contoso.com',
    target: 'ada.lovelace@contoso.com',
    resource: 'Access to Finance BI',
    justification: 'Quarter-end reporting for the EMEA region',
  }
  const decision = policy.evaluateWithSnapshot(request, directory, NOW)
  assert.equal(decision.stringify(2) + '\n', out)
  assert.equal(decision.outcome, 'needs_approval')
  assert.deepEqual(decision.stages.map((s) => s.name), ['manager', 'data-owner'])
  assert.deepEqual(decision.stages[0].approvers.map((a) => a.name), ['grace.hopper@contoso.com'])
  assert.equal(decision.expiry.maxDurationSeconds, 180 * 86400)
  assert.equal(decision.policyDigest, policy.digest)
  assert.deepEqual(decision.evaluatedAt, new Date(NOW))
  const stage = decision.reasons[1]
  assert.equal(stage.code, 'STAGE_REQUIRED')
  assert.equal(stage.effect, 'require')
  assert.deepEqual(stage.details, { required: '1', stage: 'manager' })
})

test('a role-assignable group is denied with its reason', () => {
  const policy = Policy.fromFile(example('policy.yaml'))
  const directory = DirectorySnapshot.fromFile(example('directory.yaml'))
  const decision = policy.evaluateWithSnapshot(
    { ...FINANCE_BI, resource: 'Global Admins' }, directory, NOW)
  assert.equal(decision.isAllowed, false)
  assert.equal(decision.outcome, 'deny')
})

test('a policy that does not load says where', () => {
  assert.throws(() => Policy.fromYaml('version: 1\ngroups:\n  - key: [\n'), (e) => {
    assert.ok(e instanceof PolicyError)
    assert.equal(e.code, 'GROUPGATE_POLICY')
    assert.equal(e.file, 'policy.yaml')
    assert.equal(typeof e.line, 'number')
    assert.ok(e.diagnostics.length >= 1)
    assert.equal(e.diagnostics[0].severity, 'error')
    return true
  })
  assert.throws(() => Policy.fromFile(join(ROOT, 'no-such-policy.yaml')),
    (e) => e instanceof InputError && e.code === 'GROUPGATE_INPUT' && e.path.endsWith('no-such-policy.yaml'))
  assert.throws(() => Policy.fromJson('{', 'mine.json'), (e) => e instanceof PolicyError && e.file === 'mine.json')
})

test('input of the wrong shape names the field', () => {
  const policy = Policy.fromFile(example('policy.yaml'))
  assert.throws(() => policy.evaluate({ ...FINANCE_BI, ticket: 5 }, {}, NOW),
    (e) => e instanceof InvalidRequestError && e.field === 'ticket')
  assert.throws(() => policy.evaluate(FINANCE_BI, { target: { id: 'x', upn: 'x', enabled: 'yes', user_type: 'Member' } }, NOW),
    (e) => e instanceof InvalidRequestError && e.field === 'target.enabled')
  assert.throws(() => policy.evaluate(FINANCE_BI, 'facts', NOW), (e) => e instanceof InvalidRequestError)
  assert.throws(() => policy.evaluate(FINANCE_BI, {}, 'yesterday'), (e) => e instanceof InvalidRequestError && e.field === 'now')
  assert.throws(() => new Request(null), (e) => e instanceof InvalidRequestError)
  // A hostile, deeply nested object is refused, not a crash.
  let deep = {}
  for (let i = 0; i < 10000; i++) deep = { nested: deep }
  assert.throws(() => policy.evaluate(FINANCE_BI, deep, NOW), (e) => e instanceof InvalidRequestError)
  // A cycle, a BigInt and an oversized object are refused by name too.
  const cyclic = { target: null }
  cyclic.self = cyclic
  assert.throws(() => policy.evaluate(FINANCE_BI, cyclic, NOW), (e) => e instanceof InvalidRequestError && /facts/.test(e.message))
  assert.throws(() => policy.evaluate({ ...FINANCE_BI, ticket: 10n }, {}, NOW), (e) => e instanceof InvalidRequestError && /request/.test(e.message))
  assert.throws(() => policy.evaluate({ ...FINANCE_BI, justification: 'x'.repeat(5 << 20) }, {}, NOW),
    (e) => e instanceof InvalidRequestError && /4194304/.test(e.message))
  // A getter that throws is the caller's error, reported as the input's.
  const hostile = { get ticket() { throw new Error('boom') } }
  assert.throws(() => policy.evaluate(hostile, {}, NOW), (e) => e instanceof InvalidRequestError && /boom/.test(e.message))
})

test('lint and lintPolicyText report findings with places', () => {
  const policy = Policy.fromFile(example('policy.yaml'))
  assert.ok(Array.isArray(policy.lint()))
  const findings = lintPolicyText('version: 1\nnot_a_key: 3\n')
  assert.ok(findings.some((f) => f.severity === 'error' && typeof f.line === 'number'))
})

test('CommonJS and ES modules give the same objects', () => {
  const require = createRequire(import.meta.url)
  const cjs = require('../index.cjs')
  assert.equal(cjs.Policy, esm.Policy)
  assert.equal(cjs.PolicyError, esm.PolicyError)
  assert.equal(typeof VERSION, 'string')
  const policy = cjs.Policy.fromFile(example('policy.yaml'))
  assert.ok(policy instanceof esm.Policy)
})

test('many decisions in a row, and the same answer each time', () => {
  const policy = Policy.fromFile(example('policy.yaml'))
  const directory = DirectorySnapshot.fromFile(example('directory.yaml'))
  const first = policy.evaluateWithSnapshot(FINANCE_BI, directory, NOW)
  for (let i = 0; i < 2000; i++) {
    assert.ok(policy.evaluateWithSnapshot(FINANCE_BI, directory, NOW).equals(first))
  }
})
