//! The checker: replays every step of a vector through `target-impl` from the recorded state
//! blob and draws ([`crate::rng::ReplayRng`]) and compares every output byte, the error class
//! and the state blob after; then re-derives the intermediates with [`crate::derive`] (the
//! `hazmat` primitives, from the blobs and draws) and compares them with the file and with the
//! keys `target-impl` stored in its state blob after the step.

use target_impl::{Device, Error, Outgoing, PeerId, Session, VerifiedBundle};

use crate::blob::{DeviceBlob, SessionBlob};
use crate::model::{
    BundleFields, DecryptSteps, Decrypted, EncryptSteps, Intermediates, Output, Step, Vector,
    VectorFile,
};
use crate::rng::ReplayRng;
use crate::{Fail, Result, array, derive, fail, hex, unhex};

/// Counts of a checked file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    /// Positive vectors (`expected` = `ok`).
    pub positive: usize,
    /// Negative vectors.
    pub negative: usize,
    /// Steps replayed.
    pub steps: usize,
}

/// The error classes of DESIGN section 7, as spelled in the files.
pub const ERROR_CLASSES: [&str; 8] = [
    "Malformed",
    "Unauthentic",
    "BadSignature",
    "Replay",
    "TooManySkipped",
    "Expired",
    "CorruptState",
    "IdentityChanged",
];

/// Checks every vector of a file.
pub fn check_file(file: &VectorFile) -> Result<Report> {
    let mut report = Report::default();
    let mut ids = std::collections::BTreeSet::new();
    for v in &file.vectors {
        if !ids.insert(v.id.as_str()) {
            fail!("duplicate vector id {}", v.id);
        }
        check_vector(v).map_err(|e| Fail(format!("vector {}: {e}", v.id)))?;
        if v.expected == "ok" {
            report.positive += 1;
        } else {
            report.negative += 1;
        }
        report.steps += v.steps.len();
    }
    Ok(report)
}

/// Checks one vector: every step, and that its last step yields `expected`.
pub fn check_vector(v: &Vector) -> Result<()> {
    let last = v.steps.last().ok_or_else(|| Fail("no steps".into()))?;
    let last_outcome = last.error.as_deref().unwrap_or("ok");
    if last_outcome != v.expected {
        fail!(
            "expected {} but the last step gives {last_outcome}",
            v.expected
        );
    }
    if v.expected != "ok" && !ERROR_CLASSES.contains(&v.expected.as_str()) {
        fail!("unknown error class {}", v.expected);
    }
    if v.expected != "ok" && v.changed.is_none() {
        fail!("a negative vector must say what was changed");
    }
    // Steps chain: an actor's state before a step is its state after its previous step.
    let mut last_state: std::collections::BTreeMap<&str, &str> = Default::default();
    for (i, step) in v.steps.iter().enumerate() {
        if let (Some(actor), Some(before)) = (&step.actor, &step.state_before)
            && let Some(previous) = last_state.get(actor.as_str())
            && previous != before
        {
            fail!("step {i}: state_before is not {actor}'s state after its previous step");
        }
        if let (Some(actor), Some(after)) = (&step.actor, &step.state_after) {
            last_state.insert(actor, after);
        }
        check_step(step).map_err(|e| Fail(format!("step {i} ({}): {e}", step.op)))?;
    }
    Ok(())
}

fn eq<T: PartialEq + core::fmt::Debug>(what: &str, got: T, want: T) -> Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(Fail(format!("{what}: got {got:?}, want {want:?}")))
    }
}

fn class(e: Error) -> String {
    e.name().to_string()
}

fn need<'a, T>(v: &'a Option<T>, what: &str) -> Result<&'a T> {
    v.as_ref().ok_or_else(|| Fail(format!("missing {what}")))
}

fn peer(step: &Step) -> Result<PeerId> {
    Ok(PeerId::new(unhex(need(&step.input.peer, "input.peer")?)?)?)
}

/// Restores `state_before` and checks that it re-encodes to the same bytes.
fn restore_before(step: &Step) -> Result<(Device, Vec<u8>)> {
    let before = unhex(need(&step.state_before, "state_before")?)?;
    let device = Device::from_bytes(&before)?;
    eq(
        "state_before re-encodes",
        hex(&device.to_bytes()),
        hex(&before),
    )?;
    Ok((device, before))
}

