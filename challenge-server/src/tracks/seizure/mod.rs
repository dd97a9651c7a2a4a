//! The `seizure` track (EncroChat, Sky ECC): Alice and Bob converse on a schedule as in
//! `passive`; at the published transcript index `seize_at` one party's whole device state
//! (identity, prekeys, sessions, skipped keys: [`TargetDevice::state`]) is published as a
//! transcript entry of kind `seizure`, as if the phone were taken; the conversation goes on
//! through a healing round trip and more messages. Which messages are protected is computed
//! from the protocol's rules ([`schedule`]); secrets sit only in protected messages to the
//! seized party, before the seizure (win `forward-secrecy`) and after healing (win
//! `post-compromise`), each a commit–reveal claim naming the message and the secret.
//!
//! The conversation (parties, payloads, one message played, the secrets and their
//! commitments) is passive's ([`super::conversation`]); the health solver ([`solver`]) adds
//! the attack from the seized state alone.

mod check;
pub mod schedule;
pub mod solver;

pub use check::{Checked, check_schedule};
#[cfg(test)]
mod tests;

use super::Track as _;
use super::conversation;
use super::{
    ChallengeSpec, ClaimBody, Entry, Judgement, Parties, Public, Schedule, SecurityProperty, Setup,
    SolveReport, TrackFields, TrackSpec,
};
use crate::Error;
use crate::seed::MasterSeed;
use crate::targets::Target;
use schedule::{Party, Plan, Slot, Window};

/// The track, as [`super::TRACKS`] lists it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Seizure;

/// The kind of the seizure entry: not a wire message, nothing decodes it as one.
pub const SEIZURE_KIND: &str = "seizure";

/// The direction of the seizure entry: `<party>-seized` (`bob-seized`), the party whose
/// device state it is.
pub fn seizure_direction(party: Party) -> String {
    format!("{}-seized", party.name())
}

/// The plan of a challenge's published parameters.
pub fn plan(public: &Public) -> Result<Plan, Error> {
    Ok(Plan::from_fields(&public.params, public.schedule.messages)?)
}

/// Transcript entry `k` on `parties` (which it advances): Bob's bundle, a message, or the
/// seized party's state.
pub fn play_entry(
    parties: &mut Parties,
    seed: &MasterSeed,
    public: &Public,
    plan: &Plan,
    k: u64,
) -> Result<Entry, Error> {
    if k == 0 {
        return Ok(conversation::bundle_step(parties, &public.schedule)?.entry());
    }
    match plan.slot(k) {
        Some(Slot::Seizure) => {
            let seized = plan.params.seized;
            Ok(Entry {
                index: k,
                sent_at: public.schedule.time_of(k),
                direction: seizure_direction(seized),
                kind: SEIZURE_KIND.to_owned(),
                // Published on purpose: the whole device, as if the phone were taken.
                bytes: parties.get(seized.name())?.state().to_vec(),
            })
        }
        Some(Slot::Message(direction)) => Ok(conversation::play_message(
            parties,
            seed,
            &public.schedule,
            &public.secrets,
            k,
            direction,
        )?
        .entry()),
        None => Err(Error::internal(format!("no entry {k} in the schedule"))),
    }
}

/// Every transcript entry on `target` from scratch, `0..=upto`.
pub fn replay_on(
    target: &dyn Target,
    seed: &MasterSeed,
    public: &Public,
    upto: u64,
) -> Result<Vec<Entry>, Error> {
    let plan = plan(public)?;
    let mut parties = conversation::parties_on(target, seed)?;
    (0..=upto.min(public.schedule.messages))
        .map(|k| play_entry(&mut parties, seed, public, &plan, k))
        .collect()
}

/// The demo seizure challenge: 12 messages, Bob seized at entry 4, two secrets.
pub fn demo_spec() -> ChallengeSpec {
    ChallengeSpec {
        title: "Demo: read a message from a seized device's state".to_owned(),
        rules: "Alice and Bob exchange messages; at transcript entry 4 Bob's whole device state \
                is published. One secret sits in a protected message to Bob before the seizure \
                (forward-secrecy), one after the ratchet healed (post-compromise). Commit the \
                SHA-256 of your claim (docs/API.md), then reveal it."
            .to_owned(),
        track: Seizure.name().to_owned(),
        bounty: [
            (
                "forward-secrecy".to_owned(),
                "demo: eternal glory".to_owned(),
            ),
            (
                "post-compromise".to_owned(),
                "demo: eternal glory".to_owned(),
            ),
        ]
        .into(),
        schedule: super::ScheduleSpec {
            messages: 12,
            interval_secs: 3,
            start_at: None,
            start_in_secs: Some(3),
        },
        deadline: None,
        deadline_after_last_secs: Some(60),
        reveal_window_secs: None,
        close_on_win: false,
        secrets: 2,
        params: TrackFields(vec![("seize_at".to_owned(), serde_json::json!(4))]),
    }
}

