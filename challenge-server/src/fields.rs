//! Field checks every layer shares (the configuration, requests, `verify`).

use crate::Error;

/// Length of a challenge or claim id in hex digits.
pub const ID_HEX_LEN: usize = 16;

/// Whether `id` has the form of an id (16 lowercase hex digits).
pub fn is_id(id: &str) -> bool {
    id.len() == ID_HEX_LEN && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Decodes exactly `N` bytes of lowercase hex, or an error naming `field`.
pub fn hex_field<const N: usize>(field: &str, value: &str) -> Result<[u8; N], Error> {
    let expected = || {
        Error::invalid(
            field,
            format!("expected {} lowercase hex digits ({N} bytes)", 2 * N),
        )
    };
    if value.len() != 2 * N
        || !value
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(expected());
    }
    let bytes = hex::decode(value).map_err(|_| expected())?;
    bytes.as_slice().try_into().map_err(|_| expected())
}
