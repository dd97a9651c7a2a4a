//! Large reads over real HTTP: the streamed transcript download is byte for byte the document
//! the paged endpoint gives.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use challenge_server::api::{TranscriptEntryView, TranscriptPage};
use challenge_server::challenges;
use challenge_server::clock::Clock;
use common::*;

const T0: u64 = 1_800_000_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_streamed_download_is_the_whole_paged_transcript_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(T0);
    let server = start(config(dir.path()), clock.clone()).await;
    let client = Client::new(&server.url());
    // The demo's size: 20 messages and Bob's bundle.
    let id = challenges::create(&server.app, spec(20, 3, 2, 60), None)
        .await
        .unwrap()
        .id;
    clock.advance(3 * 21);
    client.wait_published(&id, 21).await;

    let mut entries: Vec<TranscriptEntryView> = Vec::new();
    let mut from = Some(0u64);
    while let Some(f) = from {
        let (s, page) = client
            .get(&format!("/challenges/{id}/transcript?from={f}&limit=7"))
            .await;
        assert_eq!(s, 200);
        let page: TranscriptPage = serde_json::from_value(page).unwrap();
        entries.extend(page.entries);
        from = page.next_from;
    }
    assert_eq!(entries.len(), 21);
    let expected = serde_json::to_vec(&TranscriptPage {
        challenge: id.clone(),
        published_entries: 21,
        entries,
        next_from: None,
    })
    .unwrap();

    let r = client
        .http
        .get(format!(
            "{}/challenges/{id}/transcript/download",
            client.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(
        r.headers()["content-disposition"],
        format!("attachment; filename=\"transcript-{id}.json\"").as_str()
    );
    let body = r.bytes().await.unwrap();
    assert_eq!(body.as_ref(), expected.as_slice());
    server.stop().await.unwrap();
}
