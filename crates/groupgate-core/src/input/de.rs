//! A type-driven serde deserializer over the located tree, as YAML readers
//! behave: a plain scalar reads as whatever the target type asks for (a
//! string field gets `07:00` as written, a number field `7`), and typed by
//! YAML 1.2's core schema only when the target takes anything. Every error
//! carries the location of the node it concerns.

use super::InputError;
use super::tree::{Located, Node, Scalar};
use crate::policy::Location;
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};

/// An error while deserializing: a message and, once known, where.
#[derive(Debug, Clone)]
pub(crate) struct DeError {
    pub(crate) message: String,
    pub(crate) at: Option<Location>,
}

impl std::fmt::Display for DeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        DeError {
            message: msg.to_string(),
            at: None,
        }
    }
}

impl DeError {
    fn at(mut self, at: Location) -> Self {
        if self.at.is_none() {
            self.at = Some(at);
        }
        self
    }
}

impl From<DeError> for InputError {
    fn from(e: DeError) -> Self {
        InputError::shape(String::new(), e.message, e.at)
    }
}

/// What a plain scalar means without a target type (YAML 1.2 core schema).
enum Typed<'a> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(&'a str),
}

fn typed(s: &Scalar) -> Typed<'_> {
    let text = s.text.as_str();
    match s.tag.as_deref() {
        Some("!!str") => return Typed::Str(text),
        Some("!!null") => return Typed::Null,
        _ => {}
    }
    if !s.plain {
        return Typed::Str(text);
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Typed::Null,
        "true" | "True" | "TRUE" => return Typed::Bool(true),
        "false" | "False" | "FALSE" => return Typed::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Typed::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Typed::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Typed::Float(f64::NAN),
        _ => {}
    }
    if let Some(hex) = text.strip_prefix("0x")
        && let Ok(v) = u64::from_str_radix(hex, 16)
    {
        return Typed::UInt(v);
    }
    if let Some(oct) = text.strip_prefix("0o")
        && let Ok(v) = u64::from_str_radix(oct, 8)
    {
        return Typed::UInt(v);
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(v) = text.parse::<i64>() {
            return Typed::Int(v);
        }
        if let Ok(v) = text.trim_start_matches('+').parse::<u64>() {
            return Typed::UInt(v);
        }
    }
    let looks_float = digits
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && digits.bytes().any(|b| b.is_ascii_digit())
        && digits
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'.');
    if looks_float && let Ok(v) = text.parse::<f64>() {
        return Typed::Float(v);
    }
    Typed::Str(text)
}

/// Deserializes from one located node.
pub(crate) struct NodeDe<'a>(pub(crate) &'a Located);

impl<'a> NodeDe<'a> {
    fn scalar(&self) -> Option<&'a Scalar> {
        match &*self.0.node {
            Node::Scalar(s) => Some(s),
            _ => None,
        }
    }

    fn kind(&self) -> &'static str {
        match &*self.0.node {
            Node::Scalar(_) => "a scalar",
            Node::Seq(_) => "a sequence",
            Node::Map(_) => "a mapping",
        }
    }

    fn invalid(&self, expected: &str) -> DeError {
        let found = match self.scalar() {
            Some(s) => format!("`{}`", s.text.chars().take(60).collect::<String>()),
            None => self.kind().to_owned(),
        };
        DeError {
            message: format!("invalid value: {found}, expected {expected}"),
            at: Some(self.0.at),
        }
    }

    /// A whole number, as YAML writes them (decimal, `0x…`, `0o…`).
    fn integer<T: TryFrom<i128>>(&self, what: &str) -> Result<T, DeError> {
        let s = self.scalar().ok_or_else(|| self.invalid(what))?;
        let wide: i128 = match typed(s) {
            Typed::Int(i) => i128::from(i),
            Typed::UInt(u) => i128::from(u),
            // A quoted number read into a number field, as YAML readers allow.
            Typed::Str(t) => t
                .trim_start_matches('+')
                .parse()
                .map_err(|_| self.invalid(what))?,
            _ => return Err(self.invalid(what)),
        };
        T::try_from(wide).map_err(|_| self.invalid(what))
    }

    fn float(&self, what: &str) -> Result<f64, DeError> {
        let s = self.scalar().ok_or_else(|| self.invalid(what))?;
        match typed(s) {
            Typed::Float(f) => Ok(f),
            Typed::Int(i) => Ok(i as f64),
            Typed::UInt(u) => Ok(u as f64),
            Typed::Str(t) => t.parse().map_err(|_| self.invalid(what)),
            _ => Err(self.invalid(what)),
        }
    }
}

macro_rules! int_method {
    ($name:ident, $visit:ident, $ty:ty, $what:literal) => {
        fn $name<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            let at = self.0.at;
            let v: $ty = self.integer($what)?;
            visitor.$visit::<DeError>(v).map_err(|e| e.at(at))
        }
    };
}

