//! API keys, users and scopes.

use std::collections::HashMap;

use crate::config::{DEFAULT_KEY, DEFAULT_USER, KeyConfig};

/// What a key may do and whom it belongs to (the secret itself is the map key, never shown).
#[derive(Debug, Clone)]
pub struct KeyEntry {
    /// Label used in counters.
    pub name: String,
    /// Owning user.
    pub user: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
}

impl KeyEntry {
    /// Whether the key grants `needed` (`developer` implies every `developer:*`).
    pub fn allows(&self, needed: &str) -> bool {
        self.scopes.iter().any(|s| {
            s == needed
                || needed
                    .strip_prefix(s.as_str())
                    .is_some_and(|r| r.starts_with(':'))
        })
    }
}

/// All keys by secret.
#[derive(Debug, Default)]
pub struct Keys {
    by_secret: HashMap<String, KeyEntry>,
}

impl Keys {
    /// Keys from config, plus the default key when enabled.
    pub fn from_config(include_default: bool, keys: &[KeyConfig]) -> Self {
        let mut k = Self::default();
        if include_default {
            k.add(&KeyConfig {
                key: DEFAULT_KEY.into(),
                name: "default".into(),
                user: DEFAULT_USER.into(),
                scopes: vec!["developer".into()],
            });
        }
        for c in keys {
            k.add(c);
        }
        k
    }

    /// Adds or replaces a key.
    pub fn add(&mut self, c: &KeyConfig) {
        self.by_secret.insert(
            c.key.clone(),
            KeyEntry {
                name: c.name.clone(),
                user: c.user.clone(),
                scopes: c.scopes.clone(),
            },
        );
    }

    /// Looks a bearer token up.
    pub fn get(&self, secret: &str) -> Option<&KeyEntry> {
        self.by_secret.get(secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(scopes: &[&str]) -> KeyEntry {
        KeyEntry {
            name: "n".into(),
            user: "u".into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn broad_scope_implies_fine_ones() {
        let e = entry(&["developer"]);
        assert!(e.allows("developer:agent") && e.allows("developer:files"));
        let f = entry(&["developer:files"]);
        assert!(f.allows("developer:files"));
        assert!(!f.allows("developer:agent"));
        assert!(!entry(&["develop"]).allows("developer:agent"));
        assert!(!entry(&["developer:agent"]).allows("developer"));
    }
}
