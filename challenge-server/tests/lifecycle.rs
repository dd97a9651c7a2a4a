//! The whole lifecycle over real HTTP against a real SQLite file: create (from a known seed,
//! through the library), traffic on schedule, claims judged (invalid, won, valid-not-first,
//! needs-review decided by the operator), nothing secret in the database files, close and
//! reveal, `verify` (library and binary) passes, and tampering is caught.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use challenge_server::challenges;
use challenge_server::clock::Clock;
use challenge_server::seed::MasterSeed;
use challenge_server::tracks::Schedule;
use challenge_server::tracks::passive;
use challenge_server::verify::{self, Source, VerifyError};
use common::*;
use serde_json::{Value, json};

const T0: u64 = 1_800_000_000;
const SEED: [u8; 32] = [0x5e; 32];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_lifecycle() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(T0);
    let server = start(config(dir.path()), clock.clone()).await;
    let client = Client::new(&server.url());
    let app = app(&server);
    let admin = app.create_admin_token().await.unwrap();
    // The researcher saves the server key when the challenge is created, to verify under it.
    let key_file = dir.path().join("pinned-server-key.json");
    let pinned = save_server_key(&client, &key_file).await;
    let key_arg = key_file.to_str().unwrap().to_owned();

    // Create from a known seed: the only way for the test to know the secrets.
    let row = challenges::create(&app, spec(8, 10, 2, 30), Some(MasterSeed::from_bytes(SEED)))
        .await
        .unwrap();
    let id = row.id.clone();
    let schedule = Schedule {
        messages: 8,
        interval_secs: 10,
        start_at: T0 + 10,
    };
    assert_eq!(row.schedule, schedule);
    let seed = MasterSeed::from_bytes(SEED);
    let placements = passive::placements(&seed, &schedule, 2).unwrap();

    // Published before any traffic: commitments, bundles, rules hash, target-impl identity.
    let (status, c) = client.get(&format!("/challenges/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(c["published_entries"], 0);
    assert_eq!(c["seed_commitment"], hex::encode(seed.commitment()));
    assert_eq!(c["secret_commitments"].as_array().unwrap().len(), 2);
    assert_eq!(
        c["target_impl"]["source_sha256"],
        challenge_server::TARGET_IMPL_SOURCE_SHA256
    );
    assert_eq!(
        c["target_impl"],
        json!({
            "crate": "target-impl",
            "version": challenge_server::TARGET_IMPL_VERSION,
            "source_sha256": challenge_server::TARGET_IMPL_SOURCE_SHA256,
            "deps_sha256": challenge_server::TARGET_IMPL_DEPS_SHA256,
            "flaw": null,
        })
    );
    assert!(c["seed"].is_null());
    let (_, list) = client.get("/challenges").await;
    assert_eq!(list[0]["id"], id.as_str());

    // Traffic appears on schedule, never ahead of it.
    clock.advance(10);
    client.wait_published(&id, 1).await;
    let (_, page) = client.get(&format!("/challenges/{id}/transcript")).await;
    assert_eq!(page["entries"][0]["kind"], "bundle");
    assert_eq!(page["entries"][0]["time"], T0 + 10);
    assert_eq!(page["entries"][0]["bytes"], c["parties"]["bob"]["bundle"]);
    clock.advance(30);
    client.wait_published(&id, 4).await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let (_, c) = client.get(&format!("/challenges/{id}")).await;
    assert_eq!(
        c["published_entries"], 4,
        "nothing is published ahead of its time"
    );
    clock.advance(50);
    client.wait_published(&id, 9).await;

    // Paging and the whole download agree with the regeneration.
    let expected = passive::replay(&seed, &schedule, &placements, 8).unwrap();
    let (_, p1) = client
        .get(&format!("/challenges/{id}/transcript?from=0&limit=5"))
        .await;
    assert_eq!(p1["next_from"], 5);
    let (_, p2) = client
        .get(&format!("/challenges/{id}/transcript?from=5&limit=5"))
        .await;
    assert!(p2["next_from"].is_null());
    // Past the end: 200, no entries, no next page; the log's entries likewise.
    let (status, p3) = client
        .get(&format!("/challenges/{id}/transcript?from=1000&limit=5"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(p3["entries"], json!([]));
    assert!(p3["next_from"].is_null());
    let (status, log_page) = client.get("/log/entries?from=100000&limit=5").await;
    assert_eq!(status, 200);
    assert_eq!(log_page["entries"], json!([]));
    let (_, whole) = client
        .get(&format!("/challenges/{id}/transcript/download"))
        .await;
    let entries = whole["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 9);
    for (e, step) in entries.iter().zip(&expected) {
        assert_eq!(e["bytes"], hex::encode(&step.bytes));
        assert_eq!(e["time"], step.sent_at);
        assert_eq!(e["direction"], step.direction.name());
    }
    assert_eq!(entries[1]["kind"], "initial");
    assert_eq!(p1["entries"][1], entries[1]);

    // Health: the solver found both secrets.
    let (_, health) = client.get("/health").await;
    assert_eq!(health["status"], "ok");
    assert_eq!(health["challenges"][0]["secrets_confirmed"], 2);

    // Claims.
    let p = placements[0];
    let secret = hex::encode(*passive::secret(&seed, p.index).unwrap());
    let nonce = |b: u8| hex::encode([b; 32]);
    let (s, wrong) = commit_secret(
        &client,
        &id,
        "mallory",
        p.message,
        &"ab".repeat(16),
        &nonce(1),
    )
    .await;
    assert_eq!(s, 201, "{wrong}");
    let (s, first) = commit_secret(
        &client,
        &id,
        "alice.research",
        p.message,
        &secret,
        &nonce(2),
    )
    .await;
    assert_eq!(s, 201, "{first}");
    let (s, second) = commit_secret(&client, &id, "bob-lab", p.message, &secret, &nonce(3)).await;
    assert_eq!(s, 201);
    assert!(first["log_index"].as_u64() < second["log_index"].as_u64());

    // A reveal without its commit is refused.
    let (s, e) = reveal_secret(&client, "0123456789abcdef", p.message, &secret, &nonce(2)).await;
    assert_eq!((s, e["error"]["field"].as_str()), (404, Some("id")));
    // The later commit reveals first; the earlier one still wins by log index.
    let (s, v) = reveal_secret(
        &client,
        second["claim"].as_str().unwrap(),
        p.message,
        &secret,
        &nonce(3),
    )
    .await;
    assert_eq!((s, v["verdict"].as_str()), (200, Some("won")));
    let (_, v) = reveal_secret(
        &client,
        wrong["claim"].as_str().unwrap(),
        p.message,
        &"ab".repeat(16),
        &nonce(1),
    )
    .await;
    assert_eq!(v["verdict"], "invalid");
    let (_, v) = reveal_secret(
        &client,
        first["claim"].as_str().unwrap(),
        p.message,
        &secret,
        &nonce(2),
    )
    .await;
    assert_eq!(v["verdict"], "won");
    let (_, c2) = client
        .get(&format!("/claims/{}", second["claim"].as_str().unwrap()))
        .await;
    assert_eq!(c2["verdict"], "valid-not-first");
    assert!(
        c2["reveal"].is_null(),
        "reveals stay sealed until the close"
    );
    // Reveal twice: refused, nothing changes.
    let (s, e) = reveal_secret(
        &client,
        first["claim"].as_str().unwrap(),
        p.message,
        &secret,
        &nonce(2),
    )
    .await;
    assert_eq!((s, e["error"]["code"].as_str()), (409, Some("conflict")));

    // A free-form finding goes to review; the operator decides.
    let finding = "The prekey ids are sequential.";
    let text = format!(
        "challenge-server/v1/claim\nchallenge: {id}\nclaimant: carol\nkind: finding\nfinding-sha256: {}\nnonce: {}\n",
        hex::encode(target_impl::hazmat::sha256(&[finding.as_bytes()])),
        nonce(4)
    );
    let commitment = hex::encode(target_impl::hazmat::sha256(&[text.as_bytes()]));
    let (_, r) = client
        .post(
            "/claims/commit",
            &json!({"challenge": id, "claimant": "carol", "commitment": commitment}),
        )
        .await;
    let carol = r["claim"].as_str().unwrap().to_owned();
    let (_, v) = client
        .post(
            &format!("/claims/{carol}/reveal"),
            &json!({"kind": "finding", "finding": finding, "nonce": nonce(4)}),
        )
        .await;
    assert_eq!(v["verdict"], "needs-review");
    let (s, _) = client
        .post_raw(
            &format!("/admin/claims/{carol}/decision"),
            r#"{"verdict":"invalid"}"#,
            Some("wrong"),
        )
        .await;
    assert_eq!(s, 401);
    let (s, v) = client
        .post_raw(
            &format!("/admin/claims/{carol}/decision"),
            r#"{"verdict":"invalid"}"#,
            Some(&admin),
        )
        .await;
    assert_eq!((s, v["verdict"].as_str()), (200, Some("invalid")));

    // Nothing secret is in the database files, after all these writes.
    let mut secrets: Vec<Vec<u8>> = vec![
        SEED.to_vec(),
        hex::encode(SEED).into_bytes(),
        admin.clone().into_bytes(),
    ];
    secrets.push(hex::decode(KEK_HEX).unwrap());
    secrets.push(KEK_HEX.as_bytes().to_vec());
    secrets.push(app.server_key.seed().to_vec());
    for q in &placements {
        let s = passive::secret(&seed, q.index).unwrap();
        secrets.push(s.to_vec());
        secrets.push(hex::encode(*s).into_bytes());
    }
    let parties = passive::parties(&seed).unwrap();
    for state in [parties.alice.to_bytes(), parties.bob.to_bytes()] {
        secrets.push(state[2..34].to_vec()); // identity signing seed
        secrets.push(state[34..66].to_vec()); // identity X25519 key
    }
    secrets.push(finding.as_bytes().to_vec());
    assert_no_secret_in_db(dir.path(), &secrets);

    // Close at the deadline: the seed is revealed and logged; claims are refused after.
    clock.advance(40);
    let closed = client.wait_closed(&id).await;
    assert_eq!(closed["seed"], hex::encode(SEED));
    assert_eq!(closed["close_reason"], "deadline");
    let (s, e) = commit_secret(&client, &id, "late", p.message, &secret, &nonce(9)).await;
    assert_eq!((s, e["error"]["field"].as_str()), (409, Some("challenge")));
    let (_, claims) = client.get(&format!("/challenges/{id}/claims")).await;
    assert_eq!(claims["claims"].as_array().unwrap().len(), 4);
    assert!(claims["next_from"].is_null());
    let (_, first) = client
        .get(&format!("/challenges/{id}/claims?limit=3"))
        .await;
    let (_, rest) = client
        .get(&format!(
            "/challenges/{id}/claims?from={}&limit=3",
            first["next_from"]
        ))
        .await;
    assert_eq!(first["claims"].as_array().unwrap().len(), 3);
    assert!(rest["next_from"].is_null());
    assert_eq!(
        rest["claims"][0], claims["claims"][3],
        "the pages are the whole list"
    );
    let claims = &claims["claims"];
    assert_eq!(
        claims[0]["reveal"]["nonce"],
        nonce(1),
        "reveals are public after the close"
    );

    // verify passes, through the library and through the binary.
    let report = common::verify_http(&server, &id, &pinned, clock.now())
        .await
        .unwrap();
    assert_eq!((report.entries, report.secrets, report.claims), (9, 2, 4));
    // The host root and the API base of docs/API.md (`$B`, with or without a slash) alike.
    for url in [
        server.url(),
        format!("{}/api/v1", server.url()),
        format!("{}/api/v1/", server.url()),
    ] {
        let out = run_binary(&[
            "verify",
            "--url",
            &url,
            "--challenge",
            &id,
            "--server-key",
            &key_arg,
        ])
        .await;
        assert!(
            out.status.success(),
            "verify --url {url}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).starts_with("OK"));
    }

    // Export, verify the directory, then tamper with copies of it.
    let exported = dir.path().join("export");
    let out = run_binary(&[
        "export",
        "--url",
        &server.url(),
        "--challenge",
        &id,
        "--out",
        exported.to_str().unwrap(),
    ])
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    verify::verify(
        &Source::Dir(exported.clone()),
        &id,
        &pinned,
        &[],
        clock.now(),
    )
    .await
    .unwrap();
    // `WRITE_EXPORT_FIXTURE=<dir>` keeps this export as a fixture (tests/fixtures/README.md).
    if let Some(fixture) = std::env::var_os("WRITE_EXPORT_FIXTURE") {
        copy_dir(&exported, std::path::Path::new(&fixture));
        std::fs::write(std::path::Path::new(&fixture).join("CHALLENGE_ID"), &id).unwrap();
    }
    tamper_is_caught(&exported, &id, &pinned, &key_arg).await;

    server.stop().await.unwrap();
}

async fn run_binary(args: &[&str]) -> std::process::Output {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_cli(&args, &[])
    })
    .await
    .unwrap()
}

fn assert_no_secret_in_db(dir: &std::path::Path, secrets: &[Vec<u8>]) {
    let mut checked = 0;
    for suffix in ["", "-wal", "-shm"] {
        let path = dir.join(format!("challenge-server.sqlite{suffix}"));
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        checked += 1;
        for secret in secrets {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_slice()),
                "a secret ({} bytes) is in {}",
                secret.len(),
                path.display()
            );
        }
    }
    assert!(checked >= 2, "the database and its WAL exist");
}

/// Copies a directory tree.
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// One changed transcript byte, one changed receipt, one changed log entry: each is caught.
async fn tamper_is_caught(
    exported: &std::path::Path,
    id: &str,
    pinned: &verify::PinnedKey,
    key_arg: &str,
) {
    let edit_as = |tag: &str, name: &str, f: &dyn Fn(&mut Value)| {
        let copy = exported.with_extension(format!("{}{tag}", name.replace('.', "-")));
        std::fs::create_dir_all(&copy).unwrap();
        for entry in std::fs::read_dir(exported).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
        }
        let mut value: Value =
            serde_json::from_str(&std::fs::read_to_string(copy.join(name)).unwrap()).unwrap();
        f(&mut value);
        std::fs::write(copy.join(name), value.to_string()).unwrap();
        copy
    };
    let edit = |name: &str, f: &dyn Fn(&mut Value)| edit_as("", name, f);
    let flip = |hex_str: &str, at: usize| {
        let mut bytes = hex::decode(hex_str).unwrap();
        bytes[at] ^= 0x01;
        hex::encode(bytes)
    };
    let transcript = edit("transcript.json", &|v| {
        let e = &mut v["entries"][3]["bytes"];
        *e = Value::String(flip(e.as_str().unwrap(), 40));
    });
    // The claims document must say what the log says; a receipt must be signed.
    let committed_at = edit_as("-time", "claims.json", &|v| {
        let t = v[1]["receipt"]["time"].as_u64().unwrap();
        v[1]["receipt"]["time"] = json!(t + 1);
        v[1]["committed_at"] = json!(t + 1);
    });
    let receipt = edit("claims.json", &|v| {
        let s = &mut v[1]["receipt"]["signature"];
        *s = Value::String(flip(s.as_str().unwrap(), 5));
    });
    let log_entry = edit("log-entries.json", &|v| {
        let d = &mut v[2]["data"];
        *d = Value::String(flip(d.as_str().unwrap(), 12));
        let data = hex::decode(d.as_str().unwrap()).unwrap();
        v[2]["leaf_hash"] = json!(hex::encode(challenge_server::log::leaf_hash(&data)));
    });
    // A build of target-impl over other dependencies is not the one that ran.
    let deps = edit("challenge.json", &|v| {
        let d = &mut v["target_impl"]["deps_sha256"];
        *d = Value::String(flip(d.as_str().unwrap(), 0));
    });
    for (dir, expected) in [
        (deps, "target_impl.deps_sha256"),
        (transcript, "transcript entry 3: bytes differ"),
        (committed_at, "listed as committed at"),
        (receipt, "receipt signature does not verify"),
        (log_entry, "log entry 2"),
    ] {
        match verify::verify(&Source::Dir(dir.clone()), id, pinned, &[], T0).await {
            Err(VerifyError::Mismatch(m)) => {
                assert!(m.contains(expected), "{expected:?} not in {m:?}")
            }
            other => panic!("tampering in {} not caught: {other:?}", dir.display()),
        }
        let out = run_binary(&[
            "verify",
            "--dir",
            dir.to_str().unwrap(),
            "--server-key",
            key_arg,
        ])
        .await;
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("MISMATCH"));
    }
}

