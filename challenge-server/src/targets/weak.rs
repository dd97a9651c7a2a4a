//! Weakened copies of target-impl, one planted flaw each (feature `weak-targets`, the server's
//! tests only).

use super::Target;

/// The weakened target named `name`, if this build has it.
pub fn by_name(_name: &str) -> Option<&'static dyn Target> {
    None
}
