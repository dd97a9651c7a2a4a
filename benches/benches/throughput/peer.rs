//! The `peer` group: vodozemac doing the same jobs as `ours`, timed by the same rules: Olm
//! session creation (outbound with its first message, inbound from that pre-key message), Olm
//! messages one way and ping-pong, Megolm at 1 KiB. Olm runs in its default configuration
//! (`SessionConfig::version_1`), as Matrix clients use it.

use std::hint::black_box;

use benches::model::{self, id};
use criterion::Criterion;
use vodozemac::megolm::{GroupSession, InboundGroupSession};
use vodozemac::olm::{Account, OlmMessage, Session, SessionConfig};
use vodozemac::{Curve25519PublicKey, megolm};

use crate::clock::Clock;
use crate::fixtures::{batch_for, batched, payload};
use crate::ours::local;

fn nothing<S>(_: &mut S, _: usize) {}

fn config() -> SessionConfig {
    SessionConfig::version_1()
}

/// A fresh published one-time key of `account`.
fn one_time_key(account: &mut Account) -> Curve25519PublicKey {
    let created = account.generate_one_time_keys(1).created;
    account.mark_keys_as_published();
    *created.first().expect("one-time key")
}

/// Alice's outbound session to Bob and its first (pre-key) message.
fn outbound(alice: &Account, bob: &mut Account, first: &[u8]) -> (Session, OlmMessage) {
    let otk = one_time_key(bob);
    let mut session = alice
        .create_outbound_session(config(), bob.curve25519_key(), otk)
        .expect("outbound");
    let message = session.encrypt(first).expect("encrypt");
    (session, message)
}

fn inbound(alice: &Account, bob: &mut Account, message: &OlmMessage) -> Session {
    let OlmMessage::PreKey(pre_key) = message else {
        panic!("the first message is a pre-key message");
    };
    bob.create_inbound_session(config(), alice.curve25519_key(), pre_key)
        .expect("inbound")
        .session
}

/// Olm sessions in the same steady state as `fixtures::Pair`: each side has received from the
/// other, so Alice's messages are normal (not pre-key) messages in a known chain.
struct OlmPair {
    alice: Session,
    bob: Session,
    bob_next: bool,
}

impl OlmPair {
    fn new() -> Self {
        let alice_account = Account::new();
        let mut bob_account = Account::new();
        let hello = payload(16);
        let (mut alice, first) = outbound(&alice_account, &mut bob_account, &hello);
        let mut bob = inbound(&alice_account, &mut bob_account, &first);
        let reply = bob.encrypt(&hello).expect("encrypt");
        alice.decrypt(&reply).expect("decrypt");
        let again = alice.encrypt(&hello).expect("encrypt");
        assert!(matches!(again, OlmMessage::Normal(_)));
        bob.decrypt(&again).expect("decrypt");
        Self {
            alice,
            bob,
            bob_next: true,
        }
    }
}

fn send_and_receive(from: &mut Session, to: &mut Session, data: &[u8]) -> (OlmMessage, Vec<u8>) {
    let message = from.encrypt(data).expect("encrypt");
    let plaintext = to.decrypt(&message).expect("decrypt");
    (message, plaintext)
}

/// Registers the `peer` group.
pub(crate) fn bench(c: &mut Criterion<Clock>) {
    let mut g = c.benchmark_group("peer");

    let first = payload(model::SMALL_PAYLOAD);
    let mut accounts = (Account::new(), Account::new());
    let bob_key = accounts.1.curve25519_key();
    let bob_otk = one_time_key(&mut accounts.1);
    g.bench_function(local(&id::peer("olm_outbound", None)), |b| {
        b.iter_custom(|iters| {
            batched(
                &mut accounts,
                iters,
                8,
                nothing,
                |_| (),
                |(alice, _), ()| {
                    let mut session = alice
                        .create_outbound_session(config(), bob_key, bob_otk)
                        .expect("outbound");
                    let message = session.encrypt(&first).expect("encrypt");
                    (session, message)
                },
            )
        })
    });
    g.bench_function(local(&id::peer("olm_inbound", None)), |b| {
        b.iter_custom(|iters| {
            batched(
                &mut accounts,
                iters,
                8,
                nothing,
                |(alice, bob)| outbound(alice, bob, &first),
                |(alice, bob), (session, message)| {
                    let created = inbound(alice, bob, &message);
                    (session, message, created)
                },
            )
        })
    });

    for size in model::PAYLOAD_SIZES {
        let data = payload(size);
        let batch = batch_for(size);
        let mut pair = OlmPair::new();
        g.bench_function(local(&id::peer("olm_encrypt", Some(size))), |b| {
            b.iter_custom(|iters| {
                batched(
                    &mut pair,
                    iters,
                    batch,
                    nothing,
                    |_| (),
                    |p, ()| p.alice.encrypt(&data).expect("encrypt"),
                )
            })
        });
        let mut pair = OlmPair::new();
        g.bench_function(local(&id::peer("olm_decrypt", Some(size))), |b| {
            b.iter_custom(|iters| {
                batched(
                    &mut pair,
                    iters,
                    batch,
                    nothing,
                    |p| p.alice.encrypt(&data).expect("encrypt"),
                    |p, message| {
                        let plaintext = p.bob.decrypt(&message).expect("decrypt");
                        (message, plaintext)
                    },
                )
            })
        });
    }
    for size in model::PAYLOAD_SIZES.into_iter().chain([model::BIG_PAYLOAD]) {
        let data = payload(size);
        let mut pair = OlmPair::new();
        g.bench_function(local(&id::peer("olm_one_way", Some(size))), |b| {
            b.iter_custom(|iters| {
                batched(
                    &mut pair,
                    iters,
                    batch_for(size),
                    nothing,
                    |_| (),
                    |p, ()| send_and_receive(&mut p.alice, &mut p.bob, &data),
                )
            })
        });
    }
    for size in model::PAYLOAD_SIZES {
        let data = payload(size);
        let mut pair = OlmPair::new();
        g.bench_function(local(&id::peer("olm_ping_pong", Some(size))), |b| {
            b.iter_custom(|iters| {
                batched(
                    &mut pair,
                    iters,
                    batch_for(size),
                    nothing,
                    |_| (),
                    |p, ()| {
                        let bob_sends = p.bob_next;
                        p.bob_next = !bob_sends;
                        if bob_sends {
                            send_and_receive(&mut p.bob, &mut p.alice, &data)
                        } else {
                            send_and_receive(&mut p.alice, &mut p.bob, &data)
                        }
                    },
                )
            })
        });
    }

    let data = payload(model::MEGOLM_PAYLOAD);
    let outbound_group = GroupSession::new(megolm::SessionConfig::version_1());
    let inbound_group = InboundGroupSession::new(
        &outbound_group.session_key(),
        megolm::SessionConfig::version_1(),
    );
    let mut groups = (outbound_group, inbound_group);
    g.bench_function(
        local(&id::peer(
            "megolm_encrypt_decrypt",
            Some(model::MEGOLM_PAYLOAD),
        )),
        |b| {
            b.iter_custom(|iters| {
                batched(
                    &mut groups,
                    iters,
                    batch_for(model::MEGOLM_PAYLOAD),
                    nothing,
                    |_| (),
                    |(out, inb), ()| {
                        let message = out.encrypt(&data);
                        let plaintext = inb.decrypt(&message).expect("decrypt");
                        black_box(&plaintext);
                        (message, plaintext)
                    },
                )
            })
        },
    );
    g.finish();
}
