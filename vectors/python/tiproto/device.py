"""A device: identity (4), prekeys and the bundle (5), PQXDH initiate / accept and the
`Device.decrypt` dispatch (6)."""
from __future__ import annotations

import dataclasses
from typing import List, Optional

from . import pqxdh, state, suite, wire
from .errors import (BAD_SIGNATURE, EXPIRED, IDENTITY_CHANGED, MALFORMED, REPLAY,
                     TOO_MANY_SKIPPED, UNAUTHENTIC, ProtocolError, fail)
from .labels import L_SIG_IDENTITY, L_SIG_KEM, L_SIG_SPK
from .ratchet import Decrypted, Session
from .rng import ReplayRng
from .state import (MAX_KNOWN_PEERS, MAX_ONE_TIME_KEM_PREKEYS, MAX_ONE_TIME_PREKEYS,
                    MAX_REPLAY_CACHE, MAX_ROTATED_PREKEYS, MAX_SESSIONS, DeviceRecord)
from .wire import Bundle, Prefix, PublicIdentity, u8, u32

ID_LIMIT = 2**32 - 1   # never issued; next_prekey_id never exceeds it


def check_peer_id(peer: bytes) -> bytes:
    """PeerId::new: 1 to 64 bytes, else Malformed."""
    if not 1 <= len(peer) <= state.MAX_PEER_ID_LEN:
        fail(MALFORMED, "peer id length")
    return peer


# -- signed messages (4, 5.2, 5.3) ------------------------------------------------------------

def identity_message(signing_pub: bytes, dh_pub: bytes) -> bytes:
    return L_SIG_IDENTITY + signing_pub + dh_pub


def spk_message(signing_pub: bytes, spk_id: int, spk_pub: bytes) -> bytes:
    return L_SIG_SPK + signing_pub + u32(spk_id) + spk_pub


def kem_message(signing_pub: bytes, kind: int, kem_id: int, ek: bytes) -> bytes:
    return L_SIG_KEM + signing_pub + u8(kind) + u32(kem_id) + ek


def verify_identity(ident: PublicIdentity) -> bool:
    return suite.ed25519_verify(ident.signing_pub,
                                identity_message(ident.signing_pub, ident.dh_pub), ident.sig)


def same_identity(a: PublicIdentity, b: PublicIdentity) -> bool:
    """Two identities are the same when their signing and DH keys are (6.5)."""
    return (a.signing_pub, a.dh_pub) == (b.signing_pub, b.dh_pub)


def import_bundle(data: bytes) -> Bundle:
    """Bundle import (5.7): decode (rows 1-6, Malformed), three signatures (BadSignature), then
    the ML-KEM modulus check (Malformed)."""
    b = Bundle.decode(data)
    spub = b.identity.signing_pub
    if not verify_identity(b.identity):
        fail(BAD_SIGNATURE, "identity signature")
    if not suite.ed25519_verify(spub, spk_message(spub, b.spk_id, b.spk_pub), b.spk_sig):
        fail(BAD_SIGNATURE, "signed prekey signature")
    if not suite.ed25519_verify(spub, kem_message(spub, b.kem_kind, b.kem_id, b.kem_ek), b.kem_sig):
        fail(BAD_SIGNATURE, "ML-KEM prekey signature")
    if not suite.mlkem_modulus_ok(b.kem_ek):
        fail(MALFORMED, "ML-KEM key fails the modulus check")
    return b


