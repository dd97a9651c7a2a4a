//! The state blobs of docs/PROTOCOL.md section 10, parsed into plain fields and encoded back,
//! written from the document (not from `target-impl`'s code). The generator reads every secret
//! it re-derives from here, and builds corrupt blobs by changing fields.
//!
//! Decoding here checks framing only (lengths, flags, counts); `Session::from_bytes` and
//! `Device::from_bytes` make the restore checks.

use crate::{Fail, Result};

/// Reads fields in order; fails when the input ends early.
pub struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, at: 0 }
    }

    /// The current offset.
    pub fn offset(&self) -> usize {
        self.at
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .at
            .checked_add(n)
            .ok_or_else(|| Fail("overflow".into()))?;
        let out = self
            .bytes
            .get(self.at..end)
            .ok_or_else(|| Fail(format!("blob ends at {} (wanted {n} more)", self.at)))?;
        self.at = end;
        Ok(out)
    }

    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        crate::array(self.take(N)?, "field")
    }

    /// A `u8`.
    pub fn u8(&mut self) -> Result<u8> {
        Ok(u8::from_be_bytes(self.array()?))
    }

    /// A big-endian `u16`.
    pub fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    /// A big-endian `u32`.
    pub fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// A big-endian `u64`.
    pub fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// A flag byte, exactly 0 or 1.
    pub fn flag(&mut self) -> Result<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            f => Err(Fail(format!("flag {f} at {}", self.at - 1))),
        }
    }

    /// A flag, then 32 bytes if it is set.
    pub fn opt32(&mut self) -> Result<Option<[u8; 32]>> {
        if self.flag()? {
            Ok(Some(self.array()?))
        } else {
            Ok(None)
        }
    }

    /// Fails unless every byte was read.
    pub fn finish(&self) -> Result<()> {
        if self.at == self.bytes.len() {
            Ok(())
        } else {
            Err(Fail(format!(
                "{} trailing byte(s)",
                self.bytes.len() - self.at
            )))
        }
    }
}

fn put_opt32(out: &mut Vec<u8>, v: &Option<[u8; 32]>) {
    match v {
        Some(k) => {
            out.push(1);
            out.extend_from_slice(k);
        }
        None => out.push(0),
    }
}

/// One stored skipped message key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedKey {
    /// Message number in its chain.
    pub n: u32,
    /// The message key.
    pub mk: [u8; 32],
    /// When it was stored (the receiver's `now`).
    pub stored_at: u64,
}

/// The skipped keys of one receiving chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedChain {
    /// Header key of the chain.
    pub header_key: [u8; 32],
    /// Keys in ascending `n`.
    pub keys: Vec<SkippedKey>,
}

/// A session state blob (PROTOCOL.md 10.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionBlob {
    /// Whether this side sent the initial message.
    pub initiator: bool,
    /// The 160-byte associated data.
    pub ad: Vec<u8>,
    /// `SHA256(prefix)`.
    pub setup_id: [u8; 32],
    /// The initial-message prefix the initiator repeats until its first decryption.
    pub initial_prefix: Option<Vec<u8>>,
    /// Reserved output of the PQXDH KDF.
    pub pq_reserve: [u8; 32],
    /// Own ratchet private key.
    pub dhs: Option<[u8; 32]>,
    /// Peer's ratchet public key.
    pub dhr: Option<[u8; 32]>,
    /// Root key.
    pub rk: [u8; 32],
    /// Sending chain key.
    pub cks: Option<[u8; 32]>,
    /// Receiving chain key.
    pub ckr: Option<[u8; 32]>,
    /// Sending header key.
    pub hks: Option<[u8; 32]>,
    /// Receiving header key.
    pub hkr: Option<[u8; 32]>,
    /// Next sending header key.
    pub nhks: [u8; 32],
    /// Next receiving header key.
    pub nhkr: [u8; 32],
    /// Messages sent in the current sending chain.
    pub ns: u32,
    /// Next expected message number in the receiving chain.
    pub nr: u32,
    /// Length of the previous sending chain.
    pub pn: u32,
    /// The next encrypt performs the sending half of a DH ratchet step.
    pub pending: bool,
    /// Skipped-key store, oldest chain first.
    pub skipped: Vec<SkippedChain>,
}

