//! The read side of a connection as the frame reader needs it: wait until
//! bytes are there, then take them into a buffer whose memory was reserved
//! from the request pool only once they were. A plain TCP socket does this
//! itself (`readable`, `try_read_buf`); a TLS stream decrypts into a small
//! fixed buffer of its own first ([`BufferedReader`]).

use std::future::Future;
use std::io;

use bytes::BytesMut;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::net::tcp::OwnedReadHalf;

/// Bytes of decrypted data a TLS connection holds outside the request
/// pool, at most: one TLS record.
pub const TLS_READ_BUFFER: usize = 16 * 1024;

/// A source of request bytes.
pub trait FrameRead: Send {
    /// Completes when bytes (or the end of the stream) can be taken.
    /// Cancel-safe.
    fn readable(&mut self) -> impl Future<Output = io::Result<()>> + Send;

    /// Moves available bytes into `buf`, at most its spare capacity: `Ok(0)`
    /// at the end of the stream, `WouldBlock` when none are there after all.
    fn try_read_buf(&mut self, buf: &mut BytesMut) -> io::Result<usize>;
}

impl FrameRead for OwnedReadHalf {
    fn readable(&mut self) -> impl Future<Output = io::Result<()>> + Send {
        OwnedReadHalf::readable(self)
    }

    fn try_read_buf(&mut self, buf: &mut BytesMut) -> io::Result<usize> {
        OwnedReadHalf::try_read_buf(self, buf)
    }
}

/// A stream read through a fixed-size buffer, so that waiting for bytes
/// reserves no pool memory.
#[derive(Debug)]
pub struct BufferedReader<R>(pub BufReader<R>);

impl<R: AsyncRead + Unpin + Send> FrameRead for BufferedReader<R> {
    async fn readable(&mut self) -> io::Result<()> {
        self.0.fill_buf().await.map(|_| ())
    }

    fn try_read_buf(&mut self, buf: &mut BytesMut) -> io::Result<usize> {
        // After `readable`, an empty buffer means the end of the stream.
        let available = self.0.buffer();
        let n = available.len().min(buf.capacity() - buf.len());
        if n == 0 && !available.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        buf.extend_from_slice(&available[..n]);
        std::pin::Pin::new(&mut self.0).consume(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn buffered_reads_take_no_more_than_the_room_given() {
        let data: &[u8] = b"0123456789";
        let mut r = BufferedReader(BufReader::with_capacity(4, data));
        let mut buf = BytesMut::with_capacity(3);
        r.readable().await.unwrap();
        assert_eq!(r.try_read_buf(&mut buf).unwrap(), 3);
        assert_eq!(&buf[..], b"012");
        assert_eq!(buf.capacity(), 3, "never grown beyond its reservation");
        let mut rest = BytesMut::with_capacity(64);
        loop {
            r.readable().await.unwrap();
            match r.try_read_buf(&mut rest).unwrap() {
                0 => break,
                _ => continue,
            }
        }
        assert_eq!(&rest[..], b"3456789");
    }
}