/// Checks the error, and the state after: unchanged on an error other than `Expired`.
fn check_after(step: &Step, device: &Device, before: &[u8], error: Option<Error>) -> Result<()> {
    eq("error", error.map(class), step.error.clone())?;
    let after = hex(&device.to_bytes());
    eq("state_after", Some(&after), step.state_after.as_ref())?;
    if error.is_some_and(|e| e != Error::Expired) {
        eq("state unchanged after the error", after, hex(before))?;
    }
    Ok(())
}

/// Replays one step.
pub fn check_step(step: &Step) -> Result<()> {
    let draws = step
        .draws
        .iter()
        .map(|d| unhex(d))
        .collect::<Result<Vec<_>>>()?;
    let mut rng = ReplayRng::new(draws.clone());
    if let Some(e) = &step.error {
        if !ERROR_CLASSES.contains(&e.as_str()) {
            fail!("unknown error class {e}");
        }
        if step.output.is_some() {
            fail!("a failed step has no output");
        }
    }
    match step.op.as_str() {
        "generate" => {
            if step.state_before.is_some() {
                fail!("generate starts from no state");
            }
            let device = Device::generate(&mut rng)?;
            rng.finish()?;
            check_after(step, &device, &[], None)?;
            let blob = DeviceBlob::parse(&device.to_bytes())?;
            let identity = hex(&device.public_identity().to_bytes());
            eq(
                "public identity re-derived",
                &hex(&derive::public_identity(
                    &blob.signing_seed,
                    &blob.dh_private,
                )?),
                &identity,
            )?;
            eq(
                "output",
                step.output.clone(),
                Some(Output {
                    public_identity: Some(identity),
                    ..Output::default()
                }),
            )?;
        }
        "add_one_time_prekeys"
        | "add_one_time_kem_prekeys"
        | "rotate_signed_prekey"
        | "rotate_last_resort_kem_prekey" => {
            let (mut device, before) = restore_before(step)?;
            let count = step.input.count.unwrap_or(0) as usize;
            let result = match step.op.as_str() {
                "add_one_time_prekeys" => device.add_one_time_prekeys(count, &mut rng),
                "add_one_time_kem_prekeys" => device.add_one_time_kem_prekeys(count, &mut rng),
                "rotate_signed_prekey" => device.rotate_signed_prekey(&mut rng),
                _ => device.rotate_last_resort_kem_prekey(&mut rng),
            };
            rng.finish()?;
            check_after(step, &device, &before, result.err())?;
            eq("output", &step.output, &None)?;
        }
        "prekey_bundle" => {
            let (device, before) = restore_before(step)?;
            let bundle = device.prekey_bundle()?.to_bytes();
            rng.finish()?;
            check_after(step, &device, &before, None)?;
            eq(
                "bundle re-derived from the blob",
                hex(&derive::bundle_of(&DeviceBlob::parse(&before)?)?),
                hex(&bundle),
            )?;
            eq(
                "output",
                step.output.clone(),
                Some(Output {
                    bundle: Some(hex(&bundle)),
                    ..Output::default()
                }),
            )?;
        }
        "import_bundle" => {
            let bytes = unhex(need(&step.input.bundle, "input.bundle")?)?;
            rng.finish()?;
            match VerifiedBundle::import(&bytes) {
                Ok(b) => {
                    eq("error", None, step.error.clone())?;
                    eq("output", step.output.clone(), Some(bundle_output(&b)))?;
                }
                Err(e) => eq("error", Some(class(e)), step.error.clone())?,
            }
        }
        "initiate" => check_initiate(step, &draws, &mut rng)?,
        "encrypt" => check_encrypt(step, &draws, &mut rng)?,
        "decrypt" => check_decrypt(step, &mut rng)?,
        "restore_device" | "restore_session" => {
            let blob = unhex(need(&step.input.blob, "input.blob")?)?;
            rng.finish()?;
            let restored = if step.op == "restore_device" {
                Device::from_bytes(&blob).map(|d| d.to_bytes())
            } else {
                Session::from_bytes(&blob).map(|s| s.to_bytes())
            };
            match restored {
                Ok(again) => {
                    eq("error", None, step.error.clone())?;
                    eq("canonical re-encoding", hex(&again), hex(&blob))?;
                }
                Err(e) => eq("error", Some(class(e)), step.error.clone())?,
            }
            eq("output", &step.output, &None)?;
        }
        other => fail!("unknown op {other}"),
    }
    Ok(())
}

