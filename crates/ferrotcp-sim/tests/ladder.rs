//! Ladder diagrams, compared byte for byte.

use ferrotcp::time::Instant;
use ferrotcp::trace::TcpState;
use ferrotcp_sim::ladder::{LadderItem, LadderOptions, LadderSegment, LadderState, Side, render};

fn ms(n: u64) -> Instant {
    Instant::from_millis(n)
}

fn state(t: u64, side: Side, state: TcpState) -> LadderItem {
    LadderItem::State(LadderState {
        time: ms(t),
        side,
        state,
    })
}

struct Seg {
    sent: u64,
    arrived: Option<u64>,
    from: Side,
    flags: &'static str,
    seq: u32,
    ack: Option<u32>,
    len: usize,
}

impl Seg {
    fn item(self) -> LadderItem {
        LadderItem::Segment(LadderSegment {
            sent: ms(self.sent),
            arrived: self.arrived.map(ms),
            from: self.from,
            flags: self.flags.to_string(),
            seq: self.seq,
            ack: self.ack,
            len: self.len,
            window: 65535,
            note: None,
        })
    }
}

fn with_note(item: LadderItem, note: &str) -> LadderItem {
    match item {
        LadderItem::Segment(mut s) => {
            s.note = Some(note.to_string());
            LadderItem::Segment(s)
        }
        other => other,
    }
}

fn handshake() -> Vec<LadderItem> {
    vec![
        state(0, Side::Left, TcpState::Closed),
        state(0, Side::Right, TcpState::Listen),
        state(0, Side::Left, TcpState::SynSent),
        Seg {
            sent: 0,
            arrived: Some(10),
            from: Side::Left,
            flags: "SYN",
            seq: 1000,
            ack: None,
            len: 0,
        }
        .item(),
        state(10, Side::Right, TcpState::SynReceived),
        Seg {
            sent: 10,
            arrived: Some(20),
            from: Side::Right,
            flags: "SYN,ACK",
            seq: 5000,
            ack: Some(1001),
            len: 0,
        }
        .item(),
        state(20, Side::Left, TcpState::Established),
        Seg {
            sent: 20,
            arrived: None,
            from: Side::Left,
            flags: "ACK",
            seq: 1001,
            ack: Some(5001),
            len: 0,
        }
        .item(),
        LadderItem::Note("server times out".to_string()),
        with_note(
            Seg {
                sent: 30,
                arrived: None,
                from: Side::Right,
                flags: "SYN,ACK",
                seq: 5000,
                ack: Some(1001),
                len: 0,
            }
            .item(),
            "retransmission",
        ),
    ]
}

fn transfer() -> Vec<LadderItem> {
    let mut items = vec![
        state(0, Side::Right, TcpState::Established),
        state(0, Side::Left, TcpState::Established),
    ];
    for i in 0..10u32 {
        let sent = 1 + u64::from(i);
        items.push(
            Seg {
                sent,
                arrived: Some(sent + 5),
                from: Side::Left,
                flags: "ACK",
                seq: 1 + i * 100,
                ack: Some(1),
                len: 100,
            }
            .item(),
        );
    }
    items.push(state(20, Side::Left, TcpState::FinWait1));
    items
}

/// Joins expected lines, each terminated by `\n`.
fn lines(ls: &[&str]) -> String {
    ls.iter().map(|l| format!("{l}\n")).collect()
}

#[track_caller]
fn assert_render(items: &[LadderItem], opts: &LadderOptions, expected: &[&str]) {
    let got = render(items, opts);
    let want = lines(expected);
    assert!(got == want, "got:\n{got}\nwant:\n{want}");
}

#[test]
fn handshake_with_losses() {
    assert_render(
        &handshake(),
        &LadderOptions::default(),
        &[
            "                      client                                                       server",
            "  0.000000s       CLOSED |                                                            | LISTEN",
            "  0.000000s     SYN-SENT |                                                            |",
            "  0.000000s              |-- SYN seq=1000 win=65535 len=0 --------------------------->| rx 0.010000s",
            "  0.010000s              |                                                            | SYN-RECEIVED",
            "  0.010000s              |<- SYN,ACK seq=5000 ack=1001 win=65535 len=0 ---------------| rx 0.020000s",
            "  0.020000s  ESTABLISHED |                                                            |",
            "  0.020000s              |-- ACK seq=1001 ack=5001 win=65535 len=0 ---X               | (lost)",
            "                         |                      server times out                      |",
            "  0.030000s              |           X- SYN,ACK seq=5000 ack=1001 win=65535 len=0 ----| (lost)  retransmission",
        ],
    );
}

