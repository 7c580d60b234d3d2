'use strict'
// groupgate's error classes, and the one place the addon's errors become
// them. Every error groupgate throws or rejects with is a GroupgateError
// subclass with a stable `code`; policy errors carry `file`, `line`,
// `column`, `field` and `diagnostics`. Ports of your own may throw these
// classes (e.g. `new TransientError('Graph is throttling', { retryAfter: 5 })`)
// to tell the engine how to treat a failure.

class GroupgateError extends Error {
  /**
   * @param {string} message
   * @param {Record<string, unknown>} [properties]
   */
  constructor(message, properties) {
    super(message)
    this.name = new.target.name
    if (properties) {
      for (const [key, value] of Object.entries(properties)) {
        if (key !== 'message' && key !== 'name' && key !== 'stack' && key !== 'code') this[key] = value
      }
    }
  }
}
GroupgateError.prototype.code = 'GROUPGATE_ERROR'

const classes = { GroupgateError }

function define(name, parent, code) {
  const cls = { [name]: class extends parent {} }[name]
  Object.defineProperty(cls.prototype, 'code', { value: code, writable: false, enumerable: true })
  classes[name] = cls
  return cls
}

define('PolicyError', GroupgateError, 'GROUPGATE_POLICY')
define('InputError', GroupgateError, 'GROUPGATE_INPUT')
define('InvalidRequestError', GroupgateError, 'GROUPGATE_INVALID_REQUEST')
define('SettingsError', GroupgateError, 'GROUPGATE_SETTINGS')
define('StoreError', GroupgateError, 'GROUPGATE_STORE')
define('WorkflowError', GroupgateError, 'GROUPGATE_WORKFLOW')
define('AuditError', GroupgateError, 'GROUPGATE_AUDIT')
define('SignatureError', GroupgateError, 'GROUPGATE_SIGNATURE')
const AdapterError = define('AdapterError', GroupgateError, 'GROUPGATE_ADAPTER')
define('TransientError', AdapterError, 'GROUPGATE_TRANSIENT')
define('NotFoundError', AdapterError, 'GROUPGATE_NOT_FOUND')
define('ConflictError', AdapterError, 'GROUPGATE_CONFLICT')
define('ForbiddenError', AdapterError, 'GROUPGATE_FORBIDDEN')
define('InvalidError', AdapterError, 'GROUPGATE_INVALID')
define('PermanentError', AdapterError, 'GROUPGATE_PERMANENT')

const MARKER = '\u0001groupgate:'
// napi-rs's statuses for an argument of the wrong type.
const ARGUMENT_STATUSES = new Set([
  'InvalidArg', 'ObjectExpected', 'StringExpected', 'NameExpected', 'FunctionExpected',
  'NumberExpected', 'BooleanExpected', 'ArrayExpected', 'BigintExpected', 'DateExpected',
  'ArrayBufferExpected', 'DetachableArraybufferExpected',
])

/** The groupgate error an addon error stands for (other errors pass unchanged). */
function convert(error) {
  if (error instanceof GroupgateError || error === null || typeof error !== 'object') return error
  const message = typeof error.message === 'string' ? error.message : ''
  const at = message.indexOf(MARKER)
  if (at >= 0) {
    let payload
    try {
      payload = JSON.parse(message.slice(at + MARKER.length))
    } catch {
      return new GroupgateError(message.slice(at + MARKER.length))
    }
    const { class: name, message: text, ...properties } = payload
    const cls = classes[name] || GroupgateError
    const converted = new cls(text, properties)
    return converted
  }
  if (typeof error.code === 'string' && ARGUMENT_STATUSES.has(error.code)) {
    return new classes.InvalidRequestError(message, { field: null })
  }
  return error
}

module.exports = { ...classes, convert }
