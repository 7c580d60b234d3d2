// The package's declarations: the API generated from the Rust code
// (index.d.ts) and the error classes (errors.d.ts).
export * from './index'
export * from './errors'
