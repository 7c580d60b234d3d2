//! The canonical JSON a record's hash covers, written straight from the
//! record: the bytes `serde_json::to_value(record)` then `to_string()` gave
//! (every object's keys sorted, compact, numbers and strings as serde_json
//! writes them), without building the value tree. Sealing a record was the
//! engine's largest cost; trails sealed either way verify either way (a
//! test compares the two on every kind of record).
//!
//! Structure (objects, arrays, enum shapes) is written here; every scalar
//! goes through serde_json itself, so its formatting cannot drift.

use serde::ser::{self, Serialize};
use std::borrow::Cow;
use std::fmt;

/// Why a value has no canonical form (a map key that is not a string or a
/// number, a number out of range): the same cases `serde_json::to_value`
/// refuses.
#[derive(Debug)]
pub(crate) struct CanonicalError(String);

impl fmt::Display for CanonicalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CanonicalError {}

impl ser::Error for CanonicalError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        CanonicalError(msg.to_string())
    }
}

type Result<T> = std::result::Result<T, CanonicalError>;

/// The canonical JSON of `value`, leaving out the top-level key `skip`.
pub(crate) fn to_canonical<T: Serialize + ?Sized>(value: &T, skip: Option<&str>) -> Result<String> {
    let mut out = String::with_capacity(1024);
    value.serialize(Writer {
        out: &mut out,
        skip,
    })?;
    Ok(out)
}

fn scalar(out: &mut String, value: serde_json::Value) {
    // `Value`'s own Display: exactly the bytes `to_string` gives.
    use std::fmt::Write;
    let _ = write!(out, "{value}");
}

/// A JSON string as serde_json writes it: `"` and `\\` escaped, the
/// control characters below U+0020 as `\\b \\t \\n \\f \\r` or `\\u00xx`,
/// everything else (non-ASCII included) as it is.
fn string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            0x08 => Some("\\b"),
            0x09 => Some("\\t"),
            0x0a => Some("\\n"),
            0x0c => Some("\\f"),
            0x0d => Some("\\r"),
            0x00..=0x1f => None,
            _ => continue,
        };
        // Every byte escaped is ASCII, so `start..i` is on char boundaries.
        out.push_str(s.get(start..i).unwrap_or_default());
        match escape {
            Some(e) => out.push_str(e),
            None => {
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
        start = i + 1;
    }
    out.push_str(s.get(start..).unwrap_or_default());
    out.push('"');
}

/// Writes one value into `out`; `skip` applies to the next object only.
struct Writer<'a> {
    out: &'a mut String,
    skip: Option<&'a str>,
}

/// An object being written. While keys arrive in sorted order (most
/// structs), each entry is written straight into `out`; the first key out of
/// order moves what was written into `buf`, and from then on entries are
/// gathered there, sorted by key (the last of equal keys wins, as in a map)
/// and copied out at the end.
struct Object<'a> {
    out: &'a mut String,
    skip: Option<&'a str>,
    /// Where the object's entries start in `out`.
    body: usize,
    /// Entries still written straight into `out`.
    direct: bool,
    buf: String,
    /// Keys and where their values are (in `out` while direct, else `buf`).
    entries: Vec<(Cow<'static, str>, std::ops::Range<usize>)>,
    key: Option<String>,
    /// `Some(variant)`: the object is the value of `{"variant": …}`.
    variant: Option<&'static str>,
}

impl<'a> Object<'a> {
    fn new(
        out: &'a mut String,
        skip: Option<&'a str>,
        len: usize,
        variant: Option<&'static str>,
    ) -> Self {
        if let Some(variant) = variant {
            out.push('{');
            string(out, variant);
            out.push(':');
        }
        out.push('{');
        let body = out.len();
        Object {
            out,
            skip,
            body,
            direct: true,
            buf: String::new(),
            entries: Vec::with_capacity(len),
            key: None,
            variant,
        }
    }

    fn push<T: Serialize + ?Sized>(&mut self, key: Cow<'static, str>, value: &T) -> Result<()> {
        if self.skip == Some(&*key) {
            return Ok(());
        }
        if self.direct && self.entries.last().is_some_and(|(last, _)| *last >= key) {
            self.gather();
        }
        if self.direct {
            if !self.entries.is_empty() {
                self.out.push(',');
            }
            string(self.out, &key);
            self.out.push(':');
            let start = self.out.len();
            value.serialize(Writer {
                out: self.out,
                skip: None,
            })?;
            self.entries.push((key, start..self.out.len()));
        } else {
            let start = self.buf.len();
            value.serialize(Writer {
                out: &mut self.buf,
                skip: None,
            })?;
            self.entries.push((key, start..self.buf.len()));
        }
        Ok(())
    }

