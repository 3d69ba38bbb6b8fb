//! Text output of decoded records: `bgpdump -m` compatible lines and JSON lines.

pub mod bgpdump;
pub mod jsonl;

pub use bgpdump::BgpdumpWriter;
