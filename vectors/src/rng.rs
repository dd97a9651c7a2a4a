//! Random draws made visible: [`RecordingRng`] wraps the generator's seeded RNG and logs every
//! byte string the protocol draws (docs/PROTOCOL.md section 12 lists them in order);
//! [`ReplayRng`] hands recorded draws back, so the checker (and any other implementation)
//! replays a vector without the generator's RNG.
//!
//! Both implement rand_core 0.10's `TryRng<Error = Infallible>` and `TryCryptoRng`, so they are
//! `Rng + CryptoRng` through rand_core's blanket impls and go wherever `target-impl` takes an
//! RNG.

use core::convert::Infallible;
use std::collections::VecDeque;

use rand_core::{TryCryptoRng, TryRng};

/// Logs every `fill_bytes` (and, were the protocol to use them, `next_u32`/`next_u64`, logged as
/// 4- and 8-byte draws) of the wrapped RNG.
#[derive(Debug)]
pub struct RecordingRng<R> {
    inner: R,
    draws: Vec<Vec<u8>>,
}

impl<R> RecordingRng<R> {
    /// Wraps `inner` with an empty log.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            draws: Vec::new(),
        }
    }

    /// The draws made since the last call, oldest first; the log is emptied.
    pub fn take_draws(&mut self) -> Vec<Vec<u8>> {
        core::mem::take(&mut self.draws)
    }
}

impl<R: TryRng<Error = Infallible>> TryRng for RecordingRng<R> {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.inner.try_fill_bytes(dst)?;
        self.draws.push(dst.to_vec());
        Ok(())
    }
}

impl<R: TryCryptoRng<Error = Infallible>> TryCryptoRng for RecordingRng<R> {}

/// Returns recorded draws in order. A draw of another length than recorded, or one past the
/// end, is a mismatch: the output is filled with zeros and [`ReplayRng::finish`] reports it.
#[derive(Debug, Default)]
pub struct ReplayRng {
    draws: VecDeque<Vec<u8>>,
    mismatch: Option<String>,
    served: usize,
}

impl ReplayRng {
    /// An RNG that will serve `draws`, in order.
    pub fn new(draws: Vec<Vec<u8>>) -> Self {
        Self {
            draws: draws.into(),
            mismatch: None,
            served: 0,
        }
    }

    /// Checks that every draw was served with its recorded length and none was left over.
    pub fn finish(self) -> crate::Result<()> {
        if let Some(m) = self.mismatch {
            return Err(crate::Fail(m));
        }
        if !self.draws.is_empty() {
            crate::fail!(
                "{} recorded draw(s) not consumed after {} served",
                self.draws.len(),
                self.served
            );
        }
        Ok(())
    }
}

impl TryRng for ReplayRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        match self.draws.pop_front() {
            Some(d) if d.len() == dst.len() => {
                dst.copy_from_slice(&d);
                self.served += 1;
            }
            other => {
                dst.fill(0);
                if self.mismatch.is_none() {
                    self.mismatch = Some(format!(
                        "draw {} asked for {} bytes, recorded {:?}",
                        self.served,
                        dst.len(),
                        other.map(|d| d.len())
                    ));
                }
            }
        }
        Ok(())
    }
}

impl TryCryptoRng for ReplayRng {}