/// A challenge that closes on a win: the winning reveal closes it and reveals the seed, in
/// the same transaction; verify passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_on_win() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(T0);
    let server = start(config(dir.path()), clock.clone()).await;
    let client = Client::new(&server.url());
    let pinned = save_server_key(&client, &dir.path().join("key.json")).await;
    let mut definition = spec(3, 10, 1, 3600);
    definition.close_on_win = true;
    let seed = MasterSeed::from_bytes([0x77; 32]);
    let row = challenges::create(&app(&server), definition, Some(seed.clone()))
        .await
        .unwrap();
    clock.advance(40);
    client.wait_published(&row.id, 4).await;
    let p = passive::placements(&seed, &row.schedule, 1).unwrap()[0];
    let secret = hex::encode(*passive::secret(&seed, p.index).unwrap());
    let nonce = hex::encode([5u8; 32]);
    let (_, receipt) = commit_secret(&client, &row.id, "winner", p.message, &secret, &nonce).await;
    let (_, v) = reveal_secret(
        &client,
        receipt["claim"].as_str().unwrap(),
        p.message,
        &secret,
        &nonce,
    )
    .await;
    assert_eq!(v["verdict"], "won");
    let (_, c) = client.get(&format!("/challenges/{}", row.id)).await;
    assert_eq!(
        (c["status"].as_str(), c["close_reason"].as_str()),
        (Some("closed"), Some("won"))
    );
    assert_eq!(c["seed"], hex::encode([0x77; 32]));
    let report = common::verify_http(&server, &row.id, &pinned, clock.now())
        .await
        .unwrap();
    assert_eq!(report.claims, 1);
    server.stop().await.unwrap();
}
