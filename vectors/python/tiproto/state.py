"""Canonical state blobs (PROTOCOL.md 10): session (10.1) and device (10.2).

Restoring checks every rule of 10.1 / 10.2 and fails with CorruptState; encoding a restored
state gives back the same bytes. Derived public values (public keys, signatures, ML-KEM keys)
are not stored: the device recomputes them (tiproto.device)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Tuple

from . import suite, wire
from .errors import CORRUPT_STATE, fail
from .ratchet import (MAX_CHAIN_MESSAGES, MAX_SKIPPED_CHAINS, MAX_SKIPPED_KEYS, Session,
                      SkippedChain, SkippedKey, SkippedStore)
from .labels import L_SIG_IDENTITY
from .wire import PublicIdentity, Reader, u8, u16, u32, u64

STATE_VERSION = 0x01
TYPE_SESSION = 0x10
TYPE_DEVICE = 0x11

MAX_ONE_TIME_PREKEYS = 1000
MAX_ONE_TIME_KEM_PREKEYS = 1000
MAX_ROTATED_PREKEYS = 2
MAX_REPLAY_CACHE = 4096
MAX_SESSIONS = 1000
MAX_KNOWN_PEERS = 1000
MAX_PEER_ID_LEN = 64

C = CORRUPT_STATE


def identity_signature_ok(ident: PublicIdentity) -> bool:
    """The identity's own signature over its DH key (4)."""
    return suite.ed25519_verify(ident.signing_pub,
                                L_SIG_IDENTITY + ident.signing_pub + ident.dh_pub, ident.sig)


# -- session (10.1) ---------------------------------------------------------------------------

def _opt(x: Optional[bytes]) -> bytes:
    return b"\x00" if x is None else b"\x01" + x


def encode_session(s: Session) -> bytes:
    out = [u8(STATE_VERSION), u8(TYPE_SESSION), u8(s.version), u8(int(s.initiator)), s.ad,
           s.setup_id]
    if s.initial_prefix is None:
        out.append(b"\x00")
    else:
        out += [b"\x01", u16(len(s.initial_prefix)), s.initial_prefix]
    out += [s.pq_reserve, _opt(s.dhs), _opt(s.dhr), s.rk, _opt(s.cks), _opt(s.ckr), _opt(s.hks),
            _opt(s.hkr), s.nhks, s.nhkr, u32(s.ns), u32(s.nr), u32(s.pn), u8(int(s.pending)),
            u8(len(s.skipped.chains))]
    for chain in s.skipped.chains:
        out += [chain.header_key, u16(len(chain.keys))]
        for k in chain.keys:
            out += [u32(k.n), k.mk, u64(k.stored_at)]
    return b"".join(out)


def _read_opt32(r: Reader, what: str) -> Optional[bytes]:
    return r.take(32, what) if r.flag(what + " flag") else None


