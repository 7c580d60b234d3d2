'use strict'
// The package's CommonJS entry point: the native addon (built by napi-rs,
// loaded by native.cjs) with its errors turned into groupgate's error
// classes. Nothing else happens here: every rule is in Rust.

const native = require('./native.cjs')
const errors = require('./errors.cjs')
const { convert } = errors

/** `fn`, throwing (or rejecting with) groupgate's error classes. */
function guarded(fn) {
  return function groupgateCall(...args) {
    let result
    try {
      result = fn.apply(this, args)
    } catch (error) {
      throw convert(error)
    }
    if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
      return result.then(undefined, (error) => {
        throw convert(error)
      })
    }
    return result
  }
}

function guardMethods(prototype) {
  for (const name of Object.getOwnPropertyNames(prototype)) {
    if (name === 'constructor') continue
    const descriptor = Object.getOwnPropertyDescriptor(prototype, name)
    if (descriptor && descriptor.configurable && typeof descriptor.value === 'function') {
      Object.defineProperty(prototype, name, { ...descriptor, value: guarded(descriptor.value) })
    }
  }
}

/**
 * A class whose constructor, methods and static methods throw groupgate's
 * errors. Instance methods are guarded on the prototype (so objects the
 * addon makes have them too); the constructor and the static methods
 * (which napi-rs defines read-only) through a stand-in constructor that
 * shares the prototype, so `instanceof` holds for every instance.
 */
function guardClass(cls) {
  guardMethods(cls.prototype)
  const Guarded = {
    [cls.name]: function (...args) {
      if (new.target === undefined) {
        throw new TypeError(`Class constructor ${cls.name} cannot be invoked without 'new'`)
      }
      try {
        return Reflect.construct(cls, args, new.target === Guarded ? cls : new.target)
      } catch (error) {
        throw convert(error)
      }
    },
  }[cls.name]
  Guarded.prototype = cls.prototype
  for (const name of Object.getOwnPropertyNames(cls)) {
    const descriptor = Object.getOwnPropertyDescriptor(cls, name)
    if (name !== 'prototype' && descriptor && typeof descriptor.value === 'function') {
      Object.defineProperty(Guarded, name, { value: guarded(descriptor.value), enumerable: false })
    }
  }
  return Guarded
}

const Policy = guardClass(native.Policy)
const Request = guardClass(native.Request)
const Facts = guardClass(native.Facts)
const DirectorySnapshot = guardClass(native.DirectorySnapshot)
const Decision = guardClass(native.Decision)
const Workflow = guardClass(native.Workflow)
const Engine = guardClass(native.Engine)
const ManualClock = guardClass(native.ManualClock)
const ActionTokenKey = guardClass(native.ActionTokenKey)

module.exports = {
  Policy,
  Request,
  Facts,
  DirectorySnapshot,
  Decision,
  Workflow,
  Engine,
  ManualClock,
  ActionTokenKey,
  lintPolicyText: guarded(native.lintPolicyText),
  verifySlackRequest: guarded(native.verifySlackRequest),
  VERSION: native.VERSION,
  GroupgateError: errors.GroupgateError,
  PolicyError: errors.PolicyError,
  InputError: errors.InputError,
  InvalidRequestError: errors.InvalidRequestError,
  SettingsError: errors.SettingsError,
  StoreError: errors.StoreError,
  WorkflowError: errors.WorkflowError,
  AuditError: errors.AuditError,
  SignatureError: errors.SignatureError,
  AdapterError: errors.AdapterError,
  TransientError: errors.TransientError,
  NotFoundError: errors.NotFoundError,
  ConflictError: errors.ConflictError,
  ForbiddenError: errors.ForbiddenError,
  InvalidError: errors.InvalidError,
  PermanentError: errors.PermanentError,
}
