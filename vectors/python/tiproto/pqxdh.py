"""The PQXDH key derivation shared by both sides (PROTOCOL.md 6.3 `derive`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from . import suite
from .labels import F, L_PQXDH_KDF, L_TRANSCRIPT, PQXDH_SALT


@dataclass(frozen=True)
class PqxdhKeys:
    transcript_hash: bytes
    ikm: bytes
    prk: bytes
    okm: bytes
    root_key: bytes
    initiator_header_key: bytes
    responder_header_key: bytes
    pq_reserve: bytes
    ad: bytes
    setup_id: bytes


def derive(prefix: bytes, spk_pub: bytes, opk_pub: Optional[bytes], kem_ek: bytes,
           initiator_sig: bytes, initiator_dh: bytes, responder_sig: bytes, responder_dh: bytes,
           dhs: Sequence[bytes], ss: bytes) -> PqxdhKeys:
    th = suite.sha256(L_TRANSCRIPT + prefix + spk_pub + (opk_pub or b"") + kem_ek)
    ikm = F + b"".join(dhs) + ss
    prk = suite.hkdf_extract(PQXDH_SALT, ikm)
    okm = suite.hkdf_expand(prk, L_PQXDH_KDF + th, 128)
    ad = initiator_sig + initiator_dh + responder_sig + responder_dh + th
    return PqxdhKeys(th, ikm, prk, okm, okm[0:32], okm[32:64], okm[64:96], okm[96:128], ad,
                     suite.sha256(prefix))


def trace(keys: PqxdhKeys, *, ephemeral_private: Optional[bytes], ephemeral_public: bytes,
          kem_m: Optional[bytes], dhs: Sequence[bytes], ct: bytes, ss: bytes,
          prefix: bytes) -> dict:
    """`intermediates.pqxdh` in the vectors' naming (vectors/README.md)."""
    h = lambda b: None if b is None else b.hex()  # noqa: E731
    return {
        "ephemeral_private": h(ephemeral_private),
        "ephemeral_public": ephemeral_public.hex(),
        "kem_m": h(kem_m),
        "dh1": dhs[0].hex(), "dh2": dhs[1].hex(), "dh3": dhs[2].hex(),
        "dh4": dhs[3].hex() if len(dhs) > 3 else None,
        "kem_ciphertext": ct.hex(),
        "kem_shared_secret": ss.hex(),
        "prefix": prefix.hex(),
        "transcript_hash": keys.transcript_hash.hex(),
        "ikm": keys.ikm.hex(),
        "prk": keys.prk.hex(),
        "okm": keys.okm.hex(),
        "root_key": keys.root_key.hex(),
        "initiator_header_key": keys.initiator_header_key.hex(),
        "responder_header_key": keys.responder_header_key.hex(),
        "pq_reserve": keys.pq_reserve.hex(),
        "ad": keys.ad.hex(),
        "setup_id": keys.setup_id.hex(),
    }
