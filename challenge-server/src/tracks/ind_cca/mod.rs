//! The `ind-cca` track (a theoretical break counts).

pub mod threshold;
