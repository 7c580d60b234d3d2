
/**
 * Which binding artifact the generated loader actually loaded: `'native'` for
 * a native addon, otherwise the `platformArchABI` of the WASI flavor. Every
 * flavor napi-rs can build is listed, because `NAPI_RS_NATIVE_LIBRARY_PATH`
 * can point the loader at a WASI artifact this package does not build itself.
 */
export declare const __napiBindingTarget: 'native' | 'wasm32-wasi' | 'wasm32-wasip1'

/**
 * The key that signs and checks the action tokens on approval buttons
 * (HMAC-SHA256; at least 32 bytes, kept like any secret: it never appears
 * in `toString()`, `util.inspect` or errors).
 */
export declare class ActionTokenKey {
  /**
   * A key from secret text of at least 32 bytes (e.g. from
   * `openssl rand -base64 48`, kept in the environment).
   */
  constructor(secret: string)
  /**
   * The Teams approval card for `ask` (what the engine passes to the
   * approvals port's `ask`): Adaptive Card 1.4 with `Action.Execute`
   * approve and reject buttons carrying signed action tokens, and the
   * approvers mentioned by directory object id.
   */
  renderTeamsCard(ask: ApprovalAskInput, options?: CardOptions | undefined | null): RenderedApproval
  /**
   * The Slack approval message for `ask`: `{ text, blocks }` (Block Kit,
   * within Slack's limits, request text escaped), approve and reject
   * buttons (reject behind a confirm dialog) carrying signed tokens.
   */
  renderSlackMessage(ask: ApprovalAskInput, options?: CardOptions | undefined | null): RenderedApproval
  /**
   * Checks a button's action token (the MAC in constant time, then its
   * expiry at `now`, then — when given — that it is for `workflow`) and
   * returns what it approves or rejects. Throws `SignatureError`.
   */
  verify(token: string, now: TimeArg, workflow?: string | undefined | null): ActionClaimsView
  /** Never the secret. */
  toString(): string
}

/** The evaluator's verdict with everything that led to it. */
export declare class Decision {
  /** The verdict. */
  get outcome(): Outcome
  /** Whether the change may go ahead (after approvals, if any). */
  get isAllowed(): boolean
  /** The group the request resolved to, if any. */
  get group(): ResolvedGroup | null
  /** The approval stages, in order. */
  get stages(): Array<ApprovalStage>
  /** When access ends, if it is time-bound. */
  get expiry(): Expiry | null
  /** The earliest time the change may execute. */
  get earliestExecution(): Date | null
  /** When unanswered approvals expire. */
  get approvalDeadline(): Date | null
  /** Every reason, in evaluation order. */
  get reasons(): Array<Reason>
  /** The reason codes, in order. */
  get codes(): Array<string>
  /** Whether a reason with `code` (e.g. `GROUP_ROLE_ASSIGNABLE`) is present. */
  hasReason(code: string): boolean
  /** Close catalog entries for an unresolved request. */
  get suggestions(): Array<CatalogSuggestion>
  /** The digest of the policy that decided. */
  get policyDigest(): string
  /** The time the decision was made at. */
  get evaluatedAt(): Date
  /**
   * The decision's JSON form (snake_case keys; what `groupgate check
   * --json` prints). `JSON.stringify(decision)` uses it.
   */
  toJSON(): Record<string, unknown>
  /**
   * The decision as JSON text, in the field order of `groupgate check
   * --json` (byte for byte with `indent` 2); compact without `indent`.
   */
  stringify(indent?: number | undefined | null): string
  /** Whether `other` is the same decision. */
  equals(other: Decision): boolean
}

/**
 * A directory snapshot (users and groups), for deciding without a live
 * directory as `groupgate check --facts` does.
 */
