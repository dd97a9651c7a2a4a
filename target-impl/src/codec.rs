//! Canonical binary reading and writing: big-endian integers, fixed arrays, and lengths always
//! checked against the remaining input. The reader never panics; callers map its one error to
//! the class that fits (`Malformed` for wire data, `CorruptState` for state blobs).

/// The input ended early, had trailing bytes, or held a non-canonical value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DecodeError;

pub(crate) type Decoded<T> = Result<T, DecodeError>;

/// A cursor over untrusted bytes.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Self {
        Self { rest: input }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.rest.len()
    }

    pub(crate) fn bytes(&mut self, len: usize) -> Decoded<&'a [u8]> {
        if len > self.rest.len() {
            return Err(DecodeError);
        }
        let (head, tail) = self.rest.split_at(len);
        self.rest = tail;
        Ok(head)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Decoded<[u8; N]> {
        let bytes = self.bytes(N)?;
        bytes.try_into().map_err(|_| DecodeError)
    }

    pub(crate) fn boxed_array<const N: usize>(&mut self) -> Decoded<Box<[u8; N]>> {
        let bytes = self.bytes(N)?;
        let boxed: Box<[u8]> = bytes.into();
        boxed.try_into().map_err(|_| DecodeError)
    }

    pub(crate) fn u8(&mut self) -> Decoded<u8> {
        Ok(u8::from_be_bytes(self.array()?))
    }

    pub(crate) fn u16(&mut self) -> Decoded<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> Decoded<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub(crate) fn u64(&mut self) -> Decoded<u64> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// A presence flag: exactly 0 or 1 (any other value is not canonical).
    pub(crate) fn flag(&mut self) -> Decoded<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError),
        }
    }

    /// An optional fixed-size array: flag, then the array if present.
    pub(crate) fn option_array<const N: usize>(&mut self) -> Decoded<Option<[u8; N]>> {
        if self.flag()? {
            Ok(Some(self.array()?))
        } else {
            Ok(None)
        }
    }

    /// A count that must not exceed `cap`.
    pub(crate) fn count_u16(&mut self, cap: usize) -> Decoded<usize> {
        let n = usize::from(self.u16()?);
        if n > cap { Err(DecodeError) } else { Ok(n) }
    }

    /// Succeeds only if every byte was consumed.
    pub(crate) fn finish(self) -> Decoded<()> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(DecodeError)
        }
    }
}

/// Appending writer helpers over `Vec<u8>`.
pub(crate) trait Writer {
    fn put(&mut self, bytes: &[u8]);
    fn put_u8(&mut self, v: u8) {
        self.put(&[v]);
    }
    fn put_u16(&mut self, v: u16) {
        self.put(&v.to_be_bytes());
    }
    fn put_u32(&mut self, v: u32) {
        self.put(&v.to_be_bytes());
    }
    fn put_u64(&mut self, v: u64) {
        self.put(&v.to_be_bytes());
    }
    fn put_flag(&mut self, v: bool) {
        self.put_u8(u8::from(v));
    }
    fn put_option(&mut self, v: Option<&[u8]>) {
        match v {
            Some(bytes) => {
                self.put_flag(true);
                self.put(bytes);
            }
            None => self.put_flag(false),
        }
    }
}

/// A writer that only counts: the length pass before a blob is written into a buffer of exact
/// capacity (a buffer that grows leaves copies of its secrets in the blocks it frees).
#[derive(Default)]
pub(crate) struct Len(pub(crate) usize);

impl Writer for Len {
    fn put(&mut self, bytes: &[u8]) {
        self.0 += bytes.len();
    }
}

/// Writes `write`'s output into a zeroizing buffer allocated once, at its exact length.
pub(crate) fn exact(write: impl Fn(&mut dyn Writer)) -> zeroize::Zeroizing<Vec<u8>> {
    let mut len = Len::default();
    write(&mut len);
    let mut out = zeroize::Zeroizing::new(Vec::with_capacity(len.0));
    write(&mut *out);
    out
}

impl Writer for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}
