//! The receiving half of a connection (RFC 9293 §3.3.1 receive sequence variables): RCV.NXT,
//! the window we advertise, the receive buffer with out-of-order reassembly, and how soon an
//! ACK is owed. It exists from the peer's SYN until the connection is freed: after the peer's
//! FIN, RCV.NXT stops moving but unread bytes stay for the application.

use super::assembler::Assembler;
use super::autotune::RecvAutotune;
use super::ecn::RecvEcn;
use super::payload::Payload;
use super::ring::Ring;
use super::tcb::{Notify, Shared};
use super::timestamps::Timestamps;
use crate::seq::SeqNum;
use crate::time::{Duration, Instant, StoredDuration};
use crate::trace::TimerKind;
use crate::wire::tcp::{SackBlock, TcpRepr};

/// What the receiving half needs before the peer's SYN has been seen (in SYN-SENT).
#[derive(Clone, Copy, Debug)]
pub(super) struct RecvParams {
    pub buffer: usize,
    /// How far the buffer may grow with the reading rate (equal to `buffer`: fixed).
    pub max_buffer: usize,
    pub max_ooo_ranges: usize,
    pub delayed_ack: Duration,
}

impl RecvParams {
    /// The window a SYN offers before anything is buffered (RFC 7323 §2.2: never scaled).
    pub fn syn_window(&self) -> u32 {
        u32::try_from(self.buffer).unwrap_or(u32::MAX).min(0xFFFF)
    }
}

#[derive(Debug)]
pub(super) struct Receiver {
    pub irs: SeqNum,
    pub nxt: SeqNum,
    /// Right edge of the window we last advertised; it never moves left (RFC 9293 §3.8.6.2.2).
    pub adv: SeqNum,
    pub wscale: u8,
    pub buf: Ring,
    pub assembler: Assembler,
    /// In-order bytes received so far (stream offset of RCV.NXT, FIN excluded).
    pub off: u64,
    /// Stream offset of a FIN that arrived ahead of missing data.
    pub pending_fin: Option<u64>,
    /// RCV.UP, once the peer has sent urgent data.
    pub up: Option<SeqNum>,
    /// An ACK must go out on the next poll (a delayed one waits in the `DelayedAck` timer).
    pub ack_now: bool,
    /// In-order bytes received since our last ACK (an ACK for every second full segment, SHLD-19).
    pub unacked_bytes: u32,
    /// Duplicate ACKs owed beyond the one `ack_now` stands for.
    pub extra_acks: u8,
    /// Start of the out-of-order range that arrived last (RFC 2018 §4: it is reported first).
    pub last_ooo: Option<u64>,
    /// Both SYNs carried SACK-permitted: report out-of-order data in SACK blocks.
    pub sack: bool,
    /// Segment size used for the ACK and window-update thresholds.
    pub mss: u32,
    pub delayed_ack: StoredDuration,
    /// Timestamps in use (RFC 7323): TS.Recent to echo, Last.ACK.sent, our clock offset.
    pub ts: Option<Timestamps>,
    /// RFC 2883: a duplicate arrived; the next ACK reports it as the first SACK block.
    pub dsack: Option<(SeqNum, SeqNum)>,
    /// Linux's quick-ACK mode: this many more in-order segments are acknowledged at once
    /// (connection start, after idle, after out-of-order data) instead of delayed.
    pub quick_acks: u32,
    /// When in-order data last arrived.
    pub last_data_at: Option<Instant>,
    /// Bytes the application has read so far.
    pub read_total: u64,
    pub autotune: Option<RecvAutotune>,
    pub ecn: RecvEcn,
}

/// Linux's TCP_MAX_QUICKACKS.
const MAX_QUICK_ACKS: u32 = 16;

/// How a segment's text fared.
pub(super) struct Accepted {
    /// The FIN bit still applies (false if the segment was cut at the right edge of the window).
    pub fin: bool,
}

