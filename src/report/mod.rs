//! Stage 5, `report`: reporters that consume run events (terminal, JSON Lines, the checks x
//! targets matrix, the answers compared across targets, the self-contained HTML report), and the redacting writer every output goes through so a key can never reach
//! a terminal or a file.

pub mod html;
pub mod json;
pub mod junit;
pub mod matrix;
pub mod record;
pub mod shapes;
pub mod snapshot;
pub mod terminal;

use std::io::{self, Write};
use std::path::Path;

use crate::config::Secret;

/// A writer that replaces every secret with `[redacted]`. It buffers until a newline so a secret
/// split across two writes is still caught; `flush` writes out whatever is left.
pub struct Redacting<W: Write> {
    inner: W,
    secrets: Vec<String>,
    buffer: Vec<u8>,
}

impl<W: Write> Redacting<W> {
    pub fn new(inner: W, secrets: &[Secret]) -> Self {
        let mut secrets: Vec<String> = secrets
            .iter()
            .map(|s| s.expose().to_owned())
            .filter(|s| s.len() >= 4)
            .collect();
        // Longest first, so a secret that contains another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Redacting {
            inner,
            secrets,
            buffer: Vec::new(),
        }
    }

    fn write_clean(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.secrets.is_empty() {
            return self.inner.write_all(bytes);
        }
        let mut text = String::from_utf8_lossy(bytes).into_owned();
        for s in &self.secrets {
            if text.contains(s.as_str()) {
                text = text.replace(s.as_str(), "[redacted]");
            }
        }
        self.inner.write_all(text.as_bytes())
    }
}

impl<W: Write> Write for Redacting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        if let Some(last_newline) = self.buffer.iter().rposition(|&b| b == b'\n') {
            let rest = self.buffer.split_off(last_newline + 1);
            let ready = std::mem::replace(&mut self.buffer, rest);
            self.write_clean(&ready)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let rest = std::mem::take(&mut self.buffer);
        self.write_clean(&rest)?;
        self.inner.flush()
    }
}

impl<W: Write> Drop for Redacting<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// Writes `text` to `path` through the redacting writer, with [`crate::atomic::write`]: a
/// reader never sees half a matrix.
pub fn write_atomically(path: &Path, text: &str, secrets: &[Secret]) -> io::Result<()> {
    let mut clean = Vec::with_capacity(text.len());
    {
        let mut out = Redacting::new(&mut clean, secrets);
        out.write_all(text.as_bytes())?;
        out.flush()?;
    }
    crate::atomic::write(path, &clean)
}

/// Milliseconds, for humans.
pub fn millis(d: std::time::Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_replaced_even_across_writes() {
        let mut out = Vec::new();
        {
            let mut w = Redacting::new(&mut out, &[Secret::new("sk-abcdef123")]);
            write!(w, "key sk-abc").unwrap();
            write!(w, "def123 here\nand sk-abcdef123").unwrap();
            w.flush().unwrap();
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "key [redacted] here\nand [redacted]"
        );
    }
}
