//! The researcher's client, `challenge-server client …` (docs/CLI.md): pins the server key the
//! operator published, reads challenges and transcripts, commits claims through a claim file
//! written and fsynced before the commit is sent (a lost nonce is a claim that can never be
//! revealed), reveals them, checks the transparency log like a transparency-log client (each
//! checkpoint consistent with the last one seen, each receipt included), and runs `verify`.
//!
//! [`claim`] and the error and file helpers are pure or local; [`cli`] talks to the server
//! through [`api`] and checks what it answers with [`audit`], which reuses the verifier's
//! functions.

pub mod api;
pub mod audit;
pub mod claim;
pub mod cli;
pub mod error;
pub mod files;
pub mod state;

pub use cli::{ClientArgs, run};
pub use error::{ClientError, ErrorKind};