/// Byte offsets of some session fields in an encoded blob (for corrupting one field).
#[derive(Debug, Clone, Copy, Default)]
pub struct SessionOffsets {
    /// The initiator flag.
    pub initiator: usize,
    /// The `initial_prefix` presence flag.
    pub prefix_flag: usize,
    /// The `DHs` presence flag.
    pub dhs_flag: usize,
    /// `Nr`.
    pub nr: usize,
    /// The `pending` flag.
    pub pending: usize,
    /// The skipped-chain count.
    pub chain_count: usize,
}

impl SessionBlob {
    /// Parses a whole session blob.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes);
        let (s, _) = Self::read(&mut r)?;
        r.finish()?;
        Ok(s)
    }

    /// Parses a session blob at the reader's position; offsets are relative to the reader's
    /// input.
    pub fn read(r: &mut Reader<'_>) -> Result<(Self, SessionOffsets)> {
        let mut off = SessionOffsets::default();
        if r.u8()? != 1 || r.u8()? != 0x10 || r.u8()? != 1 {
            crate::fail!("not a v1 session blob");
        }
        off.initiator = r.offset();
        let initiator = r.flag()?;
        let ad = r.take(160)?.to_vec();
        let setup_id = r.array()?;
        off.prefix_flag = r.offset();
        let initial_prefix = if r.flag()? {
            let len = usize::from(r.u16()?);
            Some(r.take(len)?.to_vec())
        } else {
            None
        };
        let pq_reserve = r.array()?;
        off.dhs_flag = r.offset();
        let dhs = r.opt32()?;
        let dhr = r.opt32()?;
        let rk = r.array()?;
        let cks = r.opt32()?;
        let ckr = r.opt32()?;
        let hks = r.opt32()?;
        let hkr = r.opt32()?;
        let nhks = r.array()?;
        let nhkr = r.array()?;
        let ns = r.u32()?;
        off.nr = r.offset();
        let nr = r.u32()?;
        let pn = r.u32()?;
        off.pending = r.offset();
        let pending = r.flag()?;
        off.chain_count = r.offset();
        let chains = r.u8()?;
        let mut skipped = Vec::new();
        for _ in 0..chains {
            let header_key = r.array()?;
            let count = r.u16()?;
            let mut keys = Vec::new();
            for _ in 0..count {
                keys.push(SkippedKey {
                    n: r.u32()?,
                    mk: r.array()?,
                    stored_at: r.u64()?,
                });
            }
            skipped.push(SkippedChain { header_key, keys });
        }
        Ok((
            Self {
                initiator,
                ad,
                setup_id,
                initial_prefix,
                pq_reserve,
                dhs,
                dhr,
                rk,
                cks,
                ckr,
                hks,
                hkr,
                nhks,
                nhkr,
                ns,
                nr,
                pn,
                pending,
                skipped,
            },
            off,
        ))
    }

    /// The canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        self.write(&mut out);
        out
    }

    /// Appends the canonical encoding to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[1, 0x10, 1, u8::from(self.initiator)]);
        out.extend_from_slice(&self.ad);
        out.extend_from_slice(&self.setup_id);
        match &self.initial_prefix {
            Some(p) => {
                out.push(1);
                out.extend_from_slice(&(p.len() as u16).to_be_bytes());
                out.extend_from_slice(p);
            }
            None => out.push(0),
        }
        out.extend_from_slice(&self.pq_reserve);
        put_opt32(out, &self.dhs);
        put_opt32(out, &self.dhr);
        out.extend_from_slice(&self.rk);
        for k in [&self.cks, &self.ckr, &self.hks, &self.hkr] {
            put_opt32(out, k);
        }
        out.extend_from_slice(&self.nhks);
        out.extend_from_slice(&self.nhkr);
        for v in [self.ns, self.nr, self.pn] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        out.push(u8::from(self.pending));
        out.push(self.skipped.len() as u8);
        for chain in &self.skipped {
            out.extend_from_slice(&chain.header_key);
            out.extend_from_slice(&(chain.keys.len() as u16).to_be_bytes());
            for k in &chain.keys {
                out.extend_from_slice(&k.n.to_be_bytes());
                out.extend_from_slice(&k.mk);
                out.extend_from_slice(&k.stored_at.to_be_bytes());
            }
        }
    }
}

