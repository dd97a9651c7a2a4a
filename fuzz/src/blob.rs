//! A field-by-field view of a session state blob (docs/PROTOCOL.md 10.1, as
//! `Session::to_bytes` writes it), so that the session target can check exactly what an
//! `Expired` decryption may change.

/// The fields of a session blob, each as its encoded bytes (flag included for optional ones).
#[derive(Debug, PartialEq, Eq)]
pub struct SessionFields<'a> {
    /// `STATE_VERSION`, type, session version.
    pub header: &'a [u8],
    /// Whether this side initiated (the role flag).
    pub initiator: &'a [u8],
    /// The associated data (identity keys of both sides).
    pub ad: &'a [u8],
    /// `SHA-256` of the initial-message prefix.
    pub setup_id: &'a [u8],
    /// Flag, then length and prefix if present.
    pub initial_prefix: &'a [u8],
    /// Reserved secret.
    pub pq_reserve: &'a [u8],
    /// Own ratchet key.
    pub dhs: &'a [u8],
    /// Peer's ratchet key.
    pub dhr: &'a [u8],
    /// Root key.
    pub rk: &'a [u8],
    /// Sending chain key.
    pub cks: &'a [u8],
    /// Receiving chain key.
    pub ckr: &'a [u8],
    /// Sending header key.
    pub hks: &'a [u8],
    /// Receiving header key.
    pub hkr: &'a [u8],
    /// Next sending header key.
    pub nhks: &'a [u8],
    /// Next receiving header key.
    pub nhkr: &'a [u8],
    /// Messages sent in the current sending chain.
    pub ns: &'a [u8],
    /// Messages received in the current receiving chain.
    pub nr: &'a [u8],
    /// Length of the previous sending chain.
    pub pn: &'a [u8],
    /// The deferred sending half of a DH ratchet step.
    pub pending: &'a [u8],
    /// The skipped-key store, as encoded.
    pub skipped: &'a [u8],
}

/// Length of the associated data (five 32-byte keys).
const AD_LEN: usize = 160;

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    /// A flag byte and, if it is 1, `n` more bytes; returned together.
    fn optional(&mut self, n: usize) -> Option<&'a [u8]> {
        let len = match self.0.first()? {
            0 => 1,
            1 => 1 + n,
            _ => return None,
        };
        self.take(len)
    }

    fn prefix(&mut self) -> Option<&'a [u8]> {
        let len = match self.0.first()? {
            0 => 1,
            1 => {
                let l = self.0.get(1..3)?;
                3 + usize::from(u16::from_be_bytes([*l.first()?, *l.get(1)?]))
            }
            _ => return None,
        };
        self.take(len)
    }
}

impl<'a> SessionFields<'a> {
    /// Splits a blob into its fields; `None` if it does not have the 10.1 layout.
    pub fn parse(blob: &'a [u8]) -> Option<Self> {
        let mut c = Cursor(blob);
        Some(Self {
            header: c.take(3)?,
            initiator: c.take(1)?,
            ad: c.take(AD_LEN)?,
            setup_id: c.take(32)?,
            initial_prefix: c.prefix()?,
            pq_reserve: c.take(32)?,
            dhs: c.optional(32)?,
            dhr: c.optional(32)?,
            rk: c.take(32)?,
            cks: c.optional(32)?,
            ckr: c.optional(32)?,
            hks: c.optional(32)?,
            hkr: c.optional(32)?,
            nhks: c.take(32)?,
            nhkr: c.take(32)?,
            ns: c.take(4)?,
            nr: c.take(4)?,
            pn: c.take(4)?,
            pending: c.take(1)?,
            skipped: c.0,
        })
    }

    /// The fields no decryption changes, not even one that commits and then reports
    /// `Expired` (docs/PROTOCOL.md 7.7, commit): everything but the receiving side
    /// (`DHr`, `RK`, `CKr`, `HKr`, `NHKr`, `Nr`), the pending flag, the initial prefix and
    /// the skipped-key store.
    pub fn untouched_by_decrypt(&self) -> [(&'static str, &'a [u8]); 11] {
        [
            ("header", self.header),
            ("initiator", self.initiator),
            ("AD", self.ad),
            ("setup_id", self.setup_id),
            ("PQ_RESERVE", self.pq_reserve),
            ("DHs", self.dhs),
            ("CKs", self.cks),
            ("HKs", self.hks),
            ("NHKs", self.nhks),
            ("Ns", self.ns),
            ("PN", self.pn),
        ]
    }
}