impl super::Track for Seizure {
    fn name(&self) -> &'static str {
        "seizure"
    }

    fn win_kinds(&self) -> &'static [&'static str] {
        &["forward-secrecy", "post-compromise", "finding"]
    }

    fn due(&self, schedule: &Schedule, time: u64) -> u64 {
        schedule.entries_before(time)
    }

    fn check_params(
        &self,
        params: &TrackFields,
        schedule: &Schedule,
    ) -> Result<TrackFields, Error> {
        Ok(Plan::from_fields(params, schedule.messages)?.fields())
    }

    fn setup(
        &self,
        target: &dyn Target,
        seed: &MasterSeed,
        spec: &TrackSpec,
    ) -> Result<Setup, Error> {
        let plan = Plan::from_fields(&spec.params, spec.schedule.messages)?;
        let parties = conversation::parties_on(target, seed)?;
        let mut bundles = Vec::with_capacity(parties.0.len());
        let mut event_fields = TrackFields::default();
        for p in &parties.0 {
            let bundle = p.device.bundle()?;
            event_fields.0.push((
                format!("{}_bundle_sha256", p.name),
                serde_json::Value::String(hex::encode(target_impl::hazmat::sha256(&[&bundle]))),
            ));
            bundles.push((p.name.clone(), bundle));
        }
        event_fields.0.extend(plan.fields().0);
        Ok(Setup {
            parties,
            bundles,
            secrets: schedule::placements(seed, &plan, spec.secrets)?,
            event_fields,
        })
    }

    fn step(
        &self,
        seed: &MasterSeed,
        public: &Public,
        k: u64,
        parties: &mut Parties,
    ) -> Result<Entry, Error> {
        play_entry(parties, seed, public, &plan(public)?, k)
    }

    fn solver(
        &self,
        target: &'static dyn Target,
        seed: &MasterSeed,
        public: &Public,
    ) -> Result<Box<dyn super::Solver>, Error> {
        Ok(Box::new(solver::Solver::on(
            target,
            seed.clone(),
            public.clone(),
        )?))
    }

    fn judge(
        &self,
        _target: &dyn Target,
        seed: &MasterSeed,
        public: &Public,
        claim: &ClaimBody,
    ) -> Result<Judgement, Error> {
        Ok(match claim {
            ClaimBody::PropertySecret {
                property,
                message,
                secret,
            } => {
                let window = match property {
                    SecurityProperty::ForwardSecrecy => Window::BeforeSeizure,
                    SecurityProperty::PostCompromise => Window::AfterHealing,
                };
                let plan = plan(public)?;
                let in_window = plan.window(*message) == Some(window);
                if in_window && conversation::judge(seed, &public.secrets, *message, secret)? {
                    Judgement::Valid
                } else {
                    Judgement::Invalid
                }
            }
            ClaimBody::Secret { .. } | ClaimBody::SessionSecret { .. } | ClaimBody::Key { .. } => {
                Judgement::Invalid
            }
            ClaimBody::Finding { .. } => Judgement::NeedsReview,
        })
    }

    fn replay(
        &self,
        target: &'static dyn Target,
        seed: &MasterSeed,
        public: &Public,
        published: &[Entry],
    ) -> Result<SolveReport, String> {
        let mut solver = solver::Solver::on(target, seed.clone(), public.clone())
            .map_err(|e| format!("solver: {e}"))?;
        let Some(last) = (published.len() as u64).checked_sub(1) else {
            return Ok(solver.fair_report());
        };
        if last > public.schedule.messages {
            return Err("transcript: more entries than scheduled".to_owned());
        }
        let regenerated =
            replay_on(target, seed, public, last).map_err(|e| format!("regeneration: {e}"))?;
        for (entry, again) in published.iter().zip(&regenerated) {
            let i = again.index;
            if entry.index != i {
                return Err(format!("transcript entry {i}: out of order or missing"));
            }
            if entry.sent_at != again.sent_at {
                return Err(format!(
                    "transcript entry {i}: time differs from the schedule"
                ));
            }
            if entry.direction != again.direction {
                return Err(format!("transcript entry {i}: direction differs"));
            }
            if entry.kind != again.kind {
                return Err(format!("transcript entry {i}: kind differs"));
            }
            if entry.bytes != again.bytes {
                return Err(format!(
                    "transcript entry {i}: bytes differ from the regeneration"
                ));
            }
        }
        for entry in &regenerated {
            solver.feed(entry).map_err(|e| format!("solver: {e}"))?;
        }
        // A protected message read from the seized state is the target's loss (a win to
        // claim), not a fault of the challenge: verify checks that it is fair.
        let report = solver.fair_report();
        match &report.problem {
            Some(problem) => Err(format!("seizure: {problem}")),
            None => Ok(report),
        }
    }
}
