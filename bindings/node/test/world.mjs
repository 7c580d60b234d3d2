// An in-memory world written in JavaScript: a directory, a ticket system
// and an approval channel that an Engine runs over, as a caller's own ports
// would (the shapes of docs/node.md). Each can be made to fail or be slow.
import { DirectorySnapshot, ManualClock, NotFoundError, Engine, Policy } from '../index.mjs'
import { example } from './helpers.mjs'

export const START = '2026-11-25T10:00:00Z'
export const ADA = '11111111-0000-0000-0000-00000000000a'
export const FINANCE = 'aaaaaaaa-0000-0000-0000-000000000001'

export function financeBi(ticket = 'RITM1') {
  return {
    ticket,
    requester: 'ada.lovelace@contoso.com',
    target: 'ada.lovelace@contoso.com',
    resource: 'Access to Finance BI',
    justification: 'quarter-end reporting',
  }
}

export class Directory {
  constructor() {
    const snapshot = DirectorySnapshot.fromFile(example('directory.yaml')).toJSON()
    this.users = snapshot.users
    this.groups = new Map(snapshot.groups.map((g) => [g.id.toLowerCase(), g]))
    this.members = new Map()
    for (const [id, g] of this.groups) this.members.set(id, new Set((g.members || []).map((m) => this.#id(m))))
    this.calls = []
    this.fail = new Map()
    this.delayMs = 0
  }

  #find(key) {
    const k = key.toLowerCase()
    return this.users.find((u) => u.id.toLowerCase() === k || u.upn.toLowerCase() === k) || null
  }

  #id(key) {
    const u = this.#find(key)
    return u ? u.id.toLowerCase() : key.toLowerCase()
  }

  async #check(method) {
    this.calls.push(method)
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs))
    const failure = this.fail.get(method)
    if (failure) {
      this.fail.delete(method)
      throw failure
    }
  }

  static #user(u) {
    const out = { id: u.id, upn: u.upn, enabled: u.enabled ?? true, user_type: u.user_type ?? 'Member' }
    if (u.display_name) out.display_name = u.display_name
    if (u.employee_type) out.employee_type = u.employee_type
    return out
  }

  async user({ key }) {
    await this.#check('user')
    const u = this.#find(key)
    return u ? Directory.#user(u) : null
  }

  async manager({ user }) {
    await this.#check('manager')
    const u = this.#find(user)
    const boss = u && u.manager ? this.#find(u.manager) : null
    return boss ? Directory.#user(boss) : null
  }

  async group({ group }) {
    await this.#check('group')
    const g = this.groups.get(group.toLowerCase())
    if (!g) return null
    const { members, member_groups, ...rest } = g
    return rest
  }

  async membership({ group, user }) {
    await this.#check('membership')
    return this.isMember(group, user) ? 'direct' : 'not_member'
  }

  async memberOf({ user, groups }) {
    await this.#check('member_of')
    return groups.filter((g) => this.isMember(g, user))
  }

  async directGroups({ user }) {
    await this.#check('direct_groups')
    return [...this.members.entries()].filter(([, m]) => m.has(user.toLowerCase())).map(([g]) => g)
  }

  // A plain (not async) method: the engine takes both.
  addMember({ group, user }) {
    this.calls.push('add_member')
    const failure = this.fail.get('add_member')
    if (failure) {
      this.fail.delete('add_member')
      throw failure
    }
    const members = this.members.get(group.toLowerCase()) || new Set()
    this.members.set(group.toLowerCase(), members)
    const already = members.has(user.toLowerCase())
    members.add(user.toLowerCase())
    return { already, request_ids: [`js-${this.calls.length}`] }
  }

  async removeMember({ group, user }) {
    await this.#check('remove_member')
    const members = this.members.get(group.toLowerCase()) || new Set()
    const already = !members.has(user.toLowerCase())
    members.delete(user.toLowerCase())
    return { already, request_ids: [`js-${this.calls.length}`] }
  }

  isMember(group, user) {
    return (this.members.get(group.toLowerCase()) || new Set()).has(user.toLowerCase())
  }
}

export class Tickets {
  constructor() {
    this.requests = new Map()
    this.state = new Map()
    this.notes = new Map()
    this.keys = new Set()
  }

  open(request) {
    this.requests.set(request.ticket, structuredClone(request))
  }

  async readRequest({ ticket }) {
    const request = this.requests.get(ticket)
    if (!request) throw new NotFoundError(`no ticket ${ticket}`)
    return request
  }

  async update({ ticket, update }) {
    if (this.keys.has(update.idempotency_key)) return null
    this.keys.add(update.idempotency_key)
    if (update.state) this.state.set(ticket, update.state)
    this.#note(ticket, update.work_note)
    return null
  }

  async recordApproval({ ticket, decision }) {
    if (this.keys.has(decision.idempotency_key)) return null
    this.keys.add(decision.idempotency_key)
    this.#note(ticket, `approval record: ${decision.approver} ${decision.verdict} ${decision.stage} via ${decision.channel}`)
    return null
  }

  #note(ticket, text) {
    if (!this.notes.has(ticket)) this.notes.set(ticket, [])
    this.notes.get(ticket).push(text)
  }
}

export class Approvals {
  constructor() {
    this.asks = []
    this.given = new Map()
    this.cancelled = []
    this.notices = []
  }

  async ask({ ask }) {
    this.asks.push(ask)
    return { references: [`ask-${this.asks.length}`] }
  }

  async answers({ ticket }) {
    return this.given.get(ticket) || []
  }

  async cancel({ ticket, stage, reason }) {
    this.cancelled.push(`${ticket}/${stage}: ${reason}`)
  }

  async notify({ notice }) {
    this.notices.push(notice)
  }
}

/** An engine over a fresh world, on a clock the test moves. */
export function makeWorld(options = {}) {
  const policy = Policy.fromFile(example('policy.yaml'))
  const directory = options.directory || new Directory()
  const tickets = new Tickets()
  const approvals = new Approvals()
  const clock = new ManualClock(START)
  const engine = new Engine(policy, { directory, tickets, approvals }, { clock, seed: 7, store: options.store })
  return { engine, directory, tickets, approvals, clock, policy }
}
