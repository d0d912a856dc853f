//! Durations as human strings, "250ms", "2s", "1m30s": the one codec plans and fault rules use.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A non-negative duration written as a human string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Dur(pub Duration);

impl Dur {
    pub fn ms(&self) -> u64 {
        self.0.as_millis() as u64
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(self.0).to_string())
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as \"250ms\", \"2s\" or \"1m\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Dur, E> {
                let t = v.trim();
                if t.starts_with('-') {
                    return Err(E::custom(format!("negative duration {v:?} (hint: durations are >= 0, e.g. \"2s\")")));
                }
                humantime::parse_duration(t)
                    .map(Dur)
                    .map_err(|e| E::custom(format!("invalid duration {v:?}: {e} (hint: e.g. \"250ms\", \"2s\", \"1m\")")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dur, E> {
                Err(E::custom(format!("bare number {v} is not a duration (hint: add a unit, e.g. \"{v}s\")")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dur, E> {
                Err(E::custom(format!("bare number {v} is not a duration (hint: add a unit, e.g. \"{v}s\"; durations are >= 0)")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dur, E> {
                Err(E::custom(format!("bare number {v} is not a duration (hint: add a unit, e.g. \"{v}s\")")))
            }
        }
        d.deserialize_any(V)
    }
}

/// `#[serde(with = "crate::model::duration::human")]` for plain `Duration` fields: the same codec
/// as [`Dur`].
pub mod human {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Dur;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        Dur(*d).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Dur::deserialize(d).map(|d| d.0)
    }

    /// The same for `Option<Duration>`.
    pub mod option {
        use std::time::Duration;

        use serde::{Deserialize, Deserializer, Serialize, Serializer};

        use super::Dur;

        pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
            d.map(Dur).serialize(s)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
            Ok(Option::<Dur>::deserialize(d)?.map(|d| d.0))
        }
    }
}
