//! Request builders: methods, URIs, headers, extensions, query encoding.

use nomic_agent_core::multipart::Boundary;
use nomic_agent_core::request::*;
use nomic_agent_core::validate::ProblemKind;
use nomic_agent_core::wire::*;
use nomic_agent_core::{RequestKind, Tier};
use proptest::prelude::*;

const ID: &str = "019abc12-3456-7890-abcd-ef1234567890";
const ART: &str = "019abc12-3456-7890-abcd-ef1234567899";

fn base() -> ApiBase {
    ApiBase::parse("https://acme.nomic.ai").unwrap()
}
fn agent() -> AgentId {
    ID.parse().unwrap()
}

fn header<'a, B>(req: &'a http::Request<B>, name: &str) -> Option<&'a str> {
    req.headers().get(name).map(|v| v.to_str().unwrap())
}

/// Parses `?a=b&c=d` back into decoded pairs.
fn parse_query(uri: &http::Uri) -> Vec<(String, String)> {
    uri.query()
        .unwrap_or("")
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap();
            (percent_decode(k).unwrap(), v.to_owned())
        })
        .collect()
}

#[test]
fn launch_request() {
    let body = LaunchRequest::prompt("Summarize.");
    let req = launch(&base(), &body).unwrap();
    assert_eq!(req.method(), http::Method::POST);
    assert_eq!(req.uri(), "https://acme.nomic.ai/api/v0/agents");
    assert_eq!(header(&req, "content-type"), Some("application/json"));
    assert_eq!(header(&req, "accept"), Some("application/json"));
    assert!(req.headers().get("authorization").is_none());
    assert_eq!(req.body().as_ref(), br#"{"prompt":{"text":"Summarize."}}"#);
    let ep = req.extensions().get::<Endpoint>().copied().unwrap();
    assert_eq!(ep, Endpoint::LaunchAgent);
    assert_eq!(ep.tier(), Tier::Heavy);
    assert_eq!(ep.kind(), RequestKind::Launch);
    assert!(req.extensions().get::<AgentId>().is_none());
}

#[test]
fn launch_validates_first() {
    let err = launch(&base(), &LaunchRequest::prompt(" ")).unwrap_err();
    assert!(err.has(&ProblemKind::EmptyText));
}

#[test]
fn follow_up_request() {
    let req = follow_up(&base(), &agent(), &FollowUpRequest::new("Next.")).unwrap();
    assert_eq!(req.method(), http::Method::POST);
    assert_eq!(
        req.uri().to_string(),
        format!("https://acme.nomic.ai/api/v0/agents/{ID}/followup")
    );
    assert_eq!(req.body().as_ref(), br#"{"prompt":{"text":"Next."}}"#);
    assert_eq!(
        req.extensions().get::<Endpoint>(),
        Some(&Endpoint::FollowUp)
    );
    assert_eq!(req.extensions().get::<AgentId>(), Some(&agent()));
    assert!(follow_up(&base(), &agent(), &FollowUpRequest::new("")).is_err());
}

#[test]
fn agent_scoped_reads_and_writes() {
    let b = base();
    let a = agent();
    let art: ArtifactId = ART.parse().unwrap();
    let cases = [
        (
            get_agent(&b, &a),
            Endpoint::GetAgent,
            "GET",
            format!("/agents/{ID}"),
        ),
        (
            conversation(&b, &a),
            Endpoint::Conversation,
            "GET",
            format!("/agents/{ID}/conversation"),
        ),
        (
            artifact_content(&b, &a, &art),
            Endpoint::ArtifactContent,
            "GET",
            format!("/agents/{ID}/artifacts/{ART}"),
        ),
        (
            stop(&b, &a),
            Endpoint::Stop,
            "POST",
            format!("/agents/{ID}/stop"),
        ),
        (
            delete(&b, &a),
            Endpoint::Delete,
            "DELETE",
            format!("/agents/{ID}"),
        ),
    ];
    for (req, ep, method, path) in cases {
        assert_eq!(req.method().as_str(), method);
        assert_eq!(req.uri().path(), format!("/api/v0{path}"));
        assert_eq!(req.extensions().get::<Endpoint>(), Some(&ep));
        assert_eq!(req.extensions().get::<AgentId>(), Some(&a));
        assert!(req.body().is_empty());
        assert!(req.headers().get("content-type").is_none());
        assert!(req.headers().get("authorization").is_none());
    }
    assert_eq!(
        header(&artifact_content(&b, &a, &art), "accept"),
        Some("*/*")
    );
}

#[test]
fn list_agents_query() {
    let wf: WorkflowId = ID.parse().unwrap();
    let q = ListAgentsQuery::new()
        .limit(50)
        .cursor("a b/c")
        .status(AgentStatus::Running)
        .status(AgentStatus::Waiting)
        .workflow(wf);
    let req = list_agents(&base(), &q).unwrap();
    assert_eq!(req.uri().path(), "/api/v0/agents");
    assert_eq!(
        req.uri().query(),
        Some(format!("limit=50&cursor=a%20b%2Fc&status=running,waiting&workflowId={ID}").as_str())
    );
    assert_eq!(
        req.extensions().get::<Endpoint>(),
        Some(&Endpoint::ListAgents)
    );
    let plain = list_agents(&base(), &ListAgentsQuery::new()).unwrap();
    assert_eq!(plain.uri(), "https://acme.nomic.ai/api/v0/agents");
    for bad in [0, 101] {
        let err = list_agents(&base(), &ListAgentsQuery::new().limit(bad)).unwrap_err();
        assert_eq!(
            err.problems[0].kind,
            ProblemKind::LimitOutOfRange {
                value: bad,
                min: 1,
                max: 100
            }
        );
    }
    assert!(list_agents(&base(), &ListAgentsQuery::new().limit(1)).is_ok());
    assert!(list_agents(&base(), &ListAgentsQuery::new().limit(100)).is_ok());
}

#[test]
fn search_files_query() {
    let q = FileSearchQuery::new("quarterly report&co")
        .limit(10)
        .integration("sp-1");
    let req = search_files(&base(), &q).unwrap();
    assert_eq!(req.uri().path(), "/api/v0/files/search");
    assert_eq!(
        req.uri().query(),
        Some("query=quarterly%20report%26co&limit=10&integrationId=sp-1")
    );
    let ep = *req.extensions().get::<Endpoint>().unwrap();
    assert_eq!(ep.tier(), Tier::Standard);
    let err = search_files(&base(), &FileSearchQuery::new(" ").limit(51)).unwrap_err();
    let kinds: Vec<_> = err.problems.iter().map(|p| p.kind.clone()).collect();
    assert_eq!(
        kinds,
        [
            ProblemKind::EmptyQuery,
            ProblemKind::LimitOutOfRange {
                value: 51,
                min: 1,
                max: 50
            }
        ]
    );
    assert!(search_files(&base(), &FileSearchQuery::new("x").limit(50)).is_ok());
}

#[test]
fn list_workflows_query() {
    let req = list_workflows(&base(), &ListWorkflowsQuery::new().limit(5).cursor("c")).unwrap();
    assert_eq!(req.uri().query(), Some("limit=5&cursor=c"));
    assert!(list_workflows(&base(), &ListWorkflowsQuery::new().limit(0)).is_err());
    assert!(list_workflows(&base(), &ListWorkflowsQuery::new().limit(101)).is_err());
}

#[test]
fn upload_head_request() {
    let b = Boundary::from_seed(42);
    let req = upload_head(&base(), &b, Some(1234));
    assert_eq!(req.method(), http::Method::POST);
    assert_eq!(req.uri(), "https://acme.nomic.ai/api/v0/files/upload");
    assert_eq!(
        header(&req, "content-type").unwrap(),
        format!("multipart/form-data; boundary={b}")
    );
    assert_eq!(header(&req, "content-length"), Some("1234"));
    assert_eq!(
        req.extensions().get::<Endpoint>(),
        Some(&Endpoint::UploadFile)
    );
    assert!(
        upload_head(&base(), &b, None)
            .headers()
            .get("content-length")
            .is_none()
    );
}

#[test]
fn base_with_port_and_prefix() {
    let b = ApiBase::parse("http://127.0.0.1:4010/gw/api/v0/").unwrap();
    let req = get_agent(&b, &agent());
    assert_eq!(
        req.uri().to_string(),
        format!("http://127.0.0.1:4010/gw/api/v0/agents/{ID}")
    );
}

proptest! {
    #[test]
    fn query_values_round_trip(cursor in any::<String>(), query in "\\PC{1,40}", integration in any::<String>()) {
        let q = ListAgentsQuery::new().cursor(cursor.clone());
        let req = list_agents(&base(), &q).unwrap();
        let pairs = parse_query(req.uri());
        prop_assert_eq!(pairs.len(), 1);
        prop_assert_eq!(&pairs[0].0, "cursor");
        prop_assert_eq!(percent_decode(&pairs[0].1), Some(cursor));

        prop_assume!(!query.trim().is_empty());
        let s = FileSearchQuery::new(query.clone()).integration(integration.clone());
        let req = search_files(&base(), &s).unwrap();
        let pairs = parse_query(req.uri());
        prop_assert_eq!(pairs.len(), 2);
        prop_assert_eq!(percent_decode(&pairs[0].1), Some(query));
        prop_assert_eq!(percent_decode(&pairs[1].1), Some(integration));
    }

    #[test]
    fn status_lists_round_trip(raw in prop::collection::vec("[a-zA-Z_, %&]{1,12}", 1..5)) {
        let statuses: Vec<AgentStatus> = raw.iter().map(|s| AgentStatus::parse(s)).collect();
        let mut q = ListAgentsQuery::new();
        for s in &statuses {
            q = q.status(s.clone());
        }
        let req = list_agents(&base(), &q).unwrap();
        let pairs = parse_query(req.uri());
        let decoded: Vec<String> = pairs[0].1.split(',').map(|v| percent_decode(v).unwrap()).collect();
        let expected: Vec<String> = statuses.iter().map(|s| s.as_str().to_owned()).collect();
        prop_assert_eq!(decoded, expected);
    }

    #[test]
    fn base_parser_never_panics(s in ".{0,60}") {
        if let Ok(b) = ApiBase::parse(&s) {
            // Whatever it accepts builds valid requests.
            let _ = get_agent(&b, &agent());
            prop_assert!(b.as_str().ends_with("/api/v0"));
        }
    }
}
