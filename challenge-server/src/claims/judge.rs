//! The judgement of a revealed claim, the one rule the server's reveal and `verify`'s re-judging
//! both apply (docs/API.md, "POST /claims/{id}/reveal"): a claim about a session must name a
//! session whose `session-opened` event precedes the claim's `claim-committed` event in the
//! log; only then does its track judge it. Otherwise a commit could name a session not opened
//! yet and take its priority from before anything about the session existed.

use core::fmt;

use crate::Error;
use crate::seed::MasterSeed;
use crate::targets::Target;
use crate::tracks::{ClaimBody, Judgement, Public, Track};

/// Where a claim stands in the log, as the rule needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClaimContext {
    /// Log index of the claim's `claim-committed` event.
    pub commit_index: u64,
    /// Log index of the `session-opened` event of the session the claim names
    /// ([`ClaimBody::session`]), if that session was opened; `None` for a claim that names no
    /// session.
    pub session_opened: Option<u64>,
}

/// Why a claim is invalid before its track judges it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The claim names a session that was never opened.
    SessionNotOpened {
        /// The session.
        session: u64,
    },
    /// The claim names a session opened after its commit.
    SessionOpenedAfterCommit {
        /// The session.
        session: u64,
        /// Log index of its `session-opened` event.
        opened: u64,
        /// Log index of the claim's `claim-committed` event.
        committed: u64,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::SessionNotOpened { session } => write!(
                f,
                "session {session} was not opened before the claim's commit (it was never opened)"
            ),
            Refusal::SessionOpenedAfterCommit {
                session,
                opened,
                committed,
            } => write!(
                f,
                "session {session} was not opened before the claim's commit (opened at log \
                 entry {opened}, committed at {committed})"
            ),
        }
    }
}

/// A judgement, with the reason when the rule refused the claim before its track saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Judged {
    /// The judgement.
    pub judgement: Judgement,
    /// Why it is [`Judgement::Invalid`] without the track's judging, if so.
    pub refusal: Option<Refusal>,
}

/// The rule alone: a claim naming a session must name one opened before its commit.
pub fn session_rule(body: &ClaimBody, context: &ClaimContext) -> Result<(), Refusal> {
    let Some(session) = body.session() else {
        return Ok(());
    };
    match context.session_opened {
        None => Err(Refusal::SessionNotOpened { session }),
        Some(opened) if opened >= context.commit_index => Err(Refusal::SessionOpenedAfterCommit {
            session,
            opened,
            committed: context.commit_index,
        }),
        Some(_) => Ok(()),
    }
}

/// Judges a revealed claim: [`session_rule`], then the track's [`Track::judge`]. Priority among
/// valid claims is the caller's.
pub fn judge(
    track: &dyn Track,
    target: &dyn Target,
    seed: &MasterSeed,
    public: &Public,
    body: &ClaimBody,
    context: &ClaimContext,
) -> Result<Judged, Error> {
    if let Err(refusal) = session_rule(body, context) {
        return Ok(Judged {
            judgement: Judgement::Invalid,
            refusal: Some(refusal),
        });
    }
    Ok(Judged {
        judgement: track.judge(target, seed, public, body)?,
        refusal: None,
    })
}

#[cfg(test)]
mod tests {
    use zeroize::Zeroizing;

    use super::*;
    use crate::targets::IdentityKey;

    fn secret(session: u64) -> ClaimBody {
        ClaimBody::SessionSecret {
            session,
            secret: Zeroizing::new([7; 16]),
        }
    }

    fn key(session: u64) -> ClaimBody {
        ClaimBody::Key {
            session,
            party: "bob".to_owned(),
            key: IdentityKey::Ed25519,
            private: Zeroizing::new([9; 32]),
        }
    }

    fn at(commit_index: u64, session_opened: Option<u64>) -> ClaimContext {
        ClaimContext {
            commit_index,
            session_opened,
        }
    }

    #[test]
    fn a_session_claim_names_a_session_opened_before_its_commit() {
        for body in [secret(2), key(2)] {
            assert_eq!(session_rule(&body, &at(10, Some(9))), Ok(()));
            assert_eq!(
                session_rule(&body, &at(10, None)),
                Err(Refusal::SessionNotOpened { session: 2 })
            );
            for opened in [10, 11] {
                assert_eq!(
                    session_rule(&body, &at(10, Some(opened))),
                    Err(Refusal::SessionOpenedAfterCommit {
                        session: 2,
                        opened,
                        committed: 10
                    })
                );
            }
        }
        let reason = session_rule(&secret(2), &at(10, Some(12)))
            .unwrap_err()
            .to_string();
        assert!(
            reason.contains("session 2 was not opened before the claim's commit"),
            "{reason}"
        );
    }

    #[test]
    fn a_claim_naming_no_session_is_left_to_its_track() {
        let message = ClaimBody::Secret {
            message: 3,
            secret: Zeroizing::new([1; 16]),
        };
        let finding = ClaimBody::Finding {
            text: Zeroizing::new("text".to_owned()),
        };
        for body in [message, finding] {
            assert_eq!(session_rule(&body, &at(10, None)), Ok(()));
        }
    }
}
