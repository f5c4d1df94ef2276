use http::{HeaderValue, header, request::Parts};

use super::policy::RedirectMode;
use crate::base::BaseUrl;
use crate::error::Error;
use crate::secret::ApiKey;

/// The key, the origin requests may go to, the user agent and the redirect rule.
#[derive(Debug)]
pub(crate) struct Credentials {
    key: ApiKey,
    pub(crate) base: BaseUrl,
    user_agent: HeaderValue,
    pub(crate) redirect: RedirectMode,
}

impl Credentials {
    pub(crate) fn new(
        key: ApiKey,
        base: BaseUrl,
        user_agent: HeaderValue,
        redirect: RedirectMode,
    ) -> Credentials {
        Credentials {
            key,
            base,
            user_agent,
            redirect,
        }
    }

    /// Resolves the URI against the base (refusing another origin) and adds `Authorization`
    /// (sensitive) and `User-Agent`. Done once per request, before the first attempt: every
    /// attempt is a copy of these parts.
    pub(crate) fn apply(&self, parts: &mut Parts) -> Result<(), Error> {
        self.base.resolve_in_place(&mut parts.uri)?;
        // Built (and marked sensitive) once in `ApiKey::new`; a clone shares the bytes.
        parts
            .headers
            .insert(header::AUTHORIZATION, self.key.authorization());
        // One lookup: a caller's own `User-Agent` wins.
        parts
            .headers
            .entry(header::USER_AGENT)
            .or_insert_with(|| self.user_agent.clone());
        Ok(())
    }
}