#[test]
fn long_transfer_keeps_first_and_last_segments() {
    let opts = LadderOptions {
        left_name: "alice".into(),
        right_name: "bob".into(),
        width: 90,
        max_segments: Some(4),
    };
    assert_render(
        &transfer(),
        &opts,
        &[
            "                       alice                                               bob",
            "  0.000000s  ESTABLISHED |                                                  | ESTABLISHED",
            "  0.001000s              |-- ACK seq=1 ack=1 win=65535 len=100 ------------>| rx 0.006000s",
            "  0.002000s              |-- ACK seq=101 ack=1 win=65535 len=100 ---------->| rx 0.007000s",
            "                         : ~ 6 segments not shown, 0.003000s to 0.008000s ~ :",
            "  0.009000s              |-- ACK seq=801 ack=1 win=65535 len=100 ---------->| rx 0.014000s",
            "  0.010000s              |-- ACK seq=901 ack=1 win=65535 len=100 ---------->| rx 0.015000s",
            "  0.020000s   FIN-WAIT-1 |                                                  |",
        ],
    );
}

#[test]
fn narrow_width_clamps_and_truncates_labels() {
    let opts = LadderOptions {
        width: 10,
        ..LadderOptions::default()
    };
    assert_render(
        &handshake(),
        &opts,
        &[
            "                      client                         server",
            "  0.000000s       CLOSED |                              | LISTEN",
            "  0.000000s     SYN-SENT |                              |",
            "  0.000000s              |-- SYN seq=1000 win=655.. --->| rx 0.010000s",
            "  0.010000s              |                              | SYN-RECEIVED",
            "  0.010000s              |<- SYN,ACK seq=5000 ack.. ----| rx 0.020000s",
            "  0.020000s  ESTABLISHED |                              |",
            "  0.020000s              |-- ACK seq=1001 ack=500.. --X | (lost)",
            "                         |       server times out       |",
            "  0.030000s              | X- SYN,ACK seq=5000 ack.. ---| (lost)  retransmission",
        ],
    );
}

#[test]
fn same_instant_states_share_a_line_in_either_order_and_long_times_widen_the_column() {
    let items = vec![
        LadderItem::State(LadderState {
            time: Instant::from_secs(12),
            side: Side::Right,
            state: TcpState::LastAck,
        }),
        LadderItem::State(LadderState {
            time: Instant::from_secs(12),
            side: Side::Left,
            state: TcpState::TimeWait,
        }),
        state(5, Side::Left, TcpState::Closed),
        state(5, Side::Left, TcpState::Listen),
        LadderItem::Elided {
            segments: 1,
            from: ms(1),
            to: ms(1),
        },
        LadderItem::Note(
            "a note far too long to fit between the two lifelines of this diagram".into(),
        ),
    ];
    let opts = LadderOptions {
        width: 72,
        ..LadderOptions::default()
    };
    assert_render(
        &items,
        &opts,
        &[
            "                       client                          server",
            "  12.000000s    TIME-WAIT |                               | LAST-ACK",
            "   0.005000s       CLOSED |                               |",
            "   0.005000s       LISTEN |                               |",
            "                          :                               : ~ 1 segment not shown, 0.001000s to 0.001000s ~",
            "                          |                               | a note far too long to fit between the two lifelines of this diagram",
        ],
    );
}

#[test]
fn summary_is_a_no_op_when_everything_fits() {
    let full = render(&transfer(), &LadderOptions::default());
    let capped = LadderOptions {
        max_segments: Some(10),
        ..LadderOptions::default()
    };
    assert_eq!(render(&transfer(), &capped), full);
    assert!(!full.contains("not shown"));
}

#[test]
fn max_segments_zero_elides_every_segment() {
    let opts = LadderOptions {
        max_segments: Some(0),
        ..LadderOptions::default()
    };
    let out = render(&transfer(), &opts);
    assert!(out.contains("~ 10 segments not shown, 0.001000s to 0.010000s ~"));
    assert!(!out.contains("seq="));
}

#[test]
fn odd_cap_keeps_the_extra_segment_at_the_start() {
    let opts = LadderOptions {
        max_segments: Some(3),
        ..LadderOptions::default()
    };
    let out = render(&transfer(), &opts);
    let shown: Vec<&str> = out.lines().filter(|l| l.contains("seq=")).collect();
    assert_eq!(shown.len(), 3);
    assert!(shown[0].contains("seq=1 "));
    assert!(shown[1].contains("seq=101 "));
    assert!(shown[2].contains("seq=901 "));
    assert!(out.contains("~ 7 segments not shown"));
}

#[test]
fn lifelines_line_up_and_no_line_has_trailing_space() {
    for width in [0, 60, 100, 140] {
        let opts = LadderOptions {
            width,
            ..LadderOptions::default()
        };
        let out = render(&handshake(), &opts);
        let body: Vec<&str> = out.lines().skip(1).collect();
        let col = body[0].find('|').expect("left lifeline");
        let right = body[0].rfind('|').expect("right lifeline");
        for line in &body {
            assert_eq!(line.as_bytes()[col], b'|', "{line}");
            assert_eq!(line.as_bytes()[right], b'|', "{line}");
        }
        assert!(out.lines().all(|l| l == l.trim_end()));
        assert!(out.ends_with('\n'));
    }
}

#[test]
fn empty_input_is_just_the_header() {
    assert_eq!(
        render(&[], &LadderOptions::default()),
        "                      client                                                       server\n"
    );
}
