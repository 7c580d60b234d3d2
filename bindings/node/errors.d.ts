/** groupgate's error classes (written by hand; the rest of the API is index.d.ts, generated). */

/** The stable code of each error class. */
export type GroupgateErrorCode =
  | 'GROUPGATE_ERROR' | 'GROUPGATE_POLICY' | 'GROUPGATE_INPUT' | 'GROUPGATE_INVALID_REQUEST'
  | 'GROUPGATE_SETTINGS' | 'GROUPGATE_STORE' | 'GROUPGATE_WORKFLOW' | 'GROUPGATE_AUDIT'
  | 'GROUPGATE_SIGNATURE' | 'GROUPGATE_ADAPTER' | 'GROUPGATE_TRANSIENT' | 'GROUPGATE_NOT_FOUND'
  | 'GROUPGATE_CONFLICT' | 'GROUPGATE_FORBIDDEN' | 'GROUPGATE_INVALID' | 'GROUPGATE_PERMANENT'

/** The base of every groupgate error. */
export declare class GroupgateError extends Error {
  constructor(message: string, properties?: Record<string, unknown>)
  readonly code: GroupgateErrorCode
}

/** A finding attached to a PolicyError. */
export interface PolicyFinding {
  severity: 'error' | 'warning'
  code: string
  field: string
  message: string
  help: string | null
  line: number | null
  column: number | null
}

/** A policy that does not load: the first error's place, and every finding. */
export declare class PolicyError extends GroupgateError {
  readonly code: 'GROUPGATE_POLICY'
  readonly file: string
  readonly line: number | null
  readonly column: number | null
  readonly field: string | null
  /** The first error's kebab-case code, e.g. `unknown-group`. */
  readonly reasonCode: string | null
  readonly diagnostics: PolicyFinding[]
}

/** An input file that cannot be read, is beyond a limit, or does not parse. */
export declare class InputError extends GroupgateError {
  readonly code: 'GROUPGATE_INPUT'
  readonly path: string
  readonly line: number | null
  readonly column: number | null
  readonly field: string | null
}

/** A request, facts or other value passed in with the wrong shape. */
export declare class InvalidRequestError extends GroupgateError {
  readonly code: 'GROUPGATE_INVALID_REQUEST'
  readonly field: string | null
}

/** Service settings that cannot be used, or a call that needs them. */
export declare class SettingsError extends GroupgateError {
  readonly code: 'GROUPGATE_SETTINGS'
}

/** The store failed or cannot be opened. */
export declare class StoreError extends GroupgateError {
  readonly code: 'GROUPGATE_STORE'
}

/** A workflow that does not exist, was changed by another writer, or cannot be rebuilt. */
export declare class WorkflowError extends GroupgateError {
  readonly code: 'GROUPGATE_WORKFLOW'
  readonly workflow: string
}

/** An audit trail that does not verify. */
export declare class AuditError extends GroupgateError {
  readonly code: 'GROUPGATE_AUDIT'
}

/** A request or action token whose signature does not verify, or is stale. */
export declare class SignatureError extends GroupgateError {
  readonly code: 'GROUPGATE_SIGNATURE'
}

/** A directory, ticket or approval call that failed. Throw a subclass from a port of your own. */
export declare class AdapterError extends GroupgateError {
  readonly code: 'GROUPGATE_ADAPTER' | 'GROUPGATE_TRANSIENT' | 'GROUPGATE_NOT_FOUND' | 'GROUPGATE_CONFLICT'
    | 'GROUPGATE_FORBIDDEN' | 'GROUPGATE_INVALID' | 'GROUPGATE_PERMANENT'
  readonly kind?: 'transient' | 'not_found' | 'conflict' | 'forbidden' | 'invalid' | 'permanent'
  /** The service's hint, in seconds. */
  readonly retryAfter?: number | null
  readonly correlationId?: string | null
}
/** Try again later (throttling, a timeout, a service briefly down). */
export declare class TransientError extends AdapterError { readonly code: 'GROUPGATE_TRANSIENT' }
/** The object does not exist. */
export declare class NotFoundError extends AdapterError { readonly code: 'GROUPGATE_NOT_FOUND' }
/** The change clashes with the current state. */
export declare class ConflictError extends AdapterError { readonly code: 'GROUPGATE_CONFLICT' }
/** A permission is missing; retrying will not help. */
export declare class ForbiddenError extends AdapterError { readonly code: 'GROUPGATE_FORBIDDEN' }
/** The service refused the call as invalid. */
export declare class InvalidError extends AdapterError { readonly code: 'GROUPGATE_INVALID' }
/** Any other failure that retrying will not fix. */
export declare class PermanentError extends AdapterError { readonly code: 'GROUPGATE_PERMANENT' }
