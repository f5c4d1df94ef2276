//! Every validation rule, triggered and not triggered, on typed requests and raw JSON.

use base64::Engine as _;
use nomic_agent_core::validate::*;
use nomic_agent_core::wire::*;
use serde_json::json;

const WF: &str = "019abc12-3456-7890-abcd-ef1234567890";
const F1: &str = "019abc12-3456-7890-abcd-ef1234567891";
const F2: &str = "019abc12-3456-7890-abcd-ef1234567892";
const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];

fn wf() -> WorkflowId {
    WF.parse().unwrap()
}
fn f1() -> FileId {
    F1.parse().unwrap()
}
fn png() -> Image {
    Image::from_bytes(PNG).unwrap()
}

/// (path, kind) of every problem, or nothing when valid.
fn problems(r: Result<(), InvalidRequest>) -> Vec<(String, ProblemKind)> {
    match r {
        Ok(()) => vec![],
        Err(e) => {
            assert!(!e.problems.is_empty());
            e.problems.into_iter().map(|p| (p.path, p.kind)).collect()
        }
    }
}

fn p(path: &str, kind: ProblemKind) -> (String, ProblemKind) {
    (path.to_owned(), kind)
}

#[test]
fn valid_launches() {
    for req in [
        LaunchRequest::prompt("Summarize."),
        LaunchRequest::prompt("Summarize.")
            .file(f1())
            .project(F2.parse().unwrap()),
        LaunchRequest::prompt("Look.").image(png()),
        LaunchRequest::prompt("Run it.").workflow(wf()),
        LaunchRequest::workflow_inputs(wf()).input("drawings", f1()),
        LaunchRequest::workflow_inputs(wf()),
    ] {
        assert_eq!(problems(validate_launch(&req)), vec![], "{req:?}");
    }
}

#[test]
fn missing_prompt_or_workflow() {
    assert_eq!(
        problems(validate_launch(&LaunchRequest::default())),
        vec![p("prompt", ProblemKind::MissingPromptOrWorkflow)]
    );
    let files_only = LaunchRequest::default().file(f1());
    assert_eq!(
        problems(validate_launch(&files_only)),
        vec![p("prompt", ProblemKind::MissingPromptOrWorkflow)]
    );
}

#[test]
fn empty_text() {
    for text in ["", "   ", "\n\t"] {
        assert_eq!(
            problems(validate_launch(&LaunchRequest::prompt(text))),
            vec![p("prompt.text", ProblemKind::EmptyText)]
        );
    }
    // An image alone does not make a prompt.
    assert_eq!(
        problems(validate_launch(&LaunchRequest::default().image(png()))),
        vec![p("prompt.text", ProblemKind::EmptyText)]
    );
}

#[test]
fn workflow_combinations() {
    let with_files = LaunchRequest::prompt("x").workflow(wf()).file(f1());
    assert_eq!(
        problems(validate_launch(&with_files)),
        vec![p("fileIds", ProblemKind::WorkflowWithFileIds)]
    );
    let inputs_alone = LaunchRequest::default().input("drawings", f1());
    assert_eq!(
        problems(validate_launch(&inputs_alone)),
        vec![
            p("prompt", ProblemKind::MissingPromptOrWorkflow),
            p("inputs", ProblemKind::InputsWithoutWorkflow)
        ]
    );
    let inputs_and_prompt = LaunchRequest::prompt("x")
        .workflow(wf())
        .input("drawings", f1());
    assert_eq!(
        problems(validate_launch(&inputs_and_prompt)),
        vec![p("inputs", ProblemKind::InputsWithPrompt)]
    );
}

#[test]
fn all_problems_at_once() {
    let mut req = LaunchRequest::prompt(" ")
        .file(f1())
        .workflow(wf())
        .input("s", f1());
    for _ in 0..5 {
        req = req.image(Image {
            media_type: MediaType::Other("image/tiff".into()),
            data: "data:image/tiff;base64,AAAA".into(),
        });
    }
    let found = problems(validate_launch(&req));
    let kinds: Vec<&ProblemKind> = found.iter().map(|(_, k)| k).collect();
    assert!(kinds.contains(&&ProblemKind::EmptyText));
    assert!(kinds.contains(&&ProblemKind::TooManyImages { count: 5 }));
    assert!(kinds.contains(&&ProblemKind::WorkflowWithFileIds));
    assert!(kinds.contains(&&ProblemKind::InputsWithPrompt));
    assert_eq!(
        kinds
            .iter()
            .filter(|k| ***k == ProblemKind::DataUrl)
            .count(),
        5
    );
    assert!(found.contains(&p(
        "prompt.images[4].media_type",
        ProblemKind::UnsupportedMediaType("image/tiff".into())
    )));
    let msg = validate_launch(&req).unwrap_err().to_string();
    assert!(
        msg.contains("prompt.images[4].data: use raw base64"),
        "{msg}"
    );
}

