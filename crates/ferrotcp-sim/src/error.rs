//! Errors from building a network: returned, never panicked, since they come from scenario code.

use core::fmt;

use crate::impairments::ImpairmentError;
use crate::node::HostId;

#[derive(Clone, Debug, PartialEq)]
pub enum LinkError {
    /// No host with this id was added.
    UnknownHost(HostId),
    /// The host already has its one interface linked.
    AlreadyLinked(HostId),
    /// A link needs two distinct hosts.
    SelfLink(HostId),
    /// An impairment value is out of range.
    Impairment(ImpairmentError),
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkError::UnknownHost(h) => write!(f, "no such host: {h}"),
            LinkError::AlreadyLinked(h) => write!(f, "{h} already has a link"),
            LinkError::SelfLink(h) => write!(f, "cannot link {h} to itself"),
            LinkError::Impairment(e) => write!(f, "invalid link configuration: {e}"),
        }
    }
}

impl std::error::Error for LinkError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LinkError::Impairment(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ImpairmentError> for LinkError {
    fn from(e: ImpairmentError) -> Self {
        LinkError::Impairment(e)
    }
}
