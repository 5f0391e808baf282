//! The device client over the in-memory transport, against fnp-core's own
//! wire server: the frame exchange every transport (QEMU socket, RTT) uses.

mod device_common;

use std::time::{Duration, Instant};

use device_common::*;
use fnp_core::wire::{self, encode, Bounded, Hello, Limits, Message, Reason, WireArray};
use fnp_core::DType;
use fnp_host::case::CaseOutcome;
use fnp_host::device::convert::{mask_bytes, out_bytes, outcome_of, refuse, to_wire};
use fnp_host::device::memory::{pair, spawn_server, DeviceSizes, MemoryTransport};
use fnp_host::device::target::{Device, DeviceTarget};
use fnp_host::device::{in_shard, parse_shard, Client, DeviceInfo, LinkError, Reply, Transport};
use fnp_host::frames::FrameOutcome;
use fnp_host::target::{HostTarget, Target};

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
            let outs = out_bytes(case);
            let w = to_wire(i as u32, case, mask.as_deref(), &outs).unwrap();
            let device = outcome_of(client.run(&w, soon()).unwrap());
            let host = HostTarget::default().run_case(case);
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
    let w = to_wire(1, &big, None, &[]).unwrap();
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
        method: 0,
        mode: 0,
        params: wire::Params::default(),
        inputs: Bounded::from_slice(&[huge, small]).unwrap(),
        where_mask: None,
        out: Bounded::default(),
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
    let w = to_wire(0, &c, None, &[]).unwrap();
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
        text.contains(&format!("version {}", wire::PROTOCOL_VERSION + 1))
            && text.contains("rebuild the firmware"),
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
    // Line noise and a stray message before Hello are skipped …
    let (transport, dev) = pair(3);
    dev.tx.send(vec![0x13, 0x37, 0x00]).unwrap();
    let mut stats = Vec::new();
    encode(&Message::Stats(Default::default()), |b| {
        stats.extend_from_slice(b)
    })
    .unwrap();
    dev.tx.send(stats).unwrap();
    let hello = Hello {
        version: wire::PROTOCOL_VERSION,
        target: "late",
        profile: "release",
        limits: Limits::default(),
        dtypes: &[],
        ops: &[],
    };
    let mut bytes = Vec::new();
    encode(&Message::Hello(hello), |b| bytes.extend_from_slice(b)).unwrap();
    dev.tx.send(bytes).unwrap();
    assert_eq!(
        Client::connect(transport, soon())
            .ok()
            .unwrap()
            .info()
            .target,
        "late"
    );
    // … and when no Hello follows, the timeout says what was seen.
    let (transport, dev) = pair(3);
    dev.tx.send(vec![0x13, 0x37, 0x00]).unwrap();
    let err = Client::connect(transport, Instant::now() + Duration::from_millis(100))
        .err()
        .unwrap();
    match err {
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
    assert!(fnp_host::device::resolve("host", &Default::default()).is_none());
    let err = fnp_host::device::resolve("qemu:nonexistent", &Default::default())
        .unwrap()
        .err()
        .unwrap();
    assert!(err.to_string().contains("unknown QEMU board"), "{err}");
    if !cfg!(feature = "probe") {
        let err = fnp_host::device::resolve("probe:nrf52840", &Default::default())
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
    let err = fnp_host::device::resolve("probe:nRF52840_xxAA", &Default::default())
        .unwrap()
        .err()
        .unwrap();
    assert!(
        format!("{err:#}").contains("attaching to nRF52840_xxAA"),
        "{err:#}"
    );
}

#[test]
fn reductions_match_numpy_over_the_wire() {
    let (transport, _dev) = spawn_server(DeviceSizes::default());
    let mut client = Client::connect(transport, soon()).unwrap();
    let got: Vec<String> = reduction_cases()
        .iter()
        .enumerate()
        .map(|(i, case)| {
            let mask = mask_bytes(case);
            let outs = out_bytes(case);
            let w = to_wire(i as u32, case, mask.as_deref(), &outs).unwrap();
            describe(case, &outcome_of(client.run(&w, soon()).unwrap()))
        })
        .collect();
    // The values in reduction_cases()'s doc, from NumPy 2.4.
    assert_eq!(
        got,
        [
            "sum_axis0_keepdims ok int64 [1, 3] [] 050000000000000007000000000000000900000000000000",
            "mean_where ok float64 [] [] 0000000000000040",
            "max_empty error ValueError",
            "cumsum_u8 ok uint64 [2] [] c8000000000000002c01000000000000",
            "var_ddof1 ok float64 [] [] aaaaaaaaaaaa0240",
            "sum_int8_dtype_initial ok int8 [] [] c9",
            "maximum_accumulate_i32 ok int32 [5] [] 0300000003000000040000000400000005000000",
            "subtract_reduce_axis1 ok int32 [2] [] fcfffffff9ffffff",
            "add_at_repeated ok int32 [3] [] 020000000000000001000000",
            "negative_at_f64 ok float64 [2] [] 000000000000f03f00000000000000c0",
            "divmod_i32 ok int32 [2] [] 03000000fcffffff + int32 0100000001000000",
            "frexp_f64 ok float64 [2] [] 000000000000e03f000000000000e8bf + int32 0400000000000000",
            "add_out_where ok float32 [2] [] 000030410000e040",
            "add_signature_i16 ok int16 [2] [] c800c800",
            "maximum_reduce_out_i32 ok int32 [2] [invalid] 0600000002000000",
        ]
    );
}

#[test]
fn corpus_cases_map_to_wire_cases() {
    use fnp_host::case::AxisParam;
    use fnp_host::value::Scalar;
    // A reversed view keeps its strides and offset; a C-contiguous one
    // travels without them.
    let mut rev = f64s(&[3], &[1.0, 2.0, 3.0]);
    rev.strides = vec![-1];
    rev.offset = 2;
    let mut c = case("sum_rev", "sum", vec![rev]);
    c.params.axis = Some(AxisParam::Tuple(vec![0, -1]));
    c.params.initial = Some(Scalar::Int(1 << 63));
    let w = to_wire(5, &c, None, &[]).unwrap();
    assert_eq!(Some(w.op), c.op.op().map(fnp_core::Op::code));
    assert_eq!(w.op, 64);
    let a = &w.inputs.as_slice()[0];
    assert_eq!(a.strides.as_ref().unwrap().as_slice(), &[-1]);
    assert_eq!(a.offset, 2);
    assert_eq!(w.params.axis.axes.as_slice(), &[0, -1]);
    assert_eq!(w.params.axis.kind, wire::AxisKind::Tuple as u8);
    let mut int_axis = c.clone();
    int_axis.params.axis = Some(AxisParam::One(-1));
    let one = to_wire(5, &int_axis, None, &[]).unwrap().params.axis;
    assert_eq!(
        (one.kind, one.axes.as_slice()),
        (wire::AxisKind::Int as u8, &[-1i64][..])
    );
    assert_eq!(
        w.params.initial,
        Some(wire::WireScalar {
            kind: 2,
            bits: 1 << 63
        })
    );
    let plain = case("p", "add", vec![i32s(&[2], &[1, 2]), py_int(-3)]);
    let w = to_wire(6, &plain, None, &[]).unwrap();
    assert!(w.inputs.as_slice()[0].strides.is_none());
    assert!(w.inputs.as_slice()[1].weak);
    assert_eq!(w.params.axis, wire::WireAxes::all());
    // Ops the protocol does not carry, initial values no dtype holds.
    assert!(to_wire(0, &case("x", "no_such_ufunc", vec![]), None, &[]).is_err());
    let mut big = case("b", "sum", vec![f64s(&[1], &[1.0])]);
    big.params.initial = Some(Scalar::Int(-(1 << 64)));
    assert!(to_wire(0, &big, None, &[])
        .unwrap_err()
        .contains("fits neither"));
}

#[test]
fn cases_outside_the_hello_limits_are_refused_with_reasons() {
    let (transport, _dev) = spawn_server(DeviceSizes::default());
    let client = Client::connect(transport, soon()).unwrap();
    let mut info = client.info().clone();
    let c = case("c", "add", vec![i32s(&[1, 1, 1], &[1]), i32s(&[1], &[1])]);
    assert_eq!(refuse(&info, &c, 10), None);
    info.limits.max_ndim = 2;
    assert!(refuse(&info, &c, 10).unwrap().starts_with("too_many_dims"));
    info.dtypes.retain(|&d| d != DType::Int32);
    assert!(refuse(&info, &c, 10)
        .unwrap()
        .contains("dtype int32 not built"));
    info.ops.clear();
    assert!(refuse(&info, &c, 10).unwrap().contains("op add not built"));
}

/// How the next connection of a [`MemoryDevice`] misbehaves.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    /// Serves every case.
    None,
    /// The link closes before the reply (a crashed device).
    Closes,
    /// No reply ever comes (a hung device).
    Hangs,
}