#[test]
fn image_count_limit() {
    let mut req = LaunchRequest::prompt("x");
    for _ in 0..4 {
        req = req.image(png());
    }
    assert_eq!(problems(validate_launch(&req)), vec![]);
    req = req.image(png());
    assert_eq!(
        problems(validate_launch(&req)),
        vec![p("prompt.images", ProblemKind::TooManyImages { count: 5 })]
    );
}

#[test]
fn image_problems_carry_their_index() {
    let bad = Image {
        media_type: MediaType::Gif,
        data: base64::engine::general_purpose::STANDARD.encode(PNG),
    };
    let req = LaunchRequest::prompt("x")
        .image(png())
        .image(png())
        .image(bad);
    assert_eq!(
        problems(validate_launch(&req)),
        vec![p(
            "prompt.images[2].data",
            ProblemKind::MediaTypeMismatch {
                declared: MediaType::Gif,
                detected: Some(MediaType::Png)
            }
        )]
    );
}

#[test]
fn follow_ups() {
    assert_eq!(
        problems(validate_follow_up(&FollowUpRequest::new("More detail."))),
        vec![]
    );
    assert_eq!(
        problems(validate_follow_up(&FollowUpRequest::new(
            Prompt::new("Look").with_image(png())
        ))),
        vec![]
    );
    assert_eq!(
        problems(validate_follow_up(&FollowUpRequest::new(""))),
        vec![p("prompt.text", ProblemKind::EmptyText)]
    );
    let bad_image = Prompt::new("x").with_image(Image {
        media_type: MediaType::Png,
        data: "!!!!".into(),
    });
    assert_eq!(
        problems(validate_follow_up(&FollowUpRequest::new(bad_image))),
        vec![p("prompt.images[0].data", ProblemKind::InvalidBase64)]
    );
}

fn slot_workflow() -> Workflow {
    Workflow::new(
        wf(),
        "Drawing review",
        vec![
            WorkflowSlot::new("drawings", true, true),
            WorkflowSlot::new("spec", false, false),
        ],
    )
}

#[test]
fn slot_workflow_rules() {
    let w = slot_workflow();
    let ok = LaunchRequest::workflow_inputs(wf()).input("drawings", f1());
    assert_eq!(problems(validate_against_workflow(&ok, &w)), vec![]);
    let ok2 = ok.clone().input("spec", f1());
    assert_eq!(problems(validate_against_workflow(&ok2, &w)), vec![]);

    let with_prompt = LaunchRequest::prompt("x")
        .workflow(wf())
        .input("drawings", f1());
    assert_eq!(
        problems(validate_against_workflow(&with_prompt, &w)),
        vec![p("prompt", ProblemKind::PromptOnSlotWorkflow)]
    );
    let unknown = ok.clone().input("photos", f1());
    assert_eq!(
        problems(validate_against_workflow(&unknown, &w)),
        vec![p(
            "inputs.photos",
            ProblemKind::UnknownSlot("photos".into())
        )]
    );
    let missing = LaunchRequest::workflow_inputs(wf()).input("spec", f1());
    assert_eq!(
        problems(validate_against_workflow(&missing, &w)),
        vec![p(
            "inputs.drawings",
            ProblemKind::MissingSlot("drawings".into())
        )]
    );
    let mut empty_slot = LaunchRequest::workflow_inputs(wf());
    empty_slot.inputs.insert("drawings".into(), vec![]);
    assert_eq!(
        problems(validate_against_workflow(&empty_slot, &w)),
        vec![p(
            "inputs.drawings",
            ProblemKind::MissingSlot("drawings".into())
        )]
    );
    let none = LaunchRequest::workflow_inputs(wf());
    assert_eq!(
        problems(validate_against_workflow(&none, &w)),
        vec![
            p("inputs", ProblemKind::MissingInputs),
            p(
                "inputs.drawings",
                ProblemKind::MissingSlot("drawings".into())
            )
        ]
    );
    let other = LaunchRequest::workflow_inputs(F2.parse().unwrap()).input("drawings", f1());
    assert_eq!(
        problems(validate_against_workflow(&other, &w)),
        vec![p("workflowId", ProblemKind::WorkflowMismatch)]
    );
}

