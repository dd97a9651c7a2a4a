//! The `ours` group: target-impl's operations through its public API, with decryption on the
//! zero-copy path (`Session::decrypt_in_place`) except where only the device can route the
//! message (the initial message of a session setup).

use std::hint::black_box;

use benches::model::{self, id};
use criterion::Criterion;
use target_impl::{Device, Session, VerifiedBundle};

use crate::clock::Clock;
use crate::fixtures::{Devices, NOW, Pair, batch_for, batched, payload, rng, send_and_receive};

type Group<'a> = criterion::BenchmarkGroup<'a, Clock>;

/// The benchmark name inside its group: the model's id without the group prefix.
pub(crate) fn local(full_id: &str) -> &str {
    full_id.split_once('/').map_or(full_id, |(_, rest)| rest)
}

/// Registers the `ours` group.
pub(crate) fn bench(c: &mut Criterion<Clock>) {
    let mut g = c.benchmark_group("ours");
    setup(&mut g);
    messages(&mut g);
    out_of_order(&mut g);
    state(&mut g);
    g.finish();
}

fn nothing<S>(_: &mut S, _: usize) {}

fn setup(g: &mut Group<'_>) {
    let mut rng_state = rng(10);
    g.bench_function(local(&id::ours("bundle_create", None)), |b| {
        b.iter_custom(|iters| {
            batched(
                &mut rng_state,
                iters,
                16,
                nothing,
                |_| (),
                |rng, ()| {
                    let device = Device::generate(rng).expect("generate");
                    let bundle = device.prekey_bundle().expect("bundle").to_bytes();
                    (device, bundle)
                },
            )
        })
    });

    let bundle_bytes = Devices::new(true, &mut rng(11)).bundle_bytes;
    g.bench_function(local(&id::ours("bundle_import", None)), |b| {
        b.iter_custom(|iters| {
            batched(
                &mut (),
                iters,
                16,
                nothing,
                |_| (),
                |_, ()| VerifiedBundle::import(black_box(&bundle_bytes)).expect("import"),
            )
        })
    });

    let first = payload(model::SMALL_PAYLOAD);
    for one_time in [true, false] {
        let v = id::variant(one_time);
        let mut state = (Devices::new(one_time, &mut rng(12)), rng(13));
        g.bench_function(
            local(&id::ours(&format!("pqxdh_initiator_{v}"), None)),
            |b| {
                b.iter_custom(|iters| {
                    batched(
                        &mut state,
                        iters,
                        8,
                        nothing,
                        |_| (),
                        |(d, rng), ()| d.initial_message(&first, rng),
                    )
                })
            },
        );
        g.bench_function(
            local(&id::ours(&format!("pqxdh_responder_{v}"), None)),
            |b| {
                b.iter_custom(|iters| {
                    batched(
                        &mut state,
                        iters,
                        8,
                        nothing,
                        // A fresh copy of Bob's device for every initial message: accepting one
                        // consumes its one-time prekeys or fills its replay cache.
                        |(d, rng)| (d.bob.clone(), d.initial_message(&first, rng)),
                        |(d, _), (mut bob, message)| {
                            let got = bob.decrypt(&d.to_alice, &message, NOW).expect("accept");
                            (bob, message, got)
                        },
                    )
                })
            },
        );
    }
}

