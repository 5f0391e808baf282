//! The device client over the in-memory transport, against fnp-core's own
//! wire server: the frame exchange every transport (QEMU socket, RTT) uses.

mod device_common;

use std::time::{Duration, Instant};

use device_common::*;
use fnp_core::wire::{self, encode, Bounded, Hello, Limits, Message, Reason, WireArray};
use fnp_core::DType;
use fnp_host::device::convert::{mask_bytes, outcome_of, refuse, to_wire};
use fnp_host::device::memory::{pair, spawn_server, DeviceSizes};
use fnp_host::device::{in_shard, parse_shard, Client, LinkError, Reply};
use fnp_host::target::{CaseOutcome, HostTarget, Target};

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(5)
}

#[test]
fn every_case_matches_the_host_target_at_any_chunking() {
    for chunk in [1, 7, 4096] {
        let (transport, _dev) = spawn_server(DeviceSizes {
            chunk,
            ..DeviceSizes::default()
        });
        let mut client = Client::connect(transport, soon()).unwrap();
        assert_eq!(client.info().target, "memory");
        assert_eq!(client.info().version, wire::PROTOCOL_VERSION);
        for (i, case) in cases().iter().enumerate() {
            let mask = mask_bytes(case);
            let w = to_wire(i as u32, case, mask.as_deref()).unwrap();
            let device = outcome_of(client.run(&w, soon()).unwrap());
            let host = HostTarget.run_case(case);
            assert_eq!(
                describe(case, &device),
                describe(case, &host),
                "chunk {chunk}"
            );
        }
        let stats = client.stats(soon()).unwrap();
        assert_eq!(stats.cases, cases().len() as u64);
    }
}

#[test]
fn a_case_that_does_not_fit_is_too_large_and_unsupported() {
    let (transport, _dev) = spawn_server(DeviceSizes {
        out_words: 2,
        ..DeviceSizes::default()
    });
    let mut client = Client::connect(transport, soon()).unwrap();
    let big = case("big", "add", vec![i32s(&[8], &[1; 8]), i32s(&[1], &[1])]);
    // The host's own filter sees it first …
    let w = to_wire(1, &big, None).unwrap();
    let frame = wire::payload_len(&Message::Case(w.clone())).unwrap();
    let why = refuse(client.info(), &big, frame).unwrap();
    assert!(why.starts_with("too_large: output needs 32 bytes"), "{why}");
    // … and the device refuses it anyway if it is sent.
    let reply = client.run(&w, soon()).unwrap();
    assert_eq!(
        reply,
        Reply::Refused(wire::WireError::with_detail(Reason::TooLarge, 32))
    );
    match outcome_of(reply) {
        CaseOutcome::Unsupported { reason } => assert!(reason.starts_with("too_large")),
        other => panic!("{other:?}"),
    }
    // A 2**40-element broadcast view: refused, never wrapped.
    let one = 1i32.to_le_bytes();
    let mut huge = WireArray {
        dtype: DType::Int32 as u8,
        weak: false,
        shape: Bounded::from_slice(&[1u64 << 40]).unwrap(),
        strides: Some(Bounded::from_slice(&[0]).unwrap()),
        offset: 0,
        data: &one,
    };
    let small = WireArray {
        shape: Bounded::from_slice(&[1]).unwrap(),
        strides: None,
        ..huge.clone()
    };
    huge.offset = 0;
    let w = wire::Case {
        id: 2,
        op: 0,
        mode: 0,
        params: wire::Params::default(),
        inputs: Bounded::from_slice(&[huge, small]).unwrap(),
        where_mask: None,
    };
    match client.run(&w, soon()).unwrap() {
        Reply::Refused(e) => assert_eq!(e.reason, Reason::TooLarge),
        other => panic!("{other:?}"),
    }
}

