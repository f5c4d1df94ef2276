//! `Client::upload_path_with` against the emulator: the destination fields reach the server
//! and the SDK picks the content type from the extension.

use nomic_agent::{Client, Error, TierLimit, TierLimits, UploadOptions};
use nomic_agent_emulator::{Emulator, EmulatorConfig};

#[tokio::test]
async fn upload_path_with_places_the_file_and_guesses_its_type() {
    // On a 0.01 time scale the emulator allows 100× the heavy rate that uploads use; pace to match.
    let emu = Emulator::start(EmulatorConfig {
        time_scale: 0.01,
        ..EmulatorConfig::default()
    })
    .await
    .expect("the emulator starts");
    let client = Client::builder()
        .api_key(emu.default_key().expect("default key enabled"))
        .base_url(emu.base_url())
        .tier_limits(TierLimits {
            heavy: TierLimit::new(
                emu.time_scale()
                    .per_minute(TierLimits::default().heavy.per_minute),
                1,
            ),
            ..TierLimits::default()
        })
        .build()
        .expect("the client builds");
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("site-log.HTML");
    std::fs::write(&page, "<p>Level 3: guardrails missing.</p>").unwrap();

    let plain = client.upload_path(&page).await.unwrap();
    assert_eq!(plain.name, "site-log.HTML");
    assert_eq!(plain.mime_type.as_deref(), Some("text/html"));
    assert_eq!(plain.parent_id, None);

    let placed = client
        .upload_path_with(
            &page,
            UploadOptions::new().path("reports/2026/site-log.html"),
        )
        .await
        .unwrap();
    assert_eq!(placed.mime_type.as_deref(), Some("text/html"));
    let folder = placed.parent_id.expect("the path made a folder");

    let child = client
        .upload_path_with(&page, UploadOptions::new().parent(folder))
        .await
        .unwrap();
    assert_eq!(child.parent_id, Some(folder));
    assert_eq!(child.size, Some(std::fs::metadata(&page).unwrap().len()));

    let bad = client
        .upload_path_with(&page, UploadOptions::new().path("a\nb"))
        .await;
    assert!(matches!(bad, Err(Error::Invalid { .. })), "{bad:?}");
}
