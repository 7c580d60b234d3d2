// Type-checked (tsc --noEmit, strict) but never run: every part of the
// public API used as a TypeScript caller would, so the declarations must
// type it without `any`.
import {
  ActionTokenKey, DirectorySnapshot, Engine, Facts, ManualClock, Policy, Request,
  lintPolicyText, verifySlackRequest, VERSION,
  GroupgateError, PolicyError, TransientError, NotFoundError,
  type Decision, type Workflow, type EnginePorts, type UserInput, type ChatReply,
  type AnswerOutcome, type PassCounts, type Diagnostic, type Outcome,
} from 'groupgate'

const policy: Policy = Policy.fromFile('examples/policy.yaml')
const fromText: Policy = Policy.fromYaml('version: 1', 'inline.yaml')
const digest: string = policy.digest + fromText.digest + Policy.fromJson('{}').digest + VERSION
const findings: Diagnostic[] = [...policy.lint(), ...lintPolicyText('version: 1', false)]
const line: number | null | undefined = findings[0]?.line

const request = new Request({ ticket: 'RITM1', requester: 'a@contoso.com', target: 'a@contoso.com', resource: 'Finance BI' })
const facts = new Facts({ requester: null, target: null })
const decision: Decision = policy.evaluate(request, facts, new Date())
const outcome: Outcome = decision.outcome
const allowed: boolean = decision.isAllowed && outcome !== 'deny'
const groupKey: string | undefined = decision.group?.key
const approvers: string[] = decision.stages.flatMap((s) => s.approvers.map((a) => a.name))
const codes: string[] = decision.reasons.map((r) => `${r.code}:${r.details['stage'] ?? ''}`)
const when: Date | null = decision.earliestExecution
const projected: Date | undefined = decision.expiry?.projected
const text: string = decision.stringify(2) + JSON.stringify(decision.toJSON())
const snapshot = DirectorySnapshot.fromFile('examples/directory.yaml')
const many: Decision[] = policy.evaluateMany([[request, facts], [request.toJSON(), { target: null }]], new Date())
const same: boolean = many.length > 0 && policy.evaluateWithSnapshot(request.toJSON(), snapshot, '2026-11-25T10:00:00Z').equals(decision)

const user: UserInput = { id: 'u1', upn: 'u1@contoso.com', enabled: true, user_type: 'Member' }
const ports: EnginePorts = {
  directory: {
    user: async ({ key }) => (key === user.upn ? user : null),
    manager: () => null,
    group: async () => null,
    membership: async () => 'not_member' as const,
    memberOf: async ({ groups }) => groups.slice(0, 0),
    directGroups: () => [],
    addMember: async () => ({ already: false, request_ids: [] }),
    removeMember: async () => null,
  },
  tickets: {
    readRequest: async ({ ticket }) => ({ ticket, requester: user.upn, target: user.upn, resource: 'Finance BI' }),
    update: async () => null,
    recordApproval: async () => null,
  },
  approvals: {
    ask: async () => ({ references: ['ask-1'] }),
    answers: async () => [],
    cancel: async () => null,
    notify: async () => null,
  },
}
const clock = new ManualClock('2026-11-25T10:00:00Z')
clock.advance(60)
clock.set(new Date())
const engine = new Engine(policy, ports, { clock, store: ':memory:', seed: 1 })
const configured: Engine = Engine.fromConfig('groupgate.yaml')

async function flow(): Promise<string> {
  const wf: Workflow = await engine.processTicket('RITM1')
  const submitted: Workflow = await engine.submit({ ticket: 'RITM2', requester: 'a', target: 'a', resource: 'x' })
  const answered: AnswerOutcome = await engine.recordApproval('RITM1', { approver: 'grace@contoso.com', verdict: 'approve', channel: 'teams' })
  const collected: Workflow = await engine.collectAnswers('RITM1')
  const pass: PassCounts = await engine.runDue()
  const rows: Array<Record<string, unknown>> = await engine.workflows({ open: true, limit: 10 })
  const trail: Array<Record<string, unknown>> = await engine.auditTrail()
  const report: Record<string, unknown> = await engine.offboard('a@contoso.com', 'hr')
  const reply: ChatReply = await configured.handleTeamsActivity({ authorization: 'Bearer x' }, Buffer.from('{}'))
  const slack: ChatReply = await configured.handleSlackInteraction({}, 'payload=')
  const stage: number | null = answered.workflow.stage
  return [wf.phase, submitted.id, collected.ticket, pass.stepped, rows.length, trail.length, report, reply.status, slack.counted, stage].join()
}

const key = new ActionTokenKey('a-key-of-at-least-thirty-two-bytes-long')
const card = key.renderTeamsCard({
  ticket: 'RITM1', stage: 'manager', approvers: [{ id: 'u1', name: 'u1@contoso.com' }],
  summary: 's', binding: 'b', idempotency_key: 'k',
}, { ticketUrl: 'https://x/{ticket}', lifetimeSeconds: 3600 })
const claims = key.verify(String(card.view['approve_token']), new Date(), 'RITM1')
const verdict: string = claims.verdict
verifySlackRequest('secret', { 'x-slack-signature': 'v0=00' }, Buffer.from(''), new Date())

function explain(error: unknown): string {
  if (error instanceof PolicyError) return `${error.file}:${error.line}:${error.column} ${error.diagnostics.length}`
  if (error instanceof TransientError) return `retry after ${error.retryAfter ?? 0}`
  if (error instanceof NotFoundError) return error.code
  if (error instanceof GroupgateError) return error.code
  return String(error)
}

export { digest, line, allowed, groupKey, approvers, codes, when, projected, text, same, flow, verdict, explain }