#[test]
fn frames_over_the_limit_are_refused_before_sending() {
    let (transport, _dev) = spawn_server(DeviceSizes {
        frame_bytes: 64,
        ..DeviceSizes::default()
    });
    let client = Client::connect(transport, soon()).unwrap();
    let c = case(
        "long",
        "add",
        vec![i32s(&[20], &[0; 20]), i32s(&[20], &[0; 20])],
    );
    let w = to_wire(0, &c, None).unwrap();
    let frame = wire::payload_len(&Message::Case(w)).unwrap();
    let why = refuse(client.info(), &c, frame).unwrap();
    assert!(why.starts_with("too_large: frame of"), "{why}");
}

#[test]
fn another_protocol_version_is_refused_with_a_clear_error() {
    let (transport, dev) = pair(5);
    let hello = Hello {
        version: wire::PROTOCOL_VERSION + 1,
        target: "future",
        profile: "release",
        limits: Limits::default(),
        dtypes: &[],
        ops: &[],
    };
    let mut bytes = Vec::new();
    encode(&Message::Hello(hello), |b| bytes.extend_from_slice(b)).unwrap();
    dev.tx.send(bytes).unwrap();
    let err = Client::connect(transport, soon()).err().unwrap();
    assert!(
        matches!(err, LinkError::Version { device } if device == u64::from(wire::PROTOCOL_VERSION) + 1)
    );
    let text = err.to_string();
    assert!(
        text.contains("version 2") && text.contains("rebuild the firmware"),
        "{text}"
    );
}

#[test]
fn silence_times_out_and_a_closed_link_is_reported() {
    let (transport, dev) = pair(5);
    let err = Client::connect(transport, Instant::now() + Duration::from_millis(50))
        .err()
        .unwrap();
    assert!(matches!(err, LinkError::TimedOut), "{err}");
    drop(dev);
    let (transport, dev) = pair(5);
    drop(dev);
    assert!(matches!(
        Client::connect(transport, soon()).err().unwrap(),
        LinkError::Closed
    ));
}

#[test]
fn garbage_before_hello_is_skipped_or_reported() {
    // Line noise ending in a delimiter is a bad frame, reported as such:
    // the host never sends on a link that did not say Hello properly.
    let (transport, dev) = pair(3);
    dev.tx.send(vec![0x13, 0x37, 0x00]).unwrap();
    match Client::connect(transport, soon()).err().unwrap() {
        LinkError::Frame(e) => assert_eq!(e.reason, Reason::BadCobs),
        other => panic!("{other}"),
    }
}

#[test]
fn shards_partition_the_cases() {
    let n = 3;
    let mut seen = [0; 10];
    for k in 1..=n {
        for (i, s) in seen.iter_mut().enumerate() {
            if in_shard(i, k, n) {
                *s += 1;
            }
        }
    }
    assert!(seen.iter().all(|&s| s == 1));
    assert_eq!(parse_shard("2/3").unwrap(), (2, 3));
    for bad in ["0/3", "4/3", "1/0", "x/3", "3"] {
        assert!(parse_shard(bad).is_err(), "{bad}");
    }
    assert!(!in_shard(0, 1, 0));
}

#[test]
fn device_target_names_resolve() {
    assert!(fnp_host::device::resolve("host").is_none());
    let err = fnp_host::device::resolve("qemu:nonexistent")
        .unwrap()
        .err()
        .unwrap();
    assert!(err.to_string().contains("unknown QEMU board"), "{err}");
    if !cfg!(feature = "probe") {
        let err = fnp_host::device::resolve("probe:nrf52840")
            .unwrap()
            .err()
            .unwrap();
        assert!(err.to_string().contains("--features probe"), "{err}");
    }
}

#[cfg(feature = "probe")]
#[test]
fn probe_target_without_a_probe_fails_cleanly() {
    std::env::set_var("FNP_FIRMWARE_PROBE", "/nonexistent.elf");
    let err = fnp_host::device::resolve("probe:nRF52840_xxAA")
        .unwrap()
        .err()
        .unwrap();
    assert!(
        format!("{err:#}").contains("attaching to nRF52840_xxAA"),
        "{err:#}"
    );
}
