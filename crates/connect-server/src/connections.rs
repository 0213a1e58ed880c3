//! The cap on concurrent connections.
//!
//! Dropshot owns its accept loop and has no connection limit, and a relay in front of it (an
//! accept loop of our own, copying bytes to dropshot over loopback) cost 40% of the throughput
//! of a `GET /users/{id}` when measured. So the cap is the process's open-file limit: every
//! connection holds one descriptor, and the server itself holds a few ([`RESERVED_FDS`]).
//! When the limit is reached, `accept` fails, dropshot waits 100 ms and tries again, and the
//! new connections wait in the kernel's accept queue until a connection closes (the request
//! and idle deadlines close slow ones): established connections go on being served.

/// Descriptors the server holds beside its connections (standard streams, the listener, the
/// runtime's event queue and wakers, with room to spare).
pub const RESERVED_FDS: u64 = 64;

/// Concurrent connections, by default.
pub const MAX_CONNECTIONS: u64 = 10_000;

/// What [`cap`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cap {
    /// The connections the limit now allows.
    pub connections: u64,
    /// Whether that is fewer than asked for, because the hard limit is lower.
    pub clamped: bool,
}

/// Sets the open-file limit so that at most `connections` connections are open at once (or as
/// many as the hard limit allows, when it is lower).
pub fn cap(connections: u64) -> std::io::Result<Cap> {
    let (_, hard) = rlimit::Resource::NOFILE.get()?;
    let wanted = connections.saturating_add(RESERVED_FDS);
    let soft = wanted.min(hard);
    rlimit::Resource::NOFILE.set(soft, hard)?;
    Ok(Cap {
        connections: soft.saturating_sub(RESERVED_FDS),
        clamped: soft < wanted,
    })
}

/// A connection with no bytes in either direction for this long is closed, by default: a new
/// connection that sends nothing, a keep-alive connection between requests, a client that
/// stopped reading its response.
pub const IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// How idle a connection may be when the server is at its connection cap: new connections are
/// waiting, so the quiet ones make room for them.
pub const IDLE_AT_CAP: std::time::Duration = std::time::Duration::from_secs(1);

/// Closes the server's connections that have been idle for `idle` (for [`IDLE_AT_CAP`] when
/// nine in ten of `cap` connections are open), and says how many.
///
/// Dropshot hands connections to hyper's protocol detection, which waits without a deadline
/// for a new connection's first bytes: a connection that sends nothing is kept forever. Nothing
/// in dropshot reaches the connections, so this looks at the process's own sockets: every
/// socket of the server's port (not the listener) whose kernel counters (`TCP_INFO`) say no data
/// went either way for the threshold is shut down, which hyper sees as the client closing. A
/// connection waiting for a handler longer than that is closed too; the API's handlers take
/// milliseconds.
#[cfg(target_os = "linux")]
pub struct Janitor {
    /// `/proc/self/fd`, opened once: at the cap no descriptor is left to open it again.
    fds: *mut libc::DIR,
}

// SAFETY: the directory stream is used by one thread at a time (`&mut self`).
#[cfg(target_os = "linux")]
unsafe impl Send for Janitor {}

#[cfg(target_os = "linux")]
impl Drop for Janitor {
    fn drop(&mut self) {
        // SAFETY: `fds` came from `opendir` and is closed once.
        unsafe { libc::closedir(self.fds) };
    }
}

#[cfg(target_os = "linux")]
impl Janitor {
    pub fn new() -> std::io::Result<Self> {
        // SAFETY: a valid C string; the result is checked.
        let fds = unsafe { libc::opendir(c"/proc/self/fd".as_ptr()) };
        if fds.is_null() {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Self { fds })
    }

    /// The process's open descriptors.
    fn descriptors(&mut self) -> Vec<i32> {
        let mut found = Vec::new();
        // SAFETY: `fds` is an open directory stream; each entry is read before the next call.
        unsafe {
            libc::rewinddir(self.fds);
            loop {
                let entry = libc::readdir(self.fds);
                if entry.is_null() {
                    break;
                }
                let name = std::ffi::CStr::from_ptr((*entry).d_name.as_ptr());
                if let Some(fd) = name.to_str().ok().and_then(|n| n.parse().ok()) {
                    found.push(fd);
                }
            }
        }
        found
    }

