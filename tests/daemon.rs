//! `modhost run` as a daemon: it runs until SIGINT or SIGTERM, then detaches every mod in
//! reverse load order and exits 0.

mod support;

use std::path::Path;

use support::Running;

fn example_pack() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn sigterm_detaches_in_reverse_order_and_exits_cleanly() {
    let mut modhost = Running::start(example_pack(), &["run"]);
    modhost.wait_for("running; press Ctrl-C to stop");
    modhost.signal("TERM");
    modhost.wait_for("[core-lib] core-lib detached");
    let (status, lines) = modhost.finish();
    assert!(status.success(), "{status}");
    let detached: Vec<&String> = lines
        .iter()
        .filter(|line| line.contains("detached"))
        .collect();
    assert_eq!(detached.len(), 2, "{lines:#?}");
    assert!(
        detached[0].contains("[my-mod]"),
        "my-mod loads last, so it detaches first"
    );
}

#[test]
fn sigint_stops_it_too() {
    let mut modhost = Running::start(example_pack(), &["run"]);
    modhost.wait_for("running; press Ctrl-C to stop");
    modhost.signal("INT");
    let (status, lines) = modhost.finish();
    assert!(status.success(), "{status}: {lines:#?}");
    assert!(
        lines
            .iter()
            .any(|line| line.contains("[my-mod] My mod detached"))
    );
}

#[test]
fn a_second_signal_exits_at_once() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/slow-detach");
    let mut modhost = Running::start(&fixture, &["run"]);
    modhost.wait_for("running; press Ctrl-C to stop");
    modhost.signal("TERM");
    modhost.wait_for("detaching slowly");
    modhost.signal("TERM");
    let (status, lines) = modhost.finish();
    assert_eq!(status.code(), Some(130), "{lines:#?}");
    assert!(
        !lines
            .iter()
            .any(|line| line.contains("slow detach finished")),
        "the second signal should not wait for the detach: {lines:#?}"
    );
}
