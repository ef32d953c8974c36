//! Byte formats: zero-copy checked views over buffers, and parsed representations with
//! `parse` and `emit`. Parsing never panics; malformed input is a typed [`WireError`].