impl Receiver {
    /// The peer's SYN with sequence number `irs` arrived; a SYN of ours may already have offered
    /// `syn_window` bytes from RCV.NXT.
    pub fn new(
        params: &RecvParams,
        irs: SeqNum,
        syn_window: u32,
        wscale: u8,
        sack: bool,
        mss: u32,
    ) -> Receiver {
        let nxt = irs + 1u32;
        Receiver {
            irs,
            nxt,
            adv: nxt + syn_window,
            wscale,
            buf: Ring::new(params.buffer),
            assembler: Assembler::new(params.max_ooo_ranges),
            off: 0,
            pending_fin: None,
            up: None,
            ack_now: false,
            unacked_bytes: 0,
            extra_acks: 0,
            last_ooo: None,
            sack,
            mss,
            delayed_ack: params.delayed_ack.into(),
            ts: None,
            dsack: None,
            quick_acks: 0,
            last_data_at: None,
            read_total: 0,
            autotune: (params.max_buffer > params.buffer)
                .then(|| RecvAutotune::new(params.max_buffer)),
            ecn: RecvEcn::default(),
        }
    }

    /// RCV.WND: free room in the receive buffer (out-of-order bytes sit inside it), capped to
    /// what the window field can express.
    pub fn receive_window(&self) -> u32 {
        let max = 0xFFFFu32 << self.wscale;
        let free = u32::try_from(self.buf.free()).unwrap_or(u32::MAX).min(max);
        // Only what the scaled window field can say (Linux aligns it the same way): room
        // smaller than one unit of scale is no window, or a zero-window probe would be let in
        // byte by byte.
        free >> self.wscale << self.wscale
    }

    /// The window we offered and have not yet seen used.
    pub fn offered(&self) -> u32 {
        if self.adv.gt(self.nxt) {
            self.adv - self.nxt
        } else {
            0
        }
    }

    /// §3.10.7.4 first step: the four acceptability cases.
    pub fn acceptable(&self, seq: SeqNum, seg_len: u32, rcv_wnd: u32) -> bool {
        let nxt = self.nxt;
        match (seg_len, rcv_wnd) {
            (0, 0) => seq == nxt,
            (0, _) => seq.in_window(nxt, nxt + rcv_wnd),
            (_, 0) => false,
            (_, _) => {
                seq.in_window(nxt, nxt + rcv_wnd)
                    || (seq + (seg_len - 1)).in_window(nxt, nxt + rcv_wnd)
            }
        }
    }

    /// An ACK is owed at once.
    pub fn ack_now(&mut self, shared: &mut Shared) {
        self.ack_now = true;
        shared.timers.stop(TimerKind::DelayedAck);
    }

    /// An ACK went out (on any segment): nothing is owed any more.
    pub fn acked(&mut self, shared: &mut Shared) {
        self.ack_now = false;
        self.unacked_bytes = 0;
        shared.timers.stop(TimerKind::DelayedAck);
    }

    /// Receiver silly-window avoidance (RFC 9293 §3.8.6.2.2, MUST-39): after the application
    /// reads, send a window update only once the window can move right by min(buffer/2, MSS).
    pub fn after_app_read(&mut self, shared: &mut Shared) {
        let potential = self.nxt + self.receive_window();
        let grow = potential - self.adv;
        let advertised = self.adv - self.nxt;
        let threshold = (self.buf.capacity() as u32 / 2).min(self.mss);
        // Tell the peer at once when the window was (nearly) closed; else wait for a big step.
        if potential.gt(self.adv)
            && (grow >= 2 * self.mss.max(1) || (advertised < self.mss && grow >= threshold))
        {
            self.ack_now(shared);
        }
    }