export declare class DirectorySnapshot {
  /** A snapshot from an object (`users`, `groups`). */
  constructor(fields: DirectorySnapshotInput)
  /** Reads a snapshot file (YAML, or JSON by its `.json` name). */
  static fromFile(path: string): DirectorySnapshot
  /** The snapshot as a plain object. */
  toJSON(): DirectorySnapshotInput
}

/**
 * The workflow engine. One step at a time per workflow; many calls may
 * be in flight at once.
 */
export declare class Engine {
  /**
   * An engine over the real Microsoft Graph and ServiceNow adapters, the
   * SQLite store and the chat channels, as the worker settings file at
   * `path` describes them (docs/operations.md); secrets come from the
   * environment. Throws `SettingsError`, `PolicyError` or `StoreError`.
   */
  static fromConfig(path: string): Engine
  /**
   * An engine for `policy` over port objects of your own (`directory`,
   * `tickets`, `approvals`: objects with the ports' methods, plain or
   * async; docs/node.md lists them). `options.store` is a SQLite file
   * (created when missing; in memory when absent), `options.clock` a
   * `ManualClock` (the system's clock when absent), `options.seed` makes
   * retry jitter reproducible.
   */
  constructor(policy: Policy, ports: EnginePorts, options?: EngineOptions)
  /** The policy in force. */
  get policy(): Policy
  /**
   * Reads the ticket through the ticket system and starts (or resumes)
   * its workflow, driving it until it waits or ends.
   */
  processTicket(ticket: string): Promise<Workflow>
  /**
   * Submits a request (a `Request` or a plain object) and drives its
   * workflow until it waits or ends; the same ticket twice is one
   * workflow.
   */
  submit(request: Request | RequestInput): Promise<Workflow>
  /** The workflow of `ticket`, as its records say (nothing is executed). */
  workflow(ticket: string): Promise<Workflow>
  /**
   * Collects the approvers' new answers for `ticket` from the approval
   * channel and drives the workflow on.
   */
  collectAnswers(ticket: string): Promise<Workflow>
  /**
   * Records an approver's answer for `ticket`'s open approval stage and
   * drives the workflow on. Resolves to whether it counted and why not.
   */
  recordApproval(ticket: string, answer: ApprovalInput): Promise<AnswerOutcome>
  /**
   * Offboards `user` (UPN or object id) at once: every governed
   * membership and open request of theirs ends, memberships groupgate did
   * not grant are removed and reported as drift. Resolves to the report
   * (`removed`, `drift`, `cancelled`, `in_progress`, `failed`,
   * `incomplete`); `operator` is recorded as who asked.
   */
  offboard(user: string, operator?: string | undefined | null): Promise<Record<string, unknown>>
  /**
   * One pass of what the worker does: effects left in flight resolved,
   * due timers fired, new answers collected (and, for an engine from a
   * settings file, new RITMs taken in and queued offboardings carried
   * out). Resolves to counts.
   */
  runDue(): Promise<PassCounts>
  /** The workflows in the store's index (no history replayed). */
  workflows(query?: WorkflowQuery | undefined | null): Promise<Array<Record<string, unknown>>>
  /** The whole audit trail, one plain object per record, in order. */
  auditTrail(): Promise<Array<Record<string, unknown>>>
  /**
   * Handles a Teams bot activity: pass the request's headers and raw
   * body as received. The Bot Framework token is checked (signature by
   * the published keys, issuer, audience, expiry, `serviceUrl`, the
   * tenant), a click's action token verified, the answer recorded
   * through the engine (approver by `aadObjectId`) and the refreshed
   * card returned as the invoke's answer. Needs an engine from a
   * settings file with `chat.teams`; answer with the `status` and
   * `body` it resolves to.
   */
  handleTeamsActivity(headers: Record<string, string | string[] | undefined>, rawBody: Buffer | string): Promise<ChatReply>
  /**
   * Handles a Slack interaction (`block_actions`): pass the request's
   * headers and raw body as received. The signature is checked at once
   * and the click acknowledged (answer Slack with the `status` and
   * `body` it resolves to, within three seconds); the answer is recorded
   * and the message redrawn through `response_url` after. Needs an
   * engine from a settings file with `chat.slack`.
   */
  handleSlackInteraction(headers: Record<string, string | string[] | undefined>, rawBody: Buffer | string): Promise<ChatReply>
  /** A description (never a secret). */
  toString(): string
}