fn messages(g: &mut Group<'_>) {
    for size in model::PAYLOAD_SIZES {
        let data = payload(size);
        let batch = batch_for(size);
        let mut pair = Pair::new();
        g.bench_function(local(&id::ours("encrypt", Some(size))), |b| {
            b.iter_custom(|iters| {
                batched(
                    &mut pair,
                    iters,
                    batch,
                    Pair::before_batch,
                    |_| (),
                    |p, ()| p.alice_sends(&data),
                )
            })
        });
        let mut pair = Pair::new();
        g.bench_function(local(&id::ours("decrypt", Some(size))), |b| {
            b.iter_custom(|iters| {
                batched(
                    &mut pair,
                    iters,
                    batch,
                    Pair::before_batch,
                    |p| p.alice_sends(&data),
                    |p, mut wire| {
                        let got = p.bob.decrypt_in_place(&mut wire, NOW).expect("decrypt");
                        black_box(got.payload.len());
                        wire
                    },
                )
            })
        });
    }
    for size in model::PAYLOAD_SIZES.into_iter().chain([model::BIG_PAYLOAD]) {
        let data = payload(size);
        let mut pair = Pair::new();
        g.bench_function(local(&id::ours("one_way", Some(size))), |b| {
            b.iter_custom(|iters| {
                batched(
                    &mut pair,
                    iters,
                    batch_for(size),
                    Pair::before_batch,
                    |_| (),
                    |p, ()| send_and_receive(&mut p.alice, &mut p.bob, &data, &mut p.rng),
                )
            })
        });
    }
    // The in-place path: the application writes its payload into the outgoing buffer (untimed,
    // as the payload's own production is in `one_way`), then seal and open where it lies.
    for size in [1024, model::BIG_PAYLOAD] {
        let data = payload(size);
        let mut pair = Pair::new();
        g.bench_function(local(&id::ours("one_way_in_place", Some(size))), |b| {
            b.iter_custom(|iters| {
                batched(
                    &mut pair,
                    iters,
                    batch_for(size),
                    Pair::before_batch,
                    |p| {
                        let mut buf = p.alice.outgoing_buffer(size).expect("buffer");
                        buf.payload_mut().copy_from_slice(&data);
                        buf
                    },
                    |p, buf| {
                        let mut wire = p
                            .alice
                            .encrypt_in_place(buf, 1, 0, NOW, &mut p.rng)
                            .expect("encrypt")
                            .into_vec();
                        let got = p.bob.decrypt_in_place(&mut wire, NOW).expect("decrypt");
                        black_box(got.payload.len());
                        wire
                    },
                )
            })
        });
    }
    for size in model::PAYLOAD_SIZES {
        let data = payload(size);
        let mut pair = Pair::new();
        g.bench_function(local(&id::ours("ping_pong", Some(size))), |b| {
            b.iter_custom(|iters| {
                batched(
                    &mut pair,
                    iters,
                    batch_for(size),
                    nothing,
                    |_| (),
                    |p, ()| {
                        // Whoever did not send last sends now: a DH ratchet turn every message.
                        let bob_sends = p.bob_next;
                        p.bob_next = !bob_sends;
                        if bob_sends {
                            send_and_receive(&mut p.bob, &mut p.alice, &data, &mut p.rng)
                        } else {
                            send_and_receive(&mut p.alice, &mut p.bob, &data, &mut p.rng)
                        }
                    },
                )
            })
        });
    }
}

fn out_of_order(g: &mut Group<'_>) {
    let data = payload(model::SMALL_PAYLOAD);
    for skip in model::SKIPS {
        let per_run = skip as usize + 1;
        let mut pair = Pair::new();
        g.bench_function(local(&id::ours("out_of_order", Some(skip as usize))), |b| {
            b.iter_custom(|iters| {
                batched(
                    &mut pair,
                    iters,
                    4,
                    |p, n| p.before_batch(n * per_run),
                    |p| {
                        let mut run: Vec<Vec<u8>> =
                            (0..per_run).map(|_| p.alice_sends(&data)).collect();
                        // Message skip + 1 arrives first, then the ones it skipped, in order.
                        run.rotate_right(1);
                        run
                    },
                    |p, mut run| {
                        for wire in &mut run {
                            let got = p.bob.decrypt_in_place(wire, NOW).expect("decrypt");
                            black_box(got.payload.len());
                        }
                        run
                    },
                )
            })
        });
    }
}

fn state(g: &mut Group<'_>) {
    let session = Pair::new().bob;
    let blob = session.to_bytes();
    g.bench_function(local(&id::ours("session_to_bytes", None)), |b| {
        b.iter_custom(|iters| {
            batched(
                &mut (),
                iters,
                64,
                nothing,
                |_| (),
                |_, ()| black_box(&session).to_bytes(),
            )
        })
    });
    g.bench_function(local(&id::ours("session_from_bytes", None)), |b| {
        b.iter_custom(|iters| {
            batched(
                &mut (),
                iters,
                64,
                nothing,
                |_| (),
                |_, ()| Session::from_bytes(black_box(&blob)).expect("restore"),
            )
        })
    });
}