/// The session that decrypts `message` from `peer` on device `d0`: the existing session, or
/// (for an initial message whose prefix is not that session's) the responder's fresh one,
/// with the responder's PQXDH intermediates.
pub fn decrypting_session(
    d0: &DeviceBlob,
    peer: &PeerId,
    message: &[u8],
) -> Result<(SessionBlob, Option<crate::model::Pqxdh>)> {
    let existing = d0.session(peer.as_bytes()).ok();
    let accepts = message.get(1) == Some(&2)
        && existing.is_none_or(|s| {
            derive::Prefix::parse(message)
                .map(|p| target_impl::hazmat::sha256(&[&p.bytes]) != s.setup_id)
                .unwrap_or(true)
        });
    if accepts {
        let p = derive::pqxdh_responder(d0, message)?;
        Ok((derive::responder_session(d0, message, &p)?, Some(p)))
    } else {
        let s = existing.ok_or_else(|| Fail("no session decrypted it".into()))?;
        Ok((s.clone(), None))
    }
}

/// The intermediates of a step, re-derived with [`crate::derive`] from its state before, its
/// input and its draws (no `target-impl` call): what the generator writes and the checker
/// expects. `None` for steps that failed (except `Expired`) and for operations without any.
pub fn derive_intermediates(step: &Step) -> Result<Option<Intermediates>> {
    let authenticated = match step.error.as_deref() {
        None => true,
        Some("Expired") => step.op == "decrypt",
        Some(_) => false,
    };
    if !authenticated {
        return Ok(None);
    }
    let draws = step
        .draws
        .iter()
        .map(|d| unhex(d))
        .collect::<Result<Vec<_>>>()?;
    let before = || -> Result<DeviceBlob> {
        DeviceBlob::parse(&unhex(need(&step.state_before, "state_before")?)?)
    };
    match step.op.as_str() {
        "initiate" => {
            let bundle = unhex(need(&step.input.bundle, "input.bundle")?)?;
            Ok(Some(Intermediates {
                pqxdh: Some(derive::pqxdh_initiator(&before()?, &bundle, &draws)?),
                ..Intermediates::default()
            }))
        }
        "encrypt" => {
            let peer = peer(step)?;
            let payload = unhex(need(&step.input.payload, "input.payload")?)?;
            let d0 = before()?;
            let (_, steps) = derive::encrypt(
                d0.session(peer.as_bytes())?,
                &draws,
                *need(&step.input.content_type, "input.content_type")?,
                *need(&step.input.ttl, "input.ttl")?,
                &payload,
                *need(&step.input.now, "input.now")?,
            )?;
            Ok(Some(Intermediates {
                encrypt: Some(steps),
                ..Intermediates::default()
            }))
        }
        "decrypt" => {
            let message = unhex(need(&step.input.message, "input.message")?)?;
            let (s0, pqxdh) = decrypting_session(&before()?, &peer(step)?, &message)?;
            Ok(Some(Intermediates {
                pqxdh,
                decrypt: Some(derive::decrypt(&s0, &message)?),
                ..Intermediates::default()
            }))
        }
        _ => Ok(None),
    }
}

/// The `import_bundle` output of a verified bundle.
pub fn bundle_output(b: &VerifiedBundle) -> Output {
    let b = b.bundle();
    let bytes = b.to_bytes();
    let fields = derive::Bundle::parse(&bytes).ok();
    Output {
        bundle_fields: fields.map(|f| BundleFields {
            identity: hex(&f.identity),
            signed_prekey_id: f.spk_id,
            signed_prekey: hex(&f.spk),
            one_time_prekey_id: f.opk.map(|(id, _)| id),
            one_time_prekey: f.opk.map(|(_, k)| hex(&k)),
            kem_kind: f.kem_kind,
            kem_prekey_id: f.kem_id,
            kem_prekey: hex(&f.kem),
        }),
        ..Output::default()
    }
}

fn key(h: &str) -> Result<[u8; 32]> {
    array(&unhex(h)?, "key")
}

