"""Byte layouts that read no secret: integers, the prekey bundle (5.6), the initial-message
prefix (6.2), ratchet-message framing (7.6, 7.7 `frame`), the header plaintext, the body
plaintext (8.1) and padding (8.2)."""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import NamedTuple, Optional, Tuple

from .errors import MALFORMED, fail

VERSION = 0x01
TYPE_BUNDLE = 0x01
TYPE_INITIAL = 0x02
TYPE_RATCHET = 0x03

PUBLIC_IDENTITY_LEN = 128
BUNDLE_LEN_WITHOUT_OPK = 1484
INITIAL_PREFIX_LEN_WITHOUT_OPK = 1324
AD_LEN = 160
RANDOM_LEN = 16
TAG_LEN = 16
CLEAR_LEN = 19
HEADER_PLAIN_LEN = 41
SEALED_HEADER_LEN = HEADER_PLAIN_LEN + TAG_LEN  # 57, the hlen v1 sends
MIN_HLEN, MAX_HLEN = 57, 121
MAX_HEADER_EXT_LEN = 64
BODY_PREAMBLE_LEN = 17
PADDING_BUCKETS = (64, 128, 256, 512, 1024)
MAX_PAYLOAD_LEN = 4194304
KEM_EK_LEN = 1184
KEM_CT_LEN = 1088
KIND_LAST_RESORT = 0x00
KIND_ONE_TIME = 0x01


def u8(x: int) -> bytes:
    return struct.pack(">B", x)


def u16(x: int) -> bytes:
    return struct.pack(">H", x)


def u32(x: int) -> bytes:
    return struct.pack(">I", x)


def u64(x: int) -> bytes:
    return struct.pack(">Q", x)


class Reader:
    """Reads fields in order; any short read fails with `cls` (Malformed on the wire,
    CorruptState in a state blob)."""

    def __init__(self, data: bytes, cls: str = MALFORMED) -> None:
        self.data = data
        self.pos = 0
        self.cls = cls

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def take(self, n: int, what: str = "") -> bytes:
        if n > self.remaining():
            fail(self.cls, f"input ends early ({what})")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u8(self, what: str = "") -> int:
        return self.take(1, what)[0]

    def u16(self, what: str = "") -> int:
        return struct.unpack(">H", self.take(2, what))[0]

    def u32(self, what: str = "") -> int:
        return struct.unpack(">I", self.take(4, what))[0]

    def u64(self, what: str = "") -> int:
        return struct.unpack(">Q", self.take(8, what))[0]

    def flag(self, what: str = "") -> bool:
        b = self.u8(what)
        if b not in (0, 1):
            fail(self.cls, f"flag {b} ({what})")
        return b == 1

    def end(self, what: str = "") -> None:
        if self.remaining():
            fail(self.cls, f"{self.remaining()} trailing bytes ({what})")


# -- public identity (4) ----------------------------------------------------------------------

class PublicIdentity(NamedTuple):
    signing_pub: bytes
    dh_pub: bytes
    sig: bytes

    def encode(self) -> bytes:
        return self.signing_pub + self.dh_pub + self.sig

    @staticmethod
    def read(r: Reader) -> "PublicIdentity":
        return PublicIdentity(r.take(32, "signing_pub"), r.take(32, "dh_pub"), r.take(64, "sig"))


# -- prekey bundle (5.6) ----------------------------------------------------------------------

@dataclass(frozen=True)
class Bundle:
    identity: PublicIdentity
    spk_id: int
    spk_pub: bytes
    spk_sig: bytes
    opk: Optional[Tuple[int, bytes]]   # (id, pub)
    kem_kind: int
    kem_id: int
    kem_ek: bytes
    kem_sig: bytes

    def encode(self) -> bytes:
        out = [u8(VERSION), u8(TYPE_BUNDLE), self.identity.encode(), u32(self.spk_id),
               self.spk_pub, self.spk_sig]
        if self.opk is None:
            out.append(b"\x00")
        else:
            out += [b"\x01", u32(self.opk[0]), self.opk[1]]
        out += [u8(self.kem_kind), u32(self.kem_id), self.kem_ek, self.kem_sig]
        return b"".join(out)

    @staticmethod
    def decode(data: bytes) -> "Bundle":
        """Rows 1-6 of the import table (5.7); every failure Malformed."""
        r = Reader(data, MALFORMED)
        version, typ = r.u8("version"), r.u8("type")
        if version != VERSION or typ != TYPE_BUNDLE:
            fail(MALFORMED, "bundle version/type")
        identity = PublicIdentity.read(r)
        spk_id = r.u32("spk id")
        spk_pub = r.take(32, "spk")
        spk_sig = r.take(64, "spk_sig")
        opk = None
        if r.flag("opk flag"):
            opk = (r.u32("opk id"), r.take(32, "opk"))
        kind = r.u8("kem kind")
        if kind not in (KIND_LAST_RESORT, KIND_ONE_TIME):
            fail(MALFORMED, f"kem kind {kind}")
        kem_id = r.u32("kem id")
        kem_ek = r.take(KEM_EK_LEN, "kem ek")
        kem_sig = r.take(64, "kem_sig")
        r.end("bundle")
        return Bundle(identity, spk_id, spk_pub, spk_sig, opk, kind, kem_id, kem_ek, kem_sig)


# -- initial-message prefix (6.2) -------------------------------------------------------------

