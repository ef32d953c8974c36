//! `ferrotcp explain`: golden diagrams of every topic (a diff is a behaviour change of the stack
//! or of the narrative; accept a deliberate one with INSTA_UPDATE=always), and each teaching
//! ablation showing the failure it exists to show while the default configuration does not.
//! The ablations exist only with the `teaching` feature (`cargo test --workspace --all-features`);
//! without it, asking for one is refused with a clear message.

use ferrotcp::CloseReason;
use ferrotcp::time::Duration;
use ferrotcp::transport::tcp::ablation::Ablation;
#[cfg(feature = "teaching")]
use ferrotcp::wire::TcpFlags;
use ferrotcp_sim::Lang;
use ferrotcp_sim::ladder::{LadderOptions, render};
use ferrotcp_sim::scenario::explain::{
    Explained, Topic, half_close, run, why_three_way, why_time_wait,
};
#[cfg(feature = "teaching")]
use ferrotcp_sim::scenario::explain::{parse_ablation, why_not_four_way};

/// What `ferrotcp explain TOPIC` prints: the title, the ladder, the findings.
fn text(e: &Explained) -> String {
    let mut out = format!("{}\n\n", e.title);
    out.push_str(&render(
        &e.items,
        &LadderOptions {
            width: 130,
            ..LadderOptions::default()
        },
    ));
    out.push('\n');
    for f in &e.findings {
        out.push_str(f);
        out.push('\n');
    }
    out
}

fn explained(topic: Topic, ablation: Option<Ablation>, lang: Lang) -> Explained {
    run(topic, ablation, lang).unwrap_or_else(|e| panic!("{topic}: {e}"))
}

macro_rules! golden {
    ($name:ident, $topic:expr) => {
        #[test]
        fn $name() {
            let e = explained($topic, None, Lang::En);
            assert_eq!(e.failed_as_expected, None);
            insta::assert_snapshot!(text(&e));
        }
    };
}

golden!(layers, Topic::Layers);
golden!(handshake, Topic::Handshake);
golden!(close, Topic::Close);
golden!(half_close, Topic::HalfClose);
golden!(why_three_way, Topic::WhyThreeWay);
// Its findings measure the four-message variant, which needs the teaching ablation.
#[cfg(feature = "teaching")]
golden!(why_not_four_way, Topic::WhyNotFourWay);
golden!(why_time_wait, Topic::WhyTimeWait);
golden!(simultaneous_open, Topic::SimultaneousOpen);
golden!(simultaneous_close, Topic::SimultaneousClose);

#[test]
fn handshake_in_chinese() {
    insta::assert_snapshot!(text(&explained(Topic::Handshake, None, Lang::Zh)));
}

#[cfg(feature = "teaching")]
#[test]
fn ablated_topics() {
    for topic in [Topic::WhyThreeWay, Topic::WhyNotFourWay, Topic::WhyTimeWait] {
        let a = topic.ablation().expect("takes an ablation");
        let e = explained(topic, Some(a), Lang::En);
        assert_eq!(
            e.failed_as_expected,
            Some(true),
            "{topic} --ablate {}",
            a.name()
        );
        insta::assert_snapshot!(format!("{}_ablated", topic.name()), text(&e));
    }
}

#[test]
fn every_topic_runs_in_both_languages_and_is_deterministic() {
    for topic in Topic::ALL {
        for lang in [Lang::En, Lang::Zh] {
            let a = explained(topic, None, lang);
            let b = explained(topic, None, lang);
            assert_eq!(text(&a), text(&b), "{topic} {lang}");
            assert!(!a.findings.is_empty());
            assert!(!topic.description(lang).is_empty());
        }
        assert_eq!(topic.name().parse::<Topic>(), Ok(topic));
    }
}

#[cfg(feature = "teaching")]
#[test]
fn an_ablation_that_does_not_fit_the_topic_is_refused() {
    for topic in Topic::ALL {
        for a in Ablation::ALL {
            let r = run(topic, Some(a), Lang::En);
            if topic.ablation() == Some(a) {
                assert!(r.is_ok(), "{topic} {}", a.name());
            } else {
                let err = r.err().unwrap_or_default();
                assert!(
                    err.contains("does not apply"),
                    "{topic} {}: {err}",
                    a.name()
                );
            }
        }
    }
    assert_eq!(parse_ablation("no-time-wait"), Ok(Ablation::NoTimeWait));
    assert!(parse_ablation("no-such-thing").is_err());
    assert!("no-such-topic".parse::<Topic>().is_err());
}

#[cfg(feature = "teaching")]
#[test]
fn two_way_handshake_hands_the_server_a_connection_nobody_opened() {
    let o = why_three_way::outcome(true).expect("runs");
    assert!(o.real_request_ok);
    let accepted = o
        .accepted_stale
        .expect("the server's application accepted the stale SYN");
    assert_eq!(
        accepted, o.stale_arrived,
        "accepted as soon as its SYN,ACK left"
    );
    assert!(o.client_rst, "the client never opened it and says so");
    // Held for one round trip: SYN,ACK out, RST back.
    assert_eq!(o.held_for(), Some(Duration::from_millis(20)));
    assert_eq!(o.stale_closed.map(|(_, r)| r), Some(CloseReason::Reset));
}

#[test]
fn three_way_handshake_drops_the_stale_syn_inside_the_stack() {
    let o = why_three_way::outcome(false).expect("runs");
    assert!(o.real_request_ok);
    assert_eq!(o.accepted_stale, None, "the application never sees it");
    assert!(o.client_rst);
    assert_eq!(o.server_conns_after, 0, "no orphan left behind");
}

