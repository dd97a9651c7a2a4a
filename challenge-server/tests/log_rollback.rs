//! The server refuses to start on a log shorter than the heads it has signed (issue 15,
//! item 3): a database restored from a backup after receipts were given out is noticed; the
//! operator may accept it explicitly, and the loss is then logged.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::path::Path;

use challenge_server::clock::Clock;
use challenge_server::log::Event;
use challenge_server::seed::MasterSeed;
use challenge_server::{App, Config, Error, RunningServer, challenges};
use common::{Client, app, commit_secret, config, spec};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn server_config(data: &Path, keys: &Path) -> Config {
    let mut config = config(data);
    // The record lives beside the KEK file, outside the data directory (docs/OPERATING.md).
    config.kek = None;
    config.kek_file = Some(keys.join("kek.hex"));
    config
}

#[tokio::test]
async fn a_restored_database_is_refused_until_the_operator_accepts_and_logs_the_loss() {
    let (data, keys, backup) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let clock = Clock::manual(1_800_000_000);
    let start = |config: Config| {
        let clock = clock.clone();
        async move { RunningServer::start(App::open(config, clock).await?).await }
    };
    let server = start(server_config(data.path(), keys.path()))
        .await
        .unwrap();
    let client = Client::new(&server.url());
    let row = challenges::create(
        &app(&server),
        spec(3, 10, 1, 3600),
        Some(MasterSeed::from_bytes([7; 32])),
    )
    .await
    .unwrap();
    let (s, a) = commit_secret(
        &client,
        &row.id,
        "alice",
        1,
        &"00".repeat(16),
        &"11".repeat(32),
    )
    .await;
    assert_eq!(s, 201, "{a}");
    server.stop().await.unwrap();
    copy_dir(data.path(), backup.path());

    let server = start(server_config(data.path(), keys.path()))
        .await
        .unwrap();
    let client = Client::new(&server.url());
    let (s, b) = commit_secret(
        &client,
        &row.id,
        "bob",
        1,
        &"00".repeat(16),
        &"22".repeat(32),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let signed = b["log_index"].as_u64().unwrap() + 1;
    server.stop().await.unwrap();

    // The backup goes back in place: its log lacks bob's commit, whose receipt is out.
    std::fs::remove_dir_all(data.path()).unwrap();
    copy_dir(backup.path(), data.path());
    match start(server_config(data.path(), keys.path())).await {
        Err(Error::Invalid { field, message }) => {
            assert_eq!(field, "accept_log_rollback");
            assert!(message.contains(&format!("up to {signed}")), "{message}");
        }
        other => panic!("started on a rolled-back log: {other:?}"),
    }

    // Accepted explicitly: the loss is logged, and the next start needs no flag.
    let mut accept = server_config(data.path(), keys.path());
    accept.accept_log_rollback = true;
    let server = start(accept).await.unwrap();
    let client = Client::new(&server.url());
    let (_, entries) = client.get("/log/entries?from=0&limit=100").await;
    let last = entries["entries"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    let event = common::event_of(&last);
    let size = last["index"].as_u64().unwrap();
    assert_eq!(
        event,
        Event::LogRolledBack {
            signed_size: signed,
            size,
            time: 1_800_000_000
        }
    );
    server.stop().await.unwrap();
    let server = start(server_config(data.path(), keys.path()))
        .await
        .unwrap();
    server.stop().await.unwrap();
}
