"""Suite v1 primitives (PROTOCOL.md 2), each exactly as the document defines it.

Backends: `cryptography` for SHA-256, HMAC, HKDF-Expand, AES-256-GCM, X25519, Ed25519 signing and
ML-KEM-768 key generation from the seed and decapsulation; `kyber-py` for the deterministic
`Encaps_internal(ek, m)`; `tiproto.ed25519` for strict verification.
"""
from __future__ import annotations

import functools
import hashlib
from typing import Optional, Tuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519 as _ed
from cryptography.hazmat.primitives.asymmetric import mlkem as _mlkem
from cryptography.hazmat.primitives.asymmetric import x25519 as _x
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from kyber_py.ml_kem import ML_KEM_768

from . import ed25519 as _strict

MLKEM_EK_LEN = 1184
MLKEM_CT_LEN = 1088
MLKEM_SEED_LEN = 64
MLKEM_Q = 3329
ZERO32 = bytes(32)

_RAW = serialization.Encoding.Raw
_RAW_PUB = serialization.PublicFormat.Raw


class DhFailure(Exception):
    """DH(k, u) gave the all-zero result (low-order peer key); the caller maps it to its class."""


# -- hashes, MAC, KDF -------------------------------------------------------------------------

def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def hmac_sha256(key: bytes, msg: bytes) -> bytes:
    h = hmac.HMAC(key, hashes.SHA256())
    h.update(msg)
    return h.finalize()


def hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac_sha256(salt, ikm)


def hkdf_expand(prk: bytes, info: bytes, length: int) -> bytes:
    assert len(prk) == 32 and length <= 255 * 32
    return HKDFExpand(hashes.SHA256(), length, info).derive(prk)


# -- AES-256-GCM ------------------------------------------------------------------------------

def aead_seal(key: bytes, nonce: bytes, aad: bytes, pt: bytes) -> bytes:
    assert len(key) == 32 and len(nonce) == 12
    return AESGCM(key).encrypt(nonce, pt, aad)


def aead_open(key: bytes, nonce: bytes, aad: bytes, ct_tag: bytes) -> Optional[bytes]:
    """The plaintext, or None on any tag mismatch (nothing is released)."""
    assert len(key) == 32 and len(nonce) == 12
    if len(ct_tag) < 16:
        return None
    try:
        return AESGCM(key).decrypt(nonce, ct_tag, aad)
    except InvalidTag:
        return None


# -- X25519 -----------------------------------------------------------------------------------

@functools.lru_cache(maxsize=4096)
def x25519_pub(priv: bytes) -> bytes:
    """pub(k) = X25519(k, 9); the private key is 32 arbitrary bytes, clamped inside."""
    assert len(priv) == 32
    return _x.X25519PrivateKey.from_private_bytes(priv).public_key().public_bytes(_RAW, _RAW_PUB)


def x25519_dh(priv: bytes, peer_pub: bytes) -> bytes:
    """DH(k, u); raises DhFailure if the result is 32 zero bytes. No other check."""
    assert len(priv) == 32 and len(peer_pub) == 32
    try:
        out = _x.X25519PrivateKey.from_private_bytes(priv).exchange(
            _x.X25519PublicKey.from_public_bytes(peer_pub))
    except ValueError as e:  # OpenSSL refuses an all-zero shared secret
        raise DhFailure(str(e)) from None
    if out == ZERO32:
        raise DhFailure("all-zero DH output")
    return out


# -- Ed25519 ----------------------------------------------------------------------------------

@functools.lru_cache(maxsize=4096)
def ed25519_pub(seed: bytes) -> bytes:
    assert len(seed) == 32
    return _ed.Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(_RAW, _RAW_PUB)


@functools.lru_cache(maxsize=4096)
def ed25519_sign(seed: bytes, msg: bytes) -> bytes:
    assert len(seed) == 32
    return _ed.Ed25519PrivateKey.from_private_bytes(seed).sign(msg)


def ed25519_verify(pub: bytes, msg: bytes, sig: bytes) -> bool:
    """Strict verification, PROTOCOL.md 2.1."""
    return _strict.verify(pub, msg, sig)


# -- ML-KEM-768 -------------------------------------------------------------------------------

@functools.lru_cache(maxsize=4096)
def _mlkem_private(seed: bytes) -> _mlkem.MLKEM768PrivateKey:
    assert len(seed) == MLKEM_SEED_LEN
    return _mlkem.MLKEM768PrivateKey.from_seed_bytes(seed)


def mlkem_ek(seed: bytes) -> bytes:
    """ek of KeyGen_internal(d = seed[0:32], z = seed[32:64])."""
    return _mlkem_private(seed).public_key().public_bytes_raw()


def mlkem_modulus_ok(ek: bytes) -> bool:
    """FIPS 203 7.2 modulus check: length 1184 and every 12-bit coefficient of ek[0:1152] < q."""
    if len(ek) != MLKEM_EK_LEN:
        return False
    t = ek[:1152]
    for i in range(0, 1152, 3):
        b0, b1, b2 = t[i], t[i + 1], t[i + 2]
        if (b0 | ((b1 & 0x0F) << 8)) >= MLKEM_Q or ((b1 >> 4) | (b2 << 4)) >= MLKEM_Q:
            return False
    return True


def mlkem_encaps(ek: bytes, m: bytes) -> Tuple[bytes, bytes]:
    """(K, c) = Encaps_internal(ek, m); the caller has done the modulus check."""
    assert len(m) == 32 and mlkem_modulus_ok(ek)
    k, c = ML_KEM_768._encaps_internal(ek, m)
    return bytes(k), bytes(c)


def mlkem_decaps(seed: bytes, ct: bytes) -> bytes:
    """K = Decaps_internal(dk, c) with dk from the seed; implicit rejection, never an error."""
    assert len(ct) == MLKEM_CT_LEN
    return _mlkem_private(seed).decapsulate(ct)
