//! ## What it does
//! Finds synchronous networking on an async executor thread: `std::net::TcpStream::connect`,
//! `TcpListener::bind` and `UdpSocket::bind` on a host name (binding to a literal IP
//! address or a `SocketAddr` looks nothing up and returns at once), reads and writes on those
//! sockets, and DNS resolution through `ToSocketAddrs::to_socket_addrs` (of a host name: a
//! literal IP address, a `SocketAddr`, or a value named an IP (`peer_ip`, not `host_or_ip`)
//! is parsed, not looked up).
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
//! a socket returned by another function is not followed. A string holding a numeric address
//! under another name (`remote_addr` from a proxy header) is still reported: the name alone
//! cannot tell it from a host name a client dials.

crate::registry::declare_rule! {
    BlockingNet = "blocking-net",
    summary: "synchronous sockets or DNS lookups in async code",
    severity: Warning,
    fixable: false,
}

#[cfg(test)]
mod tests {
    use crate::testing::check;

    #[test]
    fn dns_and_sockets_not_async_sockets_or_address_parsing() {
        check(
            r#"
use std::net::ToSocketAddrs;

async fn connect(host: &str) -> std::io::Result<()> {
    let addrs: Vec<_> = (host, 80).to_socket_addrs()?.collect();
//                      ^^^^^^^^^^^^^^^^^^^^^^^^^^^^ blocking-net: blocking call `.to_socket_addrs()` in async fn `connect`
    let _s = std::net::TcpStream::connect(&addrs[..])?;
//           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ blocking-net: blocking call `std::net::TcpStream::connect` in async fn `connect`
    let _t = tokio::net::TcpStream::connect((host, 80)).await?;
    let _a: std::net::SocketAddr = "127.0.0.1:80".parse().unwrap();
    // A literal IP address or a `SocketAddr` is parsed, not looked up.
    let _l = ("127.0.0.1", 8080).to_socket_addrs()?;
    let _m = "[::1]:0".to_socket_addrs()?;
    let _n = _a.to_socket_addrs()?;
    Ok(())
}
"#,
        );
    }
}