    /// Receiver SWS avoidance (RFC 9293 §3.8.6.2.2, MUST-39): move the right edge only by at
    /// least min(buffer/2, MSS); never move it left. Returns the window field.
    pub fn advertise_window(&mut self) -> u16 {
        let potential = self.nxt + self.receive_window();
        let threshold = (self.buf.capacity() as u32 / 2).min(self.mss).max(1);
        let edge = if potential.gt(self.adv) && potential - self.adv >= threshold {
            potential
        } else {
            self.adv.max(self.nxt)
        };
        // Scaling rounds down, which may pull the edge left by less than 2^shift (RFC 7323 §2.4
        // allows it); rounding up instead would offer space the buffer does not have.
        let field = ((edge - self.nxt) >> self.wscale).min(0xFFFF);
        let advertised = self.nxt + (field << self.wscale);
        if advertised.gt(self.adv) {
            self.adv = advertised;
        }
        field as u16
    }

    /// The window field of a segment from a connection that will send nothing more (the
    /// no-time-wait teaching ablation's last ACK).
    #[cfg(feature = "teaching")]
    pub fn current_window_field(&self) -> u16 {
        ((self.adv - self.nxt) >> self.wscale).min(0xFFFF) as u16
    }

    /// Seventh step: places text in the receive buffer, `data_seq` being the sequence number of
    /// `payload[0]`.
    pub fn accept_text(
        &mut self,
        shared: &mut Shared,
        now: Instant,
        data_seq: SeqNum,
        payload: Payload<'_>,
        fin: bool,
        idle_after: Duration,
    ) -> Accepted {
        // Trim what was already received (left of RCV.NXT) and what lies beyond the window.
        let skip = if data_seq.lt(self.nxt) {
            (self.nxt - data_seq) as usize
        } else {
            0
        };
        if skip > 0 {
            // RFC 2883 §4: tell the sender which bytes came twice.
            let dup = skip.min(payload.len());
            self.dsack = Some((data_seq, data_seq + dup));
        }
        if skip >= payload.len() {
            self.ack_now(shared);
            return Accepted {
                fin: fin && skip == payload.len(),
            };
        }
        let start_seq = data_seq + skip;
        let offset = (start_seq - self.nxt) as usize;
        let written = payload.write_unallocated(&mut self.buf, offset, skip);
        let fin = fin && written == payload.len() - skip;
        if written == 0 {
            self.ack_now(shared);
            return Accepted { fin: false };
        }
        if offset == 0 {
            let had_holes = !self.assembler.is_empty();
            self.buf.commit(written);
            self.advance(shared, written as u64);
            while let Some(end) = self.assembler.pop_contiguous(self.off) {
                let n = end - self.off;
                self.buf.commit(n as usize);
                self.advance(shared, n);
            }
            shared.notify(Notify::READABLE);
            self.unacked_bytes = self.unacked_bytes.saturating_add(written as u32);
            // Linux's quick-ACK mode: at the start and after an idle spell, ACK every segment
            // for a while so the sender's slow start is not held back by delayed ACKs.
            let idle = self
                .last_data_at
                .is_none_or(|t| now.saturating_since(t) > idle_after);
            if idle {
                self.quick_acks = self.quick_acks.max(self.quick_ack_budget());
            }
            self.last_data_at = Some(now);
            // Coalesced segments spend one quick ACK each, as they would one by one.
            let quick = self.quick_acks > 0;
            self.quick_acks = self.quick_acks.saturating_sub(payload.segments());
            // RFC 5681 §4.2: ACK at once when a hole is filled; else at least every second
            // full-sized segment (SHLD-19), otherwise delayed (MUST-40).
            if had_holes || quick || self.unacked_bytes >= 2 * self.mss {
                self.ack_now(shared);
            } else if !self.ack_now {
                shared
                    .timers
                    .set_if_idle(TimerKind::DelayedAck, now + self.delayed_ack.get());
            }
        } else {
            let start = self.off + offset as u64;
            if self.assembler.covers(start, start + written as u64) {
                // RFC 2883 §4: out-of-order data we already hold.
                self.dsack = Some((start_seq, start_seq + written));
            }
            // Out-of-order data: the sender is recovering; quick ACKs help it (Linux).
            self.quick_acks = MAX_QUICK_ACKS;
            self.last_ooo = Some(start);
            if self.assembler.add(start, start + written as u64).is_err() {
                // Too many holes: drop; the peer retransmits.
                self.ack_now(shared);
                return Accepted { fin: false };
            }
            // RFC 5681 §4.2: an out-of-order segment draws an immediate (duplicate) ACK, one per
            // segment (they tell the sender how many segments left the network).
            if self.ack_now {
                self.extra_acks = self.extra_acks.saturating_add(1).min(8);
            }
            self.ack_now(shared);
        }
        Accepted { fin }
    }

