"""Double Ratchet with header encryption (PROTOCOL.md 7) and the skipped-key store (9.2)."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import List, NamedTuple, Optional, Tuple

from . import suite, wire
from .errors import (CORRUPT_STATE, EXPIRED, MALFORMED, REPLAY, TOO_MANY_SKIPPED, UNAUTHENTIC,
                     fail)
from .labels import CHAIN_MESSAGE, CHAIN_NEXT, L_HEADER_KEY, L_ROOT
from .rng import ReplayRng

MAX_SKIP = 1000
MAX_CHAIN_MESSAGES = 1 << 24
MAX_SKIPPED_KEYS = 2000
MAX_SKIPPED_CHAINS = 4
MAX_SKIPPED_AGE_SECS = 2592000
U64_MAX = 2**64 - 1

NumberedKeys = List[Tuple[int, bytes]]


# -- KDFs (7.2), AEAD keys and nonce (7.3) ----------------------------------------------------

def kdf_rk(rk: bytes, dh_out: bytes) -> Tuple[bytes, bytes, bytes]:
    """(new root key, chain key, next header key)."""
    okm = suite.hkdf_expand(suite.hkdf_extract(rk, dh_out), L_ROOT, 96)
    return okm[0:32], okm[32:64], okm[64:96]


def kdf_ck(ck: bytes) -> Tuple[bytes, bytes]:
    """(message key, next chain key)."""
    return suite.hmac_sha256(ck, CHAIN_MESSAGE), suite.hmac_sha256(ck, CHAIN_NEXT)


def hek(hk: bytes) -> bytes:
    """The header key's AES-256-GCM key, hk used directly as PRK: Expand(hk, L_HEADER_KEY, 32).
    A function of the header key alone (7.1), so it is not stored; computed where it is used."""
    return suite.hkdf_expand(hk, L_HEADER_KEY, 32)


def nonce(r: bytes) -> bytes:
    """r[0:12], the nonce of both AEADs of a message (header and body); r[12:16] is unused."""
    assert len(r) == wire.RANDOM_LEN
    return r[0:12]


def walk(ck: bytes, start: int, until: int) -> Tuple[NumberedKeys, bytes, bytes]:
    """Keys start..until-1 (skipped), the key for `until`, and the chain key after it."""
    keys: NumberedKeys = []
    for j in range(start, until):
        mk_j, ck = kdf_ck(ck)
        keys.append((j, mk_j))
    mk, ck = kdf_ck(ck)
    return keys, mk, ck


def check_skip(start: int, until: int) -> None:
    if until >= MAX_CHAIN_MESSAGES or max(until - start, 0) > MAX_SKIP:
        fail(TOO_MANY_SKIPPED, f"skip {start}..{until}")


def _keys_json(keys: NumberedKeys) -> list:
    return [{"n": n, "message_key": mk.hex()} for n, mk in keys]


# -- skipped-key store (9.2) ------------------------------------------------------------------

@dataclass
class SkippedKey:
    n: int
    mk: bytes
    stored_at: int


@dataclass
class SkippedChain:
    header_key: bytes
    keys: List[SkippedKey]


def is_live(stored_at: int, now: int) -> bool:
    return now < min(stored_at + MAX_SKIPPED_AGE_SECS, U64_MAX)


@dataclass
class SkippedStore:
    chains: List[SkippedChain] = field(default_factory=list)

    def total(self) -> int:
        return sum(len(c.keys) for c in self.chains)

    def newest(self) -> int:
        return self.chains[-1].keys[-1].stored_at if self.chains else 0

    def index_of(self, hk: bytes) -> Optional[int]:
        for i, c in enumerate(self.chains):
            if c.header_key == hk:
                return i
        return None

    def lookup(self, i: int, n: int, now: int) -> Optional[bytes]:
        for k in self.chains[i].keys:
            if k.n == n:
                return k.mk if is_live(k.stored_at, now) else None
        return None

    def insert(self, hk: bytes, keys: NumberedKeys, now: int) -> None:
        if not keys:
            return
        t = max(now, self.newest())
        entries = [SkippedKey(n, mk, t) for n, mk in keys]
        if self.chains and self.chains[-1].header_key == hk:
            self.chains[-1].keys.extend(entries)
        else:
            self.chains.append(SkippedChain(hk, entries))
        while len(self.chains) > MAX_SKIPPED_CHAINS:
            self.chains.pop(0)
        total = self.total()
        while total > MAX_SKIPPED_KEYS:
            self.chains[0].keys.pop(0)
            total -= 1
            if not self.chains[0].keys:
                self.chains.pop(0)

    def remove(self, i: int, n: int) -> None:
        chain = self.chains[i]
        chain.keys = [k for k in chain.keys if k.n != n]
        if not chain.keys:
            self.chains.pop(i)

    def purge(self, now: int) -> None:
        while self.chains:
            first = self.chains[0]
            while first.keys and not is_live(first.keys[0].stored_at, now):
                first.keys.pop(0)
            if first.keys:
                return
            self.chains.pop(0)


# -- session (7.1) ----------------------------------------------------------------------------

class Decrypted(NamedTuple):
    content_type: int
    sent_at: int
    ttl: int
    expires_at: Optional[int]
    payload: bytes


CURRENT, NEXT, SKIPPED = "current", "next", "skipped"


@dataclass
class Session:
    initiator: bool
    ad: bytes
    setup_id: bytes
    initial_prefix: Optional[bytes]
    pq_reserve: bytes
    dhs: Optional[bytes]          # own ratchet private key (public recomputed)
    dhr: Optional[bytes]
    rk: bytes
    cks: Optional[bytes]
    ckr: Optional[bytes]
    hks: Optional[bytes]
    hkr: Optional[bytes]
    nhks: bytes
    nhkr: bytes
    ns: int = 0
    nr: int = 0
    pn: int = 0
    pending: bool = False
    skipped: SkippedStore = field(default_factory=SkippedStore)
    version: int = 1

    def clone(self) -> "Session":
        return copy.deepcopy(self)

    # -- 6.5 accessors
    def peer_identity_keys(self) -> Tuple[bytes, bytes]:
        return (self.ad[64:96], self.ad[96:128]) if self.initiator else (self.ad[0:32], self.ad[32:64])

    # -- 7.5 ---------------------------------------------------------------------------------
    def encrypt(self, content_type: int, ttl: int, payload: bytes, now: int, rng: ReplayRng,
                trace: Optional[dict] = None) -> bytes:
        if len(payload) > wire.MAX_PAYLOAD_LEN:
            fail(MALFORMED, "payload over MAX_PAYLOAD_LEN")
        step = None
        if self.pending:
            if self.dhr is None:
                fail(CORRUPT_STATE, "pending without DHr")
            new_priv = rng.draw(32)
            new_pub = suite.x25519_pub(new_priv)
            try:
                dh = suite.x25519_dh(new_priv, self.dhr)
            except suite.DhFailure:
                fail(UNAUTHENTIC, "all-zero DH in the sending ratchet step")
            rk2, ck, nhks2 = kdf_rk(self.rk, dh)
            hk, ratchet_pub, pn, n = self.nhks, new_pub, self.ns, 0
            step = {"ratchet_private": new_priv.hex(), "ratchet_public": new_pub.hex(),
                    "dh": dh.hex(), "root_key": rk2.hex(), "chain_key": ck.hex(),
                    "next_header_key": nhks2.hex()}
        else:
            if self.cks is None or self.hks is None or self.dhs is None:
                fail(CORRUPT_STATE, "no sending chain")
            ck, hk, ratchet_pub, pn, n = (self.cks, self.hks, suite.x25519_pub(self.dhs),
                                          self.pn, self.ns)
        if n >= MAX_CHAIN_MESSAGES:
            fail(TOO_MANY_SKIPPED, "sending chain full")
        r = rng.draw(wire.RANDOM_LEN)
        mk, ck_next = kdf_ck(ck)

        clear = wire.clear_part(r)
        h_plain = wire.encode_header(ratchet_pub, pn, n)
        hkey, hnonce = hek(hk), nonce(r)
        h_aad = self.ad + clear
        h_sealed = suite.aead_seal(hkey, hnonce, h_aad, h_plain)
        body = wire.encode_body(content_type, now, ttl, payload)
        bkey, bnonce = mk, nonce(r)  # the message key is the body key
        b_aad = self.ad + clear + h_sealed
        b_sealed = suite.aead_seal(bkey, bnonce, b_aad, body)
        out = (self.initial_prefix or b"") + clear + h_sealed + b_sealed

        if trace is not None:
            trace["encrypt"] = {
                "ratchet_step": step, "chain_key": ck.hex(), "message_key": mk.hex(),
                "next_chain_key": ck_next.hex(), "header_key": hk.hex(), "r": r.hex(),
                "pn": pn, "n": n, "header_plaintext": h_plain.hex(), "header_aad": h_aad.hex(),
                "header_aead_key": hkey.hex(), "header_nonce": hnonce.hex(),
                "body_plaintext": body.hex(), "body_aad": b_aad.hex(),
                "body_aead_key": bkey.hex(), "body_nonce": bnonce.hex(),
            }
        # commit
        if self.pending:
            self.pn = self.ns
            self.hks = self.nhks
            self.nhks = nhks2
            self.dhs = new_priv
            self.rk = rk2
            self.pending = False
        self.cks = ck_next
        self.ns = n + 1
        return out

    # -- 7.7 ---------------------------------------------------------------------------------
    def decrypt(self, message: bytes, now: int, trace: Optional[dict] = None,
                prefixed: bool = False, meta_out: Optional[dict] = None) -> Decrypted:
        """7.7. `prefixed`: the caller (6.4 accept step 11) already stripped a prefix.
        `meta_out` receives the authenticated body's sent_at, also when Expired is raised."""
        # 1. own prefix
        if len(message) >= 2 and message[1] == wire.TYPE_INITIAL:
            if self.initiator:
                fail(MALFORMED, "an initiator never receives a prefix")
            _, plen = wire.decode_prefix(message)
            wire.frame(message[plen:])
            if suite.sha256(message[:plen]) != self.setup_id:
                fail(UNAUTHENTIC, "prefix hash is not this session's setup_id")
            message = message[plen:]
            prefixed = True

        # 2. framing
        fr = wire.frame(message)
        r, hlen = fr.r, fr.hlen
        clear = message[0:wire.CLEAR_LEN]
        h_ct_tag = message[wire.CLEAR_LEN:wire.CLEAR_LEN + hlen]
        head = message[0:wire.CLEAR_LEN + hlen]
        b_ct_tag = message[wire.CLEAR_LEN + hlen:]

        # 3. trial decryption of the header, every candidate, no early exit
        candidates: List[Tuple[str, Optional[int], bytes]] = []
        if self.hkr is not None:
            candidates.append((CURRENT, None, self.hkr))
        if not (self.hkr is not None and self.hkr == self.nhkr):
            candidates.append((NEXT, None, self.nhkr))
        for i, chain in enumerate(self.skipped.chains):
            if chain.header_key not in [k for (_, _, k) in candidates]:
                candidates.append((SKIPPED, i, chain.header_key))
        found = None
        for cand, idx, key in candidates:
            k = hek(key)
            plain = suite.aead_open(k, nonce(r), self.ad + clear, h_ct_tag)
            if plain is not None and found is None:
                hdr = wire.parse_header(plain)
                if hdr is not None:
                    found = (cand, idx, key, k, nonce(r), plain, hdr)
        if found is None:
            fail(UNAUTHENTIC, "no candidate header key opens the header")
        cand, idx, hk, hkey, hnonce, h_plain, hdr = found
        # One encoding per message (7.6): a prefix exactly on the initiator's first chain (PN 0).
        if not self.initiator and prefixed != (hdr.pn == 0):
            fail(UNAUTHENTIC, "prefix present exactly when PN = 0 is violated")

        # 4. plan (decides, changes nothing)
        closed: NumberedKeys = []
        skipped_keys: NumberedKeys = []
        step = None
        ck2: Optional[bytes] = None
        if cand == SKIPPED:
            assert idx is not None
            mk = self._plan_skipped(idx, hdr.n, now)
            plan: tuple = (SKIPPED, idx, hdr.n)
        elif cand == CURRENT:
            if self.dhr is None or self.dhr != hdr.dh or self.ckr is None:
                fail(UNAUTHENTIC, "CURRENT header with another ratchet key")
            if hdr.n < self.nr:
                i = self.skipped.index_of(self.hkr)  # type: ignore[arg-type]
                if i is None:
                    fail(REPLAY, "no skipped chain for HKr")
                mk = self._plan_skipped(i, hdr.n, now)
                plan = (SKIPPED, i, hdr.n)
            else:
                check_skip(self.nr, hdr.n)
                skipped_keys, mk, ck2 = walk(self.ckr, self.nr, hdr.n)
                plan = (CURRENT, skipped_keys, ck2, hdr.n + 1)
        else:
            if (self.dhr is not None and self.dhr == hdr.dh) or self.dhs is None:
                fail(UNAUTHENTIC, "NEXT header with the current ratchet key, or no DHs")
            if self.ckr is not None:
                check_skip(self.nr, hdr.pn)
                closed, _, _ = walk(self.ckr, self.nr, hdr.pn) if hdr.pn > self.nr else ([], b"", b"")
            check_skip(0, hdr.n)
            try:
                dh = suite.x25519_dh(self.dhs, hdr.dh)
            except suite.DhFailure:
                fail(UNAUTHENTIC, "all-zero DH in the receiving ratchet step")
            rk2, ck, nhkr2 = kdf_rk(self.rk, dh)
            skipped_keys, mk, ck2 = walk(ck, 0, hdr.n)
            step = {"dh": dh.hex(), "root_key": rk2.hex(), "chain_key": ck.hex(),
                    "next_header_key": nhkr2.hex()}
            plan = (NEXT, closed, hdr.dh, rk2, nhkr2, skipped_keys, ck2, hdr.n + 1)

        # 5. body
        bkey, bnonce = mk, nonce(r)  # the message key is the body key
        body = suite.aead_open(bkey, bnonce, self.ad + head, b_ct_tag)
        if body is None:
            fail(UNAUTHENTIC, "body tag")
        meta = wire.parse_body(body)

        if trace is not None:
            trace["decrypt"] = {
                "candidate": cand, "skipped_chain": idx if cand == SKIPPED else None,
                "header_key": hk.hex(), "header_aead_key": hkey.hex(), "header_nonce": hnonce.hex(),
                "header_plaintext": h_plain.hex(), "pn": hdr.pn, "n": hdr.n,
                "closed_chain_keys": _keys_json(closed), "ratchet_step": step,
                "skipped_keys": _keys_json(skipped_keys), "message_key": mk.hex(),
                "next_chain_key": None if ck2 is None else ck2.hex(),
                "body_aead_key": bkey.hex(), "body_nonce": bnonce.hex(),
                "body_plaintext": body.hex(),
            }

        # 6. commit
        self._commit(plan, now)
        self.initial_prefix = None

        if meta_out is not None:
            meta_out["sent_at"] = meta.sent_at
        # 7. expiry
        end = meta.sent_at + meta.ttl
        expires_at = end if meta.ttl != 0 and end <= U64_MAX else None
        if expires_at is not None and now >= expires_at:
            fail(EXPIRED, "past its TTL")
        return Decrypted(meta.content_type, meta.sent_at, meta.ttl, expires_at, meta.payload)

    def _plan_skipped(self, i: int, n: int, now: int) -> bytes:
        mk = self.skipped.lookup(i, n, now)
        if mk is None:
            fail(REPLAY, "skipped key gone or not live")
        return mk

    def _commit(self, plan: tuple, now: int) -> None:
        kind = plan[0]
        if kind == SKIPPED:
            _, i, n = plan
            self.skipped.remove(i, n)
        elif kind == CURRENT:
            _, keys, ck2, nr = plan
            if self.hkr is not None:
                self.skipped.insert(self.hkr, keys, now)
            self.ckr, self.nr = ck2, nr
        else:
            _, old_keys, dhr, rk2, nhkr2, keys, ck2, nr = plan
            if self.hkr is not None:
                self.skipped.insert(self.hkr, old_keys, now)
            new_hkr = self.nhkr
            self.nhkr = nhkr2
            self.skipped.insert(new_hkr, keys, now)
            self.hkr, self.dhr, self.rk, self.ckr, self.nr = new_hkr, dhr, rk2, ck2, nr
            self.pending = True
        self.skipped.purge(now)
