//! The claim rows are a cache of the log (issue 15, item 1): `rebuild-claims` writes them again
//! from the log's events alone, and every column but the sealed reveal comes out as the
//! server wrote it, receipts byte for byte, after any damage to the rows.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use challenge_server::challenges;
use challenge_server::claims;
use challenge_server::clock::Clock;
use challenge_server::seed::MasterSeed;
use challenge_server::store;
use challenge_server::tracks::{DEFAULT_REVEAL_WINDOW_SECS, passive};
use common::{
    Client, KEK_HEX, app, commit_finding, commit_secret, config, reveal_secret, run_cli, spec,
    start,
};
use serde_json::json;

fn nonce(b: u8) -> String {
    hex::encode([b; 32])
}

#[tokio::test]
async fn the_claim_rows_are_rebuilt_from_the_log_alone() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(1_800_000_000);
    let server = start(config(dir.path()), clock.clone()).await;
    let client = Client::new(&server.url());
    let app = app(&server);
    let admin = app.create_admin_token().await.unwrap();
    let seed = MasterSeed::from_bytes([4; 32]);
    let row = challenges::create(&app, spec(3, 10, 1, 30), Some(seed.clone()))
        .await
        .unwrap();
    let id = row.id.clone();
    clock.advance(40);
    client.wait_published(&id, 4).await;
    let p = passive::placements(&seed, &row.schedule, 1).unwrap()[0];
    let secret = hex::encode(*passive::secret(&seed, p.index).unwrap());

    // dave commits first but reveals last (after the close); alice wins until then; bob is
    // wrong; carol's finding is decided by the operator; erin never reveals and is voided.
    let (_, dave) = commit_secret(&client, &id, "dave", p.message, &secret, &nonce(1)).await;
    let (_, alice) = commit_secret(&client, &id, "alice", p.message, &secret, &nonce(2)).await;
    let (_, bob) = commit_secret(&client, &id, "bob", p.message, &"ab".repeat(16), &nonce(3)).await;
    let finding = "The filler sentences are guessable.";
    let (_, carol) = commit_finding(&client, &id, "carol", finding, &nonce(4)).await;
    let (_, erin) = commit_secret(&client, &id, "erin", p.message, &secret, &nonce(5)).await;
    let claim = |r: &serde_json::Value| r["claim"].as_str().unwrap().to_owned();
    assert_eq!(
        reveal_secret(&client, &claim(&alice), p.message, &secret, &nonce(2))
            .await
            .1["verdict"],
        "won"
    );
    assert_eq!(
        reveal_secret(
            &client,
            &claim(&bob),
            p.message,
            &"ab".repeat(16),
            &nonce(3)
        )
        .await
        .1["verdict"],
        "invalid"
    );
    let (_, v) = client
        .post(
            &format!("/claims/{}/reveal", claim(&carol)),
            &json!({"kind": "finding", "finding": finding, "nonce": nonce(4)}),
        )
        .await;
    assert_eq!(v["verdict"], "needs-review");
    let (s, _) = client
        .post_raw(
            &format!("/admin/claims/{}/decision", claim(&carol)),
            r#"{"verdict":"won"}"#,
            Some(&admin),
        )
        .await;
    assert_eq!(s, 200);
    clock.advance(60);
    client.wait_closed(&id).await;
    assert_eq!(
        reveal_secret(&client, &claim(&dave), p.message, &secret, &nonce(1))
            .await
            .1["verdict"],
        "won"
    );
    clock.advance(DEFAULT_REVEAL_WINDOW_SECS);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while client.get(&format!("/claims/{}", claim(&erin))).await.1["verdict"] != "void" {
        assert!(
            std::time::Instant::now() < deadline,
            "erin was never voided"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let before = store::claims::all(&app.store).await.unwrap();
    assert_eq!(before.len(), 5);
    let report = claims::rebuild_from_log(&app).await.unwrap();
    assert_eq!((report.claims, report.kept), (5, 0));
    assert_eq!(
        store::claims::all(&app.store).await.unwrap(),
        before,
        "a rebuild of intact rows changes nothing"
    );

    // Damage every cached column, and lose a row altogether.
    sqlx::query(
        "UPDATE claims SET claimant = 'mallory', log_index = 0, receipt_signature = x'00', \
         receipt_checkpoint = '', kind = NULL, reveal_json = NULL, verdict = 'won', \
         verdict_log_index = NULL, decided_by = 'operator'",
    )
    .execute(app.store.pool())
    .await
    .unwrap();
    sqlx::query("DELETE FROM claims WHERE id = $1")
        .bind(claim(&erin))
        .execute(app.store.pool())
        .await
        .unwrap();
    server.stop().await.unwrap();

    // The command rebuilds them.
    let out = tokio::task::spawn_blocking({
        let dir = dir.path().to_path_buf();
        move || {
            run_cli(
                &["--data-dir", dir.to_str().unwrap(), "rebuild-claims"],
                &[("CHALLENGE_SERVER_KEK", KEK_HEX)],
            )
        }
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("rebuilt 5 claims"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let server = start(config(dir.path()), clock.clone()).await;
    let mut after = store::claims::all(&common::app(&server).store)
        .await
        .unwrap();
    // The lost row's sealed reveal is gone with it (it never revealed, so it had none).
    for (a, b) in after.iter_mut().zip(&before) {
        assert_eq!(
            a.sealed_reveal.is_some(),
            b.sealed_reveal.is_some(),
            "claim {}",
            a.id
        );
    }
    after
        .iter_mut()
        .zip(&before)
        .for_each(|(a, b)| a.sealed_reveal.clone_from(&b.sealed_reveal));
    assert_eq!(after, before);
    server.stop().await.unwrap();
}

/// A database from before reveals were events: a claim revealed then has a `verdict` event and
/// no `claim-revealed` one, and its reveal only in its row. The rebuild keeps that row as it is
/// (it cannot rebuild what the log never held) and rebuilds every other.
#[tokio::test]
async fn a_claim_revealed_before_reveal_events_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(1_800_000_000);
    let server = start(config(dir.path()), clock.clone()).await;
    let client = Client::new(&server.url());
    let app = app(&server);
    let seed = MasterSeed::from_bytes([5; 32]);
    let row = challenges::create(&app, spec(3, 10, 1, 30), Some(seed.clone()))
        .await
        .unwrap();
    let id = row.id.clone();
    clock.advance(40);
    client.wait_published(&id, 4).await;
    let p = passive::placements(&seed, &row.schedule, 1).unwrap()[0];
    let secret = hex::encode(*passive::secret(&seed, p.index).unwrap());
    let (_, olga) = commit_secret(&client, &id, "olga", p.message, &secret, &nonce(1)).await;
    let (_, pat) = commit_secret(&client, &id, "pat", p.message, &secret, &nonce(2)).await;
    let olga = olga["claim"].as_str().unwrap().to_owned();
    let pat = pat["claim"].as_str().unwrap().to_owned();

    // olga's reveal as the code before reveal events took it: the sealed reveal and the
    // verdict in the row, a `verdict` event in the log, nothing else.
    let reveal =
        json!({"kind": "secret", "message": p.message, "secret": secret, "nonce": nonce(1)});
    let (mut log, mut tx) = app.log.begin(&app.store).await.unwrap();
    let index = log
        .append(
            &mut tx,
            &challenge_server::log::Event::Verdict {
                challenge: id.clone(),
                claim: olga.clone(),
                verdict: "won".into(),
                decided_by: "automatic".into(),
                time: clock.now(),
            },
        )
        .await
        .unwrap();
    let sealed = app
        .kek
        .seal(
            challenge_server::keys::Purpose::ClaimReveal { claim: &olga },
            &serde_json::to_vec(&reveal).unwrap(),
        )
        .unwrap();
    store::claims::set_reveal(
        &mut tx,
        &olga,
        &store::claims::Reveal {
            kind: "secret",
            sealed: &sealed,
            public_json: None,
            verdict: "won",
            verdict_log_index: index,
            decided_by: "automatic",
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    log.committed();
    assert_eq!(
        reveal_secret(&client, &pat, p.message, &secret, &nonce(2))
            .await
            .1["verdict"],
        "valid-not-first"
    );

    let before = store::claims::all(&app.store).await.unwrap();
    let olga_before = before.iter().find(|c| c.id == olga).unwrap().clone();
    sqlx::query("UPDATE claims SET claimant = 'mallory', verdict = 'won' WHERE id = $1")
        .bind(&pat)
        .execute(app.store.pool())
        .await
        .unwrap();
    let report = claims::rebuild_from_log(&app).await.unwrap();
    assert_eq!((report.claims, report.kept), (1, 1), "{report:?}");
    let after = store::claims::all(&app.store).await.unwrap();
    let find = |rows: &[store::claims::ClaimRow], id: &str| {
        rows.iter().find(|c| c.id == id).unwrap().clone()
    };
    assert_eq!(find(&after, &olga), olga_before, "the legacy row is kept");
    assert!(find(&after, &olga).sealed_reveal.is_some());
    let mut pat_after = find(&after, &pat);
    let pat_before = find(&before, &pat);
    assert_eq!(pat_after.claimant, "pat");
    pat_after
        .sealed_reveal
        .clone_from(&pat_before.sealed_reveal);
    assert_eq!(
        pat_after, pat_before,
        "the other row is rebuilt from the log"
    );
    server.stop().await.unwrap();
}
