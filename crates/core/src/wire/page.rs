//! One page of a cursor-paginated list, read in every shape seen.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

/// One page of a cursor-paginated list.
///
/// Serializes as the documented `{"data": [T], "nextCursor": string|null}`. Deserializes from
/// that, from an object carrying the list under `agents`, `items`, `results`, `files` or
/// `workflows` instead of `data` (the keys Nomic's pre-documentation client looked under,
/// **[CODE]**, plus each endpoint's own noun), and from a bare JSON array (one last page).
/// When several list keys are present, `data` wins, otherwise the first one.
///
/// ```
/// use nomic_agent_core::wire::{Page, Workflow};
///
/// let doc: Page<Workflow> = serde_json::from_str(r#"{"data":[],"nextCursor":"c"}"#).unwrap();
/// let old: Page<Workflow> = serde_json::from_str(r#"{"items":[],"nextCursor":"c"}"#).unwrap();
/// assert_eq!(doc, old);
/// let bare: Page<Workflow> = serde_json::from_str("[]").unwrap();
/// assert_eq!(bare.next_cursor, None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// The items on this page.
    pub data: Vec<T>,
    /// The cursor of the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// The keys a page's list may sit under, `data` first.
const LIST_KEYS: [&str; 6] = ["data", "agents", "items", "results", "files", "workflows"];

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Page<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(PageVisitor(PhantomData))
    }
}

struct PageVisitor<T>(PhantomData<fn() -> T>);

enum PageKey {
    Data,
    OtherList,
    Cursor,
    Ignored,
}

impl<'de> Deserialize<'de> for PageKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        super::str_de::deserialize_str_with(deserializer, |s| {
            Ok::<_, std::convert::Infallible>(match s {
                "data" => PageKey::Data,
                "nextCursor" => PageKey::Cursor,
                s if LIST_KEYS.contains(&s) => PageKey::OtherList,
                _ => PageKey::Ignored,
            })
        })
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for PageVisitor<T> {
    type Value = Page<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a page: {\"data\": [...], \"nextCursor\": …} or a JSON array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Page<T>, A::Error> {
        let data = Vec::<T>::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        Ok(Page {
            data,
            next_cursor: None,
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Page<T>, A::Error> {
        let mut data: Option<Vec<T>> = None;
        let mut from_data = false;
        let mut next_cursor: Option<Option<String>> = None;
        while let Some(key) = map.next_key::<PageKey>()? {
            match key {
                PageKey::Data if from_data => return Err(de::Error::duplicate_field("data")),
                PageKey::Data => {
                    data = Some(map.next_value()?);
                    from_data = true;
                }
                PageKey::OtherList if data.is_none() => data = Some(map.next_value()?),
                PageKey::Cursor if next_cursor.is_some() => {
                    return Err(de::Error::duplicate_field("nextCursor"));
                }
                PageKey::Cursor => next_cursor = Some(map.next_value()?),
                PageKey::OtherList | PageKey::Ignored => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Page {
            data: data.ok_or_else(|| de::Error::missing_field("data"))?,
            next_cursor: next_cursor.flatten(),
        })
    }
}