#[cfg(feature = "teaching")]
#[test]
fn a_fourth_handshake_message_repeats_what_is_known_and_costs_a_round_trip() {
    let three = why_not_four_way::measure(false).expect("three");
    let four = why_not_four_way::measure(true).expect("four");
    assert!(three.fourth.is_none());
    let m4 = four.fourth.as_ref().expect("a fourth message");
    assert_eq!(m4.flags(), TcpFlags::ACK);
    assert!(m4.payload.is_empty());
    // seq = y+1: what the client acknowledged in message 3; ack = x+1: what the server
    // acknowledged in message 2.
    assert_eq!(m4.seq(), four.synack.seq().wrapping_add(1));
    assert_eq!(m4.seq(), four.third.ack());
    assert_eq!(m4.ack(), four.syn.seq().wrapping_add(1));
    assert_eq!(m4.ack(), four.synack.ack());
    // The first data byte: with the third message after one RTT, with a fourth after two.
    assert_eq!(three.first_data_after(), Duration::from_millis(20));
    assert_eq!(four.first_data_after(), Duration::from_millis(40));
    assert_eq!(
        four.first_data_after() - three.first_data_after(),
        Duration::from_millis(20),
        "one more round trip"
    );
}

#[cfg(feature = "teaching")]
#[test]
fn without_time_wait_the_retransmitted_fin_meets_a_reset_and_old_bytes_join_the_new_stream() {
    let o = why_time_wait::outcome(true).expect("runs");
    // (a) The retransmitted FIN draws a RST, which is what ends the server's connection.
    assert_eq!(o.a_answers, ["RST"]);
    assert!(o.a_ended_by_rst);
    // ...and the server's application is told of a reset instead of a clean close.
    assert_eq!(o.a_server_close, Some(CloseReason::Reset));
    // (b) The port is reused at once: no refusal, ISN only (t2 - t1) / 4 µs higher.
    assert_eq!(o.refused_attempts, 0);
    assert_eq!(o.t2 - o.t1, Duration::from_millis(100));
    assert_eq!(o.reuse_offset(), 25_000);
    assert!(
        o.dup_arrived > o.t2,
        "the old duplicate arrives during the new connection"
    );
    // The reader of the new connection got the old connection's bytes first...
    let from = o.reuse_offset();
    let k = o.dup_offset + o.dup_len - from;
    assert!(k > 0);
    assert_eq!(o.old_bytes_in_new_stream(), k);
    assert_eq!(&o.reader[..k], &o.old[from..from + k]);
    assert!(o.reader.starts_with(b"OLD-") || o.reader.starts_with(b"LD-"));
    // ...and the new client's first k bytes were dropped as duplicates.
    assert_eq!(&o.reader[k..], &o.new[k..]);
    assert_ne!(o.reader, o.new);
}

#[test]
fn with_time_wait_the_close_is_clean_and_the_old_duplicate_dies() {
    let o = why_time_wait::outcome(false).expect("runs");
    // (a) TIME-WAIT re-acknowledges the retransmitted FIN.
    assert_eq!(o.a_answers, ["ACK"]);
    assert!(!o.a_ended_by_rst);
    assert_eq!(o.a_server_close, Some(CloseReason::Normal));
    // (b) The port could not be reused for 2MSL; the old duplicate arrived before and died.
    assert!(o.refused_attempts > 0);
    assert!(o.t2 - o.t1 >= Duration::from_secs(60));
    assert!(o.dup_arrived < o.t2);
    assert!(
        o.dup_arrived - o.dup_sent < Duration::from_secs(60),
        "delayed less than 2MSL"
    );
    assert_eq!(o.dup_answer.as_deref(), Some("RST"));
    assert_eq!(
        o.reader, o.new,
        "the new stream is exactly what the new client sent"
    );
    assert_eq!(o.old_bytes_in_new_stream(), 0);
    assert_eq!(o.leftover, 0, "no orphan connection");
}

#[test]
fn half_close_lets_the_server_finish_its_reply() {
    let o = half_close::outcome(Lang::En).expect("runs");
    assert_eq!(o.client_read, o.reply);
    assert!(o.segments_after_fin >= 2);
    assert_eq!(o.read_in_fin_wait_2, o.reply.len());
    assert!(o.half_open_for >= Duration::from_millis(50));
    // Nothing left to send: ACK and FIN leave together (as two segments in this stack).
    assert_eq!(o.b_ack_fin_gap, Duration::ZERO);
    assert!(!o.b_combined);
}

#[cfg(not(feature = "teaching"))]
#[test]
fn without_the_teaching_feature_an_ablation_is_refused_with_the_way_to_get_it() {
    for topic in [Topic::WhyThreeWay, Topic::WhyNotFourWay, Topic::WhyTimeWait] {
        let a = topic.ablation().expect("takes an ablation");
        let err = run(topic, Some(a), Lang::En).err().unwrap_or_default();
        assert!(
            err.contains("without teaching ablations") && err.contains("--features teaching"),
            "{topic}: {err}"
        );
    }
    // The topic itself still runs; it says what it could not measure.
    let e = explained(Topic::WhyNotFourWay, None, Lang::En);
    assert!(
        e.findings.iter().any(|f| f.contains("not measured here")),
        "{:?}",
        e.findings
    );
}
