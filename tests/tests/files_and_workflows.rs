//! Uploads (path and reader), file search, images, workflows with slots.

use std::collections::BTreeSet;

use futures_util::TryStreamExt;
use nomic_agent::{
    AgentStatus, Error, FileSearchQuery, Image, ImageExt, LaunchRequest, MediaType, UploadForm,
    WorkflowId, WorkflowInput,
};
use nomic_agent_tests::{SCALE, Wire, client, config, start};

const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 1, 2, 3,
];
const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_then_launch_with_files_and_images() {
    let emu = start(config(Wire::Tls, SCALE)).await;
    let c = client(&emu, SCALE);
    let dir = tempfile::tempdir().unwrap();

    // From a path: 3 MiB streamed, not buffered.
    let path = dir.path().join("inspection-report.pdf");
    let big: Vec<u8> = (0..3 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &big).unwrap();
    let from_path = c.upload_path(&path).await.unwrap();
    assert_eq!(from_path.name, "inspection-report.pdf");
    assert_eq!(from_path.size, Some(big.len() as u64));

    // From any AsyncRead, length unknown (chunked).
    let reader = std::io::Cursor::new(b"site notes: ladder unsecured".to_vec());
    let from_reader = c
        .upload_reader(UploadForm::new("notes.txt", "text/plain"), reader, None)
        .await
        .unwrap();
    assert_eq!(from_reader.size, Some(28));

    let hits: Vec<_> = c
        .search_files(FileSearchQuery::new("inspection").limit(1))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].id, from_path.id);

    let img_path = dir.path().join("photo.bin");
    std::fs::write(&img_path, JPEG).unwrap();
    let jpeg = Image::from_path(&img_path).await.unwrap();
    assert_eq!(jpeg.media_type, MediaType::Jpeg);
    let png = Image::from_bytes(PNG).unwrap();

    let req = LaunchRequest::prompt("Review the photos and the report")
        .image(jpeg)
        .image(png)
        .file(from_path.id)
        .file(from_reader.id);
    let out = c.launch(req).await.unwrap().wait().await.unwrap();
    let answer = out.answer.unwrap();
    assert!(answer.contains("inspection-report.pdf"), "{answer}");
    assert!(answer.contains("notes.txt"), "{answer}");
    assert!(answer.contains("Images: 2"), "{answer}");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_images_are_refused_before_sending() {
    let emu = start(config(Wire::Tcp, SCALE)).await;
    let c = client(&emu, SCALE);
    let mut lying = Image::from_bytes(PNG).unwrap();
    lying.media_type = MediaType::Gif;
    let err = c
        .launch(LaunchRequest::prompt("look").image(lying))
        .await
        .unwrap_err();
    let Error::Invalid { issues, .. } = &err else {
        panic!("{err}")
    };
    assert!(issues[0].contains("prompt.images[0]"), "{issues:?}");
    let five = (0..5).fold(LaunchRequest::prompt("many"), |r, _| {
        r.image(Image::from_bytes(PNG).unwrap())
    });
    assert!(matches!(c.launch(five).await, Err(Error::Invalid { .. })));
    assert!(emu.request_log().is_empty(), "nothing was sent");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflows_prompt_driven_and_file_slots() {
    let emu = start(config(Wire::Tcp, SCALE)).await;
    let c = client(&emu, SCALE);
    let workflows: Vec<_> = c.list_workflows().try_collect().await.unwrap();
    let prompt_wf = workflows.iter().find(|w| !w.is_file_slot()).unwrap();
    let slot_wf = workflows.iter().find(|w| w.is_file_slot()).unwrap();

    let out = c
        .launch_workflow(
            prompt_wf.id,
            WorkflowInput::Prompt("Summarize everything".into()),
        )
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert!(out.answer.unwrap().contains(&prompt_wf.name));

    let file = c
        .upload_reader(
            UploadForm::new("spec.pdf", "application/pdf"),
            std::io::Cursor::new(b"%PDF-1.7".to_vec()),
            Some(8),
        )
        .await
        .unwrap();
    let slots: Vec<(String, Vec<_>)> = slot_wf
        .inputs
        .iter()
        .map(|s| (s.name.clone(), vec![file.id]))
        .collect();
    let out = c
        .launch_workflow(slot_wf.id, WorkflowInput::Inputs(slots))
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(out.status, AgentStatus::Finished);
    let answer = out.answer.unwrap();
    for s in &slot_wf.inputs {
        assert!(answer.contains(&s.name), "{answer}");
    }

    // Slot names are checked against the declared slots before anything is sent.
    let launches_before = emu.counters().agents_created_per_user.values().sum::<u64>();
    let requests_before = emu.request_log().len();
    let err = c
        .launch_workflow(
            slot_wf.id,
            WorkflowInput::Inputs(vec![("nonsense".into(), vec![file.id])]),
        )
        .await
        .unwrap_err();
    let Error::Invalid { issues, .. } = &err else {
        panic!("{err}")
    };
    assert!(issues.iter().any(|i| i.contains("nonsense")), "{issues:?}");
    let err = c
        .launch_workflow(slot_wf.id, WorkflowInput::Prompt("no prompt here".into()))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "{err}");
    assert_eq!(emu.request_log().len(), requests_before);
    assert_eq!(
        emu.counters().agents_created_per_user.values().sum::<u64>(),
        launches_before
    );
    // An unknown workflow: found missing before launching, or reported by the server.
    let unknown: WorkflowId = "019abc12-3456-7890-abcd-ef1234567890".parse().unwrap();
    let err = c
        .launch_workflow(unknown, WorkflowInput::Prompt("hi".into()))
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    let err = c
        .launch(LaunchRequest::prompt("hi").workflow(unknown))
        .await
        .unwrap_err();
    assert!(
        err.is_not_found() && err.to_string().contains("workflow"),
        "{err}"
    );
    let names: BTreeSet<_> = workflows.iter().map(|w| w.name.as_str()).collect();
    assert!(names.len() >= 2);
    emu.shutdown().await;
}