#[test]
fn prompt_workflow_rules() {
    let w = Workflow::new(wf(), "Summarize", vec![]);
    let ok = LaunchRequest::prompt("Go").workflow(wf()).image(png());
    assert_eq!(problems(validate_against_workflow(&ok, &w)), vec![]);
    let with_inputs = LaunchRequest::workflow_inputs(wf()).input("drawings", f1());
    assert_eq!(
        problems(validate_against_workflow(&with_inputs, &w)),
        vec![p("inputs", ProblemKind::InputsOnPromptWorkflow)]
    );
}

#[test]
fn launch_json_valid_and_type_errors() {
    let img = png();
    let ok = json!({
        "prompt": {"text": "Review.", "images": [{"media_type": "image/png", "data": img.data}]},
        "fileIds": [F1, F2], "projectId": F1, "workflowId": null, "unknownField": 1
    });
    assert_eq!(problems(validate_launch_json(&ok)), vec![]);
    assert_eq!(
        problems(validate_launch_json(
            &json!({"workflowId": WF, "inputs": {"a": [F1]}})
        )),
        vec![]
    );
    assert_eq!(
        problems(validate_launch_json(&json!([1]))),
        vec![p("", ProblemKind::WrongType { expected: "object" })]
    );
    assert_eq!(
        problems(validate_launch_json(&json!({"prompt": "hi"}))),
        vec![p("prompt", ProblemKind::WrongType { expected: "object" })]
    );
    assert_eq!(
        problems(validate_launch_json(&json!({"prompt": {"text": 5}}))),
        vec![p(
            "prompt.text",
            ProblemKind::WrongType { expected: "string" }
        )]
    );
    assert_eq!(
        problems(validate_launch_json(&json!({"prompt": {}}))),
        vec![p("prompt.text", ProblemKind::EmptyText)]
    );
    assert_eq!(
        problems(validate_launch_json(
            &json!({"prompt": {"text": "x", "images": {}}})
        )),
        vec![p(
            "prompt.images",
            ProblemKind::WrongType { expected: "array" }
        )]
    );
    assert_eq!(
        problems(validate_launch_json(
            &json!({"prompt": {"text": "x", "images": [7, {"data": img.data}]}})
        )),
        vec![
            p(
                "prompt.images[0]",
                ProblemKind::WrongType { expected: "object" }
            ),
            p(
                "prompt.images[1].media_type",
                ProblemKind::WrongType { expected: "string" }
            )
        ]
    );
    assert_eq!(
        problems(validate_launch_json(
            &json!({"prompt": {"text": "x"}, "fileIds": F1})
        )),
        vec![p("fileIds", ProblemKind::WrongType { expected: "array" })]
    );
}

#[test]
fn launch_json_malformed_uuids_everywhere() {
    let body = json!({
        "workflowId": "wf-1",
        "projectId": 12,
        "inputs": {"drawings": [F1, "nope"]},
    });
    assert_eq!(
        problems(validate_launch_json(&body)),
        vec![
            p("workflowId", ProblemKind::MalformedUuid("wf-1".into())),
            p("projectId", ProblemKind::WrongType { expected: "string" }),
            p(
                "inputs.drawings[1]",
                ProblemKind::MalformedUuid("nope".into())
            ),
        ]
    );
    let files =
        json!({"prompt": {"text": "x"}, "fileIds": [F1, "{019abc12-3456-7890-abcd-ef1234567890}"]});
    assert_eq!(
        problems(validate_launch_json(&files)),
        vec![p(
            "fileIds[1]",
            ProblemKind::MalformedUuid("{019abc12-3456-7890-abcd-ef1234567890}".into())
        )]
    );
    let long = "x".repeat(500);
    let found = problems(validate_launch_json(
        &json!({"prompt": {"text": "x"}, "projectId": long}),
    ));
    assert_eq!(
        found,
        vec![p("projectId", ProblemKind::MalformedUuid("x".repeat(64)))]
    );
}

