//! Running a command on a pseudo-terminal, as a user at a terminal would, and reading what it
//! showed. Opened with `openpty` directly: no `script` binary, whose package differs between
//! distributions (util-linux, bsdutils) and is missing from slim images.

use std::fs::File;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};

/// Runs `command` with its stdin, stdout and stderr on one new pseudo-terminal and returns
/// everything it wrote there (the terminal turns `\n` into `\r\n`) once it has exited.
pub fn shown_on_a_terminal(mut command: Command) -> String {
    let (mut controller, device) = open_pty();
    command
        .stdin(Stdio::from(device.try_clone().expect("dup the terminal")))
        .stdout(Stdio::from(device.try_clone().expect("dup the terminal")))
        .stderr(Stdio::from(device));
    let mut child = command.spawn().expect("the command starts");
    // The child's copies of the device are the only ones left once `command` is dropped
    // here: when it exits, reading the controller ends (EIO on Linux, 0 elsewhere).
    drop(command);
    let mut shown = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        match controller.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => shown.extend_from_slice(&buffer[..read]),
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    child.wait().expect("the command exits");
    String::from_utf8_lossy(&shown).into_owned()
}

fn open_pty() -> (File, OwnedFd) {
    let mut controller = -1;
    let mut device = -1;
    let size = libc::winsize {
        ws_row: 24,
        ws_col: 100,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: the out-pointers and the window size are valid; name and termios may be null.
    let status = unsafe {
        libc::openpty(
            &mut controller,
            &mut device,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(status, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: openpty returned two open descriptors that nothing else owns.
    unsafe { (File::from_raw_fd(controller), OwnedFd::from_raw_fd(device)) }
}
