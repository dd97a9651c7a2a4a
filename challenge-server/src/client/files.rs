//! The client's files: written with mode 0600 and fsynced with their directory, so that a
//! claim file (its nonce) is on disk before the commit is sent and survives a crash.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::error::ClientError;

/// Largest local file the client reads (a state file, a claim file, a finding).
pub const MAX_LOCAL_FILE: u64 = 1024 * 1024;

fn io_err(path: &Path, what: &str, e: &std::io::Error) -> ClientError {
    ClientError::usage(format!("{}: cannot {what}: {e}", path.display()))
}

/// The directory holding `path` (`.` for a bare file name).
fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn sync_dir(path: &Path) -> Result<(), ClientError> {
    let dir = parent_of(path);
    File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_err(&dir, "sync the directory", &e))
}

fn write_synced(file: &mut File, path: &Path, bytes: &[u8]) -> Result<(), ClientError> {
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| io_err(path, "write", &e))
}

/// Creates `path` with mode 0600 (refusing an existing file), writes `bytes`, and fsyncs the
/// file and its directory.
pub fn create_private(path: &Path, bytes: &[u8]) -> Result<(), ClientError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                ClientError::usage(format!("{} already exists", path.display()))
                    .hint("choose another file with --out, or move the existing one away")
            } else {
                io_err(path, "create", &e)
            }
        })?;
    write_synced(&mut file, path, bytes)?;
    sync_dir(path)
}

/// Replaces `path` atomically: writes a temporary file beside it (mode 0600), fsyncs it,
/// renames it over `path` and fsyncs the directory. A crash leaves the old or the new file.
pub fn replace_private(path: &Path, bytes: &[u8]) -> Result<(), ClientError> {
    let name = path
        .file_name()
        .ok_or_else(|| ClientError::usage(format!("{}: not a file name", path.display())))?;
    let mut tmp_name = name.to_os_string();
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = parent_of(path).join(tmp_name);
    // A temporary file left by a crashed run of this process id is stale.
    let _ = std::fs::remove_file(&tmp);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| io_err(&tmp, "create", &e))?;
    write_synced(&mut file, &tmp, bytes)?;
    std::fs::rename(&tmp, path).map_err(|e| io_err(path, "replace", &e))?;
    sync_dir(path)
}

/// Reads a local text file of at most [`MAX_LOCAL_FILE`] bytes.
pub fn read_local(path: &Path) -> Result<String, ClientError> {
    let len = std::fs::metadata(path)
        .map_err(|e| io_err(path, "read", &e))?
        .len();
    if len > MAX_LOCAL_FILE {
        return Err(ClientError::usage(format!(
            "{}: larger than {MAX_LOCAL_FILE} bytes",
            path.display()
        )));
    }
    std::fs::read_to_string(path).map_err(|e| io_err(path, "read", &e))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn files_are_private_and_never_overwritten_by_create() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("claim.json");
        create_private(&path, b"one").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let e = create_private(&path, b"two").unwrap_err();
        assert!(e.message.contains("already exists"), "{e}");
        replace_private(&path, b"three").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "three");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