/** What the evaluator knows about the people and the group, read once. */
export declare class Facts {
  /** Facts from an object, as in a facts file. */
  constructor(fields: FactsInput)
  /** The facts as a plain object (the facts file's shape). */
  toJSON(): FactsInput
}

/**
 * A clock you set: the engine reads the time from it (for tests,
 * simulations and replays). Starts at `start`.
 */
export declare class ManualClock {
  /** A clock showing `start` (a `Date` or RFC 3339 text). */
  constructor(start: TimeArg)
  /** The time it shows. */
  get now(): Date
  /** Sets the time. */
  set(to: TimeArg): void
  /** Moves the time on by `seconds` (may be fractional). */
  advance(seconds: number): void
}

/** A validated, compiled policy. Immutable; share it freely. */
export declare class Policy {
  /**
   * Reads, validates and compiles a policy file (YAML, or JSON by its
   * `.json` name). Throws `PolicyError` (with `file`, `line`, `column`,
   * `field` and every finding in `diagnostics`) or `InputError` for a
   * file that cannot be read or is beyond a size limit.
   */
  static fromFile(path: string): Policy
  /** A policy from YAML text; `sourceName` names it in errors. */
  static fromYaml(text: string, sourceName?: string | undefined | null): Policy
  /** A policy from JSON text; `sourceName` names it in errors. */
  static fromJson(text: string, sourceName?: string | undefined | null): Policy
  /** The digest of the policy's canonical form (every decision records it). */
  get digest(): string
  /** Warnings about likely mistakes (a policy that loaded has no errors). */
  lint(): Array<Diagnostic>
  /**
   * How the request's resource text resolves in the catalog: `status`
   * (`resolved`, `ambiguous`, `unresolved`) and, when resolved, the
   * group and how it matched.
   */
  resolve(request: Request | RequestInput): Resolution
  /**
   * Decides `request` on `facts` at `now` (a `Date` or RFC 3339 text;
   * the present when omitted). Pure: no I/O. Always returns a decision
   * (a deny when in doubt); throws `InvalidRequestError` only for input
   * of the wrong shape.
   */
  evaluate(request: Request | RequestInput, facts: Facts | FactsInput, now: TimeArg): Decision
  /**
   * Decides `request` against a directory snapshot: the facts are derived
   * from it as the engine gathers them, exactly as `groupgate check
   * --facts` does (the same JSON, byte for byte).
   */
  evaluateWithSnapshot(request: Request | RequestInput, directory: DirectorySnapshot | DirectorySnapshotInput, now: TimeArg): Decision
  /** What the engine would read from the directory for `request`. */
  factNeeds(request: Request | RequestInput): Record<string, unknown>
}

/**
 * A request, read once (reuse it to decide many times without reading the
 * object again).
 */
export declare class Request {
  /**
   * A request from its fields, as in a request file: `ticket`,
   * `requester`, `target`, `resource`, and optionally `end_date`,
   * `justification`, `suggestion`.
   */
  constructor(fields: RequestInput)
  /** The ticket it belongs to. */
  get ticket(): string
  /** The requester (UPN or object id). */
  get requester(): string
  /** Who is to get the access. */
  get target(): string
  /** What was asked for, as typed. */
  get resource(): string
  /** The request as a plain object (the request file's shape). */
  toJSON(): RequestInput
}

