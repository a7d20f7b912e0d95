//! A number that decodes every way cty encodes one.
//!
//! cty sends numbers that are not exactly representable as float64 (such as `0.1`) as decimal
//! *strings* in msgpack; tf-provider's `Value<i64>` fails on them with an error that names no
//! attribute. This type accepts integers, floats and decimal strings.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tf_provider::value::Value;

#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Number(pub f64);

impl Number {
    /// The value as an integer, if it is one.
    pub fn as_i64(self) -> Option<i64> {
        let v = self.0;
        (v.fract() == 0.0 && v >= i64::MIN as f64 && v <= i64::MAX as f64).then_some(v as i64)
    }
}

/// A number attribute as a whole number, if it is known and one.
pub fn whole(value: &Value<Number>) -> Option<i64> {
    value.as_ref_option().and_then(|n| n.as_i64())
}

impl From<i64> for Number {
    fn from(v: i64) -> Self {
        Number(v as f64)
    }
}

impl Serialize for Number {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.as_i64() {
            Some(i) => serializer.serialize_i64(i),
            None => serializer.serialize_f64(self.0),
        }
    }
}

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NumberVisitor)
    }
}

struct NumberVisitor;

impl Visitor<'_> for NumberVisitor {
    type Value = Number;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number, or a decimal number encoded as a string")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Number, E> {
        Ok(Number(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Number, E> {
        Ok(Number(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Number, E> {
        Ok(Number(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Number, E> {
        v.trim()
            .parse::<f64>()
            .map(Number)
            .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tf_provider::value::Value;

    /// Encodes `raw` as msgpack the way cty does and decodes it as Terraform's value would be.
    fn from_msgpack<T: serde::Serialize>(raw: T) -> Value<Number> {
        let bytes = rmp_serde::to_vec(&raw).unwrap();
        rmp_serde::from_slice(&bytes).expect("decodes")
    }

    #[test]
    fn decodes_integers_floats_and_decimal_strings() {
        assert_eq!(from_msgpack(3), Value::Value(Number(3.0)));
        assert_eq!(from_msgpack(2.5), Value::Value(Number(2.5)));
        assert_eq!(from_msgpack("0.1"), Value::Value(Number(0.1)));
        assert_eq!(from_msgpack(()), Value::Null);
    }

    #[test]
    fn rejects_non_numeric_strings() {
        assert!(serde_json::from_str::<Number>("\"ten\"").is_err());
    }

    #[test]
    fn integers_serialize_as_integers() {
        assert_eq!(serde_json::to_string(&Number(70.0)).unwrap(), "70");
        assert_eq!(serde_json::to_string(&Number(0.1)).unwrap(), "0.1");
        assert_eq!(Number(4.0).as_i64(), Some(4));
        assert_eq!(Number(4.5).as_i64(), None);
    }
}
