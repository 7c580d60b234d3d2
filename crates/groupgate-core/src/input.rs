//! Reading untrusted YAML and JSON (policies, requests, directory facts,
//! settings, policy tests, webhook bodies) with limits enforced while it is
//! read: the size of the text, the nesting depth, the number of nodes
//! (aliases counted as expanded, so a "billion laughs" file stops early),
//! and the length of one string. Parsing is linear in the input and never
//! recursive in the parser, so no file can exhaust the stack or the memory.
//!
//! YAML is read by one parser (yaml-rust2's event parser) for both values
//! and locations: every error names the field and the line and column.
//!
//! ```
//! use groupgate_core::input::{from_yaml, Limits, LimitKind};
//! #[derive(Debug, serde::Deserialize)]
//! struct Settings { name: String, port: u16 }
//! let s: Settings = from_yaml("name: 07:00\nport: 8080\n", &Limits::default()).unwrap();
//! assert_eq!(s.name, "07:00"); // a plain scalar reads as the field's type asks
//! let deep = "a: ".to_owned() + &"[".repeat(500) + &"]".repeat(500);
//! let err = from_yaml::<serde_json::Value>(&deep, &Limits::default()).unwrap_err();
//! assert_eq!(err.limit, Some(LimitKind::Depth));
//! let err = from_yaml::<Settings>("name: x\nport: many\n", &Limits::default()).unwrap_err();
//! assert_eq!((err.field.as_str(), err.location.unwrap().line), ("port", 2));
//! ```

mod bounded;
mod de;
mod tree;

pub use bounded::{BoundedBytes, TooLarge};

use crate::policy::Location;
use serde::de::DeserializeOwned;
use std::fmt;

/// The limits on one input. Defaults suit a policy of 100,000 catalog
/// entries; the settings and request readers use tighter ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest text, in bytes.
    pub max_bytes: usize,
    /// The deepest nesting of sequences and mappings.
    pub max_depth: usize,
    /// The most nodes (scalars, sequences, mappings), aliases expanded.
    pub max_nodes: usize,
    /// The longest single string, in bytes.
    pub max_string: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 256 * 1024 * 1024,
            max_depth: 64,
            max_nodes: 10_000_000,
            max_string: 1024 * 1024,
        }
    }
}

impl Limits {
    /// Limits for a small document: a request, a settings file, a webhook
    /// body (1 MiB, depth 32, 100,000 nodes, 64 KiB strings).
    pub fn small() -> Self {
        Self {
            max_bytes: 1024 * 1024,
            max_depth: 32,
            max_nodes: 100_000,
            max_string: 64 * 1024,
        }
    }

    /// The limit of `kind`.
    pub fn get(&self, kind: LimitKind) -> usize {
        match kind {
            LimitKind::Bytes => self.max_bytes,
            LimitKind::Depth => self.max_depth,
            LimitKind::Nodes => self.max_nodes,
            LimitKind::String => self.max_string,
        }
    }

    /// These limits with any of `GROUPGATE_LIMIT_BYTES`, `_DEPTH`, `_NODES`
    /// and `_STRING` that `var` sets (whole numbers) taking their place.
    pub fn with_overrides(mut self, var: impl Fn(&str) -> Option<String>) -> Self {
        for kind in [
            LimitKind::Bytes,
            LimitKind::Depth,
            LimitKind::Nodes,
            LimitKind::String,
        ] {
            if let Some(v) = var(kind.variable()).and_then(|v| v.trim().parse::<usize>().ok()) {
                match kind {
                    LimitKind::Bytes => self.max_bytes = v,
                    LimitKind::Depth => self.max_depth = v,
                    LimitKind::Nodes => self.max_nodes = v,
                    LimitKind::String => self.max_string = v,
                }
            }
        }
        self
    }
}

/// Which limit an input exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitKind {
    /// The text is too large.
    Bytes,
    /// Sequences and mappings nest too deeply.
    Depth,
    /// Too many nodes (aliases expanded).
    Nodes,
    /// One string is too long.
    String,
}

impl LimitKind {
    /// The environment variable that raises this limit.
    pub fn variable(self) -> &'static str {
        match self {
            LimitKind::Bytes => "GROUPGATE_LIMIT_BYTES",
            LimitKind::Depth => "GROUPGATE_LIMIT_DEPTH",
            LimitKind::Nodes => "GROUPGATE_LIMIT_NODES",
            LimitKind::String => "GROUPGATE_LIMIT_STRING",
        }
    }

    fn what(self) -> &'static str {
        match self {
            LimitKind::Bytes => "bytes in the file",
            LimitKind::Depth => "levels of nesting",
            LimitKind::Nodes => "nodes (aliases counted as expanded)",
            LimitKind::String => "bytes in one string",
        }
    }
}