impl<'de> de::Deserializer<'de> for NodeDe<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let at = self.0.at;
        let result = match &*self.0.node {
            Node::Scalar(s) => match typed(s) {
                Typed::Null => visitor.visit_unit(),
                Typed::Bool(b) => visitor.visit_bool(b),
                Typed::Int(i) => visitor.visit_i64(i),
                Typed::UInt(u) => visitor.visit_u64(u),
                Typed::Float(f) => visitor.visit_f64(f),
                Typed::Str(t) => visitor.visit_str(t),
            },
            Node::Seq(items) => visitor.visit_seq(Items { items, next: 0 }),
            Node::Map(pairs) => visitor.visit_map(Pairs {
                pairs,
                next: 0,
                value: None,
            }),
        };
        result.map_err(|e| e.at(at))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let at = self.0.at;
        match self.scalar().map(typed) {
            Some(Typed::Bool(b)) => visitor.visit_bool::<DeError>(b).map_err(|e| e.at(at)),
            _ => Err(self.invalid("a boolean (`true` or `false`)")),
        }
    }

    int_method!(deserialize_i8, visit_i8, i8, "a whole number");
    int_method!(deserialize_i16, visit_i16, i16, "a whole number");
    int_method!(deserialize_i32, visit_i32, i32, "a whole number");
    int_method!(deserialize_i64, visit_i64, i64, "a whole number");
    int_method!(deserialize_u8, visit_u8, u8, "a whole number ≥ 0");
    int_method!(deserialize_u16, visit_u16, u16, "a whole number ≥ 0");
    int_method!(deserialize_u32, visit_u32, u32, "a whole number ≥ 0");
    int_method!(deserialize_u64, visit_u64, u64, "a whole number ≥ 0");
    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let at = self.0.at;
        let v = self.float("a number")?;
        visitor.visit_f64::<DeError>(v).map_err(|e| e.at(at))
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let at = self.0.at;
        match self.scalar() {
            Some(s) => visitor.visit_str::<DeError>(&s.text).map_err(|e| e.at(at)),
            None => Err(self.invalid("a string")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let at = self.0.at;
        match self.scalar().map(typed) {
            Some(Typed::Null) => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
        .map_err(|e| e.at(at))
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.scalar().map(typed) {
            Some(Typed::Null) => visitor.visit_unit(),
            _ => Err(self.invalid("nothing (null)")),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let at = self.0.at;
        visitor.visit_newtype_struct(self).map_err(|e| e.at(at))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let at = self.0.at;
        match &*self.0.node {
            Node::Seq(items) => visitor
                .visit_seq(Items { items, next: 0 })
                .map_err(|e| e.at(at)),
            _ => Err(self.invalid("a list")),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let at = self.0.at;
        match &*self.0.node {
            Node::Map(pairs) => visitor
                .visit_map(Pairs {
                    pairs,
                    next: 0,
                    value: None,
                })
                .map_err(|e| e.at(at)),
            _ => Err(self.invalid("a mapping (key: value)")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let at = self.0.at;
        match &*self.0.node {
            Node::Scalar(s) => visitor
                .visit_enum(s.text.as_str().into_deserializer())
                .map_err(|e: DeError| e.at(at)),
            Node::Map(pairs) if pairs.len() == 1 => visitor
                .visit_enum(Variant { pair: &pairs[0] })
                .map_err(|e| e.at(at)),
            _ => Err(self.invalid("one of the choices, or a mapping with one key")),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

struct Items<'a> {
    items: &'a [Located],
    next: usize,
}

impl<'de> SeqAccess<'de> for Items<'_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some(item) = self.items.get(self.next) else {
            return Ok(None);
        };
        self.next += 1;
        seed.deserialize(NodeDe(item))
            .map(Some)
            .map_err(|e| e.at(item.at))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len() - self.next)
    }
}

struct Pairs<'a> {
    pairs: &'a [(Located, Located)],
    next: usize,
    value: Option<&'a Located>,
}

impl<'de> MapAccess<'de> for Pairs<'_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((k, v)) = self.pairs.get(self.next) else {
            return Ok(None);
        };
        self.next += 1;
        self.value = Some(v);
        seed.deserialize(NodeDe(k))
            .map(Some)
            .map_err(|e| e.at(k.at))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some(v) = self.value.take() else {
            return Err(de::Error::custom("a value without its key"));
        };
        seed.deserialize(NodeDe(v)).map_err(|e| e.at(v.at))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.pairs.len() - self.next)
    }
}

struct Variant<'a> {
    pair: &'a (Located, Located),
}

impl<'de, 'a> de::EnumAccess<'de> for Variant<'a> {
    type Error = DeError;
    type Variant = VariantValue<'a>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), DeError> {
        let (k, v) = self.pair;
        let tag = seed.deserialize(NodeDe(k)).map_err(|e| e.at(k.at))?;
        Ok((tag, VariantValue(v)))
    }
}

struct VariantValue<'a>(&'a Located);

impl<'de> de::VariantAccess<'de> for VariantValue<'_> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        seed.deserialize(NodeDe(self.0))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_seq(NodeDe(self.0), visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_map(NodeDe(self.0), visitor)
    }
}
