//! The largest tree size the server ever signed, recorded outside the database (beside the KEK
//! file), so that a database restored from a backup, whose log is shorter than heads already
//! served, is noticed at start-up instead of silently forking the log. A guard for honest
//! operators: against a dishonest one the proof is the receipt a claimant holds.

use std::io::Write;
use std::path::{Path, PathBuf};

use tokio::sync::Mutex;

use crate::Error;

/// Longest record file read, in bytes.
const MAX_RECORD_LEN: u64 = 64;

/// The record file and the size it holds.
#[derive(Debug)]
pub struct SizeRecord {
    path: PathBuf,
    recorded: Mutex<u64>,
}

impl SizeRecord {
    /// Reads the record at `path` (0 if there is none yet).
    pub fn open(path: &Path) -> Result<Self, Error> {
        Ok(Self {
            recorded: Mutex::new(read(path)?),
            path: path.to_owned(),
        })
    }

    /// The largest size recorded.
    pub async fn recorded(&self) -> u64 {
        *self.recorded.lock().await
    }

    /// Records `size` if it is larger than the record, durably (written to a temporary file,
    /// fsynced, renamed over the record, the directory fsynced) before returning.
    pub async fn raise(&self, size: u64) -> Result<(), Error> {
        let mut recorded = self.recorded.lock().await;
        if size <= *recorded {
            return Ok(());
        }
        self.write(size).await?;
        *recorded = size;
        Ok(())
    }

    /// Replaces the record with `size` (after an accepted rollback).
    pub async fn reset(&self, size: u64) -> Result<(), Error> {
        let mut recorded = self.recorded.lock().await;
        self.write(size).await?;
        *recorded = size;
        Ok(())
    }

    async fn write(&self, size: u64) -> Result<(), Error> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || write(&path, size))
            .await
            .map_err(Error::internal)?
    }
}

fn read(path: &Path) -> Result<u64, Error> {
    let text = match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e.into()),
        Ok(m) if m.len() > MAX_RECORD_LEN => {
            return Err(Error::internal(format!(
                "{}: not a log size record (too long)",
                path.display()
            )));
        }
        Ok(_) => std::fs::read_to_string(path)?,
    };
    text.trim().parse().map_err(|_| {
        Error::internal(format!(
            "{}: not a log size record (expected a decimal tree size)",
            path.display()
        ))
    })
}

fn write(path: &Path, size: u64) -> Result<(), Error> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(format!("{size}\n").as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn raises_only_and_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kek.hex.log-size");
        let record = SizeRecord::open(&path).unwrap();
        assert_eq!(record.recorded().await, 0);
        record.raise(5).await.unwrap();
        record.raise(3).await.unwrap();
        assert_eq!(SizeRecord::open(&path).unwrap().recorded().await, 5);
        record.reset(2).await.unwrap();
        assert_eq!(SizeRecord::open(&path).unwrap().recorded().await, 2);
        std::fs::write(&path, "five").unwrap();
        assert!(SizeRecord::open(&path).is_err());
    }
}
