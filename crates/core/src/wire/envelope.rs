//! The `{data: …}` envelope, read in either shape.
//!
//! The published docs wrap agent bodies in `{data: …}`; Nomic's own pre-documentation client
//! (aec-bench, 2026-04, **[CODE]**) reads the same objects bare. Both decode here in one pass
//! over the text: the top-level object's first key decides. `data` first (every documented
//! body) reads the payload straight from the parser; any other first key is replayed into a
//! bare decode of the payload. A `data` key met later in a bare-looking object is kept, so an
//! envelope whose other keys come first still decodes when the bare reading fails.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::StrDeserializer;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `{data: …}` envelope most agent endpoints use.
///
/// Deserializes from the documented `{"data": T}` and from a bare `T` (the pre-documentation
/// shape), so one type reads both; it always serializes as `{"data": T}`.
///
/// ```
/// use nomic_agent_core::wire::{Conversation, DataEnvelope};
///
/// let wrapped: DataEnvelope<Conversation> =
///     serde_json::from_str(r#"{"data":{"messages":[]}}"#).unwrap();
/// let bare: DataEnvelope<Conversation> = serde_json::from_str(r#"{"messages":[]}"#).unwrap();
/// assert_eq!(wrapped, bare);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataEnvelope<T> {
    /// The payload.
    pub data: T,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for DataEnvelope<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_map(EnvelopeVisitor(PhantomData))
            .map(|data| DataEnvelope { data })
    }
}

struct EnvelopeVisitor<T>(PhantomData<fn() -> T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for EnvelopeVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object, bare or inside {\"data\": …}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let Some(first) = map.next_key::<Key>()? else {
            // `{}`: a bare payload with every field absent.
            let empty = std::iter::empty::<(&str, &str)>();
            return T::deserialize(de::value::MapDeserializer::<_, A::Error>::new(empty));
        };
        let Key::Other(first) = first else {
            let data = map.next_value::<T>()?;
            // The documented envelope has nothing else; anything more is skipped.
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(data);
        };
        let mut replay = Replay {
            first: Some(first),
            map: &mut map,
            keep_next: false,
            late_data: None,
        };
        match T::deserialize(de::value::MapAccessDeserializer::new(&mut replay)) {
            Ok(value) => Ok(value),
            // `{"meta": …, "data": {…}}`: the envelope with its payload not first.
            Err(bare_err) => match replay.late_data.take() {
                Some(data) => T::deserialize(data).map_err(|_| bare_err),
                None => Err(bare_err),
            },
        }
    }
}

/// A top-level key: only `data` matters, the rest is replayed as it was.
enum Key {
    Data,
    Other(String),
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        super::str_de::deserialize_str_with(deserializer, |s| {
            Ok::<_, std::convert::Infallible>(if s == "data" {
                Key::Data
            } else {
                Key::Other(s.to_owned())
            })
        })
    }
}

/// The map after its first key was read: hands that key back first, then the rest. A later
/// `data` value is also kept as a JSON tree for the envelope-not-first fallback (payloads have
/// no `data` field, so the bare decode skips it anyway).
struct Replay<'a, A> {
    first: Option<String>,
    map: &'a mut A,
    keep_next: bool,
    late_data: Option<Value>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for &mut Replay<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        if let Some(first) = self.first.take() {
            return seed
                .deserialize(StrDeserializer::<A::Error>::new(&first))
                .map(Some);
        }
        match self.map.next_key_seed(DataWatch(seed))? {
            Some((key, is_data)) => {
                self.keep_next = is_data;
                Ok(Some(key))
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        if std::mem::take(&mut self.keep_next) {
            let kept: Value = self.map.next_value()?;
            let out = seed.deserialize(kept.clone()).map_err(de::Error::custom);
            self.late_data = Some(kept);
            return out;
        }
        self.map.next_value_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.map
            .size_hint()
            .map(|n| n + usize::from(self.first.is_some()))
    }
}

/// Wraps a key seed to also tell whether the key is `data`; the key text is passed on in
/// place, without a copy.
struct DataWatch<K>(K);

impl<'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for DataWatch<K> {
    type Value = (K::Value, bool);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        let seed = self.0;
        super::str_de::deserialize_str_with(deserializer, |s| {
            seed.deserialize(StrDeserializer::<D::Error>::new(s))
                .map(|key| (key, s == "data"))
        })
    }
}