@dataclass(frozen=True)
class Prefix:
    initiator: PublicIdentity
    responder_sig: bytes
    responder_dh: bytes
    spk_id: int
    opk_id: Optional[int]
    kem_kind: int
    kem_id: int
    ek_pub: bytes
    ct: bytes

    def encode(self) -> bytes:
        out = [u8(VERSION), u8(TYPE_INITIAL), self.initiator.encode(), self.responder_sig,
               self.responder_dh, u32(self.spk_id)]
        out += [b"\x00"] if self.opk_id is None else [b"\x01", u32(self.opk_id)]
        out += [u8(self.kem_kind), u32(self.kem_id), self.ek_pub, self.ct]
        return b"".join(out)


def decode_prefix(message: bytes, cls: str = MALFORMED) -> Tuple[Prefix, int]:
    """decode_prefix of 6.4: the prefix fields in order; bytes after it are not examined.
    Returns the prefix and its length `plen`."""
    r = Reader(message, cls)
    version, typ = r.u8("version"), r.u8("type")
    if version != VERSION or typ != TYPE_INITIAL:
        fail(cls, "prefix version/type")
    initiator = PublicIdentity.read(r)
    responder_sig = r.take(32, "IK_R.sig")
    responder_dh = r.take(32, "IK_R.dh")
    spk_id = r.u32("spk id")
    opk_id = r.u32("opk id") if r.flag("opk flag") else None
    kind = r.u8("kem kind")
    if kind not in (KIND_LAST_RESORT, KIND_ONE_TIME):
        fail(cls, f"kem kind {kind}")
    kem_id = r.u32("kem id")
    ek_pub = r.take(32, "EK_pub")
    ct = r.take(KEM_CT_LEN, "CT")
    prefix = Prefix(initiator, responder_sig, responder_dh, spk_id, opk_id, kind, kem_id,
                    ek_pub, ct)
    return prefix, r.pos


# -- padding (8.2) ----------------------------------------------------------------------------

def padded_len(n: int) -> int:
    for b in PADDING_BUCKETS:
        if n <= b:
            return b
    e = n.bit_length() - 1
    s = e.bit_length()
    mask = (1 << (e - s)) - 1
    return (n + mask) & ~mask


MAX_PADDED_BODY_LEN = padded_len(BODY_PREAMBLE_LEN + MAX_PAYLOAD_LEN)
assert MAX_PADDED_BODY_LEN == 4325376


def is_padded_len(n: int) -> bool:
    return 17 <= n <= MAX_PADDED_BODY_LEN and padded_len(n) == n


# -- ratchet message framing (7.6, 7.7) -------------------------------------------------------

class Frame(NamedTuple):
    r: bytes
    hlen: int
    blen: int


def frame(m: bytes) -> Frame:
    """frame(m) of 7.7: framing of one ratchet message; reads no secret; failures Malformed."""
    if len(m) < CLEAR_LEN:
        fail(MALFORMED, "ratchet message shorter than 19 bytes")
    version, typ, r, hlen = m[0], m[1], m[2:18], m[18]
    if version != VERSION or typ != TYPE_RATCHET:
        fail(MALFORMED, "ratchet version/type")
    if not MIN_HLEN <= hlen <= MAX_HLEN:
        fail(MALFORMED, f"hlen {hlen}")
    if len(m) - CLEAR_LEN < hlen + TAG_LEN:
        fail(MALFORMED, "ratchet message too short for hlen")
    blen = len(m) - CLEAR_LEN - hlen - TAG_LEN
    if not is_padded_len(blen):
        fail(MALFORMED, f"blen {blen} not a padded length")
    return Frame(r, hlen, blen)


def clear_part(r: bytes) -> bytes:
    return u8(VERSION) + u8(TYPE_RATCHET) + r + u8(SEALED_HEADER_LEN)


# -- header plaintext (7.6) -------------------------------------------------------------------

class Header(NamedTuple):
    dh: bytes
    pn: int
    n: int


def encode_header(dh: bytes, pn: int, n: int) -> bytes:
    return dh + u32(pn) + u32(n) + b"\x00"


def parse_header(p: bytes) -> Optional[Header]:
    """None if the plaintext does not parse (counts as not opened)."""
    if len(p) < HEADER_PLAIN_LEN:
        return None
    e = p[40]
    if e > MAX_HEADER_EXT_LEN or len(p) != HEADER_PLAIN_LEN + e:
        return None
    return Header(p[0:32], struct.unpack(">I", p[32:36])[0], struct.unpack(">I", p[36:40])[0])


# -- body plaintext (8.1) ---------------------------------------------------------------------

class Body(NamedTuple):
    content_type: int
    sent_at: int
    ttl: int
    payload: bytes


def encode_body(content_type: int, sent_at: int, ttl: int, payload: bytes) -> bytes:
    n = BODY_PREAMBLE_LEN + len(payload)
    pre = u8(content_type) + u64(sent_at) + u32(ttl) + u32(len(payload))
    return pre + payload + bytes(padded_len(n) - n)


def parse_body(body: bytes) -> Body:
    """parse_body of 8.1 (after the body tag verified); every failure Malformed."""
    if len(body) < BODY_PREAMBLE_LEN:
        fail(MALFORMED, "body shorter than 17")
    length = struct.unpack(">I", body[13:17])[0]
    if length > MAX_PAYLOAD_LEN:
        fail(MALFORMED, "payload length over MAX_PAYLOAD_LEN")
    if length > len(body) - BODY_PREAMBLE_LEN:
        fail(MALFORMED, "payload length past the body")
    if padded_len(BODY_PREAMBLE_LEN + length) != len(body):
        fail(MALFORMED, "body over-padded")
    if any(body[BODY_PREAMBLE_LEN + length:]):
        fail(MALFORMED, "non-zero padding")
    return Body(body[0], struct.unpack(">Q", body[1:9])[0], struct.unpack(">I", body[9:13])[0],
                body[BODY_PREAMBLE_LEN:BODY_PREAMBLE_LEN + length])
