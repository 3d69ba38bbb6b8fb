//! What the process does when it is stopped from outside: temporary
//! outputs are removed, whatever stopped it.
//!
//! - SIGBUS: a mapped input shrank while it was being read (another
//!   program truncated or rewrote it). The access that faults cannot be
//!   completed, so the handler says which input was being read, removes
//!   the temporary outputs and exits with status 2. Only async-signal-safe
//!   calls run in it (`write`, `unlink`, `_exit`) over data prepared
//!   beforehand: the input's name and the temporary paths are kept as
//!   C strings in fixed slots, never freed while the process runs.
//! - Ctrl-C, SIGTERM, SIGHUP (single-file commands; `batch` installs its
//!   own handler): temporary outputs are removed and the process exits
//!   with status 130, so no partial output is ever left behind, not even
//!   under its hidden temporary name.
//!
//! This is the only `unsafe` of the command-line program: installing the
//! handler and the system calls inside it.
#![allow(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks, clippy::multiple_unsafe_ops_per_block)]

use std::ffi::{c_char, CString};
use std::path::Path;
use std::sync::atomic::{AtomicPtr, Ordering};

/// Temporary outputs open at once (a `snapshot -o DIR` writes one at a time).
const SLOTS: usize = 64;

static TEMPS: [AtomicPtr<c_char>; SLOTS] = [const { AtomicPtr::new(std::ptr::null_mut()) }; SLOTS];

/// The message printed if a mapped input faults: `mrtsnap: NAME: ...\n`.
static CURRENT_INPUT: AtomicPtr<c_char> = AtomicPtr::new(std::ptr::null_mut());

/// A C string that lives until the process ends. The handlers may read it
/// at any moment, so it is never freed; a few bytes per input or output.
fn leak(bytes: Vec<u8>) -> *mut c_char {
    let bytes: Vec<u8> = bytes.into_iter().map(|b| if b == 0 { b'?' } else { b }).collect();
    CString::new(bytes).map_or(std::ptr::null_mut(), CString::into_raw)
}

fn path_bytes(p: &Path) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        p.as_os_str().as_bytes().to_vec()
    }
    #[cfg(not(unix))]
    {
        p.to_string_lossy().into_owned().into_bytes()
    }
}

/// Name the input being read, for the message of a fault in its map.
pub fn reading(input: &str) {
    let msg = format!(
        "mrtsnap: {input}: changed while being read (the file shrank under its memory map); \
         temporary outputs removed, no output written\n"
    );
    CURRENT_INPUT.store(leak(msg.into_bytes()), Ordering::SeqCst);
}

/// Remember a temporary output, to be removed if the process is stopped.
/// Returns its slot, or `None` when all slots are taken (the file is then
/// still removed on every ordinary exit path, just not from a handler).
pub fn register_temp(path: &Path) -> Option<usize> {
    let p = leak(path_bytes(path));
    if p.is_null() {
        return None;
    }
    TEMPS.iter().position(|s| {
        s.compare_exchange(std::ptr::null_mut(), p, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    })
}

/// Forget a temporary output (renamed into place, or removed).
pub fn unregister_temp(slot: usize) {
    if let Some(s) = TEMPS.get(slot) {
        s.store(std::ptr::null_mut(), Ordering::SeqCst);
    }
}

/// Remove every registered temporary output. Async-signal-safe.
fn remove_temps() {
    for s in &TEMPS {
        let p = s.load(Ordering::SeqCst);
        if p.is_null() {
            continue;
        }
        #[cfg(unix)]
        // SAFETY: `p` is a NUL-terminated string leaked by `register_temp`
        // and never freed; `unlink` is async-signal-safe.
        unsafe {
            libc::unlink(p)
        };
        #[cfg(not(unix))]
        {
            // SAFETY: as above; not in a signal handler on these systems.
            let c = unsafe { std::ffi::CStr::from_ptr(p) };
            let _ = std::fs::remove_file(c.to_string_lossy().as_ref());
        }
    }
}

#[cfg(unix)]
extern "C" fn on_sigbus(_: libc::c_int) {
    let msg = CURRENT_INPUT.load(Ordering::SeqCst);
    let fallback = c"mrtsnap: an input changed while being read (a fault in its memory map); no output written\n";
    let msg: *const c_char = if msg.is_null() { fallback.as_ptr() } else { msg };
    // SAFETY: `msg` is NUL-terminated (a leaked `CString` or a literal).
    let len = unsafe { libc::strlen(msg) };
    // SAFETY: `msg` points to `len` readable bytes; `write` is async-signal-safe.
    unsafe { libc::write(2, msg.cast(), len) };
    remove_temps();
    // SAFETY: `_exit` is async-signal-safe and never returns.
    unsafe { libc::_exit(2) };
}

/// Install the handlers: SIGBUS always; Ctrl-C/SIGTERM/SIGHUP unless the
/// command installs its own (`batch`).
pub fn install(interrupts: bool) {
    #[cfg(unix)]
    {
        // SAFETY: an all-zero `sigaction` is a valid value (empty mask, no flags).
        let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
        sa.sa_sigaction = on_sigbus as extern "C" fn(libc::c_int) as libc::sighandler_t;
        // SAFETY: `sa` is initialised and the handler only makes
        // async-signal-safe calls; the old action is not wanted.
        unsafe { libc::sigaction(libc::SIGBUS, &sa, std::ptr::null_mut()) };
    }
    if interrupts {
        let _ = ctrlc::set_handler(|| {
            remove_temps();
            eprintln!("mrtsnap: interrupted; temporary outputs removed");
            std::process::exit(130);
        });
    }
}