/// A transport that can be told to fail, over the in-memory server.
struct Faulty {
    inner: MemoryTransport,
    fault: Fault,
}

impl Transport for Faulty {
    fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.inner.send(bytes)
    }

    fn recv(&mut self, buf: &mut [u8], deadline: Instant) -> std::io::Result<usize> {
        match self.fault {
            Fault::None => self.inner.recv(buf, deadline),
            Fault::Closes => Ok(0),
            Fault::Hangs => Err(std::io::ErrorKind::TimedOut.into()),
        }
    }
}

/// fnp-core's wire server in memory as a [`Device`]: a fresh server per
/// connection, so a reconnect is a restarted device.
struct MemoryDevice {
    client: Option<Client<Faulty>>,
    connects: usize,
    /// The fault the next connection starts with.
    fault: Fault,
    /// Whether connecting fails (a device that does not come back).
    unreachable: bool,
    disconnects: usize,
}

impl MemoryDevice {
    fn connect(fault: Fault) -> anyhow::Result<Client<Faulty>> {
        let (inner, _server) = spawn_server(DeviceSizes::default());
        let mut client = Client::connect(
            Faulty {
                inner,
                fault: Fault::None,
            },
            soon(),
        )?;
        client.link_mut().transport_mut().fault = fault;
        Ok(client)
    }
}