    /// Closes the server's connections that have been idle for `idle` (for [`IDLE_AT_CAP`]
    /// when nine in ten of `cap` connections are open), and says how many.
    ///
    /// Dropshot hands connections to hyper's protocol detection, which waits without a
    /// deadline for a new connection's first bytes: a connection that sends nothing is kept
    /// forever. Nothing in dropshot reaches the connections, so this looks at the process's own
    /// sockets: every socket of the server's port (not the listener) whose kernel counters
    /// (`TCP_INFO`) say no data went either way for the threshold is shut down, which hyper
    /// sees as the client closing. A connection waiting for a handler longer than that is
    /// closed too; the API's handlers take milliseconds.
    pub fn close_idle(&mut self, port: u16, idle: std::time::Duration, cap: Option<u64>) -> usize {
        let mut connections = Vec::new();
        for fd in self.descriptors() {
            let Some(inode) = socket_inode(fd) else {
                continue;
            };
            if let Some((received, sent)) = quiet_for(fd, port) {
                connections.push((fd, inode, received.min(sent)));
            }
        }
        let crowded = cap.is_some_and(|cap| connections.len() as u64 * 10 >= cap * 9);
        let idle = if crowded { idle.min(IDLE_AT_CAP) } else { idle };
        let idle = u32::try_from(idle.as_millis()).unwrap_or(u32::MAX);
        let mut closed = 0;
        for (fd, inode, quiet) in connections {
            // The same socket still (the descriptor was not closed and reused meanwhile).
            if quiet >= idle && socket_inode(fd) == Some(inode) {
                // SAFETY: `fd` is an open socket of this process (just checked); shutting it
                // down leaves the descriptor to its owner, which sees end-of-stream and
                // closes it.
                unsafe { libc::shutdown(fd, libc::SHUT_RDWR) };
                closed += 1;
            }
        }
        closed
    }
}

/// The inode of the socket behind `fd`, if `fd` is a socket.
#[cfg(target_os = "linux")]
fn socket_inode(fd: i32) -> Option<u64> {
    let link = std::fs::read_link(format!("/proc/self/fd/{fd}")).ok()?;
    let link = link.to_str()?;
    link.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// For a connected TCP socket on local `port`: milliseconds since data was last received and
/// last sent.
#[cfg(target_os = "linux")]
fn quiet_for(fd: i32, port: u16) -> Option<(u32, u32)> {
    use std::mem::{MaybeUninit, size_of};
    // SAFETY: each call writes at most the length it is given into memory of that size, and
    // its result is read only when the call succeeded.
    unsafe {
        let mut address = MaybeUninit::<libc::sockaddr_storage>::zeroed();
        let mut length = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        if libc::getsockname(fd, address.as_mut_ptr().cast(), &mut length) != 0 {
            return None;
        }
        let address = address.assume_init();
        let local_port = match i32::from(address.ss_family) {
            libc::AF_INET => {
                let v4 = &*(&raw const address).cast::<libc::sockaddr_in>();
                u16::from_be(v4.sin_port)
            }
            libc::AF_INET6 => {
                let v6 = &*(&raw const address).cast::<libc::sockaddr_in6>();
                u16::from_be(v6.sin6_port)
            }
            _ => return None,
        };
        if local_port != port {
            return None;
        }
        let mut listening: libc::c_int = 0;
        let mut length = size_of::<libc::c_int>() as libc::socklen_t;
        if libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ACCEPTCONN,
            (&raw mut listening).cast(),
            &mut length,
        ) != 0
            || listening != 0
        {
            return None;
        }
        let mut info = MaybeUninit::<libc::tcp_info>::zeroed();
        let mut length = size_of::<libc::tcp_info>() as libc::socklen_t;
        if libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            info.as_mut_ptr().cast(),
            &mut length,
        ) != 0
        {
            return None;
        }
        let info = info.assume_init();
        // Only established connections (state 1 in the kernel's `tcp_states.h`): a closing
        // one is already on its way out.
        const TCP_ESTABLISHED: u8 = 1;
        if info.tcpi_state != TCP_ESTABLISHED {
            return None;
        }
        Some((info.tcpi_last_data_recv, info.tcpi_last_data_sent))
    }
}

/// Elsewhere, idle connections are closed only by hyper's own 30-second header timeout (which
/// does not cover a connection that never sends a byte).
#[cfg(not(target_os = "linux"))]
pub struct Janitor;

#[cfg(not(target_os = "linux"))]
impl Janitor {
    pub fn new() -> std::io::Result<Self> {
        Ok(Self)
    }

    pub fn close_idle(
        &mut self,
        _port: u16,
        _idle: std::time::Duration,
        _cap: Option<u64>,
    ) -> usize {
        0
    }
}
