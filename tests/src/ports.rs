//! Ports for the local Runtime APIs, reserved so that no two can ever share one.
//!
//! `cargo lambda watch` must be told its port, so the harness picks one before the process
//! binds it. Asking the kernel for a free port (bind to port 0, then close) is a race: until
//! `cargo lambda watch` binds it, the kernel may hand the same port to any other bind to port
//! 0 — another Runtime API or a stand-in server of a test running alongside — and a function
//! then polls someone else's Runtime API, or none. So the ports come from below the kernel's
//! ephemeral range, which bind-to-0 and outgoing connections never use, and each is held by a
//! lock file for as long as its Runtime API runs, which keeps test processes running side by
//! side from picking the same one.

use std::fs::{File, TryLockError};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU16, Ordering};

use crate::HarnessError;

/// How many ports below the ephemeral range the harness draws from.
const SPAN: u16 = 4096;

/// A port only this holder uses until it is dropped.
#[derive(Debug)]
pub struct ReservedPort {
    port: u16,
    _lock: File,
}

impl ReservedPort {
    pub fn port(&self) -> u16 {
        self.port
    }
}

/// The first port of the kernel's ephemeral range (Linux's default when it cannot be read).
fn ephemeral_start() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse().ok())
        .unwrap_or(32_768)
}

fn lock_dir() -> PathBuf {
    std::env::temp_dir().join("osnap-runtime-api-ports")
}

/// Reserves a loopback port nobody else is using or will be handed.
pub fn reserve() -> Result<ReservedPort, HarnessError> {
    // Where this process starts looking: spread by process id, then moving on, so processes
    // side by side rarely even try the same lock.
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let end = ephemeral_start();
    let start = end.saturating_sub(SPAN).max(1024);
    let span = end - start;
    if span == 0 {
        return Err(HarnessError::Setup(format!(
            "no ports below the ephemeral range (which starts at {end})"
        )));
    }
    let dir = lock_dir();
    std::fs::create_dir_all(&dir)
        .map_err(|e| HarnessError::Setup(format!("cannot create {}: {e}", dir.display())))?;
    let seed = u16::try_from(std::process::id() % u32::from(span)).unwrap_or(0);
    for _ in 0..span {
        let offset = (seed + NEXT.fetch_add(1, Ordering::Relaxed) % span) % span;
        let port = start + offset;
        let lock = File::create(dir.join(format!("{port}.lock")))
            .map_err(|e| HarnessError::Setup(format!("cannot create a port lock: {e}")))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => continue,
            Err(TryLockError::Error(e)) => {
                return Err(HarnessError::Setup(format!("cannot lock a port: {e}")));
            }
        }
        // Some service outside the tests may have bound it on purpose.
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(ReservedPort { port, _lock: lock });
        }
    }
    Err(HarnessError::Setup(format!(
        "every port in {start}..{end} is in use"
    )))
}

/// A loopback port where every connection is refused, for as long as the socket lives: it is
/// bound, so nothing else can take the port, but it never listens. (A port bound and then
/// closed may be handed to another server before the test connects to it.)
pub fn refusing() -> Result<(tokio::net::TcpSocket, u16), HarnessError> {
    let setup = |e: std::io::Error| HarnessError::Setup(format!("cannot bind a closed port: {e}"));
    let socket = tokio::net::TcpSocket::new_v4().map_err(setup)?;
    socket
        .bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .map_err(setup)?;
    let port = socket.local_addr().map_err(setup)?.port();
    Ok((socket, port))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn reserved_ports_are_distinct_and_outside_the_ephemeral_range() {
        let held: Vec<ReservedPort> = (0..64).map(|_| reserve().unwrap()).collect();
        let mut ports: Vec<u16> = held.iter().map(ReservedPort::port).collect();
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports.len(), held.len(), "a port was handed out twice");
        assert!(ports.iter().all(|&p| p < ephemeral_start()), "{ports:?}");
    }

    #[tokio::test]
    async fn a_refusing_port_refuses() {
        let (_socket, port) = refusing().unwrap();
        let error = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused);
    }

    #[test]
    fn a_held_port_is_not_handed_out_again_until_released() {
        let first = reserve().unwrap();
        let lock = File::create(lock_dir().join(format!("{}.lock", first.port()))).unwrap();
        assert!(matches!(lock.try_lock(), Err(TryLockError::WouldBlock)));
        drop(first);
        assert!(lock.try_lock().is_ok());
    }
}