#[test]
fn launch_json_combination_rules_survive_malformed_fields() {
    // A malformed workflowId still counts as present for the combination rules.
    let body = json!({"prompt": {"text": "x"}, "workflowId": "bad", "fileIds": [F1]});
    assert_eq!(
        problems(validate_launch_json(&body)),
        vec![
            p("workflowId", ProblemKind::MalformedUuid("bad".into())),
            p("fileIds", ProblemKind::WorkflowWithFileIds)
        ]
    );
    assert_eq!(
        problems(validate_launch_json(&json!({}))),
        vec![p("prompt", ProblemKind::MissingPromptOrWorkflow)]
    );
    assert_eq!(
        problems(validate_launch_json(&json!({"inputs": []}))),
        vec![
            p("inputs", ProblemKind::WrongType { expected: "object" }),
            p("prompt", ProblemKind::MissingPromptOrWorkflow),
            p("inputs", ProblemKind::InputsWithoutWorkflow)
        ]
    );
    assert_eq!(
        problems(validate_launch_json(
            &json!({"prompt": {"text": "x"}, "workflowId": WF, "inputs": {"a": [F1]}})
        )),
        vec![p("inputs", ProblemKind::InputsWithPrompt)]
    );
    let five: Vec<_> = (0..5)
        .map(|_| json!({"media_type": "image/png", "data": png().data}))
        .collect();
    assert_eq!(
        problems(validate_launch_json(
            &json!({"prompt": {"text": "x", "images": five}})
        )),
        vec![p("prompt.images", ProblemKind::TooManyImages { count: 5 })]
    );
    assert_eq!(
        problems(validate_launch_json(
            &json!({"prompt": {"text": "x", "images": [
                {"media_type": "image/png", "data": "data:image/png;base64,AAAA"}
            ]}})
        )),
        vec![p("prompt.images[0].data", ProblemKind::DataUrl)]
    );
}

#[test]
fn follow_up_json() {
    assert_eq!(
        problems(validate_follow_up_json(
            &json!({"prompt": {"text": "More."}})
        )),
        vec![]
    );
    assert_eq!(
        problems(validate_follow_up_json(
            &json!({"prompt": {"text": "More."}, "fileIds": [F1]})
        )),
        vec![p("fileIds", ProblemKind::FileIdsOnFollowUp)]
    );
    assert_eq!(
        problems(validate_follow_up_json(
            &json!({"prompt": {"text": "More."}, "fileIds": []})
        )),
        vec![p("fileIds", ProblemKind::FileIdsOnFollowUp)]
    );
    assert_eq!(
        problems(validate_follow_up_json(&json!({}))),
        vec![p("prompt", ProblemKind::MissingPrompt)]
    );
    assert_eq!(
        problems(validate_follow_up_json(&json!("text"))),
        vec![p("", ProblemKind::WrongType { expected: "object" })]
    );
    assert_eq!(
        problems(validate_follow_up_json(
            &json!({"prompt": {"text": " ", "images": [
                {"media_type": "image/bmp", "data": "Qk0="}
            ]}})
        )),
        vec![
            p("prompt.text", ProblemKind::EmptyText),
            p(
                "prompt.images[0].media_type",
                ProblemKind::UnsupportedMediaType("image/bmp".into())
            )
        ]
    );
}

#[test]
fn typed_and_json_paths_agree() {
    let reqs = [
        LaunchRequest::prompt("ok"),
        LaunchRequest::prompt("").file(f1()).workflow(wf()),
        LaunchRequest::default().input("s", f1()),
        LaunchRequest::prompt("x")
            .workflow(wf())
            .input("s", f1())
            .image(png()),
    ];
    for req in reqs {
        let json = serde_json::to_value(&req).unwrap();
        assert_eq!(
            problems(validate_launch(&req)),
            problems(validate_launch_json(&json)),
            "{json}"
        );
    }
}

