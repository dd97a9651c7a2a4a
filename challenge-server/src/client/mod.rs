//! The researcher's client, `challenge-server client …` (docs/CLI.md): pins the server key the
//! operator published, reads challenges and transcripts, commits claims through a claim file
//! written and fsynced before the commit is sent (a lost nonce is a claim that can never be
//! revealed), reveals them, checks the transparency log like a transparency-log client (each
//! checkpoint consistent with the last one seen, each receipt included), and runs `verify`.
//!
//! [`claim`], [`error`], [`files`] and [`state`] are pure or local; [`cli`] parses the command
//! line and runs one command module (`pin`, `read`, `commit`, `check`), which talk to the server
//! through [`api`] and check what it answers with [`audit`], built on the verifier's functions.

pub mod api;
pub mod audit;
mod check;
pub mod claim;
pub mod cli;
mod commit;
pub mod error;
pub mod files;
mod pin;
mod read;
pub mod state;

pub use cli::{ClientArgs, run};
pub use error::{ClientError, ErrorKind};
