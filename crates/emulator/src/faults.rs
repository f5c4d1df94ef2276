//! Seeded fault injection, per route template and method.

use serde::{Deserialize, Serialize};

use crate::rng::Rng;

/// One kind of fault.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "camelCase", deny_unknown_fields)]
pub enum Fault {
    /// A 429 `rate_limited` burst before the handler runs.
    #[serde(rename_all = "camelCase")]
    RateLimit {
        /// `Retry-After` seconds (≥ 1).
        #[serde(default = "one")]
        retry_after_secs: u64,
        /// Send `Retry-After` as an HTTP-date instead of delta seconds.
        #[serde(default)]
        http_date: bool,
    },
    /// A 500, 502 or 503 before the handler runs.
    ServerError {
        /// Status code.
        status: u16,
    },
    /// Close the connection before the handler runs (nothing happens).
    ResetBefore,
    /// Run the handler (it commits), then close the connection without a response.
    ResetAfter,
    /// Send a Content-Length larger than the body actually sent, then close.
    Truncate,
    /// Wait before handling.
    Latency {
        /// Milliseconds (real time).
        ms: u64,
    },
    /// Send the response body slowly.
    #[serde(rename_all = "camelCase")]
    SlowBody {
        /// Bytes per chunk.
        chunk_bytes: usize,
        /// Pause between chunks, real milliseconds.
        interval_ms: u64,
    },
    /// Redirect (307) to the same path on another origin.
    Redirect {
        /// Target origin, e.g. `http://127.0.0.1:9`.
        location: String,
    },
}

fn one() -> u64 {
    1
}

fn any_route() -> String {
    "*".into()
}

/// A fault and when it applies.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultRule {
    /// Route template relative to `/api/v0` (e.g. `/agents/{id}`) or `*`.
    #[serde(default = "any_route")]
    pub route: String,
    /// HTTP method, or any when absent.
    #[serde(default)]
    pub method: Option<String>,
    /// The fault.
    pub fault: Fault,
    /// Chance per matching request (seeded); always when absent.
    #[serde(default)]
    pub probability: Option<f64>,
    /// Fire at most this many more times ("the next N requests"); unlimited when absent.
    #[serde(default)]
    pub count: Option<u32>,
}

impl FaultRule {
    /// Checks values serde cannot.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(p) = self.probability
            && !(0.0..=1.0).contains(&p)
        {
            return Err(format!("fault probability must be within 0..=1, got {p}"));
        }
        if self.route != "*" && !self.route.starts_with('/') {
            return Err(format!(
                "fault route must be \"*\" or start with '/', got {:?}",
                self.route
            ));
        }
        match &self.fault {
            Fault::ServerError { status } if ![500, 502, 503].contains(status) => Err(format!(
                "serverError status must be 500, 502 or 503, got {status}"
            )),
            Fault::RateLimit {
                retry_after_secs: 0,
                ..
            } => Err("retryAfterSecs must be ≥ 1".into()),
            Fault::SlowBody { chunk_bytes: 0, .. } => Err("chunkBytes must be ≥ 1".into()),
            Fault::Redirect { location }
                if !(location.starts_with("http://") || location.starts_with("https://")) =>
            {
                Err("redirect location must be an http(s) origin".into())
            }
            _ => Ok(()),
        }
    }

    fn matches(&self, method: &str, template: &str) -> bool {
        let route_ok = self.route == "*"
            || self.route == template
            || self.route.strip_prefix("/api/v0") == Some(template);
        route_ok
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
    }
}

/// The active rules and the dice.
#[derive(Debug)]
pub struct FaultSet {
    /// Rules, first match that fires wins.
    pub rules: Vec<FaultRule>,
    rng: Rng,
}

impl FaultSet {
    /// Rules with dice seeded from `seed`.
    pub fn new(rules: Vec<FaultRule>, seed: u64) -> Self {
        Self {
            rules,
            rng: Rng::new(seed ^ 0xFA17_FA17_FA17_FA17),
        }
    }

    /// Decides the fault for one request. Every matching probabilistic rule rolls once, so
    /// the same request sequence gives the same decisions.
    pub fn decide(&mut self, method: &str, template: &str) -> Option<Fault> {
        let mut chosen = None;
        for rule in self.rules.iter_mut() {
            if rule.count == Some(0) || !rule.matches(method, template) {
                continue;
            }
            let fires = match rule.probability {
                Some(p) => self.rng.next_f64() < p,
                None => true,
            };
            if fires && chosen.is_none() {
                if let Some(c) = rule.count.as_mut() {
                    *c -= 1;
                }
                chosen = Some(rule.fault.clone());
            }
        }
        self.rules.retain(|r| r.count != Some(0));
        chosen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(route: &str, method: Option<&str>, p: Option<f64>, count: Option<u32>) -> FaultRule {
        FaultRule {
            route: route.into(),
            method: method.map(Into::into),
            fault: Fault::ServerError { status: 503 },
            probability: p,
            count,
        }
    }

    #[test]
    fn counted_rules_fire_n_times_on_their_route() {
        let mut f = FaultSet::new(vec![rule("/agents", Some("post"), None, Some(2))], 1);
        assert_eq!(f.decide("GET", "/agents"), None);
        assert!(f.decide("POST", "/agents").is_some());
        assert!(f.decide("POST", "/agents").is_some());
        assert_eq!(f.decide("POST", "/agents"), None);
        assert!(f.rules.is_empty());
    }

    #[test]
    fn probabilities_are_seeded() {
        let run = |seed| {
            let mut f = FaultSet::new(vec![rule("*", None, Some(0.5), None)], seed);
            (0..64)
                .map(|_| f.decide("GET", "/agents").is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(9), run(9));
        assert_ne!(run(9), run(10));
        let hits = run(9).iter().filter(|x| **x).count();
        assert!((16..48).contains(&hits), "{hits}");
    }

    #[test]
    fn rules_are_validated_and_parsed() {
        assert!(rule("*", None, Some(1.5), None).validate().is_err());
        assert!(rule("agents", None, None, None).validate().is_err());
        let r: FaultRule = serde_json::from_str(
            r#"{"route":"/agents","method":"POST","fault":{"kind":"rateLimit","httpDate":true},"count":1}"#,
        )
        .unwrap();
        assert_eq!(
            r.fault,
            Fault::RateLimit {
                retry_after_secs: 1,
                http_date: true
            }
        );
        let bad = FaultRule {
            fault: Fault::ServerError { status: 418 },
            ..r
        };
        assert!(bad.validate().is_err());
    }
}
