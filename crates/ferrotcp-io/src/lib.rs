//! ferrotcp on real links. The protocol crate stays sans-IO; this crate owns the device, the
//! clock and the thread, and gives applications `std::net`-like (and, with the `tokio` feature,
//! async) sockets.