    /// Moves the entries written so far out of `out` into `buf`.
    fn gather(&mut self) {
        self.direct = false;
        self.buf = self.out.split_off(self.body);
        for (_, range) in &mut self.entries {
            *range = range.start - self.body..range.end - self.body;
        }
    }

    fn finish(mut self) -> Result<()> {
        if !self.direct {
            self.entries.sort_by(|a, b| a.0.cmp(&b.0));
            self.out
                .reserve(self.buf.len() + self.entries.len() * 16 + 2);
            let mut first = true;
            let count = self.entries.len();
            for i in 0..count {
                // Equal keys: only the last one counts.
                if i + 1 < count && self.entries[i].0 == self.entries[i + 1].0 {
                    continue;
                }
                if !first {
                    self.out.push(',');
                }
                first = false;
                let (key, range) = &self.entries[i];
                string(self.out, key);
                self.out.push(':');
                self.out
                    .push_str(self.buf.get(range.clone()).unwrap_or_default());
            }
        }
        self.out.push('}');
        if self.variant.is_some() {
            self.out.push('}');
        }
        Ok(())
    }
}

/// An array being written.
struct Array<'a> {
    out: &'a mut String,
    first: bool,
    variant: Option<&'static str>,
}

impl<'a> Array<'a> {
    fn open(out: &'a mut String, variant: Option<&'static str>) -> Self {
        if let Some(v) = variant {
            out.push('{');
            string(out, v);
            out.push(':');
        }
        out.push('[');
        Array {
            out,
            first: true,
            variant,
        }
    }

    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        value.serialize(Writer {
            out: self.out,
            skip: None,
        })
    }

    fn close(self) -> Result<()> {
        self.out.push(']');
        if self.variant.is_some() {
            self.out.push('}');
        }
        Ok(())
    }
}

/// A map key as `serde_json::to_value` turns it into an object key.
fn key_of<T: Serialize + ?Sized>(key: &T) -> Result<String> {
    match serde_json::to_value(key).map_err(|e| CanonicalError(e.to_string()))? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        serde_json::Value::Bool(b) => Ok(b.to_string()),
        _ => Err(CanonicalError("key must be a string".to_owned())),
    }
}

macro_rules! scalars {
    ($($name:ident: $ty:ty),* $(,)?) => {
        $(fn $name(self, v: $ty) -> Result<()> {
            scalar(self.out, serde_json::to_value(v).map_err(|e| CanonicalError(e.to_string()))?);
            Ok(())
        })*
    };
}

impl<'a> ser::Serializer for Writer<'a> {
    type Ok = ();
    type Error = CanonicalError;
    type SerializeSeq = Array<'a>;
    type SerializeTuple = Array<'a>;
    type SerializeTupleStruct = Array<'a>;
    type SerializeTupleVariant = Array<'a>;
    type SerializeMap = Object<'a>;
    type SerializeStruct = Object<'a>;
    type SerializeStructVariant = Object<'a>;

    scalars!(
        serialize_bool: bool,
        serialize_i8: i8,
        serialize_i16: i16,
        serialize_i32: i32,
        serialize_i64: i64,
        serialize_i128: i128,
        serialize_u8: u8,
        serialize_u16: u16,
        serialize_u32: u32,
        serialize_u64: u64,
        serialize_u128: u128,
        serialize_f32: f32,
        serialize_f64: f64,
        serialize_char: char,
    );

    fn serialize_str(self, v: &str) -> Result<()> {
        string(self.out, v);
        Ok(())
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<()> {
        let mut array = Array::open(self.out, None);
        for b in v {
            array.item(b)?;
        }
        array.close()
    }

    fn serialize_none(self) -> Result<()> {
        self.out.push_str("null");
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<()> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<()> {
        self.serialize_none()
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<()> {
        self.serialize_none()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<()> {
        string(self.out, variant);
        Ok(())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<()> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<()> {
        self.out.push('{');
        string(self.out, variant);
        self.out.push(':');
        value.serialize(Writer {
            out: self.out,
            skip: None,
        })?;
        self.out.push('}');
        Ok(())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Array<'a>> {
        Ok(Array::open(self.out, None))
    }

    fn serialize_tuple(self, _len: usize) -> Result<Array<'a>> {
        Ok(Array::open(self.out, None))
    }

    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Array<'a>> {
        Ok(Array::open(self.out, None))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Array<'a>> {
        Ok(Array::open(self.out, Some(variant)))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Object<'a>> {
        Ok(Object::new(self.out, self.skip, len.unwrap_or(8), None))
    }

    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Object<'a>> {
        self.serialize_map(Some(len))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Object<'a>> {
        Ok(Object::new(self.out, None, len, Some(variant)))
    }
}

impl ser::SerializeSeq for Array<'_> {
    type Ok = ();
    type Error = CanonicalError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.item(value)
    }
    fn end(self) -> Result<()> {
        self.close()
    }
}

