//! The audit sink: after every pass, the records the trail gained are
//! appended to a file (or standard output) as JSON lines, for a SIEM to
//! collect. The file is the trail's own export, so it verifies with
//! `groupgate audit verify`. After a restart it resumes after the last
//! complete line it holds: a line cut by a crash is removed and written
//! again, and no record is written twice or skipped.

use crate::Service;
use groupgate_core::ports::Store;
use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tracing::warn;

/// How far back from the end a file is read to find its last line.
const TAIL_BYTES: u64 = 4 * 1024 * 1024;

/// Why the sink cannot go on (logged each pass until fixed; the trail in
/// the store is complete regardless).
#[derive(Debug, thiserror::Error)]
pub(crate) enum SinkError {
    #[error("the audit sink {path} cannot be written: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the audit sink {path} ends with a line that is not a groupgate record; move the file away (a new one is started) or fix its last line"
    )]
    Foreign { path: PathBuf },
    #[error(
        "the audit sink {path} holds records up to seq {held}, but the store's trail ends at {ends}: it belongs to another store; move it away"
    )]
    Ahead { path: PathBuf, held: u64, ends: u64 },
    #[error("the trail could not be read for the audit sink: {0}")]
    Store(String),
}

/// Where the sink is and the next record it needs.
#[derive(Debug)]
pub(crate) struct AuditSink {
    /// `None`: standard output.
    path: Option<PathBuf>,
    next: Mutex<Option<u64>>,
}

impl AuditSink {
    pub(crate) fn new(setting: &Path) -> Self {
        Self {
            path: (setting.as_os_str() != "-").then(|| setting.to_owned()),
            next: Mutex::new(None),
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SinkError + '_ {
    move |source| SinkError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The seq after the last complete record in `path` (0 for a missing or
/// empty file), after cutting a last line that a crash left incomplete.
pub(crate) fn resume_after(path: &Path) -> Result<u64, SinkError> {
    let mut file = match OpenOptions::new().read(true).write(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io(path)(e)),
    };
    let len = file.metadata().map_err(io(path))?.len();
    let start = len.saturating_sub(TAIL_BYTES);
    file.seek(SeekFrom::Start(start)).map_err(io(path))?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail).map_err(io(path))?;
    // Everything after the last newline is a cut line: removed.
    let complete = tail.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    if complete < tail.len() {
        file.set_len(start + complete as u64).map_err(io(path))?;
        file.sync_data().map_err(io(path))?;
    }
    let body = &tail[..complete];
    let last = body
        .strip_suffix(b"\n")
        .and_then(|b| b.split(|c| *c == b'\n').next_back())
        .filter(|l| !l.is_empty());
    let Some(line) = last else {
        return Ok(0);
    };
    serde_json::from_slice::<serde_json::Value>(line)
        .ok()
        .and_then(|v| v.get("seq").and_then(serde_json::Value::as_u64))
        .map(|seq| seq + 1)
        .ok_or_else(|| SinkError::Foreign {
            path: path.to_owned(),
        })
}

/// Appends `bytes` to the file (flushed to disk) or to standard output.
fn append(path: Option<&Path>, bytes: &[u8]) -> std::io::Result<()> {
    match path {
        Some(path) => {
            let mut file = OpenOptions::new().create(true).append(true).open(path)?;
            file.write_all(bytes)?;
            file.sync_data()
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)?;
            out.flush()
        }
    }
}

impl Service {
    /// Appends the records the trail gained since the last call.
    pub(crate) async fn feed_audit_sink(&self) {
        let Some(sink) = &self.audit_sink else {
            return;
        };
        if let Err(e) = self.try_feed(sink).await {
            metrics::counter!("groupgate_audit_sink_failures_total").increment(1);
            warn!(error = %e, "the audit sink is behind; it catches up when this is fixed");
        }
    }

    async fn try_feed(&self, sink: &AuditSink) -> Result<(), SinkError> {
        let known = sink.next.lock().ok().and_then(|n| *n);
        let mut next = match known {
            Some(n) => n,
            None => {
                let ends = self
                    .store
                    .head()
                    .await
                    .map_err(|e| SinkError::Store(e.to_string()))?
                    .map_or(0, |h| h.seq + 1);
                match &sink.path {
                    Some(path) => {
                        let n = resume_after(path)?;
                        if n > ends {
                            return Err(SinkError::Ahead {
                                path: path.clone(),
                                held: n - 1,
                                ends,
                            });
                        }
                        n
                    }
                    // Standard output starts at the trail's end: a restart
                    // does not repeat the history into the log.
                    None => ends,
                }
            }
        };
        let target = sink.path.clone().unwrap_or_else(|| PathBuf::from("-"));
        loop {
            let page = self
                .store
                .trail(next, 1000)
                .await
                .map_err(|e| SinkError::Store(e.to_string()))?;
            let Some(last) = page.last() else { break };
            let mut lines = String::new();
            for record in &page {
                lines.push_str(&record.to_json_line());
                lines.push('\n');
            }
            append(sink.path.as_deref(), lines.as_bytes()).map_err(io(&target))?;
            next = last.seq + 1;
        }
        if let Ok(mut n) = sink.next.lock() {
            *n = Some(next);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn file(name: &str, content: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("groupgate-sink-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    #[test]
    fn resumes_after_the_last_complete_record() {
        let missing = std::env::temp_dir().join("groupgate-sink-never-written.jsonl");
        assert_eq!(resume_after(&missing).unwrap(), 0);
        assert_eq!(resume_after(&file("empty", b"")).unwrap(), 0);
        let two = b"{\"seq\":0,\"x\":1}\n{\"seq\":1,\"x\":2}\n";
        assert_eq!(resume_after(&file("two", two)).unwrap(), 2);
        // A line cut by a crash is removed, and the record written again.
        let mut cut = two.to_vec();
        cut.extend_from_slice(b"{\"seq\":2,\"x\"");
        let path = file("cut", &cut);
        assert_eq!(resume_after(&path).unwrap(), 2);
        assert_eq!(std::fs::read(&path).unwrap(), two);
        // Only a cut line: the file is emptied and starts again.
        let path = file("only-cut", b"{\"seq\":0,");
        assert_eq!(resume_after(&path).unwrap(), 0);
        assert!(std::fs::read(&path).unwrap().is_empty());
    }

    #[test]
    fn a_file_that_is_not_a_trail_is_not_written_to() {
        let path = file("foreign", b"hello world\n");
        assert!(matches!(
            resume_after(&path),
            Err(SinkError::Foreign { .. })
        ));
        assert_eq!(std::fs::read(&path).unwrap(), b"hello world\n");
    }
}
