//! [`WaitOptions`]: the bounds of one waiting call, overriding the client's for that call.

use std::time::Duration;

use nomic_agent_core::policy::poll::PollSchedule;
use nomic_agent_core::turn::TurnConfig;

use crate::error::Error;

/// Bounds for one waiting call ([`Agent::wait_with`](crate::Agent::wait_with),
/// [`Agent::ask_with`](crate::Agent::ask_with), [`Session::send_with`](crate::Session::send_with),
/// [`Session::reply_with`](crate::Session::reply_with), …). What is not set keeps the client's
/// setting ([`ClientBuilder::wait_deadline`](crate::ClientBuilder::wait_deadline),
/// [`ClientBuilder::poll_schedule`](crate::ClientBuilder::poll_schedule)).
///
/// The deadline counts from the start of the call, so a web handler can give each request its
/// own budget on a client shared by the whole service:
///
/// ```no_run
/// # async fn f(agent: nomic_agent::Agent) -> Result<(), nomic_agent::Error> {
/// use std::time::Duration;
/// use nomic_agent::WaitOptions;
///
/// let quick = WaitOptions::new()
///     .deadline(Duration::from_secs(20))
///     .poll_interval(Duration::from_millis(500), Duration::from_secs(5));
/// match agent.wait_with(&quick).await {
///     Ok(outcome) => println!("{:?}", outcome.answer),
///     Err(nomic_agent::Error::Timeout { .. }) => println!("still running; come back later"),
///     Err(e) => return Err(e),
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WaitOptions {
    deadline: Option<Option<Duration>>,
    poll: Option<(Duration, Duration)>,
}

impl WaitOptions {
    /// Options that change nothing (the client's bounds apply).
    pub fn new() -> WaitOptions {
        WaitOptions::default()
    }

    /// Fail this call with [`Error::Timeout`] once `d` has passed since it started.
    pub fn deadline(mut self, d: Duration) -> WaitOptions {
        self.deadline = Some(Some(d));
        self
    }

    /// Wait as long as the turn runs, whatever the client's deadline.
    pub fn no_deadline(mut self) -> WaitOptions {
        self.deadline = Some(None);
        self
    }

    /// Poll first after `initial`, then back off (doubling, with the client's jitter) to at
    /// most `max` between polls.
    pub fn poll_interval(mut self, initial: Duration, max: Duration) -> WaitOptions {
        self.poll = Some((initial, max));
        self
    }

    /// True when nothing is overridden.
    pub(crate) fn is_default(&self) -> bool {
        self.deadline.is_none() && self.poll.is_none()
    }

    /// The schedule of a call with these options on a client configured with `cfg`: its
    /// `deadline` is the call's budget. Rejects bounds that cannot work (zero, `max < initial`).
    pub(crate) fn schedule(&self, cfg: &TurnConfig) -> Result<PollSchedule, Error> {
        let mut s = cfg.poll.clone();
        if let Some((initial, max)) = self.poll {
            s = s.with_initial(initial).with_max(max);
        }
        let deadline = match self.deadline {
            Some(d) => d,
            None => cfg.effective_deadline(),
        };
        let s = s.with_deadline(deadline);
        s.validate().map_err(|e| Error::Config {
            message: format!("wait options: {e}"),
        })?;
        if deadline == Some(Duration::ZERO) {
            return Err(Error::Config {
                message: "wait options: the deadline must be positive".into(),
            });
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nomic_agent_core::request::ApiBase;

    fn cfg() -> TurnConfig {
        TurnConfig::new(ApiBase::parse("https://acme.nomic.ai").unwrap())
            .with_deadline(Some(Duration::from_secs(600)))
    }

    #[test]
    fn unset_fields_keep_the_clients_bounds() {
        let s = WaitOptions::new().schedule(&cfg()).unwrap();
        assert_eq!(s.deadline, Some(Duration::from_secs(600)));
        assert_eq!(s.initial, cfg().poll.initial);
        let s = WaitOptions::new().no_deadline().schedule(&cfg()).unwrap();
        assert_eq!(s.deadline, None);
        let s = WaitOptions::new()
            .deadline(Duration::from_secs(5))
            .poll_interval(Duration::from_millis(100), Duration::from_secs(1))
            .schedule(&cfg())
            .unwrap();
        assert_eq!(
            (s.deadline, s.initial, s.max),
            (
                Some(Duration::from_secs(5)),
                Duration::from_millis(100),
                Duration::from_secs(1)
            )
        );
    }

    #[test]
    fn bounds_that_cannot_work_are_config_errors() {
        let zero = WaitOptions::new().deadline(Duration::ZERO).schedule(&cfg());
        assert!(matches!(zero, Err(Error::Config { .. })), "{zero:?}");
        let inverted = WaitOptions::new()
            .poll_interval(Duration::from_secs(5), Duration::from_secs(1))
            .schedule(&cfg());
        assert!(
            matches!(inverted, Err(Error::Config { .. })),
            "{inverted:?}"
        );
    }
}
