//! The property every seizure schedule must keep, as one function that the proptest
//! (`tests.rs`) and the fuzz target `seizure_schedule` both drive: the builder refuses a schedule
//! only with a named field, and for every schedule it accepts, the secrets sit only in
//! protected messages, and the health solver, playing the whole conversation on target-impl
//! and attacking it from the seized state, reads every unprotected message to the seized party
//! and none of the protected ones.

use super::replay_on;
use super::schedule::{Params, Plan, Window, capacity, placements};
use super::solver::{Solver, placements_protected};
use crate::seed::MasterSeed;
use crate::targets;
use crate::tracks::{Public, Schedule};

/// The fields a refused schedule may name.
const REFUSAL_FIELDS: [&str; 2] = ["params.seize_at", "schedule.messages"];

/// What [`check_schedule`] found of a schedule it accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checked {
    /// Secrets placed (as many as asked, at most what the windows hold).
    pub secrets: u32,
    /// Unprotected messages to the seized party, every one of which the solver read.
    pub readable: u64,
    /// Protected messages to the seized party, none of which the solver read.
    pub protected: u64,
}

/// Builds the schedule of `messages` messages with `params` and, if it is valid, hides up to
/// `secrets` secrets from `seed`, plays every entry on target-impl and runs the solver over
/// them. `Ok(None)`: refused with a named field; `Err`: the property broke (the text says how).
pub fn check_schedule(
    messages: u64,
    params: Params,
    secrets: u32,
    seed: [u8; 32],
) -> Result<Option<Checked>, String> {
    let plan = match Plan::build(messages, params) {
        Ok(plan) => plan,
        Err(e) if REFUSAL_FIELDS.contains(&e.field.as_str()) => return Ok(None),
        Err(e) => return Err(format!("refused naming an unexpected field: {e:?}")),
    };
    if plan.window(params.seize_at.saturating_add(1)) != Some(Window::ReadableByDesign) {
        return Err("the message after the seizure is not readable by design".to_owned());
    }
    let before = plan.eligible(Window::BeforeSeizure);
    let after = plan.eligible(Window::AfterHealing);
    if before.is_empty() || after.is_empty() {
        return Err("a window holds no protected message to the seized party".to_owned());
    }
    let secrets = secrets.min(u32::try_from(capacity(before.len(), after.len())).unwrap_or(0));
    let seed = MasterSeed::from_bytes(seed);
    let schedule = Schedule {
        messages,
        interval_secs: 10,
        start_at: 1_700_000_000,
    };
    let public = Public {
        schedule,
        secrets: placements(&seed, &plan, secrets).map_err(|e| e.to_string())?,
        params: plan.fields(),
    };
    if !placements_protected(&plan, &public.secrets) {
        return Err("a secret sits in a message that is not protected".to_owned());
    }
    let entries =
        replay_on(targets::real(), &seed, &public, messages).map_err(|e| e.to_string())?;
    let mut solver =
        Solver::on(targets::real(), seed.clone(), public.clone()).map_err(|e| e.to_string())?;
    for e in &entries {
        solver.feed(e).map_err(|e| e.to_string())?;
    }
    let report = solver.report();
    if let Some(problem) = report.problem {
        return Err(format!("the solver found a problem: {problem}"));
    }
    if report.secrets_confirmed != secrets {
        return Err(format!(
            "the solver confirmed {} of {secrets} secrets",
            report.secrets_confirmed
        ));
    }
    let to_seized = |protected: bool| {
        (1..=plan.messages)
            .filter(|&k| {
                plan.is_to_seized(k) && plan.protection(k).is_some_and(|p| p.protected == protected)
            })
            .count() as u64
    };
    let checked = Checked {
        secrets,
        readable: to_seized(false),
        protected: to_seized(true),
    };
    if (report.readable, report.protected) != (Some(checked.readable), Some(checked.protected)) {
        return Err(format!(
            "the solver read {:?} and could not read {:?} messages; the rule says {} and {}",
            report.readable, report.protected, checked.readable, checked.protected
        ));
    }
    Ok(Some(checked))
}