/// A device state blob (PROTOCOL.md 10.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceBlob {
    /// Identity Ed25519 seed.
    pub signing_seed: [u8; 32],
    /// Identity X25519 private key.
    pub dh_private: [u8; 32],
    /// Next prekey id to allocate.
    pub next_prekey_id: u32,
    /// Signed X25519 prekeys `(id, private key)`, oldest first (current last).
    pub signed_prekeys: Vec<(u32, [u8; 32])>,
    /// One-time X25519 prekeys `(id, private key)` by id.
    pub one_time_prekeys: Vec<(u32, [u8; 32])>,
    /// Last-resort ML-KEM prekeys `(id, seed d‖z)`, oldest first (current last).
    pub last_resort_kem: Vec<(u32, [u8; 64])>,
    /// One-time ML-KEM prekeys `(id, seed)` by id.
    pub one_time_kem: Vec<(u32, [u8; 64])>,
    /// Replay cache `(setup_id, spk id, kem id, sent_at)` by setup id.
    pub replay_cache: Vec<([u8; 32], u32, u32, u64)>,
    /// The newest `sent_at` evicted from the replay cache.
    pub replay_floor: u64,
    /// Known peer identities `(peer id, public identity)` by peer id.
    pub identities: Vec<(Vec<u8>, [u8; 128])>,
    /// Sessions `(peer id, session)` by peer id.
    pub sessions: Vec<(Vec<u8>, SessionBlob)>,
}

/// Byte offsets of some device fields in an encoded blob.
#[derive(Debug, Clone, Default)]
pub struct DeviceOffsets {
    /// `next_prekey_id`.
    pub next_prekey_id: usize,
    /// The signed-prekey count.
    pub signed_count: usize,
    /// The first signed prekey's id.
    pub first_signed_id: usize,
    /// The replay-cache count.
    pub replay_count: usize,
    /// The replay floor.
    pub replay_floor: usize,
    /// The known-identity count.
    pub identity_count: usize,
    /// The session count.
    pub session_count: usize,
    /// Per session: the peer-id length byte and the session's own offsets.
    pub sessions: Vec<(usize, usize, SessionOffsets)>,
}