fn check_initiate(step: &Step, draws: &[Vec<u8>], rng: &mut ReplayRng) -> Result<()> {
    let (mut device, before) = restore_before(step)?;
    let bundle_bytes = unhex(need(&step.input.bundle, "input.bundle")?)?;
    let peer = peer(step)?;
    let result =
        VerifiedBundle::import(&bundle_bytes).and_then(|b| device.initiate(&peer, &b, &mut *rng));
    core::mem::take(rng).finish()?;
    check_after(step, &device, &before, result.err())?;
    eq("output", &step.output, &None)?;
    if step.error.is_some() {
        return eq("intermediates", &step.intermediates, &None);
    }
    let p = derive::pqxdh_initiator(&DeviceBlob::parse(&before)?, &bundle_bytes, draws)?;
    eq(
        "intermediates",
        step.intermediates.clone(),
        Some(Intermediates {
            pqxdh: Some(p.clone()),
            ..Intermediates::default()
        }),
    )?;
    // Against the session target-impl stored (PROTOCOL.md 7.4, initiator).
    let after = DeviceBlob::parse(&device.to_bytes())?;
    let s = after.session(peer.as_bytes())?;
    let b = derive::Bundle::parse(&bundle_bytes)?;
    eq("RK", s.rk, key(&p.root_key)?)?;
    eq("NHKs = HK_I", s.nhks, key(&p.initiator_header_key)?)?;
    eq("NHKr = HK_R", s.nhkr, key(&p.responder_header_key)?)?;
    eq("PQ_RESERVE", s.pq_reserve, key(&p.pq_reserve)?)?;
    eq("AD", hex(&s.ad), p.ad.clone())?;
    eq("setup_id", s.setup_id, key(&p.setup_id)?)?;
    eq(
        "initial prefix",
        s.initial_prefix.clone(),
        Some(unhex(&p.prefix)?),
    )?;
    eq("DHr = SPK", s.dhr, Some(b.spk))?;
    eq(
        "pending",
        (s.pending, s.initiator, s.dhs),
        (true, true, None),
    )?;
    Ok(())
}

fn check_encrypt(step: &Step, draws: &[Vec<u8>], rng: &mut ReplayRng) -> Result<()> {
    let (mut device, before) = restore_before(step)?;
    let peer = peer(step)?;
    let payload = unhex(need(&step.input.payload, "input.payload")?)?;
    let now = *need(&step.input.now, "input.now")?;
    let message = Outgoing {
        content_type: *need(&step.input.content_type, "input.content_type")?,
        ttl: *need(&step.input.ttl, "input.ttl")?,
        payload: &payload,
    };
    let result = device
        .session_mut(&peer)
        .ok_or_else(|| Fail("no session with the peer".into()))?
        .encrypt(&message, now, &mut *rng);
    core::mem::take(rng).finish()?;
    check_after(step, &device, &before, result.as_ref().err().copied())?;
    let Ok(wire) = result else {
        return eq("intermediates", &step.intermediates, &None);
    };
    eq(
        "output",
        step.output.clone(),
        Some(Output {
            message: Some(hex(&wire)),
            ..Output::default()
        }),
    )?;
    let s0 = DeviceBlob::parse(&before)?
        .session(peer.as_bytes())?
        .clone();
    let (derived_wire, steps) =
        derive::encrypt(&s0, draws, message.content_type, message.ttl, &payload, now)?;
    eq(
        "message re-derived with hazmat",
        hex(&derived_wire),
        hex(&wire),
    )?;
    eq(
        "intermediates",
        step.intermediates.clone(),
        Some(Intermediates {
            encrypt: Some(steps.clone()),
            ..Intermediates::default()
        }),
    )?;
    let after = DeviceBlob::parse(&device.to_bytes())?;
    encrypt_state(&s0, after.session(peer.as_bytes())?, &steps)
}

/// The session after an encrypt holds exactly the keys the re-derivation found.
fn encrypt_state(s0: &SessionBlob, s1: &SessionBlob, e: &EncryptSteps) -> Result<()> {
    let mut expected = s0.clone();
    if let Some(step) = &e.ratchet_step {
        expected.pn = s0.ns;
        expected.hks = Some(s0.nhks);
        expected.nhks = key(&step.next_header_key)?;
        expected.dhs = Some(key(&step.ratchet_private)?);
        expected.rk = key(&step.root_key)?;
        expected.pending = false;
    }
    expected.cks = Some(key(&e.next_chain_key)?);
    expected.ns = e.n + 1;
    eq("session after encrypt", s1, &expected)
}

