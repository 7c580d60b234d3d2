// The package's ES module entry point: the same objects as index.cjs.
import groupgate from './index.cjs'

export const {
  Policy,
  Request,
  Facts,
  DirectorySnapshot,
  Decision,
  Workflow,
  Engine,
  ManualClock,
  ActionTokenKey,
  lintPolicyText,
  verifySlackRequest,
  VERSION,
  GroupgateError,
  PolicyError,
  InputError,
  InvalidRequestError,
  SettingsError,
  StoreError,
  WorkflowError,
  AuditError,
  SignatureError,
  AdapterError,
  TransientError,
  NotFoundError,
  ConflictError,
  ForbiddenError,
  InvalidError,
  PermanentError,
} = groupgate

export default groupgate
