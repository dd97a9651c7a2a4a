//! The `limit` group: each primitive exactly as target-impl calls it (`target_impl::hazmat`),
//! at the lengths the protocol uses (see `benches::model::Primitive`). The report adds these
//! up into each operation's limit.

use std::hint::black_box;

use benches::model::{self, Primitive};
use criterion::Criterion;
use target_impl::hazmat;

use crate::clock::Clock;
use crate::fixtures::{batch_for, batched};
use crate::ours::local;

const KEY: [u8; 32] = [7; 32];
/// A message's random value `r`: its first 12 bytes are the nonce (docs/PROTOCOL.md 7.3).
const R: [u8; 16] = [9; 16];

fn nothing<S>(_: &mut S, _: usize) {}

/// Registers the `limit` group.
pub(crate) fn bench(c: &mut Criterion<Clock>) {
    let mut g = c.benchmark_group("limit");
    let x_private = [0x11; 32];
    // Parsed once, as target-impl keeps every key pair (`X25519Pair`): a DH is one scalar
    // multiplication, key generation the parse (which computes the public key).
    let x_parsed = hazmat::X25519PrivateKey::new(&x_private).expect("x25519 key");
    let x_peer = hazmat::x25519_public_key(&[0x22; 32]).expect("x25519 key");
    let ed_seed = [0x33; 32];
    let ed_public = hazmat::ed25519_public_key(&ed_seed);
    let (kem_public, kem_private) = hazmat::mlkem768_generate(&[0x44; 64]);
    let (kem_ciphertext, _) =
        hazmat::mlkem768_encapsulate(&kem_public, &[0x55; 32]).expect("encapsulate");

    for primitive in Primitive::all() {
        let full_id = primitive.id();
        let name = local(&full_id);
        match primitive {
            Primitive::AeadSetup => {
                // The key is dropped (aws-lc frees and cleanses it) inside the timing, as the
                // protocol drops each message's body key.
                g.bench_function(name, |b| {
                    b.iter(|| hazmat::AeadKey::new(black_box(&KEY)).expect("key setup"))
                });
            }
            Primitive::Seal(len) => seal(&mut g, name, len, model::BODY_AAD_LEN),
            Primitive::SealHeader => seal(
                &mut g,
                name,
                model::HEADER_PLAINTEXT_LEN,
                model::HEADER_AAD_LEN,
            ),
            Primitive::Open(len) => open(&mut g, name, len, model::BODY_AAD_LEN),
            Primitive::OpenHeader => open(
                &mut g,
                name,
                model::HEADER_PLAINTEXT_LEN,
                model::HEADER_AAD_LEN,
            ),
            Primitive::Expand { info, okm } => {
                let info = vec![4u8; info];
                let mut out = vec![0u8; okm];
                g.bench_function(name, |b| {
                    b.iter(|| hazmat::hkdf_expand(black_box(&KEY), black_box(&info), &mut out))
                });
            }
            Primitive::Extract(len) => {
                let ikm = vec![6u8; len];
                g.bench_function(name, |b| {
                    b.iter(|| hazmat::hkdf_extract(black_box(&KEY), black_box(&ikm)))
                });
            }
            Primitive::Hmac => {
                g.bench_function(name, |b| {
                    b.iter(|| hazmat::hmac_sha256(black_box(&KEY), black_box(&[1u8])))
                });
            }
            Primitive::Sha256(len) => {
                let data = vec![8u8; len];
                g.bench_function(name, |b| b.iter(|| hazmat::sha256(&[black_box(&data)])));
            }
            Primitive::Keygen => {
                g.bench_function(name, |b| {
                    b.iter(|| hazmat::X25519PrivateKey::new(black_box(&x_private)))
                });
            }
            Primitive::Dh => {
                g.bench_function(name, |b| {
                    b.iter(|| hazmat::x25519_agree(black_box(&x_parsed), black_box(&x_peer)))
                });
            }
            Primitive::EdPublic => {
                g.bench_function(name, |b| {
                    b.iter(|| hazmat::ed25519_public_key(black_box(&ed_seed)))
                });
            }
            Primitive::Sign(len) => {
                let message = vec![0x66u8; len];
                g.bench_function(name, |b| {
                    b.iter(|| hazmat::ed25519_sign(black_box(&ed_seed), black_box(&message)))
                });
            }
            Primitive::Verify(len) => {
                let message = vec![0x66u8; len];
                let signature = hazmat::ed25519_sign(&ed_seed, &message);
                g.bench_function(name, |b| {
                    b.iter(|| {
                        hazmat::ed25519_verify(
                            black_box(&ed_public),
                            black_box(&message),
                            black_box(&signature),
                        )
                        .expect("verify")
                    })
                });
            }
            Primitive::KemGenerate => {
                g.bench_function(name, |b| {
                    b.iter(|| hazmat::mlkem768_generate(black_box(&[0x44; 64])))
                });
            }
            Primitive::KemEncapsulate => {
                g.bench_function(name, |b| {
                    b.iter(|| {
                        hazmat::mlkem768_encapsulate(black_box(&kem_public), black_box(&[0x55; 32]))
                    })
                });
            }
            Primitive::KemDecapsulate => {
                g.bench_function(name, |b| {
                    b.iter(|| {
                        hazmat::mlkem768_decapsulate(
                            black_box(&kem_private),
                            black_box(&kem_ciphertext),
                        )
                    })
                });
            }
            Primitive::KemValidate => {
                g.bench_function(name, |b| {
                    b.iter(|| hazmat::mlkem768_validate_public_key(black_box(&kem_public)))
                });
            }
        }
    }
    g.finish();
}

type Group<'a> = criterion::BenchmarkGroup<'a, Clock>;

/// Seal in place under a key set up once (as a header key's `HEK`; a body's key setup is
/// [`Primitive::AeadSetup`]), over and over: each call encrypts the previous ciphertext, same
/// cost.
fn seal(g: &mut Group<'_>, name: &str, len: usize, aad_len: usize) {
    let aad = vec![1u8; aad_len];
    let mut buf = vec![0u8; len];
    let key = hazmat::AeadKey::new(&KEY).expect("key setup");
    let nonce = hazmat::Nonce::from_message_random(&R);
    g.bench_function(name, |b| {
        b.iter(|| key.seal_in_place(&nonce, black_box(&aad), &mut buf))
    });
}

/// Open in place under a key set up once: each open needs an authentic ciphertext, so a batch
/// of copies is prepared untimed, as the `ours` decrypt benchmarks prepare their messages.
fn open(g: &mut Group<'_>, name: &str, len: usize, aad_len: usize) {
    let aad = vec![1u8; aad_len];
    let mut ciphertext = vec![0u8; len];
    let key = hazmat::AeadKey::new(&KEY).expect("key setup");
    let nonce = hazmat::Nonce::from_message_random(&R);
    let tag = key
        .seal_in_place(&nonce, &aad, &mut ciphertext)
        .expect("seal");
    g.bench_function(name, |b| {
        b.iter_custom(|iters| {
            batched(
                &mut (),
                iters,
                batch_for(len),
                nothing,
                |_| ciphertext.clone(),
                |_, mut buf| {
                    key.open_in_place(&nonce, black_box(&aad), &mut buf, &tag)
                        .expect("open");
                    buf
                },
            )
        })
    });
}
