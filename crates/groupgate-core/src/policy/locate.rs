//! Maps field paths such as `catalog[2].group` to lines and columns.
//!
//! Built only when a policy has something to report, so loading a valid policy
//! parses the text once.

use super::Location;
use rustc_hash::FxHashMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// Field path → location of the key (for mapping values) or the item (for sequence items).
#[derive(Debug, Default)]
pub(crate) struct Locator {
    places: FxHashMap<String, Location>,
}

impl Locator {
    /// Indexes `text` (YAML, or JSON, which YAML 1.2 reads too). A text that
    /// does not parse yields an empty index: locations are then simply absent.
    pub(crate) fn new(text: &str) -> Self {
        let mut builder = Builder::default();
        let mut parser = Parser::new_from_str(text);
        if parser.load(&mut builder, false).is_err() {
            return Self::default();
        }
        Self {
            places: builder.places,
        }
    }

    /// The location of exactly `path`, if the text has it.
    pub(crate) fn find_exact(&self, path: &str) -> Option<Location> {
        self.places.get(path).copied()
    }

    /// The location of `path`, or of its closest ancestor that has one.
    pub(crate) fn find(&self, path: &str) -> Option<Location> {
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

enum Frame {
    Map { key: Option<String> },
    Seq { next: usize },
}

#[derive(Default)]
struct Builder {
    stack: Vec<(Frame, String)>,
    places: FxHashMap<String, Location>,
}

fn location(mark: Marker) -> Location {
    Location {
        line: mark.line(),
        column: mark.col() + 1,
    }
}

impl Builder {
    /// The path of the node that starts now, advancing the parent's position.
    fn child_path(&mut self, mark: Marker, record: bool) -> Option<String> {
        let (frame, path) = self.stack.last_mut()?;
        match frame {
            Frame::Seq { next } => {
                let child = format!("{path}[{next}]");
                *next += 1;
                if record {
                    self.places.entry(child.clone()).or_insert(location(mark));
                }
                Some(child)
            }
            Frame::Map { key } => key.take().map(|k| {
                if path.is_empty() {
                    k
                } else {
                    format!("{path}.{k}")
                }
            }),
        }
    }

    /// Handles a scalar or alias: either a mapping key or a value.
    fn on_leaf(&mut self, text: Option<String>, mark: Marker) {
        if let Some((Frame::Map { key }, path)) = self.stack.last_mut()
            && key.is_none()
        {
            let k = text.unwrap_or_default();
            let full = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            self.places.entry(full).or_insert(location(mark));
            // A mapping is located at its first key.
            self.places.entry(path.clone()).or_insert(location(mark));
            *key = Some(k);
            return;
        }
        let _ = self.child_path(mark, true);
    }

    fn open(&mut self, frame: Frame, mark: Marker) {
        let record = matches!(frame, Frame::Seq { .. });
        let path = if self.stack.is_empty() {
            String::new()
        } else {
            self.child_path(mark, record).unwrap_or_default()
        };
        self.stack.push((frame, path));
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(text, ..) => self.on_leaf(Some(text), mark),
            Event::Alias(_) => self.on_leaf(None, mark),
            Event::SequenceStart(..) => self.open(Frame::Seq { next: 0 }, mark),
            Event::MappingStart(..) => self.open(Frame::Map { key: None }, mark),
            Event::SequenceEnd | Event::MappingEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_and_items() {
        let text = "version: 1\ncatalog:\n  - name: Finance BI\n    group: GRP-X\n  - name: B\n    aliases: [x, y]\n";
        let loc = Locator::new(text);
        assert_eq!(loc.find("version"), Some(Location { line: 1, column: 1 }));
        assert_eq!(
            loc.find("catalog[0].group"),
            Some(Location { line: 4, column: 5 })
        );
        assert_eq!(
            loc.find("catalog[1]"),
            Some(Location { line: 5, column: 5 })
        );
        assert_eq!(
            loc.find("catalog[1].aliases[1]"),
            Some(Location {
                line: 6,
                column: 18
            })
        );
        // Unknown leaf falls back to the closest ancestor.
        assert_eq!(
            loc.find("catalog[1].nope"),
            Some(Location { line: 5, column: 5 })
        );
    }

    #[test]
    fn reads_json_too() {
        let text = "{\n  \"version\": 1,\n  \"groups\": [\n    {\"id\": \"A\"}\n  ]\n}";
        let loc = Locator::new(text);
        assert_eq!(loc.find("groups[0].id").map(|l| l.line), Some(4));
    }
}
