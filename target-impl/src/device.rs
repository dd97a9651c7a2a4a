//! A device: one identity, its prekeys, the replay cache of accepted initial messages, and a
//! session per peer. The caller names the peer of every message; sessions are never found by
//! trial.

use core::fmt;
use std::collections::BTreeMap;

use zeroize::Zeroizing;

use crate::codec::{DecodeError, Decoded, Reader, Writer};
use crate::identity::{Identity, PublicIdentity};
use crate::keys::{KemSeed, Secret32, X25519Pair};
use crate::pqxdh::{self, INITIAL_TYPE, InitialPrefix, ResponderKeys};
use crate::prekeys::{
    KemKind, KemPrekey, OneTimePrekey, PrekeyBundle, SignedPrekey, VerifiedBundle,
};
use crate::session::{Message, RATCHET_TYPE, Session, frame_body_start};
use crate::{Error, suite};

/// Most one-time X25519 prekeys a device holds.
pub const MAX_ONE_TIME_PREKEYS: usize = 1000;
/// Most one-time ML-KEM prekeys a device holds.
pub const MAX_ONE_TIME_KEM_PREKEYS: usize = 1000;
/// Signed X25519 prekeys and last-resort ML-KEM prekeys kept: the current one and the one it
/// replaced (for initial messages still in flight).
pub const MAX_ROTATED_PREKEYS: usize = 2;
/// Most remembered initial messages that used only reusable prekeys. When full, the entry with
/// the oldest authenticated `sent_at` is evicted and its time becomes the replay floor: a
/// reusable-only initial message sent at or before the floor is refused ([`Error::Replay`]).
pub const MAX_REPLAY_CACHE: usize = 4096;
/// Most peers whose identity the device remembers (trust on first use or pinned).
pub const MAX_KNOWN_PEERS: usize = MAX_SESSIONS;
/// Most sessions (peers) a device holds.
pub const MAX_SESSIONS: usize = 1000;
/// Longest peer name, in bytes.
pub const MAX_PEER_ID_LEN: usize = 64;

// Every count in the device blob fits its length field.
const _: () = assert!(MAX_ROTATED_PREKEYS <= u8::MAX as usize);
const _: () = assert!(MAX_ONE_TIME_PREKEYS <= u16::MAX as usize);
const _: () = assert!(MAX_ONE_TIME_KEM_PREKEYS <= u16::MAX as usize);
const _: () = assert!(MAX_REPLAY_CACHE <= u16::MAX as usize);
const _: () = assert!(MAX_SESSIONS <= u16::MAX as usize);
const _: () = assert!(MAX_KNOWN_PEERS <= u16::MAX as usize);
const _: () = assert!(MAX_SESSIONS <= MAX_KNOWN_PEERS);
const _: () = assert!(MAX_PEER_ID_LEN <= u8::MAX as usize);

/// Whether two public identities have the same keys.
fn same_identity(a: &PublicIdentity, b: &PublicIdentity) -> bool {
    identity_keys(a) == identity_keys(b)
}

/// (Ed25519 signing key, X25519 DH key), as [`Session::peer_identity_keys`] returns them.
fn identity_keys(identity: &PublicIdentity) -> ([u8; 32], [u8; 32]) {
    (*identity.signing_key(), *identity.dh_key())
}

/// The caller's name for a peer: 1 to [`MAX_PEER_ID_LEN`] bytes.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PeerId(Vec<u8>);

impl PeerId {
    /// Refuses an empty or over-long name ([`Error::Malformed`]).
    pub fn new(name: impl AsRef<[u8]>) -> Result<Self, Error> {
        let name = name.as_ref();
        if name.is_empty() || name.len() > MAX_PEER_ID_LEN {
            return Err(Error::Malformed);
        }
        Ok(Self(name.to_vec()))
    }

    /// The name's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PeerId({:?})", String::from_utf8_lossy(&self.0))
    }
}

/// Which reusable prekeys an accepted initial message relied on (its replay-cache entry lives
/// while both do), and its authenticated send time (the eviction order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ReplayEntry {
    signed_prekey_id: u32,
    kem_prekey_id: u32,
    sent_at: u64,
}

/// Everything an authenticated initial message would change, staged until it is committed.
struct Staged {
    peer: PeerId,
    initiator: PublicIdentity,
    setup_id: [u8; 32],
    session: Session,
    /// The replay-cache entry, for a message that used only reusable prekeys.
    replay: Option<ReplayEntry>,
    one_time_prekey_id: Option<u32>,
    one_time_kem_id: Option<u32>,
    /// The decrypted first message, or [`Error::Expired`].
    result: Result<Message, Error>,
    /// The receiver's clock when it was received.
    now: u64,
}