/// Fuzz reproducer (`fuzz/regressions/validate/crash-5099a203…`): invalid UTF-8 inside an
/// unknown field. serde_json skips ignored values without checking their UTF-8, so the typed
/// decode succeeds where a `Value` parse refuses; both must still reach the same verdict
/// (the unknown field counts for nothing), and what the builder sends is valid JSON without it.
#[test]
fn invalid_utf8_in_an_unknown_field_is_ignored_by_both_paths() {
    let body = b"{\"prom9abpt\": {\"text\": \"Summarize the r\xdceport.\"}}";
    assert!(serde_json::from_slice::<serde_json::Value>(body).is_err());
    let typed: LaunchRequest = serde_json::from_slice(body).unwrap();
    assert_eq!(typed, LaunchRequest::default());
    let lossy: serde_json::Value = serde_json::from_str(&String::from_utf8_lossy(body)).unwrap();
    assert_eq!(
        problems(validate_launch(&typed)),
        vec![p("prompt", ProblemKind::MissingPromptOrWorkflow)]
    );
    assert_eq!(
        problems(validate_launch(&typed)),
        problems(validate_launch_json(&lossy))
    );
    let base = nomic_agent_core::request::ApiBase::parse("https://acme.nomic.ai").unwrap();
    assert!(nomic_agent_core::request::launch(&base, &typed).is_err());

    // With a prompt beside it, the request is valid and the garbage is not forwarded.
    let body = b"{\"prompt\": {\"text\": \"hi\"}, \"x\": \"\xdc\"}";
    let typed: LaunchRequest = serde_json::from_slice(body).unwrap();
    let lossy: serde_json::Value = serde_json::from_str(&String::from_utf8_lossy(body)).unwrap();
    assert_eq!(problems(validate_launch(&typed)), vec![]);
    assert_eq!(problems(validate_launch_json(&lossy)), vec![]);
    let built = nomic_agent_core::request::launch(&base, &typed).unwrap();
    let sent: serde_json::Value = serde_json::from_slice(built.body()).unwrap();
    assert_eq!(sent, json!({"prompt": {"text": "hi"}}));
}

/// Fuzz reproducer (`fuzz/regressions/validate/crash-97d170e1…`): `[]` decoded as an empty
/// typed launch (serde's positional form of a struct), so typed validation reported a missing
/// prompt where `validate_launch_json` reports "not an object". Request bodies, prompts and
/// images now decode from JSON objects only, as the API and the JSON rules require.
#[test]
fn request_types_decode_from_objects_only() {
    assert_eq!(
        problems(validate_launch_json(&json!([]))),
        vec![p("", ProblemKind::WrongType { expected: "object" })]
    );
    for body in [
        "[]",
        r#"[{"text":"hi"}]"#,
        r#"{"prompt":["hi"]}"#,
        r#"{"prompt":{"text":"hi","images":[["png","iVBORw0KGgo="]]}}"#,
    ] {
        let err = serde_json::from_str::<LaunchRequest>(body).unwrap_err();
        assert!(err.to_string().contains("object"), "{body}: {err}");
        assert!(validate_launch_json(&serde_json::from_str(body).unwrap()).is_err());
    }
    assert!(serde_json::from_str::<FollowUpRequest>(r#"[{"text":"hi"}]"#).is_err());
    assert!(serde_json::from_str::<Prompt>(r#"["hi", []]"#).is_err());
    // Objects still decode, leniently, and encode unchanged.
    let req: LaunchRequest = serde_json::from_str(r#"{"prompt":{"text":"hi","extra":1},"x":[]}"#)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(req, LaunchRequest::prompt("hi"));
    assert_eq!(
        serde_json::to_value(&req).unwrap(),
        json!({"prompt": {"text": "hi"}})
    );
    let follow: FollowUpRequest =
        serde_json::from_value(json!({"prompt": {"text": "go"}})).unwrap();
    assert_eq!(follow, FollowUpRequest::new(Prompt::new("go")));
}

#[test]
fn image_from_bytes_limits() {
    let mut big = PNG.to_vec();
    big.resize(MAX_IMAGE_BYTES as usize + 1, 0);
    let err = Image::from_bytes(&big).unwrap_err();
    assert!(err.has(&ProblemKind::ImageTooLarge {
        bytes: MAX_IMAGE_BYTES + 1
    }));
    assert!(Image::from_bytes(&big[..MAX_IMAGE_BYTES as usize]).is_ok());
}