def read_session(r: Reader) -> Session:
    """One session state, all of 10.1 including its two header bytes; no end-of-input check."""
    if r.u8("state version") != STATE_VERSION:
        fail(C, "state version")
    if r.u8("type") != TYPE_SESSION:
        fail(C, "not a session blob")
    if r.u8("session version") != 1:
        fail(C, "session version")
    initiator = r.flag("initiator")
    ad = r.take(wire.AD_LEN, "AD")
    setup_id = r.take(32, "setup_id")
    prefix = None
    if r.flag("prefix flag"):
        pl = r.u16("prefix length")
        prefix = r.take(pl, "prefix")
        _, plen = wire.decode_prefix(prefix, C)
        if plen != pl:
            fail(C, "prefix does not use exactly pl bytes")
        if suite.sha256(prefix) != setup_id:
            fail(C, "SHA256(prefix) != setup_id")
    pq_reserve = r.take(32, "PQ_RESERVE")
    dhs = _read_opt32(r, "DHs")
    dhr = _read_opt32(r, "DHr")
    rk = r.take(32, "RK")
    cks = _read_opt32(r, "CKs")
    ckr = _read_opt32(r, "CKr")
    hks = _read_opt32(r, "HKs")
    hkr = _read_opt32(r, "HKr")
    nhks = r.take(32, "NHKs")
    nhkr = r.take(32, "NHKr")
    ns, nr, pn = r.u32("Ns"), r.u32("Nr"), r.u32("PN")
    pending = r.flag("pending")
    count = r.u8("chain count")
    if count > MAX_SKIPPED_CHAINS:
        fail(C, "more than 4 skipped chains")
    chains: List[SkippedChain] = []
    last_time = 0
    for _ in range(count):
        hk = r.take(32, "chain header key")
        if any(c.header_key == hk for c in chains):
            fail(C, "duplicate chain header key")
        k = r.u16("key count")
        if not 1 <= k <= MAX_SKIPPED_KEYS:
            fail(C, "chain key count")
        keys: List[SkippedKey] = []
        for _ in range(k):
            n = r.u32("n")
            mk = r.take(32, "mk")
            t = r.u64("stored_at")
            if keys and n <= keys[-1].n:
                fail(C, "skipped n not ascending")
            if t < last_time:
                fail(C, "stored_at decreases")
            last_time = t
            keys.append(SkippedKey(n, mk, t))
        chains.append(SkippedChain(hk, keys))

    # Further checks (order not observable: all CorruptState).
    if sum(len(c.keys) for c in chains) > MAX_SKIPPED_KEYS:
        fail(C, "more than 2000 skipped keys")
    if pending:
        if dhr is None:
            fail(C, "pending without DHr")
    elif cks is not None:
        if hks is None or dhs is None:
            fail(C, "CKs without HKs or DHs")
    else:
        if hks is not None or dhr is not None or dhs is None or ns != 0 or pn != 0:
            fail(C, "no sending chain: must be a fresh responder")
    if (ckr is None) != (hkr is None):
        fail(C, "CKr present iff HKr present")
    if ckr is not None and dhr is None:
        fail(C, "CKr without DHr")
    if ckr is None and (nr != 0 or chains):
        fail(C, "nothing received but Nr or skipped keys")
    for i, c in enumerate(chains):
        if c.header_key == nhkr:
            fail(C, "skipped chain under NHKr")
        if hkr is not None and c.header_key == hkr and i != len(chains) - 1:
            fail(C, "HKr's chain is not the last")
    if ns > MAX_CHAIN_MESSAGES or nr > MAX_CHAIN_MESSAGES or pn > MAX_CHAIN_MESSAGES:
        fail(C, "counter over 2^24")
    if not initiator and (prefix is not None or dhs is None):
        fail(C, "responder with a prefix or without DHs")

    return Session(initiator=initiator, ad=ad, setup_id=setup_id, initial_prefix=prefix,
                   pq_reserve=pq_reserve, dhs=dhs, dhr=dhr, rk=rk, cks=cks, ckr=ckr, hks=hks,
                   hkr=hkr, nhks=nhks, nhkr=nhkr, ns=ns, nr=nr, pn=pn, pending=pending,
                   skipped=SkippedStore(chains))


def decode_session(data: bytes) -> Session:
    r = Reader(data, C)
    s = read_session(r)
    r.end("session blob")
    return s


# -- device (10.2) ----------------------------------------------------------------------------

@dataclass
class DeviceRecord:
    """Everything a device blob stores, in blob order."""
    signing_seed: bytes
    dh_priv: bytes
    next_prekey_id: int = 1
    signed_prekeys: List[Tuple[int, bytes]] = field(default_factory=list)      # oldest first
    one_time_prekeys: Dict[int, bytes] = field(default_factory=dict)           # by id
    last_resort_kem: List[Tuple[int, bytes]] = field(default_factory=list)     # oldest first
    one_time_kem: Dict[int, bytes] = field(default_factory=dict)               # by id
    # setup_id -> (spk id, kem id, sent_at)
    replay_cache: Dict[bytes, Tuple[int, int, int]] = field(default_factory=dict)
    replay_floor: int = 0
    identities: Dict[bytes, PublicIdentity] = field(default_factory=dict)      # peer id -> identity
    sessions: Dict[bytes, Session] = field(default_factory=dict)               # peer id -> session


def encode_device(d: DeviceRecord) -> bytes:
    out = [u8(STATE_VERSION), u8(TYPE_DEVICE), d.signing_seed, d.dh_priv, u32(d.next_prekey_id),
           u8(len(d.signed_prekeys))]
    out += [u32(i) + k for i, k in d.signed_prekeys]
    out.append(u16(len(d.one_time_prekeys)))
    out += [u32(i) + d.one_time_prekeys[i] for i in sorted(d.one_time_prekeys)]
    out.append(u8(len(d.last_resort_kem)))
    out += [u32(i) + s for i, s in d.last_resort_kem]
    out.append(u16(len(d.one_time_kem)))
    out += [u32(i) + d.one_time_kem[i] for i in sorted(d.one_time_kem)]
    out.append(u16(len(d.replay_cache)))
    for sid in sorted(d.replay_cache):
        spk_id, kem_id, sent_at = d.replay_cache[sid]
        out += [sid, u32(spk_id), u32(kem_id), u64(sent_at)]
    out.append(u64(d.replay_floor))
    out.append(u16(len(d.identities)))
    for peer in sorted(d.identities):
        out += [u8(len(peer)), peer, d.identities[peer].encode()]
    out.append(u16(len(d.sessions)))
    for peer in sorted(d.sessions):
        out += [u8(len(peer)), peer, encode_session(d.sessions[peer])]
    return b"".join(out)


