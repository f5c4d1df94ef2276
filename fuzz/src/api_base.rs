//! `request::ApiBase::parse`: accepted bases are normalised, idempotent, and every request
//! builder turns them (with arbitrary query text) into a valid URI without panicking.

use nomic_agent_core::request::{self, ApiBase, percent_decode};
use nomic_agent_core::wire::{AgentId, FileSearchQuery, ListAgentsQuery, ListWorkflowsQuery};

/// The first line of `data` is the base URL; the rest is used as a cursor and search query.
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (url, rest) = text.split_once('\n').unwrap_or((text, "q"));
    let Ok(base) = ApiBase::parse(url) else {
        return;
    };
    let root = base.as_str();
    assert_eq!(base.to_string(), root);
    assert!(
        root.starts_with(base.origin()),
        "root starts with the origin"
    );
    assert!(root.ends_with("/api/v0"), "root ends with /api/v0: {root}");
    assert!(
        base.origin().starts_with(&format!("{}://", base.scheme())),
        "origin has the scheme"
    );
    assert_eq!(
        base.host(),
        base.host().to_ascii_lowercase(),
        "host is lower-cased"
    );
    assert!(!base.host().is_empty());
    if let Some(port) = base.port() {
        assert_ne!(port, 0);
        assert!(base.origin().ends_with(&format!(":{port}")));
    }
    // Normalising twice changes nothing; the trailing slash is optional.
    let again = ApiBase::parse(root).expect("a normalised root re-parses");
    assert_eq!(again, base, "parse is not idempotent");
    assert_eq!(ApiBase::parse(&format!("{root}/")).as_ref(), Ok(&base));
    let uri: http::Uri = root.parse().expect("root is a URI");
    assert_eq!(
        uri.host().map(str::to_ascii_lowercase).as_deref(),
        Some(base.host())
    );

    // Every builder produces a URI under the root.
    let id: AgentId = "019abc12-3456-7890-abcd-ef1234567890".parse().expect("id");
    assert!(base.agent_url(&id).starts_with(base.origin()));
    for req in [
        request::get_agent(&base, &id),
        request::conversation(&base, &id),
        request::stop(&base, &id),
        request::delete(&base, &id),
    ] {
        assert!(req.uri().to_string().starts_with(root));
    }
    let cursor = rest.to_owned();
    let req = request::list_agents(
        &base,
        &ListAgentsQuery::new().limit(5).cursor(cursor.clone()),
    )
    .expect("valid limit");
    assert_eq!(
        query_param(req.uri(), "cursor").as_deref(),
        Some(cursor.as_str())
    );
    let req = request::list_workflows(&base, &ListWorkflowsQuery::new().cursor(cursor.clone()))
        .expect("no limit");
    assert_eq!(
        query_param(req.uri(), "cursor").as_deref(),
        Some(cursor.as_str())
    );
    match request::search_files(
        &base,
        &FileSearchQuery::new(cursor.clone()).integration("i"),
    ) {
        Ok(req) => {
            assert!(!cursor.trim().is_empty());
            assert_eq!(
                query_param(req.uri(), "query").as_deref(),
                Some(cursor.as_str())
            );
        }
        Err(_) => assert!(cursor.trim().is_empty(), "a non-blank query refused"),
    }
}

/// The decoded value of the first `key=` parameter of a URI.
fn query_param(uri: &http::Uri, key: &str) -> Option<String> {
    uri.query()?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| percent_decode(v).expect("builders encode valid UTF-8"))
}