/** A workflow: one request, from intake to its end. */
export declare class Workflow {
  /** Its id (the ticket number). */
  get id(): string
  /** Its ticket. */
  get ticket(): string
  /**
   * Where it stands: `awaiting_approval`, `active`, `completed`,
   * `denied`, `rejected`, `removed`, … (docs/workflow.md).
   */
  get phase(): string
  /** Whether it has ended. */
  get isTerminal(): boolean
  /** The approval stage it waits for (from 0), while awaiting approval. */
  get stage(): number | null
  /**
   * The binding digest of each approval stage: what an approval must
   * carry to count.
   */
  get bindings(): Array<string>
  /** The latest decision (intake, then the re-check). */
  get decision(): Decision | null
  /** The target's directory object id, once resolved. */
  get target(): string | null
  /** The resolved group's object id. */
  get group(): string | null
  /** The workflow's whole state as a plain object (snake_case keys). */
  toJSON(): Record<string, unknown>
}

/** What an action token approves or rejects. */
export interface ActionClaimsView {
  /** The workflow (the ticket number). */
  workflow: string
  /** The stage. */
  stage: string
  /** The binding digest the card showed. */
  binding: string
  /** `approve` or `reject`. */
  verdict: string
  /** Not accepted after this instant. */
  expires: Date
  /** Unique per card. */
  nonce: string
}

/** What came of an answer given to `recordApproval`. */
export interface AnswerOutcome {
  /** Whether it counted. */
  counted: boolean
  /** Why it did not, when it did not (it is in the audit trail too). */
  refusal?: string
  /** The workflow afterwards. */
  workflow: Workflow
}

/** An approver's answer for `recordApproval`. */
export interface ApprovalInput {
  /**
   * Who answered: a UPN or e-mail (mapped to a directory object id), or
   * give `approverId`.
   */
  approver: string
  /** `approve` or `reject`. */
  verdict: 'approve' | 'reject'
  /** The approver's directory object id, when the channel authenticated it. */
  approverId?: string
  /** The stage answered (default: the open one). */
  stage?: string
  /**
   * The binding digest the approver saw (default: the open stage's). A
   * chat integration must pass it, so an answer to a changed request
   * does not count.
   */
  binding?: string
  /** A comment. */
  comment?: string
  /** The channel it came through (default `node`). */
  channel?: string
  /** When it was given (default: now). */
  at?: Date | string
}

/** One approval stage with its eligible approvers. */
export interface ApprovalStage {
  /** The stage's name. */
  name: string
  /** The rule that added it. */
  source: string
  /** How many distinct eligible approvers must approve. */
  required: number
  /** The eligible approvers. */
  approvers: Array<Approver>
  /** Who may answer after escalation. */
  alternates: Array<Approver>
  /** When to escalate, in seconds after the stage is asked. */
  escalateAfterSeconds?: number
}

/** Someone who may approve a stage, known by directory object id. */
export interface Approver {
  /** Their directory object id. */
  id: string
  /** Their user principal name. */
  name: string
  /** Why they may approve: `manager`, `app_owner`, `data_owner`, `group:<name>`, `user`. */
  role: string
}

/** How to render an approval card. */
export interface CardOptions {
  /** A link to the ticket, with `{ticket}` for its number. */
  ticketUrl?: string
  /**
   * How long the buttons work when the ask has no deadline (seconds;
   * default 7 days).
   */
  lifetimeSeconds?: number
}

/** A catalog entry close to what was asked for. */
export interface CatalogSuggestion {
  /** The entry's name. */
  entry: string
  /** The group key it maps to. */
  group: string
  /** The name or alias that scored. */
  matched: string
  /** Similarity from 0 to 1. */
  score: number
}

/** What to answer Slack or Teams, and what came of the click. */
export interface ChatReply {
  /** The HTTP status to answer with. */
  status: number
  /** The JSON body to answer with (`null`: an empty body). */
  body: Record<string, unknown> | null
  /** The ticket the click was for, when it named one genuinely. */
  ticket?: string
  /** Whether the answer counted (absent: not known yet, or no answer). */
  counted?: boolean
  /** Why the click or the answer was refused. */
  refusal?: string
}

