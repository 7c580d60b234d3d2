//! A YAML (or JSON) document as a tree of located nodes, built from
//! yaml-rust2's event parser without recursion, with every limit enforced
//! while it is built: nesting depth, nodes (aliases counted as expanded),
//! string length. Building is linear in the input.

use super::{InputError, LimitKind, Limits};
use crate::policy::Location;
use std::collections::HashMap;
use std::rc::Rc;
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A scalar's text and how it was written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scalar {
    pub(crate) text: String,
    /// A plain scalar is typed by its text (`1` a number, `true` a bool, `~`
    /// null); a quoted or block scalar is always a string.
    pub(crate) plain: bool,
    /// A `!!str`, `!!int`, … tag, when one was written.
    pub(crate) tag: Option<String>,
}

/// One node of the document.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Scalar(Scalar),
    Seq(Vec<Located>),
    Map(Vec<(Located, Located)>),
}

/// A node with where it starts in the text. Anchored subtrees are shared
/// (`Rc`) so that an alias costs nothing to copy, while the node limit
/// counts it as expanded.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Located {
    pub(crate) node: Rc<Node>,
    pub(crate) at: Location,
}

impl Located {
    /// The scalar's text, if this is a scalar.
    pub(crate) fn scalar_text(&self) -> Option<&str> {
        match &*self.node {
            Node::Scalar(s) => Some(&s.text),
            _ => None,
        }
    }
}

fn location(mark: &Marker) -> Location {
    Location {
        line: mark.line(),
        column: mark.col() + 1,
    }
}

fn tag_name(tag: Option<Tag>) -> Option<String> {
    tag.map(|t| {
        if t.handle == "!!" || t.handle == "tag:yaml.org,2002:" {
            format!("!!{}", t.suffix)
        } else {
            format!("{}{}", t.handle, t.suffix)
        }
    })
}

/// The first key of `pairs` that repeats an earlier one.
fn duplicate_key(pairs: &[(Located, Located)]) -> Option<(String, Location)> {
    if pairs.len() <= 8 {
        for (i, (k, _)) in pairs.iter().enumerate() {
            let Some(key) = k.scalar_text() else {
                continue;
            };
            if pairs[..i].iter().any(|(p, _)| p.scalar_text() == Some(key)) {
                return Some((key.to_owned(), k.at));
            }
        }
        return None;
    }
    let mut seen: std::collections::HashSet<&str> =
        std::collections::HashSet::with_capacity(pairs.len());
    for (k, _) in pairs {
        if let Some(key) = k.scalar_text()
            && !seen.insert(key)
        {
            return Some((key.to_owned(), k.at));
        }
    }
    None
}

/// A collection being built.
struct Open {
    seq: bool,
    at: Location,
    anchor: usize,
    items: Vec<Located>,
    /// Nodes inside, aliases counted as expanded (for an anchor's cost).
    nodes: usize,
}

/// Parses `text` into its (first and only) document.
pub(crate) fn parse(text: &str, limits: &Limits) -> Result<Located, InputError> {
    if text.len() > limits.max_bytes {
        return Err(InputError::limit(LimitKind::Bytes, limits, None));
    }
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Open> = Vec::new();
    let mut anchors: HashMap<usize, (Located, usize)> = HashMap::new();
    let mut root: Option<Located> = None;
    let mut documents = 0usize;
    let mut nodes = 0usize;
    loop {
        let (event, mark) = parser.next_token().map_err(|e| {
            let at = Some(location(e.marker()));
            // The scanner's own nesting guard stops a deep input first.
            if e.info().contains("recursion limit") {
                InputError::limit(LimitKind::Depth, limits, at)
            } else {
                InputError::syntax(e.info().to_owned(), at)
            }
        })?;
        let at = location(&mark);
        // A finished node to place into its parent: the node, its cost (nodes
        // inside, aliases expanded), its anchor, and whether that cost was
        // already counted (a collection counts node by node as it is built).
        let finished: Option<(Located, usize, usize, bool)> = match event {
            Event::StreamEnd => break,
            Event::DocumentStart => {
                documents += 1;
                if documents > 1 {
                    return Err(InputError::syntax(
                        "the file holds more than one YAML document (`---`); keep one".to_owned(),
                        Some(at),
                    ));
                }
                None
            }
            Event::Scalar(text, style, anchor, tag) => {
                if text.len() > limits.max_string {
                    return Err(InputError::limit(LimitKind::String, limits, Some(at)));
                }
                let scalar = Scalar {
                    text,
                    plain: style == TScalarStyle::Plain,
                    tag: tag_name(tag),
                };
                Some((
                    Located {
                        node: Rc::new(Node::Scalar(scalar)),
                        at,
                    },
                    1,
                    anchor,
                    false,
                ))
            }
            Event::Alias(id) => {
                let Some((target, cost)) = anchors.get(&id) else {
                    return Err(InputError::syntax(
                        "an alias names an anchor that is not defined before it".to_owned(),
                        Some(at),
                    ));
                };
                Some((
                    Located {
                        node: Rc::clone(&target.node),
                        at,
                    },
                    *cost,
                    0,
                    false,
                ))
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if stack.len() >= limits.max_depth {
                    return Err(InputError::limit(LimitKind::Depth, limits, Some(at)));
                }
                stack.push(Open {
                    seq: matches!(event, Event::SequenceStart(..)),
                    at,
                    anchor,
                    items: Vec::new(),
                    nodes: 1,
                });
                nodes += 1;
                None
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(open) = stack.pop() else {
                    return Err(InputError::syntax(
                        "unbalanced collection".to_owned(),
                        Some(at),
                    ));
                };
                let node = if open.seq {
                    Node::Seq(open.items)
                } else {
                    let mut items = open.items.into_iter();
                    let mut pairs = Vec::with_capacity(items.len() / 2);
                    while let (Some(k), Some(v)) = (items.next(), items.next()) {
                        pairs.push((k, v));
                    }
                    if let Some((key, at)) = duplicate_key(&pairs) {
                        return Err(InputError::syntax(
                            format!("duplicate key `{key}`"),
                            Some(at),
                        ));
                    }
                    Node::Map(pairs)
                };
                // The collection's own node was counted when it opened.
                Some((
                    Located {
                        node: Rc::new(node),
                        at: open.at,
                    },
                    open.nodes,
                    open.anchor,
                    true,
                ))
            }
            Event::Nothing | Event::StreamStart | Event::DocumentEnd => None,
        };
        let Some((located, cost, anchor, counted)) = finished else {
            continue;
        };
        if !counted {
            nodes = nodes.saturating_add(cost);
        }
        if nodes > limits.max_nodes {
            return Err(InputError::limit(LimitKind::Nodes, limits, Some(at)));
        }
        if anchor != 0 {
            anchors.insert(anchor, (located.clone(), cost));
        }
        match stack.last_mut() {
            Some(parent) => {
                parent.nodes = parent.nodes.saturating_add(cost);
                parent.items.push(located);
            }
            None => root = Some(located),
        }
    }
    root.ok_or_else(|| InputError::syntax("the document is empty".to_owned(), None))
}