/// What [`Device::receive`] yields.
#[must_use]
pub enum Delivery {
    /// A decrypted message; [`Message::new_session`] says whether it started a session.
    Message(Message),
    /// An authenticated initial message under an identity other than the one the device knows
    /// for the peer. Nothing changed: the old session and identity stay until the caller passes
    /// this to [`Device::accept_identity_change`].
    IdentityChanged(IdentityChange),
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Delivery::Message(m) => f.debug_tuple("Message").field(m).finish(),
            Delivery::IdentityChanged(c) => f.debug_tuple("IdentityChanged").field(c).finish(),
        }
    }
}

/// An authenticated initial message from a peer whose identity changed: the proof that only
/// [`Device::receive`] creates and only [`Device::accept_identity_change`] consumes.
pub struct IdentityChange {
    device: [u8; 32],
    known: PublicIdentity,
    staged: Box<Staged>,
}

impl IdentityChange {
    /// The peer the message was received from.
    pub fn peer(&self) -> &PeerId {
        &self.staged.peer
    }

    /// The identity the device knows for the peer (kept until the change is accepted).
    pub fn known_identity(&self) -> &PublicIdentity {
        &self.known
    }

    /// The identity the initial message authenticated under.
    pub fn new_identity(&self) -> &PublicIdentity {
        &self.staged.initiator
    }
}

impl fmt::Debug for IdentityChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityChange")
            .field("peer", &self.staged.peer)
            .field("known", &self.known)
            .field("new", &self.staged.initiator)
            .finish_non_exhaustive()
    }
}

/// One identity with its prekeys and sessions.
#[derive(Clone)]
pub struct Device {
    identity: Identity,
    next_prekey_id: u32,
    /// Current signed prekey last. Boxed: rotation removes the oldest, and a `Vec` removal
    /// leaves a bitwise copy of a shifted key in its buffer.
    #[allow(
        clippy::vec_box,
        reason = "the box keeps a removed key from being shifted"
    )]
    signed_prekeys: Vec<Box<SignedPrekey>>,
    one_time_prekeys: BTreeMap<u32, OneTimePrekey>,
    /// Current last-resort key last.
    last_resort_kem: Vec<KemPrekey>,
    one_time_kem: BTreeMap<u32, KemPrekey>,
    replay_cache: BTreeMap<[u8; 32], ReplayEntry>,
    /// The newest `sent_at` evicted from the replay cache (0: none evicted).
    replay_floor: u64,
    /// Each peer's identity: the first one seen, or the one the caller pinned or accepted.
    identities: BTreeMap<PeerId, PublicIdentity>,
    sessions: BTreeMap<PeerId, Session>,
}