def _read_id_list(r: Reader, count: int, key_len: int, next_id: int, what: str
                  ) -> List[Tuple[int, bytes]]:
    out: List[Tuple[int, bytes]] = []
    prev = 0
    for _ in range(count):
        i = r.u32(what + " id")
        key = r.take(key_len, what)
        if not prev < i < next_id:
            fail(C, f"{what} id {i} out of order or not below next_prekey_id")
        prev = i
        out.append((i, key))
    return out



def _peer_entries(r: Reader, cap: int, what: str, plural: str) -> Iterator[bytes]:
    """The peer ids of a list keyed by peer (10.2: a u16 count at most `cap`, then per entry a
    u8 length of 1 to 64 and the id, strictly ascending); the caller reads each entry's value
    between two ids."""
    n = r.u16(f"{what} count")
    if n > cap:
        fail(C, f"{what} count")
    prev_peer: Optional[bytes] = None
    for _ in range(n):
        plen = r.u8("peer id length")
        if not 1 <= plen <= MAX_PEER_ID_LEN:
            fail(C, "peer id length")
        peer = r.take(plen, "peer id")
        if prev_peer is not None and not peer > prev_peer:
            fail(C, f"{plural} not strictly ascending by peer id")
        prev_peer = peer
        yield peer

def decode_device(data: bytes) -> DeviceRecord:
    r = Reader(data, C)
    if r.u8("state version") != STATE_VERSION:
        fail(C, "state version")
    if r.u8("type") != TYPE_DEVICE:
        fail(C, "not a device blob")
    signing_seed = r.take(32, "signing_seed")
    dh_priv = r.take(32, "dh_priv")
    next_id = r.u32("next_prekey_id")

    n = r.u8("signed prekey count")
    if not 1 <= n <= MAX_ROTATED_PREKEYS:
        fail(C, "signed prekey count")
    spks = _read_id_list(r, n, 32, next_id, "signed prekey")
    n = r.u16("one-time prekey count")
    if n > MAX_ONE_TIME_PREKEYS:
        fail(C, "one-time prekey count")
    opks = _read_id_list(r, n, 32, next_id, "one-time prekey")
    n = r.u8("last-resort count")
    if not 1 <= n <= MAX_ROTATED_PREKEYS:
        fail(C, "last-resort ML-KEM prekey count")
    lrs = _read_id_list(r, n, 64, next_id, "last-resort ML-KEM prekey")
    n = r.u16("one-time ML-KEM count")
    if n > MAX_ONE_TIME_KEM_PREKEYS:
        fail(C, "one-time ML-KEM prekey count")
    otks = _read_id_list(r, n, 64, next_id, "one-time ML-KEM prekey")
    all_ids = [i for lst in (spks, opks, lrs, otks) for i, _ in lst]
    if len(set(all_ids)) != len(all_ids):
        fail(C, "a prekey id appears in two lists")

    n = r.u16("replay-cache count")
    if n > MAX_REPLAY_CACHE:
        fail(C, "replay cache count")
    spk_ids = {i for i, _ in spks}
    lr_ids = {i for i, _ in lrs}
    cache: Dict[bytes, Tuple[int, int, int]] = {}
    prev_sid: Optional[bytes] = None
    for _ in range(n):
        sid = r.take(32, "setup_id")
        spk_id, kem_id = r.u32("spk id"), r.u32("kem id")
        sent_at = r.u64("sent_at")
        if prev_sid is not None and not sid > prev_sid:
            fail(C, "replay cache not strictly ascending")
        if spk_id not in spk_ids or kem_id not in lr_ids:
            fail(C, "replay cache names a prekey not held")
        prev_sid = sid
        cache[sid] = (spk_id, kem_id, sent_at)
    floor = r.u64("replay_floor")
    if any(e[2] < floor for e in cache.values()):
        fail(C, "a replay-cache entry older than the replay floor")

    identities: Dict[bytes, PublicIdentity] = {}
    for peer in _peer_entries(r, MAX_KNOWN_PEERS, "known-identity", "known identities"):
        ident = PublicIdentity.read(r)
        if not identity_signature_ok(ident):
            fail(C, "known identity signature")
        identities[peer] = ident

    sessions: Dict[bytes, Session] = {}
    for peer in _peer_entries(r, MAX_SESSIONS, "session", "sessions"):
        s = read_session(r)
        known = identities.get(peer)
        if known is None or (known.signing_pub, known.dh_pub) != s.peer_identity_keys():
            fail(C, "session not with its peer's known identity")
        sessions[peer] = s
    r.end("device blob")
    return DeviceRecord(signing_seed, dh_priv, next_id, spks, dict(opks), lrs, dict(otks), cache,
                        floor, identities, sessions)
