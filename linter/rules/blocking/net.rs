//! ## What it does
//! Finds synchronous networking on an async executor thread: `std::net::TcpStream::connect`,
//! `TcpListener::bind`, `UdpSocket::bind`, reads and writes on those sockets, and DNS
//! resolution through `ToSocketAddrs::to_socket_addrs`.
//!
//! ## Why is this bad?
//! A blocking connect or DNS lookup can take seconds (timeouts, unreachable hosts, slow
//! resolvers). The executor thread can run nothing else meanwhile.
//!
//! ## Example
//! ```rust,ignore
//! async fn resolve(host: &str) -> io::Result<Vec<SocketAddr>> {
//!     Ok((host, 443).to_socket_addrs()?.collect())
//! }
//! ```
//!
//! ## Use instead
//! ```rust,ignore
//! async fn resolve(host: &str) -> io::Result<Vec<SocketAddr>> {
//!     Ok(tokio::net::lookup_host((host, 443)).await?.collect())
//! }
//! ```
//!
//! ## Known limitations
//! Sockets are recognised when created in the same function or declared with their type;
//! a socket returned by another function is not followed.

crate::registry::declare_rule! {
    BlockingNet = "blocking-net",
    summary: "synchronous sockets or DNS lookups in async code",
    severity: Warning,
    fixable: false,
}