impl Device for MemoryDevice {
    type Transport = Faulty;

    fn name(&self) -> String {
        "memory".into()
    }

    fn client(&mut self) -> anyhow::Result<&mut Client<Faulty>> {
        let client = match self.client.take() {
            Some(c) => c,
            None if self.unreachable => anyhow::bail!("the device did not come back"),
            None => {
                self.connects += 1;
                Self::connect(self.fault)?
            }
        };
        Ok(self.client.insert(client))
    }

    fn timeout(&self, _wire_bytes: usize) -> Duration {
        Duration::from_millis(200)
    }

    fn crash_detail(&mut self, error: &LinkError) -> String {
        format!("{error}; memory device log")
    }

    fn disconnect(&mut self) {
        self.disconnects += 1;
        self.client = None;
    }

    fn fingerprint(&self, info: &DeviceInfo) -> Vec<(String, String)> {
        vec![("profile".into(), info.profile.clone())]
    }
}

fn memory_target() -> DeviceTarget<MemoryDevice> {
    let client = MemoryDevice::connect(Fault::None).unwrap();
    let info = client.info().clone();
    let device = MemoryDevice {
        client: Some(client),
        connects: 1,
        fault: Fault::None,
        unreachable: false,
        disconnects: 0,
    };
    DeviceTarget::new(device, info)
}