/// An input that could not be read: what, where, and — for a limit — which
/// one and how to raise it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The field path (e.g. `catalog[2].group`); empty for the document.
    pub field: String,
    /// Line and column, when known.
    pub location: Option<Location>,
    /// What is wrong.
    pub message: String,
    /// The limit exceeded, if that is what is wrong.
    pub limit: Option<LimitKind>,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(l) = self.location {
            write!(f, "line {}, column {}: ", l.line, l.column)?;
        }
        if !self.field.is_empty() {
            write!(f, "`{}`: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for InputError {}

impl InputError {
    pub(crate) fn syntax(message: String, location: Option<Location>) -> Self {
        Self {
            field: String::new(),
            location,
            message,
            limit: None,
        }
    }

    pub(crate) fn shape(field: String, message: String, location: Option<Location>) -> Self {
        Self {
            field,
            location,
            message,
            limit: None,
        }
    }

    pub(crate) fn limit(kind: LimitKind, limits: &Limits, location: Option<Location>) -> Self {
        Self {
            field: String::new(),
            location,
            message: format!(
                "more than {} {}: the input exceeds a limit; raise it with {}=<n> if the input is genuine",
                limits.get(kind),
                kind.what(),
                kind.variable()
            ),
            limit: Some(kind),
        }
    }

    /// A help line for people.
    pub fn help(&self) -> String {
        match self.limit {
            Some(kind) => format!(
                "set {} to a larger number to read a larger input",
                kind.variable()
            ),
            None if self.message.contains("unknown field") => {
                "check the spelling against the documentation".to_owned()
            }
            None => "see the documentation for the expected shape".to_owned(),
        }
    }
}

/// Text from bytes, or where the first byte that is not UTF-8 is.
///
/// ```
/// let err = groupgate_core::input::utf8(b"ok\xffno").unwrap_err();
/// assert!(err.message.contains("byte 2"));
/// ```
pub fn utf8(bytes: &[u8]) -> Result<&str, InputError> {
    std::str::from_utf8(bytes).map_err(|e| {
        InputError::syntax(
            format!(
                "the text is not UTF-8: byte {} (0x{:02x}) starts an invalid sequence; save the file as UTF-8",
                e.valid_up_to(),
                bytes.get(e.valid_up_to()).copied().unwrap_or(0)
            ),
            None,
        )
    })
}

/// Reads YAML (or JSON, which YAML 1.2 includes) into `T`.
pub fn from_yaml<T: DeserializeOwned>(text: &str, limits: &Limits) -> Result<T, InputError> {
    let root = tree::parse(text, limits)?;
    let de = de::NodeDe(&root);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        InputError::shape(
            if path == "." { String::new() } else { path },
            inner.message,
            inner.at,
        )
    })
}

/// Reads JSON into `T` (serde_json, with the size limit; its own nesting
/// limit is 128).
pub fn from_json<T: DeserializeOwned>(text: &str, limits: &Limits) -> Result<T, InputError> {
    if text.len() > limits.max_bytes {
        return Err(InputError::limit(LimitKind::Bytes, limits, None));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let location = (inner.line() > 0).then(|| Location {
            line: inner.line(),
            column: inner.column(),
        });
        let message = inner.to_string();
        let message = message
            .rfind(" at line ")
            .map_or(message.as_str(), |cut| &message[..cut])
            .to_owned();
        InputError::shape(
            if path == "." { String::new() } else { path },
            message,
            location,
        )
    })
}

/// Field path → location, for reporting findings about a document already
/// read (e.g. a policy's semantic errors). Built by walking the tree, not by
/// recursion.
#[derive(Debug, Default)]
pub struct Locator {
    places: rustc_hash::FxHashMap<String, Location>,
}

impl Locator {
    /// Indexes `text`; a text that does not parse gives an empty index.
    pub fn new(text: &str, limits: &Limits) -> Self {
        let Ok(root) = tree::parse(text, limits) else {
            return Self::default();
        };
        let mut places = rustc_hash::FxHashMap::default();
        let mut todo: Vec<(String, &tree::Located)> = vec![(String::new(), &root)];
        while let Some((path, node)) = todo.pop() {
            match &*node.node {
                tree::Node::Scalar(_) => {}
                tree::Node::Seq(items) => {
                    for (i, item) in items.iter().enumerate() {
                        let child = format!("{path}[{i}]");
                        // A mapping item is where its first key is (the
                        // parser marks a block mapping after that key).
                        let at = match &*item.node {
                            tree::Node::Map(pairs) => pairs.first().map_or(item.at, |(k, _)| k.at),
                            _ => item.at,
                        };
                        places.entry(child.clone()).or_insert(at);
                        todo.push((child, item));
                    }
                }
                tree::Node::Map(pairs) => {
                    if let Some((k, _)) = pairs.first() {
                        places.entry(path.clone()).or_insert(k.at);
                    }
                    for (k, v) in pairs {
                        let key = k.scalar_text().unwrap_or_default();
                        let child = if path.is_empty() {
                            key.to_owned()
                        } else {
                            format!("{path}.{key}")
                        };
                        places.entry(child.clone()).or_insert(k.at);
                        todo.push((child, v));
                    }
                }
            }
        }
        Self { places }
    }

    /// The location of exactly `path`, if the text has it.
    pub fn find_exact(&self, path: &str) -> Option<Location> {
        self.places.get(path).copied()
    }

    /// The location of `path`, or of its closest ancestor that has one.
    pub fn find(&self, path: &str) -> Option<Location> {
        let mut probe = path;
        loop {
            if let Some(loc) = self.places.get(probe) {
                return Some(*loc);
            }
            let cut = probe.rfind(['.', '['])?;
            probe = &probe[..cut];
        }
    }
}
