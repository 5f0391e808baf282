//! The adversarial frames against fnp-core's wire server, in memory (the
//! QEMU boards get the same frames in `device_qemu.rs` and every
//! conformance run): each is refused with its reason, and the server
//! keeps serving.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fnp_core::wire::Reason;
use fnp_host::device::memory::{spawn_server, DeviceSizes};
use fnp_host::device::Client;
use fnp_host::frames::{adversarial, exchange, load, to_json, FrameOutcome};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/frames/adversarial.json")
}

#[test]
fn the_committed_fixture_is_what_the_generator_makes() {
    let text = serde_json::to_string_pretty(&to_json(&adversarial())).unwrap() + "\n";
    if std::env::var_os("FNP_OVERWRITE_GOLDEN").is_some() {
        std::fs::write(fixture(), &text).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(fixture()).unwrap_or_default(),
        text,
        "fixtures/frames/adversarial.json differs (FNP_OVERWRITE_GOLDEN=1 to accept)"
    );
}

#[test]
fn every_frame_gets_its_reason_and_the_server_goes_on() {
    let frames = load(&fixture()).unwrap();
    assert!(frames.len() >= 20);
    // Every reason a frame can earn is covered, except the version check,
    // which only a Hello (device to host) carries.
    for r in Reason::ALL {
        if matches!(
            r,
            Reason::VersionMismatch | Reason::TooLarge | Reason::Unsupported
        ) {
            continue;
        }
        assert!(frames.iter().any(|f| f.reason == *r), "no frame for {r:?}");
    }
    // The schema names exactly the reasons the wire has.
    let schema: serde_json::Value =
        serde_json::from_str(fnp_host::schema::Kind::Frames.text()).unwrap();
    let names: Vec<&str> = schema["$defs"]["frame"]["properties"]["reason"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    let wire: Vec<&str> = Reason::ALL.iter().map(|r| r.name()).collect();
    assert_eq!(names, wire);
    let (transport, _server) = spawn_server(DeviceSizes::default());
    let deadline = || Instant::now() + Duration::from_secs(10);
    let mut client = Client::connect(transport, deadline()).unwrap();
    let mut wrong = Vec::new();
    for f in &frames {
        match exchange(&mut client, &f.wire, deadline()) {
            Ok(FrameOutcome::Refused { reason, .. }) if reason == f.reason as u8 => {}
            other => wrong.push(format!(
                "{}: expected {}, got {other:?}",
                f.id,
                f.reason.name()
            )),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