impl DeviceBlob {
    /// Parses a whole device blob.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        Self::parse_with_offsets(bytes).map(|(d, _)| d)
    }

    /// Parses a whole device blob and reports where some fields are.
    pub fn parse_with_offsets(bytes: &[u8]) -> Result<(Self, DeviceOffsets)> {
        let mut off = DeviceOffsets::default();
        let mut r = Reader::new(bytes);
        if r.u8()? != 1 || r.u8()? != 0x11 {
            crate::fail!("not a v1 device blob");
        }
        let signing_seed = r.array()?;
        let dh_private = r.array()?;
        off.next_prekey_id = r.offset();
        let next_prekey_id = r.u32()?;
        off.signed_count = r.offset();
        let n = r.u8()?;
        off.first_signed_id = r.offset();
        let mut signed_prekeys = Vec::new();
        for _ in 0..n {
            signed_prekeys.push((r.u32()?, r.array()?));
        }
        let mut one_time_prekeys = Vec::new();
        for _ in 0..r.u16()? {
            one_time_prekeys.push((r.u32()?, r.array()?));
        }
        let mut last_resort_kem = Vec::new();
        for _ in 0..r.u8()? {
            last_resort_kem.push((r.u32()?, r.array()?));
        }
        let mut one_time_kem = Vec::new();
        for _ in 0..r.u16()? {
            one_time_kem.push((r.u32()?, r.array()?));
        }
        off.replay_count = r.offset();
        let mut replay_cache = Vec::new();
        for _ in 0..r.u16()? {
            replay_cache.push((r.array()?, r.u32()?, r.u32()?, r.u64()?));
        }
        off.replay_floor = r.offset();
        let replay_floor = r.u64()?;
        off.identity_count = r.offset();
        let mut identities = Vec::new();
        for _ in 0..r.u16()? {
            let len = usize::from(r.u8()?);
            let peer = r.take(len)?.to_vec();
            identities.push((peer, r.array()?));
        }
        off.session_count = r.offset();
        let mut sessions = Vec::new();
        for _ in 0..r.u16()? {
            let len_at = r.offset();
            let len = usize::from(r.u8()?);
            let peer = r.take(len)?.to_vec();
            let start = r.offset();
            let (session, so) = SessionBlob::read(&mut r)?;
            off.sessions.push((len_at, start, so));
            sessions.push((peer, session));
        }
        r.finish()?;
        Ok((
            Self {
                signing_seed,
                dh_private,
                next_prekey_id,
                signed_prekeys,
                one_time_prekeys,
                last_resort_kem,
                one_time_kem,
                replay_cache,
                replay_floor,
                identities,
                sessions,
            },
            off,
        ))
    }

    /// The canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![1, 0x11];
        out.extend_from_slice(&self.signing_seed);
        out.extend_from_slice(&self.dh_private);
        out.extend_from_slice(&self.next_prekey_id.to_be_bytes());
        out.push(self.signed_prekeys.len() as u8);
        for (id, k) in &self.signed_prekeys {
            out.extend_from_slice(&id.to_be_bytes());
            out.extend_from_slice(k);
        }
        out.extend_from_slice(&(self.one_time_prekeys.len() as u16).to_be_bytes());
        for (id, k) in &self.one_time_prekeys {
            out.extend_from_slice(&id.to_be_bytes());
            out.extend_from_slice(k);
        }
        out.push(self.last_resort_kem.len() as u8);
        for (id, k) in &self.last_resort_kem {
            out.extend_from_slice(&id.to_be_bytes());
            out.extend_from_slice(k);
        }
        out.extend_from_slice(&(self.one_time_kem.len() as u16).to_be_bytes());
        for (id, k) in &self.one_time_kem {
            out.extend_from_slice(&id.to_be_bytes());
            out.extend_from_slice(k);
        }
        out.extend_from_slice(&(self.replay_cache.len() as u16).to_be_bytes());
        for (setup, spk, kem, sent_at) in &self.replay_cache {
            out.extend_from_slice(setup);
            out.extend_from_slice(&spk.to_be_bytes());
            out.extend_from_slice(&kem.to_be_bytes());
            out.extend_from_slice(&sent_at.to_be_bytes());
        }
        out.extend_from_slice(&self.replay_floor.to_be_bytes());
        out.extend_from_slice(&(self.identities.len() as u16).to_be_bytes());
        for (peer, identity) in &self.identities {
            out.push(peer.len() as u8);
            out.extend_from_slice(peer);
            out.extend_from_slice(identity);
        }
        out.extend_from_slice(&(self.sessions.len() as u16).to_be_bytes());
        for (peer, s) in &self.sessions {
            out.push(peer.len() as u8);
            out.extend_from_slice(peer);
            s.write(&mut out);
        }
        out
    }

    /// The session with `peer`.
    pub fn session(&self, peer: &[u8]) -> Result<&SessionBlob> {
        self.sessions
            .iter()
            .find(|(p, _)| p == peer)
            .map(|(_, s)| s)
            .ok_or_else(|| Fail(format!("no session with peer {}", crate::hex(peer))))
    }
}