#[test]
fn the_device_target_answers_as_the_host_target_does() {
    let mut target = memory_target();
    assert_eq!(target.name(), "memory");
    assert_eq!(
        target.fingerprint(),
        vec![("profile".into(), "test".into())]
    );
    let limits = target.limits();
    assert!(limits.ops.as_ref().is_some_and(|ops| !ops.is_empty()));
    assert!(limits.dtypes.contains(&DType::Float64));
    for case in cases() {
        let device = target.run_case(&case);
        let host = HostTarget::default().run_case(&case);
        assert_eq!(describe(&case, &device), describe(&case, &host));
    }
    assert_eq!(target.failures(), (0, 0));
    assert_eq!(
        target.device().connects,
        1,
        "one connection serves them all"
    );
}

#[test]
fn the_device_target_refuses_what_does_not_fit_without_sending_it() {
    let mut target = memory_target();
    target.device_mut().unreachable = true;
    target.device_mut().client = None;
    let big = case(
        "big",
        "add",
        vec![i32s(&[4096], &[1; 4096]), i32s(&[1], &[1])],
    );
    let outcome = target.run_case(&big);
    assert!(
        matches!(&outcome, CaseOutcome::Unsupported { reason } if reason.starts_with("too_large")),
        "{outcome:?}"
    );
    assert_eq!(target.failures(), (0, 0), "nothing was sent");
}

#[test]
fn a_crashed_or_hung_device_is_reported_and_reconnected() {
    let mut target = memory_target();
    let ok = case("ok", "add", vec![i32s(&[2], &[1, 2]), i32s(&[2], &[3, 4])]);
    let want = describe(&ok, &HostTarget::default().run_case(&ok));

    // A link that closes mid-case is a crash with the device's own detail.
    target.device_mut().client = Some(MemoryDevice::connect(Fault::Closes).unwrap());
    let outcome = target.run_case(&ok);
    match &outcome {
        CaseOutcome::Crashed { detail } => {
            assert!(
                detail.contains("closed") && detail.ends_with("memory device log"),
                "{detail}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(target.failures(), (1, 0));
    assert_eq!(target.device().disconnects, 1);
    // The next case gets a fresh device.
    assert_eq!(describe(&ok, &target.run_case(&ok)), want);
    assert_eq!(target.device().connects, 2);

    // No reply in time is `timed_out`, and again the device is replaced.
    target.device_mut().client = Some(MemoryDevice::connect(Fault::Hangs).unwrap());
    assert_eq!(target.run_case(&ok), CaseOutcome::TimedOut);
    assert_eq!(target.failures(), (1, 1));
    assert_eq!(describe(&ok, &target.run_case(&ok)), want);
    assert_eq!(target.device().connects, 3);

    // A device that does not come back: every case is `crashed` with why.
    target.device_mut().client = None;
    target.device_mut().unreachable = true;
    let outcome = target.run_case(&ok);
    assert!(
        matches!(&outcome, CaseOutcome::Crashed { detail } if detail.contains("did not come back")),
        "{outcome:?}"
    );
    assert_eq!(target.failures(), (2, 1));
}

#[test]
fn the_device_target_sends_raw_frames_to_the_device() {
    let frames = fnp_host::frames::adversarial();
    let mut target = memory_target();
    let outcomes = target.run_frames(&frames);
    assert_eq!(outcomes, fnp_host::frames::in_memory(&frames));
    assert_eq!(target.failures(), (0, 0));
    // A frame the device dies on counts as a crash and the next frame gets
    // a fresh device.
    target.device_mut().client = Some(MemoryDevice::connect(Fault::Hangs).unwrap());
    let outcomes = target.run_frames(&frames[..2]);
    assert_eq!(outcomes[0], FrameOutcome::TimedOut);
    assert_eq!(outcomes[1], fnp_host::frames::in_memory(&frames[1..2])[0]);
    assert_eq!(target.failures(), (1, 0));
    // No device at all: each frame is `crashed` with the reason.
    target.device_mut().client = None;
    target.device_mut().unreachable = true;
    let outcomes = target.run_frames(&frames[..1]);
    assert!(
        matches!(&outcomes[0], FrameOutcome::Crashed { detail } if detail.contains("did not come back")),
        "{outcomes:?}"
    );
}
