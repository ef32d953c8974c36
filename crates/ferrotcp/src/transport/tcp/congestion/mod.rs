//! Congestion control (RFC 5681 and successors) behind one trait, chosen per connection.
//!
//! The controller decides only how the window grows and how far it shrinks after a loss.
//! *Detecting* losses and choosing what to retransmit is loss recovery (`recovery.rs`), which
//! takes the window over while it repairs (fast recovery) and hands it back afterwards; the two
//! are kept apart as in gVisor, so any loss recovery runs with any controller.

mod cubic;
mod hystart;
mod new_reno;

pub use cubic::Cubic;
pub use new_reno::NewReno;

use crate::seq::SeqNum;
use crate::time::{Duration, Instant};

/// What an ACK that acknowledged new data tells the controller.
#[derive(Clone, Copy, Debug)]
pub struct AckEvent {
    /// Bytes newly acknowledged (SYN and FIN count one each).
    pub acked: u32,
    pub mss: u32,
    pub now: Instant,
    /// SND.UNA after this ACK, and SND.NXT (for round tracking).
    pub una: SeqNum,
    pub nxt: SeqNum,
    /// This ACK's RTT sample, if it gave one.
    pub rtt: Option<Duration>,
    /// The smoothed RTT.
    pub srtt: Duration,
    /// The window was what limited sending before this ACK (RFC 7661's test, as Linux's
    /// tcp_is_cwnd_limited): a window the flow does not use must not grow.
    pub cwnd_limited: bool,
}

/// A congestion-control algorithm; every quantity is in bytes.
pub trait CongestionControl: core::fmt::Debug {
    fn cwnd(&self) -> u32;
    fn ssthresh(&self) -> u32;
    /// Loss recovery sets the window while it is in charge (fast recovery).
    fn set_cwnd(&mut self, cwnd: u32);
    /// New data was acknowledged outside loss recovery: grow the window.
    fn on_ack(&mut self, ack: &AckEvent);
    /// Loss recovery begins (RFC 5681 §3.2 step 2): lower ssthresh. The window itself is then
    /// set by loss recovery.
    fn on_congestion_event(&mut self, flight: u32, mss: u32, now: Instant);
    /// The retransmission timer expired (RFC 5681 §3.1 eq. 4 and the loss window).
    fn on_rto(&mut self, flight: u32, mss: u32, now: Instant);
}

/// RFC 6928: IW = min(10·MSS, max(2·MSS, 14600)).
pub fn initial_window(mss: u32) -> u32 {
    (10 * mss).min((2 * mss).max(14600))
}

/// Which algorithm a connection uses (`TcpConfig::congestion`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// RFC 5681 Reno growth (NewReno's fast recovery, RFC 6582, when the peer lacks SACK).
    NewReno,
    /// RFC 9438 CUBIC with RFC 9406 HyStart++: Linux's default (Linux uses the original
    /// HyStart).
    #[default]
    Cubic,
}

/// The controller of one connection: static dispatch over the algorithms through the trait.
#[derive(Clone, Debug)]
pub enum Controller {
    NewReno(NewReno),
    Cubic(Cubic),
}

impl Controller {
    pub fn new(algorithm: Algorithm, mss: u32) -> Controller {
        match algorithm {
            Algorithm::NewReno => Controller::NewReno(NewReno::new(mss)),
            Algorithm::Cubic => Controller::Cubic(Cubic::new(mss)),
        }
    }

    fn inner(&self) -> &dyn CongestionControl {
        match self {
            Controller::NewReno(c) => c,
            Controller::Cubic(c) => c,
        }
    }

    fn inner_mut(&mut self) -> &mut dyn CongestionControl {
        match self {
            Controller::NewReno(c) => c,
            Controller::Cubic(c) => c,
        }
    }
}

impl CongestionControl for Controller {
    fn cwnd(&self) -> u32 {
        self.inner().cwnd()
    }

    fn ssthresh(&self) -> u32 {
        self.inner().ssthresh()
    }

    fn set_cwnd(&mut self, cwnd: u32) {
        self.inner_mut().set_cwnd(cwnd)
    }

    fn on_ack(&mut self, ack: &AckEvent) {
        self.inner_mut().on_ack(ack)
    }

    fn on_congestion_event(&mut self, flight: u32, mss: u32, now: Instant) {
        self.inner_mut().on_congestion_event(flight, mss, now)
    }

    fn on_rto(&mut self, flight: u32, mss: u32, now: Instant) {
        self.inner_mut().on_rto(flight, mss, now)
    }
}
