//! The bounded log of one instance: the last lines its process wrote, for `motif logs`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};
use tokio::task::JoinHandle;

use crate::logs::FunctionLog;

/// The longest line kept whole, in bytes: a process that writes without newlines must
/// not grow our memory; longer lines are kept as several lines.
pub(crate) const MAX_LINE: u64 = 4096;

/// The last `capacity` lines of stdout and stderr, interleaved as they arrive.
#[derive(Clone, Debug)]
pub(crate) struct LogRing {
    lines: Arc<Mutex<VecDeque<String>>>,
    capacity: usize,
    /// The function's log, which gets every line too, under `source`.
    tee: Option<(FunctionLog, String)>,
}

impl LogRing {
    pub(crate) fn new(capacity: usize) -> LogRing {
        LogRing {
            lines: Arc::new(Mutex::new(VecDeque::with_capacity(capacity.min(1024)))),
            capacity,
            tee: None,
        }
    }

    /// Copies every line into `log` too, as written by `source`.
    pub(crate) fn tee(mut self, log: FunctionLog, source: String) -> LogRing {
        self.tee = Some((log, source));
        self
    }

    fn push(&self, line: String) {
        if let Some((log, source)) = &self.tee {
            log.push(source, line.clone());
        }
        if self.capacity == 0 {
            return;
        }
        // A panic elsewhere while holding the lock leaves the ring usable: it is only text.
        let mut lines = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
        if lines.len() == self.capacity {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    /// The lines kept, oldest first.
    pub(crate) fn snapshot(&self) -> Vec<String> {
        let lines = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
        lines.iter().cloned().collect()
    }

    /// The last `n` lines, oldest first.
    pub(crate) fn tail(&self, n: usize) -> Vec<String> {
        let lines = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
        lines
            .iter()
            .skip(lines.len().saturating_sub(n))
            .cloned()
            .collect()
    }

    /// Copies `stream` into the ring line by line until it ends. Bytes that are not
    /// UTF-8 are replaced, not dropped: a log is for reading.
    pub(crate) fn follow<R>(&self, stream: R) -> JoinHandle<()>
    where
        R: AsyncRead + Unpin + Send + 'static,
    {
        let ring = self.clone();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stream);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match (&mut reader)
                    .take(MAX_LINE)
                    .read_until(b'\n', &mut buf)
                    .await
                {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        while matches!(buf.last(), Some(b'\n' | b'\r')) {
                            buf.pop();
                        }
                        ring.push(String::from_utf8_lossy(&buf).into_owned());
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ring_keeps_only_the_last_lines() {
        let ring = LogRing::new(2);
        for line in ["a", "b", "c"] {
            ring.push(line.into());
        }
        assert_eq!(ring.snapshot(), ["b", "c"]);
        assert_eq!(ring.tail(1), ["c"]);
        assert_eq!(ring.tail(5), ["b", "c"]);
    }

    #[tokio::test]
    async fn long_lines_are_split_and_invalid_utf8_replaced() {
        let ring = LogRing::new(10);
        let mut input = vec![b'x'; MAX_LINE as usize + 3];
        input.extend_from_slice(b"\n\xff ok\r\n");
        ring.follow(std::io::Cursor::new(input)).await.unwrap();
        let lines = ring.snapshot();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].len(), MAX_LINE as usize);
        assert_eq!(lines[1], "xxx");
        assert_eq!(lines[2], "\u{fffd} ok");
    }
}
