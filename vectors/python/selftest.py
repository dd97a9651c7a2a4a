#!/usr/bin/env python3
"""Checks of tiproto against statements of docs/PROTOCOL.md that the vectors do not pin down
byte for byte: the padding examples (8.2), the strict Ed25519 decoding classes (2.1),
agreement of strict verification with `cryptography` on ordinary signatures, and the AEAD keys
and nonce of 7.3 against the definitions of section 2 by other means.

Usage: python vectors/python/selftest.py   (exit 0 if every check holds)
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tiproto import ed25519, ratchet, suite, wire  # noqa: E402
from tiproto.labels import L_HEADER_KEY  # noqa: E402

failures = 0


def check(cond: bool, what: str) -> None:
    global failures
    if not cond:
        failures += 1
        print("FAIL", what)


# 8.2 worked examples and the accepted lengths.
for n, want in [(17, 64), (64, 64), (65, 128), (1024, 1024), (1025, 1088), (1041, 1088),
                (1048593, 1081344), (4194321, 4325376)]:
    check(wire.padded_len(n) == want, f"padded_len({n}) = {wire.padded_len(n)}, want {want}")
for n in range(17, 20000):
    p = wire.padded_len(n)
    check(wire.padded_len(p) == p, f"padded_len not idempotent at {n}")
check(wire.is_padded_len(4325376) and not wire.is_padded_len(4325376 + 131072), "max padded")

# 2.1: non-canonical encodings y = p + t (t = 0..18), with either sign bit.
P = ed25519.P
mixed = {3, 4, 5, 6, 9, 10, 14, 15, 16, 18}
small = {0, 1}
undecodable = {2, 7, 8, 11, 12, 13, 17}
for t in range(19):
    for sign in (0, 1):
        b = ((P + t) | (sign << 255)).to_bytes(32, "little")
        pt = ed25519.decode(b)
        if t in undecodable:
            check(pt is None, f"y = p + {t} should not decode")
        elif t in small:
            check(pt is not None and ed25519.is_small_order(pt), f"y = p + {t} small order")
        else:
            assert t in mixed
            ok = (pt is not None and not ed25519.is_small_order(pt)
                  and not ed25519.is_identity(ed25519.mul(ed25519.L, pt)))
            check(ok, f"y = p + {t} should be of mixed order")
# x = 0 with the sign bit set: y = 1, p - 1, p + 1 decode to small-order points.
for y in (1, P - 1, P + 1):
    pt = ed25519.decode((y | (1 << 255)).to_bytes(32, "little"))
    check(pt is not None and pt[0] % P == 0 and ed25519.is_small_order(pt), f"x = 0, y = {y}")

# Ordinary signatures: strict verification agrees with cryptography; S + l is refused; the
# identity point with R = [S]B (accepted by OpenSSL) is refused.
import hashlib  # noqa: E402

for i in range(40):
    seed = hashlib.sha256(b"seed%d" % i).digest()
    msg = hashlib.sha256(b"msg%d" % i).digest() * (i % 3)
    pub, sig = suite.ed25519_pub(seed), suite.ed25519_sign(seed, msg)
    check(ed25519.verify(pub, msg, sig), f"valid signature {i}")
    check(not ed25519.verify(pub, msg + b"x", sig), f"other message {i}")
    s = int.from_bytes(sig[32:], "little") + ed25519.L
    if s < 2**256:
        check(not ed25519.verify(pub, msg, sig[:32] + s.to_bytes(32, "little")), f"S + l {i}")
ident = (1).to_bytes(32, "little")
S = 12345
R = ed25519.encode(ed25519.mul(S, ed25519.BASE))
check(not ed25519.verify(ident, b"m", R + S.to_bytes(32, "little")), "identity public key")

# 7.3: HEK(hk) = Expand(hk, L_HEADER_KEY, 32) is, by section 2's Expand, the single block
# HMAC(hk, L_HEADER_KEY ‖ 0x01); it depends on hk only. nonce(r) = r[0:12]: r[12:16] enters no
# nonce. The message key is the body key as it is (no function to check).
for i in range(8):
    hk = hashlib.sha256(b"hk%d" % i).digest()
    check(ratchet.hek(hk) == suite.hmac_sha256(hk, L_HEADER_KEY + b"\x01"), f"HEK one block {i}")
    check(ratchet.hek(hk) != ratchet.kdf_ck(hk)[0], f"HEK(k) differs from KDF_CK(k)'s mk {i}")
    r = hashlib.sha256(b"r%d" % i).digest()[:16]
    check(ratchet.nonce(r) == r[:12] and len(ratchet.nonce(r)) == 12, f"nonce(r) = r[0:12] {i}")
    check(ratchet.nonce(r) == ratchet.nonce(r[:12] + bytes(4)), f"r[12:16] enters no nonce {i}")

print("selftest:", "ok" if not failures else f"{failures} failure(s)")
sys.exit(1 if failures else 0)
