// The cost of `policy.evaluate` from Node beside the native figure, on the
// decision benchmark's mixed pool, measured in one run.
//
//   cd bindings/node && npm ci && npm run build     # the release addon
//   node benches/evaluate.mjs [ENTRIES]             # default 10000
//
// It runs the native example `decision_pool` (release) for the pool and the
// native time, then times, per decision (median over rounds of the mean
// over the pool): plain objects converted on every call, and `Request` and
// `Facts` read once.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Facts, Policy, Request } from '../index.mjs'
import { ROOT } from '../test/helpers.mjs'

const ROUNDS = 21
const entries = Number(process.argv[2] || 10000)
const dir = mkdtempSync(join(tmpdir(), 'groupgate-bench-'))
const native = JSON.parse(execFileSync('cargo', [
  'run', '--quiet', '--release', '-p', 'groupgate-core', '--example', 'decision_pool', '--', dir, String(entries),
], { cwd: ROOT, encoding: 'utf8' }))
const policy = Policy.fromFile(join(dir, 'policy.yaml'))
const pool = JSON.parse(readFileSync(join(dir, 'pool.json'), 'utf8'))
const plain = pool.map((c) => [c.request, c.facts, c.now])
const typed = plain.map(([r, f, n]) => [new Request(r), new Facts(f), n])
for (let i = 0; i < 50; i++) {
  if (!policy.evaluate(...plain[i]).equals(policy.evaluate(...typed[i]))) throw new Error('typed and plain inputs disagree')
}

function perDecision(cases) {
  const samples = []
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint()
    for (const [r, f, n] of cases) policy.evaluate(r, f, n)
    samples.push(Number(process.hrtime.bigint() - start) / cases.length)
  }
  samples.sort((a, b) => a - b)
  return samples[Math.floor(samples.length / 2)]
}

function perDecisionMany(cases) {
  const byNow = new Map()
  for (const [r, f, n] of cases) {
    if (!byNow.has(n)) byNow.set(n, [])
    byNow.get(n).push([r, f])
  }
  const samples = []
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint()
    for (const [n, batch] of byNow) policy.evaluateMany(batch, n)
    samples.push(Number(process.hrtime.bigint() - start) / cases.length)
  }
  samples.sort((a, b) => a - b)
  return samples[Math.floor(samples.length / 2)]
}

perDecision(plain) // warm-up
const nativeNs = Number(native.native_ns_per_decision)
const plainNs = perDecision(plain)
const typedNs = perDecision(typed)
const manyNs = perDecisionMany(typed)
console.log(JSON.stringify({
  entries,
  native_ns: Math.round(nativeNs),
  node_plain_objects_ns: Math.round(plainNs),
  node_typed_ns: Math.round(typedNs),
  node_typed_evaluate_many_ns: Math.round(manyNs),
  node_plain_objects_ratio: Math.round((plainNs / nativeNs) * 100) / 100,
  node_typed_ratio: Math.round((typedNs / nativeNs) * 100) / 100,
  node_typed_evaluate_many_ratio: Math.round((manyNs / nativeNs) * 100) / 100,
}, null, 2))
