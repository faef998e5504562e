//! Scheduling classes of this process's threads (src/serving/scheduling.ts decides which).
//!
//! Linux's SCHED_IDLE class runs a thread only when no normal thread wants the CPU, and a normal
//! thread that wakes up preempts it at once. That is what a serving process wants for its
//! background work (V8's compiler and GC helper threads, a model version loading beside the
//! serving one): on a normal-class thread, a burst of such work delays a woken serving thread
//! until the next scheduler tick (4 ms at HZ=250), which is the whole latency budget.

use napi_derive::napi;

/// Moves thread `tid` of this process into SCHED_IDLE (`background`) or back into the normal
/// class (SCHED_OTHER). Returns null when done, or why not: the thread is not one of this
/// process's, the OS refused (leaving SCHED_IDLE needs CAP_SYS_NICE or RLIMIT_NICE >= 20), or
/// the platform has no such classes.
#[napi]
pub fn set_thread_background(tid: u32, background: bool) -> Option<String> {
    set_background(tid, background).err()
}

#[cfg(target_os = "linux")]
fn set_background(tid: u32, background: bool) -> Result<(), String> {
    // Confined to this process: a tid is only accepted when it is one of our own threads.
    if tid == 0 || !std::path::Path::new(&format!("/proc/self/task/{tid}")).exists() {
        return Err(format!("thread {tid} is not a thread of this process"));
    }
    let policy = if background { libc::SCHED_IDLE } else { libc::SCHED_OTHER };
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: sched_setscheduler reads `param` only; tid was checked to be ours above.
    let rc = unsafe { libc::sched_setscheduler(tid as libc::pid_t, policy, &param) };
    if rc == 0 {
        Ok(())
    } else {
        Err(format!("sched_setscheduler(thread {tid}): {}", std::io::Error::last_os_error()))
    }
}

#[cfg(not(target_os = "linux"))]
fn set_background(_tid: u32, _background: bool) -> Result<(), String> {
    Err("thread scheduling classes are only set on Linux".to_owned())
}