impl ser::SerializeTuple for Array<'_> {
    type Ok = ();
    type Error = CanonicalError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.item(value)
    }
    fn end(self) -> Result<()> {
        self.close()
    }
}

impl ser::SerializeTupleStruct for Array<'_> {
    type Ok = ();
    type Error = CanonicalError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.item(value)
    }
    fn end(self) -> Result<()> {
        self.close()
    }
}

impl ser::SerializeTupleVariant for Array<'_> {
    type Ok = ();
    type Error = CanonicalError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.item(value)
    }
    fn end(self) -> Result<()> {
        self.close()
    }
}

impl ser::SerializeMap for Object<'_> {
    type Ok = ();
    type Error = CanonicalError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        self.key = Some(key_of(key)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let key = self
            .key
            .take()
            .ok_or_else(|| CanonicalError("a map value came without its key".to_owned()))?;
        self.push(Cow::Owned(key), value)
    }
    fn end(self) -> Result<()> {
        self.finish()
    }
}

impl ser::SerializeStruct for Object<'_> {
    type Ok = ();
    type Error = CanonicalError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        self.push(Cow::Borrowed(key), value)
    }
    fn end(self) -> Result<()> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for Object<'_> {
    type Ok = ();
    type Error = CanonicalError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        self.push(Cow::Borrowed(key), value)
    }
    fn end(self) -> Result<()> {
        self.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use serde_json::json;

    fn old(value: &serde_json::Value) -> String {
        super::super::record::canonical(value)
    }

    #[test]
    fn it_writes_what_the_value_tree_wrote() {
        let values = [
            json!({"b": 1, "a": [1.5, -2, "x\"y\n", null, true], "hash": "zz", "c": {"z": 0, "y": {"q": 1e300}}}),
            json!({"hash": 1}),
            json!({}),
            json!({"é": "ü", "e": "\u{1}", "E": 18446744073709551615u64, "n": -9223372036854775808i64}),
        ];
        for v in values {
            assert_eq!(to_canonical(&v, Some("hash")).unwrap(), old(&v), "{v}");
        }
    }

    #[derive(Serialize)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    enum Tagged {
        One { zeta: u8, alpha: Option<String> },
        Two(Inner),
    }

    #[derive(Serialize)]
    struct Inner {
        y: f64,
        x: f32,
        #[serde(flatten)]
        extra: std::collections::BTreeMap<String, i32>,
    }

    #[derive(Serialize)]
    enum External {
        Unit,
        New(u8),
        Tuple(u8, String),
        Struct { b: u8, a: u8 },
    }

    #[test]
    fn every_shape_serde_writes_matches() {
        let mut extra = std::collections::BTreeMap::new();
        extra.insert("m".to_owned(), 3);
        // A flattened key equal to a field: the last one wins.
        extra.insert("y".to_owned(), 4);
        let shapes: Vec<Box<dyn erased::Check>> = vec![
            Box::new(Tagged::One {
                zeta: 1,
                alpha: None,
            }),
            Box::new(Tagged::Two(Inner {
                y: 0.1,
                x: 0.1,
                extra,
            })),
            Box::new(vec![External::Unit, External::New(2)]),
            Box::new(External::Tuple(1, "t".into())),
            Box::new(External::Struct { b: 1, a: 2 }),
            Box::new((1u8, 'c', [0u8; 2], ())),
            Box::new(f64::NAN),
            Box::new(std::collections::HashMap::from([(7u32, "seven")])),
        ];
        for shape in shapes {
            shape.check();
        }
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut all = String::new();
        for c in (0u32..0x200).chain([0x2028, 0x2029, 0xfeff, 0x1f600]) {
            if let Some(c) = char::from_u32(c) {
                all.push(c);
                let one = c.to_string();
                let mut out = String::new();
                string(&mut out, &one);
                assert_eq!(
                    out,
                    serde_json::to_string(&one).unwrap(),
                    "U+{:04X}",
                    c as u32
                );
            }
        }
        let mut out = String::new();
        string(&mut out, &all);
        assert_eq!(out, serde_json::to_string(&all).unwrap());
    }

    proptest::proptest! {
        #[test]
        fn any_string_is_escaped_as_serde_json_escapes_it(s in ".*") {
            let mut out = String::new();
            string(&mut out, &s);
            proptest::prop_assert_eq!(out, serde_json::to_string(&s).unwrap());
        }
    }

    mod erased {
        use super::*;
        pub(super) trait Check {
            fn check(&self);
        }
        impl<T: Serialize> Check for T {
            fn check(&self) {
                let value = serde_json::to_value(self).unwrap();
                assert_eq!(
                    to_canonical(self, None).unwrap(),
                    value.to_string(),
                    "{value}"
                );
            }
        }
    }
}
