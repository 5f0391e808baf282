//! Frames: `tag · postcard body · CRC-32 (LE)`, COBS-encoded, ended by 0x00.
//!
//! Both directions stream: [`FrameEncoder`] CRCs and COBS-encodes bytes as
//! postcard produces them (no output buffer the size of a frame), and
//! [`FrameAccumulator`] COBS-decodes bytes as they arrive, so its buffer only
//! ever holds the decoded payload, and any chunking of the stream works.

use super::{Reason, WireError};

/// CRC-32 (ISO-HDLC: the zlib/Ethernet one), little-endian after the body.
pub(crate) static CRC: crc::Crc<u32, CrcTable> =
    crc::Crc::<u32, CrcTable>::new(&crc::CRC_32_ISO_HDLC);

/// The CRC's lookup table: the crate's default 1 KiB one, or none under
/// `small` (bitwise, the same checksum, a KiB less flash).
#[cfg(not(feature = "small"))]
type CrcTable = crc::Table<1>;
#[cfg(feature = "small")]
type CrcTable = crc::NoTable;

/// Bytes of the CRC trailer.
pub const CRC_BYTES: usize = 4;

/// The smallest valid payload: a tag and the CRC.
pub const MIN_PAYLOAD: usize = 1 + CRC_BYTES;

/// The most payload bytes a COBS block carries.
const BLOCK: usize = 254;

/// Streams one frame into `sink`: feeds the CRC, COBS-encodes, and on
/// [`FrameEncoder::finish`] appends the CRC and the 0x00 delimiter.
///
/// The sink sees whole COBS blocks (at most 255 bytes at a time).
pub struct FrameEncoder<F: FnMut(&[u8])> {
    sink: F,
    digest: crc::Digest<'static, u32, CrcTable>,
    /// `block[0]` is the code byte, filled in when the block is emitted.
    block: [u8; BLOCK + 1],
    len: usize,
    payload: usize,
}

impl<F: FnMut(&[u8])> FrameEncoder<F> {
    /// Starts a frame.
    pub fn new(sink: F) -> Self {
        FrameEncoder {
            sink,
            digest: CRC.digest(),
            block: [0; BLOCK + 1],
            len: 0,
            payload: 0,
        }
    }

    /// Appends payload bytes (counted in the CRC).
    pub fn write(&mut self, data: &[u8]) {
        self.digest.update(data);
        self.payload = self.payload.saturating_add(data.len());
        self.cobs(data);
    }

    fn cobs(&mut self, data: &[u8]) {
        for &b in data {
            if b == 0 {
                self.emit_block();
            } else {
                // `len < BLOCK` holds here: a full block is emitted at once.
                if let Some(slot) = self.block.get_mut(self.len + 1) {
                    *slot = b;
                }
                self.len += 1;
                if self.len == BLOCK {
                    self.emit_block();
                }
            }
        }
    }

    /// Emits the current block: its code is its length + 1 (0xFF for a full
    /// block, which carries no implied zero).
    fn emit_block(&mut self) {
        // `len <= BLOCK` always (a full block is emitted at once), so the
        // code fits a byte and the slice is in bounds.
        self.block[0] = (self.len + 1) as u8;
        (self.sink)(self.block.get(..self.len + 1).unwrap_or(&[]));
        self.len = 0;
    }

    /// Appends the CRC trailer and the delimiter; returns the payload length
    /// (tag + body + CRC) — what the receiver's buffer must hold.
    pub fn finish(mut self) -> usize {
        let crc = self.digest.clone().finalize();
        self.cobs(&crc.to_le_bytes());
        self.emit_block();
        (self.sink)(&[0]);
        self.payload.saturating_add(CRC_BYTES)
    }
}

/// Lends a [`FrameEncoder`] to postcard without giving it away, so a
/// message body can follow the tag and precede the CRC.
pub(crate) struct ByRef<'e, F: FnMut(&[u8])>(pub(crate) &'e mut FrameEncoder<F>);

impl<F: FnMut(&[u8])> postcard::ser_flavors::Flavor for ByRef<'_, F> {
    type Output = ();

    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.0.write(data);
        Ok(())
    }

    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.0.write(&[data]);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