    fn advance(&mut self, shared: &mut Shared, n: u64) {
        self.off += n;
        self.nxt = self.nxt + (n as u32);
        shared.stats.bytes_received += n;
        if self.adv.lt(self.nxt) {
            self.adv = self.nxt;
        }
    }

    /// Linux's tcp_incr_quickack: enough quick ACKs for half the window, at most 16.
    fn quick_ack_budget(&self) -> u32 {
        (self.receive_window() / (2 * self.mss.max(1))).clamp(1, MAX_QUICK_ACKS)
    }

    /// The application read `n` bytes at `now`: the buffer may grow with the reading rate.
    pub fn app_read(&mut self, n: usize, now: Instant) {
        self.read_total += n as u64;
        if let Some(tune) = &mut self.autotune
            && let Some(size) = tune.on_read(now, self.read_total, self.buf.capacity(), self.mss)
        {
            self.buf.grow_limit(size);
        }
    }

    /// Stream offset of a FIN carried by a segment whose text ends at `end`, if it is new
    /// (at or after RCV.NXT).
    pub fn fin_offset(&self, end: SeqNum) -> Option<u64> {
        if end.lt(self.nxt) {
            None
        } else {
            Some(self.off + u64::from(end - self.nxt))
        }
    }

    /// Eighth step: the peer's FIN is in order; it takes one sequence number.
    pub fn take_fin(&mut self, shared: &mut Shared) {
        self.nxt = self.nxt + 1u32;
        if self.adv.lt(self.nxt) {
            self.adv = self.nxt;
        }
        self.ack_now(shared);
        shared.notify(Notify::PEER_CLOSED);
        shared.notify(Notify::READABLE);
    }

    /// RFC 2018 §4: report out-of-order data held, the block with the most recent arrival
    /// first, then the others from the highest down.
    pub fn add_sack_blocks(&mut self, repr: &mut TcpRepr) {
        if !self.sack {
            return;
        }
        // RFC 2883 §4: a duplicate is reported once, in the first block.
        let dsack = self.dsack.take();
        let first = usize::from(dsack.is_some());
        if let Some((left, right)) = dsack {
            repr.options.sack_blocks[0] = Some(SackBlock { left, right });
        }
        if self.assembler.is_empty() {
            return;
        }
        let base = self.irs + 1u32;
        let to_seq = |off: u64| base + (off as u32);
        let ranges = self.assembler.ranges();
        let latest = self
            .last_ooo
            .and_then(|s| ranges.iter().position(|&(a, b)| a <= s && s < b));
        let order = latest
            .into_iter()
            .chain((0..ranges.len()).rev().filter(|&i| Some(i) != latest));
        for (n, i) in order.take(3).enumerate() {
            let (a, b) = ranges[i];
            repr.options.sack_blocks[first + n] = Some(SackBlock {
                left: to_seq(a),
                right: to_seq(b),
            });
        }
    }

    /// Sequence number of the next byte the application will read (`fin`: the peer's FIN
    /// has been taken, so RCV.NXT counts it).
    pub fn read_seq(&self, fin: bool) -> SeqNum {
        self.nxt - (self.buf.len() as u32 + u32::from(fin))
    }

    /// Gives the buffer's memory back if nothing is stored or pending reassembly.
    pub fn release_if_idle(&mut self) {
        if self.assembler.is_empty() {
            self.buf.release();
        }
    }
}