impl fmt::Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Device")
            .field("identity", self.identity.public())
            .field("one_time_prekeys", &self.one_time_prekeys.len())
            .field("one_time_kem_prekeys", &self.one_time_kem.len())
            .field("replay_cache", &self.replay_cache.len())
            .field("replay_floor", &self.replay_floor)
            .field("known_peers", &self.identities.len())
            .field("sessions", &self.sessions.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Device {
    /// A new device. Draws, in order: the identity signing seed (32 bytes), the identity X25519
    /// key (32), the signed prekey (32, id 1), the last-resort ML-KEM seed `d‖z` (64, id 2).
    pub fn generate<R: rand_core::CryptoRng + ?Sized>(rng: &mut R) -> Result<Self, Error> {
        let identity = Identity::generate(rng)?;
        let mut device = Self {
            identity,
            next_prekey_id: 1,
            signed_prekeys: Vec::new(),
            one_time_prekeys: BTreeMap::new(),
            last_resort_kem: Vec::new(),
            one_time_kem: BTreeMap::new(),
            replay_cache: BTreeMap::new(),
            replay_floor: 0,
            identities: BTreeMap::new(),
            sessions: BTreeMap::new(),
        };
        device.rotate_signed_prekey(rng)?;
        device.rotate_last_resort_kem_prekey(rng)?;
        Ok(device)
    }

    /// The public identity.
    pub fn public_identity(&self) -> &PublicIdentity {
        self.identity.public()
    }

    fn allocate_id(&mut self) -> Result<u32, Error> {
        let id = self.next_prekey_id;
        self.next_prekey_id = id.checked_add(1).ok_or(Error::TooManySkipped)?;
        Ok(id)
    }

    /// Replaces the signed prekey (draws 32 bytes); the previous one stays for initial
    /// messages in flight, the one before it is deleted with its replay-cache entries.
    pub fn rotate_signed_prekey<R: rand_core::CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
    ) -> Result<(), Error> {
        let pair = X25519Pair::generate(rng)?;
        let id = self.allocate_id()?;
        self.signed_prekeys
            .push(Box::new(SignedPrekey::new(&self.identity, id, pair)));
        if self.signed_prekeys.len() > MAX_ROTATED_PREKEYS {
            self.signed_prekeys.remove(0);
        }
        self.prune_replay_cache();
        Ok(())
    }

    /// Replaces the last-resort ML-KEM prekey (draws a 64-byte seed); as for the signed prekey,
    /// the previous one stays.
    pub fn rotate_last_resort_kem_prekey<R: rand_core::CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
    ) -> Result<(), Error> {
        let seed = KemSeed::random(rng);
        let id = self.allocate_id()?;
        self.last_resort_kem.push(KemPrekey::new(
            &self.identity,
            id,
            KemKind::LastResort,
            seed,
            None,
        ));
        if self.last_resort_kem.len() > MAX_ROTATED_PREKEYS {
            self.last_resort_kem.remove(0);
        }
        self.prune_replay_cache();
        Ok(())
    }

    fn prune_replay_cache(&mut self) {
        let spks: Vec<u32> = self.signed_prekeys.iter().map(|k| k.id).collect();
        let kems: Vec<u32> = self.last_resort_kem.iter().map(|k| k.id).collect();
        self.replay_cache
            .retain(|_, e| spks.contains(&e.signed_prekey_id) && kems.contains(&e.kem_prekey_id));
    }

    /// Reserves `count` consecutive prekey ids, or refuses ([`Error::TooManySkipped`]) if the
    /// id space would run out; nothing changes on refusal.
    fn reserve_ids(&self, count: usize) -> Result<core::ops::Range<u32>, Error> {
        let count = u32::try_from(count).map_err(|_| Error::TooManySkipped)?;
        let end = self
            .next_prekey_id
            .checked_add(count)
            .ok_or(Error::TooManySkipped)?;
        Ok(self.next_prekey_id..end)
    }

    /// Adds `count` one-time X25519 prekeys, drawing 32 bytes each. Refuses to exceed
    /// [`MAX_ONE_TIME_PREKEYS`] ([`Error::Malformed`]); all or nothing.
    pub fn add_one_time_prekeys<R: rand_core::CryptoRng + ?Sized>(
        &mut self,
        count: usize,
        rng: &mut R,
    ) -> Result<(), Error> {
        if self.one_time_prekeys.len().saturating_add(count) > MAX_ONE_TIME_PREKEYS {
            return Err(Error::Malformed);
        }
        let ids = self.reserve_ids(count)?;
        let mut added = Vec::with_capacity(count);
        for id in ids.clone() {
            added.push(OneTimePrekey {
                id,
                pair: Box::new(X25519Pair::generate(rng)?),
            });
        }
        self.next_prekey_id = ids.end;
        self.one_time_prekeys
            .extend(added.into_iter().map(|k| (k.id, k)));
        Ok(())
    }

    /// Adds `count` signed one-time ML-KEM prekeys, drawing a 64-byte seed each. Refuses to
    /// exceed [`MAX_ONE_TIME_KEM_PREKEYS`] ([`Error::Malformed`]); all or nothing.
    pub fn add_one_time_kem_prekeys<R: rand_core::CryptoRng + ?Sized>(
        &mut self,
        count: usize,
        rng: &mut R,
    ) -> Result<(), Error> {
        if self.one_time_kem.len().saturating_add(count) > MAX_ONE_TIME_KEM_PREKEYS {
            return Err(Error::Malformed);
        }
        let ids = self.reserve_ids(count)?;
        for id in ids.clone() {
            let seed = KemSeed::random(rng);
            self.one_time_kem.insert(
                id,
                KemPrekey::new(&self.identity, id, KemKind::OneTime, seed, None),
            );
        }
        self.next_prekey_id = ids.end;
        Ok(())
    }

    /// Number of unused one-time prekeys: (X25519, ML-KEM).
    pub fn one_time_prekey_counts(&self) -> (usize, usize) {
        (self.one_time_prekeys.len(), self.one_time_kem.len())
    }

    /// The bundle to publish: the current signed prekey, the lowest-id one-time X25519 prekey
    /// (if any), and the lowest-id one-time ML-KEM prekey, else the last-resort one.
    pub fn prekey_bundle(&self) -> Result<PrekeyBundle, Error> {
        let spk = self.signed_prekeys.last().ok_or(Error::CorruptState)?;
        let kem = match self.one_time_kem.values().next() {
            Some(kem) => kem,
            None => self.last_resort_kem.last().ok_or(Error::CorruptState)?,
        };
        Ok(PrekeyBundle {
            identity: self.identity.public().clone(),
            signed_prekey_id: spk.id,
            signed_prekey: *spk.pair.public(),
            signed_prekey_signature: spk.signature,
            one_time_prekey: self
                .one_time_prekeys
                .values()
                .next()
                .map(|k| (k.id, *k.pair.public())),
            kem_kind: kem.kind,
            kem_prekey_id: kem.id,
            kem_prekey: kem.public.clone(),
            kem_prekey_signature: kem.signature,
        })
    }

    /// Starts a session with `peer` from its verified bundle by PQXDH, replacing any session
    /// with that peer. Draws the ephemeral key (32 bytes) and the ML-KEM randomness (32).
    /// The first `encrypt` to `peer` yields the initial message.
    ///
    /// The bundle's identity must be the one the device knows for `peer` (remembered from the
    /// first contact, or pinned): otherwise [`Error::IdentityChanged`], nothing drawn or changed
    /// (to go ahead, the caller pins the new identity with [`Device::pin_identity`]). A peer
    /// with no known identity gets the bundle's.
    pub fn initiate<R: rand_core::CryptoRng + ?Sized>(
        &mut self,
        peer: &PeerId,
        bundle: &VerifiedBundle,
        rng: &mut R,
    ) -> Result<(), Error> {
        let identity = bundle.bundle().identity();
        match self.identities.get(peer) {
            Some(known) if !same_identity(known, identity) => return Err(Error::IdentityChanged),
            Some(_) => {}
            None if self.identities.len() >= MAX_KNOWN_PEERS => return Err(Error::TooManySkipped),
            None => {}
        }
        if !self.sessions.contains_key(peer) && self.sessions.len() >= MAX_SESSIONS {
            return Err(Error::TooManySkipped);
        }
        let initiated = pqxdh::initiate(&self.identity, bundle, rng)?;
        let session = Session::initiator(initiated)?;
        self.identities.insert(peer.clone(), identity.clone());
        self.sessions.insert(peer.clone(), session);
        Ok(())
    }

    /// The identity the device knows for `peer`: remembered from the first contact, or pinned.
    pub fn known_identity(&self, peer: &PeerId) -> Option<&PublicIdentity> {
        self.identities.get(peer)
    }

    /// Sets the identity expected from `peer` (before the first contact, or to accept a new
    /// one for [`Device::initiate`]). A session with `peer` under another identity is deleted.
    /// Refuses a new peer beyond [`MAX_KNOWN_PEERS`] ([`Error::TooManySkipped`]).
    pub fn pin_identity(&mut self, peer: &PeerId, identity: &PublicIdentity) -> Result<(), Error> {
        if !self.identities.contains_key(peer) && self.identities.len() >= MAX_KNOWN_PEERS {
            return Err(Error::TooManySkipped);
        }
        if self
            .sessions
            .get(peer)
            .is_some_and(|s| s.peer_identity_keys() != identity_keys(identity))
        {
            self.sessions.remove(peer);
        }
        self.identities.insert(peer.clone(), identity.clone());
        Ok(())
    }

    /// Forgets `peer` entirely: its session and its known identity.
    pub fn forget_peer(&mut self, peer: &PeerId) {
        self.sessions.remove(peer);
        self.identities.remove(peer);
    }

    /// The session with `peer`.
    pub fn session(&self, peer: &PeerId) -> Option<&Session> {
        self.sessions.get(peer)
    }

    /// The session with `peer`, to encrypt or decrypt in place.
    pub fn session_mut(&mut self, peer: &PeerId) -> Option<&mut Session> {
        self.sessions.get_mut(peer)
    }

    /// Deletes the session with `peer` (its keys zeroize on drop); its identity stays known.
    pub fn remove_session(&mut self, peer: &PeerId) -> Option<Session> {
        self.sessions.remove(peer)
    }

    /// Every peer with a session.
    pub fn peers(&self) -> impl Iterator<Item = &PeerId> {
        self.sessions.keys()
    }

    /// Decrypts a message from `peer`, as [`Device::receive`] does, with an identity change
    /// reported as [`Error::IdentityChanged`] (nothing changed; [`Device::receive`] yields the
    /// change to accept).
    pub fn decrypt(&mut self, peer: &PeerId, message: &[u8], now: u64) -> Result<Message, Error> {
        match self.receive(peer, message, now)? {
            Delivery::Message(m) => Ok(m),
            Delivery::IdentityChanged(_) => Err(Error::IdentityChanged),
        }
    }

    /// Decrypts a message from `peer`: an initial message starts (or continues) a session, a
    /// ratchet message goes to the existing one. An initial message that authenticates under
    /// another identity than the one known for `peer` is not installed: it yields
    /// [`Delivery::IdentityChanged`]. On any error but [`Error::Expired`] the device is
    /// unchanged.
    pub fn receive(&mut self, peer: &PeerId, message: &[u8], now: u64) -> Result<Delivery, Error> {
        match message.get(1) {
            Some(&INITIAL_TYPE) => {
                let (prefix, prefix_len) = InitialPrefix::decode(message)?;
                // The prefix is hashed once here: the session lookup, PQXDH and the session's
                // own prefix check all use this digest.
                let setup_id = suite::sha256(&[message.get(..prefix_len).unwrap_or_default()]);
                match self.sessions.get_mut(peer) {
                    Some(session) if session.setup_id() == &setup_id => session
                        .decrypt_own_prefixed(message, prefix_len, now)
                        .map(Delivery::Message),
                    _ => {
                        let staged =
                            self.stage(peer, &prefix, message, prefix_len, setup_id, now)?;
                        self.check_fresh(&staged)?;
                        if let Some(known) = self.identities.get(peer)
                            && !same_identity(known, &staged.initiator)
                        {
                            return Ok(Delivery::IdentityChanged(IdentityChange {
                                device: *self.identity.public().signing_key(),
                                known: known.clone(),
                                staged: Box::new(staged),
                            }));
                        }
                        self.commit(staged).map(Delivery::Message)
                    }
                }
            }
            Some(&RATCHET_TYPE) => {
                // Framing first, so a malformed message is Malformed whoever it claims to be from.
                frame_body_start(message)?;
                self.sessions
                    .get_mut(peer)
                    .ok_or(Error::Unauthentic)?
                    .decrypt(message, now)
                    .map(Delivery::Message)
            }
            _ => Err(Error::Malformed),
        }
    }

    /// Installs the session of an identity change that [`Device::receive`] reported, with its
    /// new identity, and returns its first message (or [`Error::Expired`], committed). Refused,
    /// nothing changed, if the device changed meanwhile so that the message would no longer be
    /// accepted: a change from another device, a known identity that changed again
    /// ([`Error::IdentityChanged`]), a prekey it used now gone ([`Error::Unauthentic`]), a
    /// replay ([`Error::Replay`]), or a full store ([`Error::TooManySkipped`]).
    pub fn accept_identity_change(&mut self, change: IdentityChange) -> Result<Message, Error> {
        let IdentityChange {
            device,
            known,
            staged,
        } = change;
        if device != *self.identity.public().signing_key() {
            return Err(Error::Unauthentic);
        }
        if !self
            .identities
            .get(&staged.peer)
            .is_some_and(|k| same_identity(k, &known))
        {
            return Err(Error::IdentityChanged);
        }
        let prekeys_present = staged
            .one_time_prekey_id
            .is_none_or(|id| self.one_time_prekeys.contains_key(&id))
            && staged
                .one_time_kem_id
                .is_none_or(|id| self.one_time_kem.contains_key(&id))
            && staged.replay.is_none_or(|e| {
                self.signed_prekeys
                    .iter()
                    .any(|k| k.id == e.signed_prekey_id)
                    && self.last_resort_kem.iter().any(|k| k.id == e.kem_prekey_id)
            });
        if !prekeys_present {
            return Err(Error::Unauthentic);
        }
        self.check_fresh(&staged)?;
        self.commit(*staged)
    }

    /// The responder side of PQXDH: derives and authenticates the first message, and stages
    /// what accepting it changes (one-time prekeys deleted, replay cache, identity, session).
    fn stage(
        &self,
        peer: &PeerId,
        prefix: &InitialPrefix,
        message: &[u8],
        prefix_len: usize,
        setup_id: [u8; 32],
        now: u64,
    ) -> Result<Staged, Error> {
        // Framing first (Malformed whoever sent it): exactly one prefix, then a well-framed
        // ratchet message; a second prefix would make a second encoding of the same message.
        frame_body_start(message.get(prefix_len..).unwrap_or_default())?;
        let own = self.identity.public();
        if prefix.responder_signing != *own.signing_key() || prefix.responder_dh != *own.dh_key() {
            return Err(Error::Unauthentic);
        }
        let signed_prekey = self
            .signed_prekeys
            .iter()
            .find(|k| k.id == prefix.signed_prekey_id)
            .ok_or(Error::Unauthentic)?;
        let one_time_prekey = match prefix.one_time_prekey_id {
            Some(id) => Some(self.one_time_prekeys.get(&id).ok_or(Error::Unauthentic)?),
            None => None,
        };
        let kem_prekey = match prefix.kem_kind {
            KemKind::OneTime => self.one_time_kem.get(&prefix.kem_prekey_id),
            KemKind::LastResort => self
                .last_resort_kem
                .iter()
                .find(|k| k.id == prefix.kem_prekey_id),
        }
        .ok_or(Error::Unauthentic)?;
        let keys = pqxdh::respond(
            &ResponderKeys {
                identity: &self.identity,
                signed_prekey,
                one_time_prekey,
                kem_prekey,
            },
            prefix,
            message.get(..prefix_len).unwrap_or_default(),
            setup_id,
        )?;
        let mut session = Session::responder(keys, signed_prekey.pair.clone())?;
        let first = message.get(prefix_len..).unwrap_or_default();
        let (meta, result) = session.open_first(first, prefix_len, now)?;
        // Authenticated from here on.
        let reusable_only =
            prefix.one_time_prekey_id.is_none() && prefix.kem_kind == KemKind::LastResort;
        Ok(Staged {
            peer: peer.clone(),
            initiator: prefix.initiator.clone(),
            setup_id,
            session,
            replay: reusable_only.then_some(ReplayEntry {
                signed_prekey_id: prefix.signed_prekey_id,
                kem_prekey_id: prefix.kem_prekey_id,
                sent_at: meta.sent_at,
            }),
            one_time_prekey_id: prefix.one_time_prekey_id,
            one_time_kem_id: (prefix.kem_kind == KemKind::OneTime).then_some(prefix.kem_prekey_id),
            result,
            now,
        })
    }

    /// The oldest replay-cache entry (by `sent_at`, then setup id): the next one evicted.
    fn oldest_replay_entry(&self) -> Option<([u8; 32], u64)> {
        self.replay_cache
            .iter()
            .map(|(id, e)| (*id, e.sent_at))
            .min_by_key(|(id, sent_at)| (*sent_at, *id))
    }

    /// Checks that a staged message is no replay and fits the bounded stores. A reusable-only
    /// message must be sent after the replay floor (as it would be after the eviction its
    /// entry causes) and not after `now`, so that the floor never passes the receiver's clock.
    fn check_fresh(&self, staged: &Staged) -> Result<(), Error> {
        if let Some(entry) = &staged.replay {
            let floor = match self.oldest_replay_entry() {
                Some((_, oldest)) if self.replay_cache.len() >= MAX_REPLAY_CACHE => {
                    self.replay_floor.max(oldest)
                }
                _ => self.replay_floor,
            };
            if entry.sent_at <= floor
                || entry.sent_at > staged.now
                || self.replay_cache.contains_key(&staged.setup_id)
            {
                return Err(Error::Replay);
            }
        }
        if !self.sessions.contains_key(&staged.peer) && self.sessions.len() >= MAX_SESSIONS {
            return Err(Error::TooManySkipped);
        }
        if !self.identities.contains_key(&staged.peer) && self.identities.len() >= MAX_KNOWN_PEERS {
            return Err(Error::TooManySkipped);
        }
        Ok(())
    }

    /// Commits a staged initial message checked by [`Device::check_fresh`].
    fn commit(&mut self, staged: Staged) -> Result<Message, Error> {
        if let Some(entry) = staged.replay {
            if self.replay_cache.len() >= MAX_REPLAY_CACHE
                && let Some((id, sent_at)) = self.oldest_replay_entry()
            {
                self.replay_cache.remove(&id);
                self.replay_floor = self.replay_floor.max(sent_at);
            }
            self.replay_cache.insert(staged.setup_id, entry);
        }
        if let Some(id) = staged.one_time_prekey_id {
            self.one_time_prekeys.remove(&id);
        }
        if let Some(id) = staged.one_time_kem_id {
            self.one_time_kem.remove(&id);
        }
        self.identities
            .insert(staged.peer.clone(), staged.initiator);
        self.sessions.insert(staged.peer, staged.session);
        staged.result.map(|mut m| {
            m.new_session = true;
            m
        })
    }

    /// The canonical device state blob, with every secret (docs/PROTOCOL.md, "Device state").
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        crate::codec::exact(|out| self.write(out))
    }

    fn write(&self, out: &mut dyn Writer) {
        out.put_u8(crate::STATE_VERSION);
        out.put_u8(crate::DEVICE_STATE_TYPE);
        out.put(self.identity.signing_seed().expose());
        out.put(self.identity.dh().private().expose());
        out.put_u32(self.next_prekey_id);
        out.put_u8(self.signed_prekeys.len() as u8);
        for k in &self.signed_prekeys {
            out.put_u32(k.id);
            out.put(k.pair.private().expose());
        }
        out.put_u16(self.one_time_prekeys.len() as u16);
        for k in self.one_time_prekeys.values() {
            out.put_u32(k.id);
            out.put(k.pair.private().expose());
        }
        out.put_u8(self.last_resort_kem.len() as u8);
        for k in &self.last_resort_kem {
            out.put_u32(k.id);
            out.put(k.seed.expose());
        }
        out.put_u16(self.one_time_kem.len() as u16);
        for k in self.one_time_kem.values() {
            out.put_u32(k.id);
            out.put(k.seed.expose());
        }
        out.put_u16(self.replay_cache.len() as u16);
        for (id, e) in &self.replay_cache {
            out.put(id);
            out.put_u32(e.signed_prekey_id);
            out.put_u32(e.kem_prekey_id);
            out.put_u64(e.sent_at);
        }
        out.put_u64(self.replay_floor);
        out.put_u16(self.identities.len() as u16);
        for (peer, identity) in &self.identities {
            out.put_u8(peer.0.len() as u8);
            out.put(&peer.0);
            identity.write(out);
        }
        out.put_u16(self.sessions.len() as u16);
        for (peer, session) in &self.sessions {
            out.put_u8(peer.0.len() as u8);
            out.put(&peer.0);
            session.write(out);
        }
    }

    /// Restores a blob made by [`Device::to_bytes`] (signatures are recomputed, ML-KEM seeds
    /// expanded); anything else is [`Error::CorruptState`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(bytes);
        let device = Self::read(&mut r).map_err(|_| Error::CorruptState)?;
        r.finish().map_err(|_| Error::CorruptState)?;
        Ok(device)
    }

    /// Two passes: first every field that needs no public-key cryptography (counts, orders, ids,
    /// lengths, flags, the replay cache, the known identities' and sessions' structure; the
    /// sessions' header-key setups and prefix hashes, symmetric and cheap, happen here too), so
    /// that a corrupt blob is refused cheaply; then the key parses, signatures, signature checks and
    /// ML-KEM seed expansions, the one that can fail (the known identities' signatures) first.
    fn read(r: &mut Reader<'_>) -> Decoded<Self> {
        if r.u8()? != crate::STATE_VERSION || r.u8()? != crate::DEVICE_STATE_TYPE {
            return Err(DecodeError);
        }
        let secret = |r: &mut Reader<'_>| r.array().map(Secret32::new);
        let signing_seed = secret(r)?;
        let identity_dh = secret(r)?;
        let next_prekey_id = r.u32()?;
        // Ids strictly increase within each list and stay below `next_prekey_id`, so every list
        // has one canonical order.
        let mut last_id = 0u32;
        let check_id = |id: u32, last: &mut u32| -> Decoded<u32> {
            if id <= *last || id >= next_prekey_id {
                return Err(DecodeError);
            }
            *last = id;
            Ok(id)
        };

        let count = usize::from(r.u8()?);
        if count == 0 || count > MAX_ROTATED_PREKEYS {
            return Err(DecodeError);
        }
        let mut signed_raw = Vec::with_capacity(count);
        for _ in 0..count {
            let id = check_id(r.u32()?, &mut last_id)?;
            signed_raw.push((id, secret(r)?));
        }
        let count = r.count_u16(MAX_ONE_TIME_PREKEYS)?;
        let mut one_time_raw = Vec::with_capacity(count);
        last_id = 0;
        for _ in 0..count {
            let id = check_id(r.u32()?, &mut last_id)?;
            one_time_raw.push((id, secret(r)?));
        }
        let count = usize::from(r.u8()?);
        if count == 0 || count > MAX_ROTATED_PREKEYS {
            return Err(DecodeError);
        }
        let mut last_resort_raw = Vec::with_capacity(count);
        last_id = 0;
        for _ in 0..count {
            let id = check_id(r.u32()?, &mut last_id)?;
            last_resort_raw.push((id, KemSeed::new(r.array()?)));
        }
        let count = r.count_u16(MAX_ONE_TIME_KEM_PREKEYS)?;
        let mut one_time_kem_raw = Vec::with_capacity(count);
        last_id = 0;
        for _ in 0..count {
            let id = check_id(r.u32()?, &mut last_id)?;
            one_time_kem_raw.push((id, KemSeed::new(r.array()?)));
        }
        // Ids are unique across all four lists (one counter allocates them).
        let mut ids = std::collections::BTreeSet::new();
        let all_ids = signed_raw
            .iter()
            .map(|(id, _)| *id)
            .chain(one_time_raw.iter().map(|(id, _)| *id))
            .chain(last_resort_raw.iter().map(|(id, _)| *id))
            .chain(one_time_kem_raw.iter().map(|(id, _)| *id));
        for id in all_ids {
            if !ids.insert(id) {
                return Err(DecodeError);
            }
        }
        let count = r.count_u16(MAX_REPLAY_CACHE)?;
        let mut replay_cache = BTreeMap::new();
        let mut last_setup: Option<[u8; 32]> = None;
        for _ in 0..count {
            let setup_id: [u8; 32] = r.array()?;
            if last_setup.is_some_and(|last| last >= setup_id) {
                return Err(DecodeError);
            }
            last_setup = Some(setup_id);
            let entry = ReplayEntry {
                signed_prekey_id: r.u32()?,
                kem_prekey_id: r.u32()?,
                sent_at: r.u64()?,
            };
            if !signed_raw
                .iter()
                .any(|(id, _)| *id == entry.signed_prekey_id)
                || !last_resort_raw
                    .iter()
                    .any(|(id, _)| *id == entry.kem_prekey_id)
            {
                return Err(DecodeError);
            }
            replay_cache.insert(setup_id, entry);
        }
        // Every entry was sent after the floor of its time, and eviction takes the oldest.
        let replay_floor = r.u64()?;
        if replay_cache.values().any(|e| e.sent_at < replay_floor) {
            return Err(DecodeError);
        }
        let count = r.count_u16(MAX_KNOWN_PEERS)?;
        let mut identities: BTreeMap<PeerId, PublicIdentity> = BTreeMap::new();
        for _ in 0..count {
            let len = usize::from(r.u8()?);
            let peer = PeerId::new(r.bytes(len)?).map_err(|_| DecodeError)?;
            if identities
                .keys()
                .next_back()
                .is_some_and(|last| *last >= peer)
            {
                return Err(DecodeError);
            }
            // Its signature is checked in the second pass.
            identities.insert(peer, PublicIdentity::read(r)?);
        }
        let count = r.count_u16(MAX_SESSIONS)?;
        // The sessions lack their sending ratchet keys until the second pass (in the order of
        // `sessions`).
        let mut sessions: BTreeMap<PeerId, Session> = BTreeMap::new();
        let mut ratchet_keys: Vec<Option<Secret32>> = Vec::with_capacity(count);
        for _ in 0..count {
            let len = usize::from(r.u8()?);
            let peer = PeerId::new(r.bytes(len)?).map_err(|_| DecodeError)?;
            if sessions
                .keys()
                .next_back()
                .is_some_and(|last| *last >= peer)
            {
                return Err(DecodeError);
            }
            let (session, ratchet_key) = Session::read_pending(r)?;
            // Every session is with the identity known for its peer.
            if identities
                .get(&peer)
                .is_none_or(|k| identity_keys(k) != session.peer_identity_keys())
            {
                return Err(DecodeError);
            }
            sessions.insert(peer, session);
            ratchet_keys.push(ratchet_key);
        }
        // The blob must end here: checked before any cryptography too.
        if r.remaining() != 0 {
            return Err(DecodeError);
        }

        // Second pass: the cryptography, the check that can fail first.
        for identity in identities.values() {
            identity.verify().map_err(|_| DecodeError)?;
        }
        // The raw lists are read by reference (a secret moved out of a heap buffer would leave
        // its bytes there); they are wiped when dropped.
        let pair =
            |private: &Secret32| X25519Pair::from_private(private.clone()).map_err(|_| DecodeError);
        let identity = Identity::from_secrets(signing_seed, pair(&identity_dh)?);
        let mut signed_prekeys = Vec::with_capacity(signed_raw.len());
        for (id, private) in &signed_raw {
            signed_prekeys.push(Box::new(SignedPrekey::new(&identity, *id, pair(private)?)));
        }
        let mut one_time_prekeys = BTreeMap::new();
        for (id, private) in &one_time_raw {
            let pair = Box::new(pair(private)?);
            one_time_prekeys.insert(*id, OneTimePrekey { id: *id, pair });
        }
        let last_resort_kem = last_resort_raw
            .iter()
            .map(|(id, seed)| {
                KemPrekey::new(&identity, *id, KemKind::LastResort, seed.clone(), None)
            })
            .collect();
        let one_time_kem = one_time_kem_raw
            .iter()
            .map(|(id, seed)| {
                let key = KemPrekey::new(&identity, *id, KemKind::OneTime, seed.clone(), None);
                (*id, key)
            })
            .collect();
        for (session, ratchet_key) in sessions.values_mut().zip(&ratchet_keys) {
            session.restore_ratchet_key(ratchet_key.as_ref())?;
        }
        Ok(Self {
            identity,
            next_prekey_id,
            signed_prekeys,
            one_time_prekeys,
            last_resort_kem,
            one_time_kem,
            replay_cache,
            replay_floor,
            identities,
            sessions,
        })
    }
}
