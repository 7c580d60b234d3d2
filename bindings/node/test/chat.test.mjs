// Chat helpers for a bot of one's own: cards with signed action tokens,
// tokens checked back (tampered, expired, for another request), and
// Slack's request signatures.
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { inspect } from 'node:util'
import { test } from 'node:test'
import { ActionTokenKey, InvalidRequestError, SettingsError, SignatureError, verifySlackRequest } from '../index.mjs'

const SECRET = 'a-test-action-token-key-of-at-least-32-bytes'
const ASK = {
  ticket: 'RITM0010001',
  stage: 'manager',
  approvers: [{ id: '22222222-0000-0000-0000-00000000000b', name: 'grace.hopper@contoso.com', role: 'manager' }],
  summary: 'ada.lovelace@contoso.com asks for *Finance BI* <script>',
  binding: 'sha256:abc',
  deadline: '2026-12-10T10:00:00Z',
  idempotency_key: 'RITM0010001/manager/1',
}

test('a Teams card carries signed tokens that verify back', () => {
  const key = new ActionTokenKey(SECRET)
  const { message, view } = key.renderTeamsCard(ASK, { ticketUrl: 'https://contoso.service-now.com/{ticket}' })
  assert.equal(message.type, 'AdaptiveCard')
  assert.equal(message.version, '1.4')
  const text = JSON.stringify(message)
  assert.match(text, /RITM0010001/)
  assert.match(text, /groupgate\.approve/)
  assert.equal(view.ticket_url, 'https://contoso.service-now.com/RITM0010001')
  const claims = key.verify(view.approve_token, '2026-12-01T00:00:00Z', 'RITM0010001')
  assert.deepEqual(
    { workflow: claims.workflow, stage: claims.stage, binding: claims.binding, verdict: claims.verdict },
    { workflow: 'RITM0010001', stage: 'manager', binding: 'sha256:abc', verdict: 'approve' },
  )
  assert.deepEqual(claims.expires, new Date(ASK.deadline))
  assert.equal(key.verify(view.reject_token, new Date('2026-12-01T00:00:00Z')).verdict, 'reject')
})

test('forged, expired and misplaced tokens are refused', () => {
  const key = new ActionTokenKey(SECRET)
  const { view } = key.renderSlackMessage(ASK)
  const token = view.approve_token
  const tampered = token.slice(0, -2) + (token.endsWith('A') ? 'BB' : 'AA')
  assert.throws(() => key.verify(tampered, '2026-12-01T00:00:00Z'), (e) => e instanceof SignatureError && e.code === 'GROUPGATE_SIGNATURE')
  assert.throws(() => key.verify(token, '2026-12-11T00:00:00Z'), (e) => e instanceof SignatureError && /expired/.test(e.message))
  assert.throws(() => key.verify(token, '2026-12-01T00:00:00Z', 'RITM0099999'), SignatureError)
  const other = new ActionTokenKey('another-key-of-at-least-thirty-two-bytes!!')
  assert.throws(() => other.verify(token, '2026-12-01T00:00:00Z'), SignatureError)
})

test('a Slack message escapes the request text and stays within Slack limits', () => {
  const key = new ActionTokenKey(SECRET)
  const { message } = key.renderSlackMessage(ASK)
  assert.ok(message.blocks.length <= 50)
  const text = JSON.stringify(message)
  assert.ok(!text.includes('<script>'), 'markup from the request reached Slack')
  assert.match(text, /&lt;script&gt;/)
})

test('a short key is refused and the key never shows', () => {
  assert.throws(() => new ActionTokenKey('short'), (e) => e instanceof SettingsError && /32 bytes/.test(e.message))
  const key = new ActionTokenKey(SECRET)
  assert.ok(!String(key).includes(SECRET))
  assert.ok(!inspect(key).includes(SECRET))
})

function slackHeaders(secret, timestamp, body) {
  const signature = 'v0=' + createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')
  return { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signature }
}

test('Slack request signatures: genuine, altered, stale, missing', () => {
  const secret = 'slack-signing-secret'
  const body = 'payload=%7B%22type%22%3A%22block_actions%22%7D'
  const now = new Date('2026-12-04T10:00:00Z')
  const ts = Math.floor(now.getTime() / 1000)
  verifySlackRequest(secret, slackHeaders(secret, ts, body), Buffer.from(body), now)
  verifySlackRequest(secret, slackHeaders(secret, ts, body), body, now)
  assert.throws(() => verifySlackRequest(secret, slackHeaders(secret, ts, body), body + 'x', now), SignatureError)
  assert.throws(() => verifySlackRequest(secret, slackHeaders(secret, ts - 600, body), body, now), SignatureError)
  assert.throws(() => verifySlackRequest(secret, {}, body, now), (e) => e instanceof SignatureError && /X-Slack/.test(e.message))
  assert.throws(() => verifySlackRequest('', slackHeaders(secret, ts, body), body, now), InvalidRequestError)
})