@dataclasses.dataclass
class Device(DeviceRecord):

    # -- blobs (10.2)
    def to_bytes(self) -> bytes:
        return state.encode_device(self)

    @classmethod
    def from_bytes(cls, data: bytes) -> "Device":
        rec = state.decode_device(data)
        return cls(**{f.name: getattr(rec, f.name) for f in dataclasses.fields(DeviceRecord)})

    # -- identity (4)
    @property
    def signing_pub(self) -> bytes:
        return suite.ed25519_pub(self.signing_seed)

    @property
    def dh_pub(self) -> bytes:
        return suite.x25519_pub(self.dh_priv)

    def public_identity(self) -> PublicIdentity:
        msg = identity_message(self.signing_pub, self.dh_pub)
        return PublicIdentity(self.signing_pub, self.dh_pub,
                              suite.ed25519_sign(self.signing_seed, msg))

    def _sign(self, msg: bytes) -> bytes:
        return suite.ed25519_sign(self.signing_seed, msg)

    # -- prekey ids (5.1)
    def _allocate_id(self) -> int:
        i = self.next_prekey_id
        if i == ID_LIMIT:
            fail(TOO_MANY_SKIPPED, "prekey ids exhausted")
        self.next_prekey_id = i + 1
        return i

    def _reserve_ids(self, count: int) -> List[int]:
        if self.next_prekey_id + count > ID_LIMIT:
            fail(TOO_MANY_SKIPPED, "prekey ids exhausted")
        return list(range(self.next_prekey_id, self.next_prekey_id + count))

    # -- generation and rotation (5.5)
    @classmethod
    def generate(cls, rng: ReplayRng) -> "Device":
        dev = cls(signing_seed=rng.draw(32), dh_priv=rng.draw(32))
        dev.rotate_signed_prekey(rng)
        dev.rotate_last_resort_kem_prekey(rng)
        return dev

    def rotate_signed_prekey(self, rng: ReplayRng) -> None:
        priv = rng.draw(32)
        i = self._allocate_id()
        self.signed_prekeys.append((i, priv))
        if len(self.signed_prekeys) > MAX_ROTATED_PREKEYS:
            self.signed_prekeys.pop(0)
        self._prune_replay_cache()

    def rotate_last_resort_kem_prekey(self, rng: ReplayRng) -> None:
        seed = rng.draw(64)
        i = self._allocate_id()
        self.last_resort_kem.append((i, seed))
        if len(self.last_resort_kem) > MAX_ROTATED_PREKEYS:
            self.last_resort_kem.pop(0)
        self._prune_replay_cache()

    def _prune_replay_cache(self) -> None:
        spk_ids = {i for i, _ in self.signed_prekeys}
        lr_ids = {i for i, _ in self.last_resort_kem}
        self.replay_cache = {sid: ids for sid, ids in self.replay_cache.items()
                             if ids[0] in spk_ids and ids[1] in lr_ids}

    def add_one_time_prekeys(self, count: int, rng: ReplayRng) -> None:
        if len(self.one_time_prekeys) + count > MAX_ONE_TIME_PREKEYS:
            fail(MALFORMED, "too many one-time prekeys")
        ids = self._reserve_ids(count)
        new = {i: rng.draw(32) for i in ids}
        self.next_prekey_id += count
        self.one_time_prekeys.update(new)

    def add_one_time_kem_prekeys(self, count: int, rng: ReplayRng) -> None:
        if len(self.one_time_kem) + count > MAX_ONE_TIME_KEM_PREKEYS:
            fail(MALFORMED, "too many one-time ML-KEM prekeys")
        ids = self._reserve_ids(count)
        new = {i: rng.draw(64) for i in ids}
        self.next_prekey_id += count
        self.one_time_kem.update(new)

    # -- bundle (5.6)
    def prekey_bundle(self) -> Bundle:
        spk_id, spk_priv = self.signed_prekeys[-1]
        spk_pub = suite.x25519_pub(spk_priv)
        opk = None
        if self.one_time_prekeys:
            oid = min(self.one_time_prekeys)
            opk = (oid, suite.x25519_pub(self.one_time_prekeys[oid]))
        if self.one_time_kem:
            kind, kem_id = wire.KIND_ONE_TIME, min(self.one_time_kem)
            seed = self.one_time_kem[kem_id]
        else:
            kind, (kem_id, seed) = wire.KIND_LAST_RESORT, self.last_resort_kem[-1]
        ek = suite.mlkem_ek(seed)
        spub = self.signing_pub
        return Bundle(self.public_identity(), spk_id, spk_pub,
                      self._sign(spk_message(spub, spk_id, spk_pub)), opk, kind, kem_id, ek,
                      self._sign(kem_message(spub, kind, kem_id, ek)))

    # -- initiate (6.3)
    def initiate(self, peer: bytes, bundle: Bundle, rng: ReplayRng,
                 trace: Optional[dict] = None) -> None:
        check_peer_id(peer)
        known = self.identities.get(peer)
        if known is not None and not same_identity(known, bundle.identity):
            fail(IDENTITY_CHANGED, "bundle under another identity than the known one")
        if known is None and len(self.identities) >= MAX_KNOWN_PEERS:
            fail(TOO_MANY_SKIPPED, "known-identity cap")
        if peer not in self.sessions and len(self.sessions) >= MAX_SESSIONS:
            fail(TOO_MANY_SKIPPED, "session cap")
        ek_priv = rng.draw(32)
        m = rng.draw(32)
        ek_pub = suite.x25519_pub(ek_priv)
        try:
            dhs = [suite.x25519_dh(self.dh_priv, bundle.spk_pub),
                   suite.x25519_dh(ek_priv, bundle.identity.dh_pub),
                   suite.x25519_dh(ek_priv, bundle.spk_pub)]
            if bundle.opk is not None:
                dhs.append(suite.x25519_dh(ek_priv, bundle.opk[1]))
        except suite.DhFailure:
            fail(UNAUTHENTIC, "all-zero DH at initiate")
        if not suite.mlkem_modulus_ok(bundle.kem_ek):
            fail(UNAUTHENTIC, "ML-KEM key fails the modulus check")
        ss, ct = suite.mlkem_encaps(bundle.kem_ek, m)
        me = self.public_identity()
        prefix = Prefix(me, bundle.identity.signing_pub, bundle.identity.dh_pub, bundle.spk_id,
                        None if bundle.opk is None else bundle.opk[0], bundle.kem_kind,
                        bundle.kem_id, ek_pub, ct).encode()
        keys = pqxdh.derive(prefix, bundle.spk_pub, None if bundle.opk is None else bundle.opk[1],
                            bundle.kem_ek, me.signing_pub, me.dh_pub,
                            bundle.identity.signing_pub, bundle.identity.dh_pub, dhs, ss)
        self.identities.setdefault(peer, bundle.identity)
        self.sessions[peer] = Session(
            initiator=True, ad=keys.ad, setup_id=keys.setup_id, initial_prefix=prefix,
            pq_reserve=keys.pq_reserve, dhs=None, dhr=bundle.spk_pub, rk=keys.root_key,
            cks=None, ckr=None, hks=None, hkr=None, nhks=keys.initiator_header_key,
            nhkr=keys.responder_header_key, pending=True)
        if trace is not None:
            trace["pqxdh"] = pqxdh.trace(keys, ephemeral_private=ek_priv, ephemeral_public=ek_pub,
                                         kem_m=m, dhs=dhs, ct=ct, ss=ss, prefix=prefix)

    # -- decrypt dispatch (6.4)
    def decrypt(self, peer: bytes, message: bytes, now: int,
                trace: Optional[dict] = None) -> Decrypted:
        check_peer_id(peer)
        if len(message) < 2:
            fail(MALFORMED, "message shorter than 2 bytes")
        if message[1] == wire.TYPE_RATCHET:
            wire.frame(message)
            if peer not in self.sessions:
                fail(UNAUTHENTIC, "no session with peer")
            return self._session_decrypt(peer, message, now, trace)
        if message[1] != wire.TYPE_INITIAL:
            fail(MALFORMED, f"type {message[1]}")
        prefix, plen = wire.decode_prefix(message)
        setup_id = suite.sha256(message[:plen])
        if peer in self.sessions and self.sessions[peer].setup_id == setup_id:
            return self._session_decrypt(peer, message, now, trace)
        return self._accept(peer, prefix, message, plen, setup_id, now, trace)

    def _session_decrypt(self, peer: bytes, message: bytes, now: int,
                         trace: Optional[dict]) -> Decrypted:
        # Session.decrypt changes nothing before its commit, and commits before Expired.
        return self.sessions[peer].decrypt(message, now, trace)

    def _accept(self, peer: bytes, prefix: Prefix, message: bytes, plen: int, setup_id: bytes,
                now: int, trace: Optional[dict]) -> Decrypted:
        wire.frame(message[plen:])                                                      # 1
        if prefix.responder_sig != self.signing_pub or prefix.responder_dh != self.dh_pub:
            fail(UNAUTHENTIC, "prefix names another responder")                          # 2
        spk = next((p for i, p in self.signed_prekeys if i == prefix.spk_id), None)
        if spk is None:
            fail(UNAUTHENTIC, "unknown signed prekey")                                   # 3
        opk = None
        if prefix.opk_id is not None:
            opk = self.one_time_prekeys.get(prefix.opk_id)
            if opk is None:
                fail(UNAUTHENTIC, "unknown one-time prekey")                             # 4
        if prefix.kem_kind == wire.KIND_ONE_TIME:
            kem_seed = self.one_time_kem.get(prefix.kem_id)
        else:
            kem_seed = next((s for i, s in self.last_resort_kem if i == prefix.kem_id), None)
        if kem_seed is None:
            fail(UNAUTHENTIC, "unknown ML-KEM prekey")                                   # 5
        if not verify_identity(prefix.initiator):
            fail(UNAUTHENTIC, "initiator identity signature")                            # 6
        try:                                                                             # 7
            dhs = [suite.x25519_dh(spk, prefix.initiator.dh_pub),
                   suite.x25519_dh(self.dh_priv, prefix.ek_pub),
                   suite.x25519_dh(spk, prefix.ek_pub)]
            if opk is not None:
                dhs.append(suite.x25519_dh(opk, prefix.ek_pub))
        except suite.DhFailure:
            fail(UNAUTHENTIC, "all-zero DH at accept")
        ss = suite.mlkem_decaps(kem_seed, prefix.ct)                                     # 8
        spk_pub = suite.x25519_pub(spk)
        kem_ek = suite.mlkem_ek(kem_seed)
        keys = pqxdh.derive(message[:plen], spk_pub,                                     # 9
                            None if opk is None else suite.x25519_pub(opk), kem_ek,
                            prefix.initiator.signing_pub, prefix.initiator.dh_pub,
                            self.signing_pub, self.dh_pub, dhs, ss)
        assert keys.setup_id == setup_id
        session = Session(                                                               # 10
            initiator=False, ad=keys.ad, setup_id=keys.setup_id, initial_prefix=None,
            pq_reserve=keys.pq_reserve, dhs=spk, dhr=None, rk=keys.root_key, cks=None,
            ckr=None, hks=None, hkr=None, nhks=keys.responder_header_key,
            nhkr=keys.initiator_header_key, pending=False)
        local: dict = {}
        meta: dict = {}
        expired: Optional[ProtocolError] = None
        result: Optional[Decrypted] = None
        try:                                                                             # 11
            result = session.decrypt(message[plen:], now, local, prefixed=True, meta_out=meta)
        except ProtocolError as e:
            if e.cls != EXPIRED:
                raise
            expired = e
        sent_at = meta["sent_at"]
        reusable_only = prefix.opk_id is None and prefix.kem_kind == wire.KIND_LAST_RESORT  # 12
        evict = None
        if reusable_only:                                                                # 13
            floor = self.replay_floor
            if len(self.replay_cache) >= MAX_REPLAY_CACHE:
                evict = min(self.replay_cache, key=lambda k: (self.replay_cache[k][2], k))
                floor = max(floor, self.replay_cache[evict][2])
            if sent_at <= floor:
                fail(REPLAY, "sent at or before the replay floor")
            if sent_at > now:
                fail(REPLAY, "sent after the receiver's clock")
            if setup_id in self.replay_cache:
                fail(REPLAY, "initial message in the replay cache")
        if peer not in self.sessions and len(self.sessions) >= MAX_SESSIONS:
            fail(TOO_MANY_SKIPPED, "session cap")                                        # 14
        if peer not in self.identities and len(self.identities) >= MAX_KNOWN_PEERS:
            fail(TOO_MANY_SKIPPED, "known-identity cap")                                 # 15
        known = self.identities.get(peer)
        if known is not None and not same_identity(known, prefix.initiator):
            fail(IDENTITY_CHANGED, "initiator is not the peer's known identity")         # 16
        if reusable_only:                                                                # 17
            if evict is not None:
                self.replay_floor = max(self.replay_floor, self.replay_cache.pop(evict)[2])
            self.replay_cache[setup_id] = (prefix.spk_id, prefix.kem_id, sent_at)
        if prefix.opk_id is not None:
            del self.one_time_prekeys[prefix.opk_id]
        if prefix.kem_kind == wire.KIND_ONE_TIME:
            del self.one_time_kem[prefix.kem_id]
        self.identities[peer] = prefix.initiator
        self.sessions[peer] = session
        if trace is not None:
            trace["pqxdh"] = pqxdh.trace(keys, ephemeral_private=None,
                                         ephemeral_public=prefix.ek_pub, kem_m=None, dhs=dhs,
                                         ct=prefix.ct, ss=ss, prefix=message[:plen])
            trace.update(local)
        if expired is not None:                                                          # 18
            raise expired
        assert result is not None
        return result

    def remove_session(self, peer: bytes) -> Optional[Session]:
        return self.sessions.pop(peer, None)