/** A finding about a policy: an error or a warning, located. */
export interface Diagnostic {
  /** `error` or `warning`. */
  severity: string
  /** A stable kebab-case code, e.g. `unknown-group`. */
  code: string
  /** The field it is about, e.g. `catalog[2].group`. */
  field: string
  /** What is wrong. */
  message: string
  /** What to do about it. */
  help?: string
  /** The line, from 1, when known. */
  line?: number
  /** The column, from 1, when known. */
  column?: number
}

/** When granted access ends. */
export interface Expiry {
  /** The requested end date. */
  endDate?: Date
  /** The shortest maximum duration of the rules that apply, in seconds. */
  maxDurationSeconds?: number
  /** The rule that set it. */
  maxDurationRule?: string
  /** The expiry if access is granted at the earliest execution time. */
  projected: Date
}

/**
 * Every error and warning about policy text, located (a policy that does
 * not load gives its errors here instead of throwing). `json`: the text is
 * JSON rather than YAML.
 */
export declare function lintPolicyText(text: string, json?: boolean | undefined | null): Array<Diagnostic>

/** The verdict. */
export type Outcome = 'deny' | 'already_member' | 'needs_approval' | 'pre_approved'

/** What one pass did. */
export interface PassCounts {
  /** New RITMs taken in. */
  takenIn: number
  /** Workflows stepped. */
  stepped: number
  /** Timers fired. */
  fired: number
  /** Users offboarded from the queue. */
  offboarded: number
  /** Steps that failed (retried later). */
  failures: number
}

/** Why the decision is what it is. */
export interface Reason {
  /** The stable code, e.g. `GROUP_ROLE_ASSIGNABLE` (docs/reason-codes.md). */
  code: string
  /** What it does to the decision: `info`, `require`, `deny`, … */
  effect: string
  /** The reason in words. */
  message: string
  /** The policy rule that contributed it. */
  rule?: string
  /** Machine-readable details (text values). */
  details: Record<string, string>
}

/**
 * A rendered approval request: the card or message, and the view it was
 * drawn from (keep it to redraw the card closed later).
 */
export interface RenderedApproval {
  /**
   * The Teams Adaptive Card (an attachment's `content`), or Slack's
   * `{ text, blocks }`.
   */
  message: Record<string, unknown>
  /** What the card shows, with its buttons' tokens. */
  view: Record<string, unknown>
}

/** The group a request resolved to. */
export interface ResolvedGroup {
  /** The group's key in the policy. */
  key: string
  /** The group's directory object id. */
  objectId: string
  /** Its display name from the policy. */
  displayName?: string
  /** Risk tier: `low`, `medium` or `high`. */
  risk: string
  /** Its tags. */
  tags: Array<string>
  /** How the text matched: `exact`, `alias`, `phrase`, `pattern`, `suggestion`. */
  matchedBy: string
  /** What matched. */
  matched: string
  /** The catalog entry that matched, if any. */
  catalogEntry?: string
}

/**
 * Checks a Slack request's signature: `X-Slack-Signature` over the raw
 * body and `X-Slack-Request-Timestamp`, within five minutes of `now`, in
 * constant time. Throws `SignatureError` saying what is wrong; pass the
 * body exactly as received (before any parsing).
 */
export declare function verifySlackRequest(signingSecret: string, headers: Record<string, string | string[] | undefined>, rawBody: Buffer | string, now: TimeArg): void

/** The package's version. */
export declare const VERSION: string

/** Which workflows `workflows()` lists. */
export interface WorkflowQuery {
  /** Only open (`true`) or ended (`false`) ones. */
  open?: boolean
  /** Only those in this phase. */
  phase?: string
  /** Only those for this target (directory object id). */
  target?: string
  /** At most this many (0 or absent: all). */
  limit?: number
}
