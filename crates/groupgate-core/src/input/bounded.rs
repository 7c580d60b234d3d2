//! A body read in chunks up to a bound: what adapters read service answers
//! into, so an endless or enormous answer is refused instead of filling
//! memory.

/// An answer longer than the bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the answer is longer than {max} bytes; it is not read further")]
pub struct TooLarge {
    /// The bound, in bytes.
    pub max: usize,
}

/// Bytes gathered up to `max`.
///
/// ```
/// use groupgate_core::input::BoundedBytes;
/// let mut body = BoundedBytes::new(8);
/// body.push(b"{\"a\":").unwrap();
/// body.push(b"1}").unwrap();
/// assert_eq!(body.into_text(), "{\"a\":1}");
/// let mut big = BoundedBytes::new(4);
/// assert!(big.push(b"12345").is_err());
/// ```
#[derive(Debug, Clone)]
pub struct BoundedBytes {
    max: usize,
    bytes: Vec<u8>,
}

impl BoundedBytes {
    /// Nothing read yet; at most `max` bytes will be.
    pub fn new(max: usize) -> Self {
        Self {
            max,
            bytes: Vec::new(),
        }
    }

    /// Fails before reading when a declared length is already too long.
    pub fn expect_length(&self, declared: Option<u64>) -> Result<(), TooLarge> {
        match declared {
            Some(n) if n > self.max as u64 => Err(TooLarge { max: self.max }),
            _ => Ok(()),
        }
    }

    /// Appends `chunk`, or fails when the total would pass the bound.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), TooLarge> {
        if self.bytes.len() + chunk.len() > self.max {
            return Err(TooLarge { max: self.max });
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    /// The text read; bytes that are not UTF-8 are replaced (an answer's
    /// text is parsed as JSON next, which reports what is wrong with it).
    pub fn into_text(self) -> String {
        match String::from_utf8(self.bytes) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    }
}