fn check_decrypt(step: &Step, rng: &mut ReplayRng) -> Result<()> {
    let (mut device, before) = restore_before(step)?;
    let peer = peer(step)?;
    let message = unhex(need(&step.input.message, "input.message")?)?;
    let now = *need(&step.input.now, "input.now")?;
    let result = device.decrypt(&peer, &message, now);
    core::mem::take(rng).finish()?;
    if !step.draws.is_empty() {
        fail!("decrypt draws nothing");
    }
    check_after(step, &device, &before, result.as_ref().err().copied())?;
    let output = result.as_ref().ok().map(|m| Output {
        decrypted: Some(Decrypted {
            content_type: m.content_type,
            sent_at: m.sent_at,
            ttl: m.ttl,
            expires_at: m.expires_at,
            payload: hex(&m.payload),
        }),
        ..Output::default()
    });
    eq("output", &output, &step.output)?;
    let authenticated = matches!(&result, Ok(_) | Err(Error::Expired));
    if !authenticated {
        return eq("intermediates", &step.intermediates, &None);
    }
    let d0 = DeviceBlob::parse(&before)?;
    let (s0, pqxdh) = decrypting_session(&d0, &peer, &message)?;
    let steps = derive::decrypt(&s0, &message)?;
    eq(
        "intermediates",
        step.intermediates.clone(),
        Some(Intermediates {
            pqxdh,
            decrypt: Some(steps.clone()),
            ..Intermediates::default()
        }),
    )?;
    let body = unhex(&steps.body_plaintext)?;
    if let Ok(m) = &result {
        eq(
            "payload in the re-derived body",
            body.get(17..17 + m.payload.len()),
            Some(&m.payload[..]),
        )?;
    }
    let after = DeviceBlob::parse(&device.to_bytes())?;
    decrypt_state(&s0, after.session(peer.as_bytes())?, &steps, now)
}

fn has_key(s: &SessionBlob, hk: &[u8; 32], n: u32, mk: &str) -> bool {
    s.skipped
        .iter()
        .any(|c| c.header_key == *hk && c.keys.iter().any(|k| k.n == n && hex(&k.mk) == mk))
}

/// The session after a decrypt holds exactly the keys the re-derivation found.
fn decrypt_state(s0: &SessionBlob, s1: &SessionBlob, d: &DecryptSteps, _now: u64) -> Result<()> {
    let hk = key(&d.header_key)?;
    let sending = |s: &SessionBlob| (s.cks, s.hks, s.nhks, s.ns, s.pn, s.dhs, s.ad.clone());
    eq(
        "sending side unchanged by decrypt",
        sending(s1),
        sending(s0),
    )?;
    eq("initial prefix dropped", &s1.initial_prefix, &None)?;
    let used_stored = d.next_chain_key.is_none();
    if used_stored {
        eq("key used", has_key(s1, &hk, d.n, &d.message_key), false)?;
        if !has_key(s0, &hk, d.n, &d.message_key) {
            fail!("the stored key used was not in the store before");
        }
        eq(
            "receiving chain unchanged",
            (s1.ckr, s1.nr, s1.rk),
            (s0.ckr, s0.nr, s0.rk),
        )?;
        return Ok(());
    }
    eq(
        "CKr",
        s1.ckr,
        Some(key(need(&d.next_chain_key, "next_chain_key")?)?),
    )?;
    eq("Nr", s1.nr, d.n + 1)?;
    for k in &d.skipped_keys {
        if !has_key(s1, &hk, k.n, &k.message_key) {
            fail!("skipped key {} not stored under its header key", k.n);
        }
    }
    match &d.ratchet_step {
        None => eq("HKr", s1.hkr, Some(hk))?,
        Some(step) => {
            eq("HKr = old NHKr", s1.hkr, Some(s0.nhkr))?;
            eq("NHKr", s1.nhkr, key(&step.next_header_key)?)?;
            eq("RK", s1.rk, key(&step.root_key)?)?;
            let dh: [u8; 32] = array(
                crate::slice(&unhex(&d.header_plaintext)?, 0..32, "header dh")?,
                "header dh",
            )?;
            eq("DHr", s1.dhr, Some(dh))?;
            eq("pending", s1.pending, true)?;
            if let Some(old) = s0.hkr {
                for k in &d.closed_chain_keys {
                    if !has_key(s1, &old, k.n, &k.message_key) {
                        fail!("closed-chain key {} not stored", k.n);
                    }
                }
            }
        }
    }
    Ok(())
}