/// What [`FrameAccumulator::feed`] found in a chunk of input.
#[derive(Debug, PartialEq, Eq)]
pub enum Feed<'b, 'i> {
    /// Every byte was taken; no frame ended.
    Consumed,
    /// A frame ended. `frame` is the CRC-checked payload (tag + body, CRC
    /// removed) or why it was rejected; `rest` is the unread input.
    Frame {
        /// The checked payload or the reason it is bad.
        frame: Result<&'b [u8], WireError>,
        /// Input after the delimiter, to feed next.
        rest: &'i [u8],
    },
}

/// Collects COBS-framed bytes in any chunking and yields checked payloads.
///
/// The buffer holds the decoded payload (tag + body + CRC), so its length is
/// the largest frame accepted; a longer frame is dropped up to its
/// delimiter and reported as [`Reason::Oversize`].
pub struct FrameAccumulator<B> {
    buf: B,
    len: usize,
    /// Data bytes left in the current COBS block; 0 means the next byte is a
    /// code byte.
    left: u8,
    /// Whether the current block ends in an implied zero (code < 0xFF).
    zero_after: bool,
    /// Bytes seen in this frame (including code bytes), to tell an empty
    /// frame (a stray delimiter) from a real one.
    seen: usize,
    overflow: bool,
    /// The previous call returned a frame that borrows `buf`; reset first.
    done: bool,
}

impl<B: AsMut<[u8]> + AsRef<[u8]>> FrameAccumulator<B> {
    /// An accumulator over `buf` (its length is the largest payload).
    pub fn new(buf: B) -> Self {
        FrameAccumulator {
            buf,
            len: 0,
            left: 0,
            zero_after: false,
            seen: 0,
            overflow: false,
            done: false,
        }
    }

    /// The largest payload (tag + body + CRC) this accumulator accepts.
    pub fn capacity(&self) -> usize {
        self.buf.as_ref().len()
    }

    /// Forgets any partial frame (after a resynchronisation).
    pub fn reset(&mut self) {
        self.len = 0;
        self.left = 0;
        self.zero_after = false;
        self.seen = 0;
        self.overflow = false;
        self.done = false;
    }

    fn push(&mut self, b: u8) {
        match self.buf.as_mut().get_mut(self.len) {
            Some(slot) => {
                *slot = b;
                self.len += 1;
            }
            None => self.overflow = true,
        }
    }

    /// Feeds bytes; stops at the first frame that ends in `input`.
    pub fn feed<'i>(&mut self, input: &'i [u8]) -> Feed<'_, 'i> {
        if self.done {
            self.reset();
        }
        for (i, &b) in input.iter().enumerate() {
            if b == 0 {
                let rest = input.get(i + 1..).unwrap_or(&[]);
                if self.seen == 0 {
                    // Back-to-back delimiters: nothing in between, not a frame.
                    continue;
                }
                self.done = true;
                return Feed::Frame {
                    frame: self.check(),
                    rest,
                };
            }
            self.seen = self.seen.saturating_add(1);
            if self.left == 0 {
                if self.zero_after {
                    self.push(0);
                }
                self.left = b - 1;
                self.zero_after = b != 0xFF;
            } else {
                self.push(b);
                self.left -= 1;
            }
        }
        Feed::Consumed
    }

    /// Checks a complete frame: size, COBS completeness, length, CRC.
    fn check(&self) -> Result<&[u8], WireError> {
        if self.overflow {
            return Err(WireError::new(Reason::Oversize));
        }
        if self.left != 0 {
            // The delimiter came inside a block: bytes were lost.
            return Err(WireError::new(Reason::BadCobs));
        }
        let frame = self.buf.as_ref().get(..self.len).unwrap_or(&[]);
        check_payload(frame)
    }
}

/// Splits a decoded payload into tag + body after checking its CRC.
pub fn check_payload(frame: &[u8]) -> Result<&[u8], WireError> {
    if frame.len() < MIN_PAYLOAD {
        return Err(WireError::new(Reason::Truncated));
    }
    let (payload, trailer) = frame.split_at(frame.len() - CRC_BYTES);
    let mut crc = [0u8; CRC_BYTES];
    crc.copy_from_slice(trailer);
    if CRC.checksum(payload) != u32::from_le_bytes(crc) {
        return Err(WireError::new(Reason::BadCrc));
    }
    Ok(payload)
}
