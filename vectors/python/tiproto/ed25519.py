"""Strict Ed25519 verification (PROTOCOL.md 2.1), all six steps in plain integer arithmetic.

OpenSSL (behind `cryptography`) accepts signatures whose A or R has small order; the protocol's
predicate (ed25519-dalek `verify_strict`) refuses them, decodes points leniently (a y >= p is
reduced, x = 0 with the sign bit set is accepted) and hashes A and R exactly as given. Signing is
left to `cryptography` (RFC 8032 deterministic signatures are unique).
"""
from __future__ import annotations

import hashlib
from typing import Optional, Tuple

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = (-121665 * pow(121666, P - 2, P)) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)

Point = Tuple[int, int, int, int]  # extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z, xy = T/Z

IDENTITY: Point = (0, 1, 1, 0)


def _inv(a: int) -> int:
    return pow(a, P - 2, P)


def _sqrt_ratio(u: int, v: int) -> Optional[int]:
    """A square root of u/v mod p with least significant bit 0, or None if there is none."""
    x2 = u * _inv(v) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
        if (x * x - x2) % P != 0:
            return None
    if x & 1:
        x = P - x
    return x


def decode(b: bytes) -> Optional[Point]:
    """Lenient point decoding D(b) of 2.1: bit 255 is the sign of x; y is reduced mod p."""
    if len(b) != 32:
        return None
    v = int.from_bytes(b, "little")
    sign = v >> 255
    y = (v & ((1 << 255) - 1)) % P
    yy = y * y % P
    x = _sqrt_ratio((yy - 1) % P, (D * yy + 1) % P)
    if x is None:
        return None
    if sign:
        x = (P - x) % P  # x = 0 stays 0 (not rejected)
    return (x, y, 1, x * y % P)


def encode(pt: Point) -> bytes:
    X, Y, Z, _ = pt
    zi = _inv(Z)
    x, y = X * zi % P, Y * zi % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def add(p1: Point, p2: Point) -> Point:
    # RFC 8032 section 5.1.4, a = -1.
    X1, Y1, Z1, T1 = p1
    X2, Y2, Z2, T2 = p2
    A = (Y1 - X1) * (Y2 - X2) % P
    B_ = (Y1 + X1) * (Y2 + X2) % P
    C = T1 * 2 * D * T2 % P
    D_ = Z1 * 2 * Z2 % P
    E, F, G, H = B_ - A, D_ - C, D_ + C, B_ + A
    return (E * F % P, G * H % P, F * G % P, E * H % P)


def double(p1: Point) -> Point:
    return add(p1, p1)


def neg(pt: Point) -> Point:
    X, Y, Z, T = pt
    return ((-X) % P, Y, Z, (-T) % P)


def mul(k: int, pt: Point) -> Point:
    q = IDENTITY
    for bit in bin(k)[2:] if k > 0 else "":
        q = double(q)
        if bit == "1":
            q = add(q, pt)
    return q


def is_identity(pt: Point) -> bool:
    X, Y, Z, _ = pt
    return X % P == 0 and (Y - Z) % P == 0


def is_small_order(pt: Point) -> bool:
    """[8]pt = O: pt is one of the 8 torsion points (mixed-order points are not)."""
    return is_identity(double(double(double(pt))))


_By = 4 * _inv(5) % P
_B = decode(_By.to_bytes(32, "little"))
assert _B is not None
BASE: Point = _B


def verify(a_bytes: bytes, message: bytes, sig: bytes) -> bool:
    """Verify(A_bytes, M, sig) of PROTOCOL.md 2.1, steps 1 to 6 in the code's order."""
    if len(a_bytes) != 32 or len(sig) != 64:
        return False
    A = decode(a_bytes)                                        # 1
    if A is None:
        return False
    r_bytes, s_bytes = sig[:32], sig[32:]
    S = int.from_bytes(s_bytes, "little")                      # 2
    if S >= L:
        return False
    R = decode(r_bytes)                                        # 3
    if R is None:
        return False
    if is_small_order(R) or is_small_order(A):                 # 4
        return False
    k = int.from_bytes(hashlib.sha512(r_bytes + a_bytes + message).digest(), "little") % L  # 5
    r_prime = add(mul(S, BASE), neg(mul(k, A)))                # 6, cofactorless
    return encode(r_prime) == r_bytes
