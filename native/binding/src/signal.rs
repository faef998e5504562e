//! Completion signals from inference threads to the event loop (src/serving/pool/).
//!
//! An inference thread that finished a batch must wake the event loop. `Atomics.waitAsync` does
//! that, but leaves ~120-190 bytes in V8's old generation on every wait, which at thousands of
//! batches a second brings a major GC (milliseconds of marking on the event loop) every few
//! seconds. A Node-API thread-safe function allocates nothing that outlives the call: the thread
//! calls `signalSend(id, value)` (it loads this addon too), and the event loop's callback runs
//! with `value` on its next turn.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

/// Weak: an open signal never keeps the process alive.
type Signal = ThreadsafeFunction<u32, (), u32, Status, false, true>;

static SIGNALS: Mutex<Option<HashMap<u32, Signal>>> = Mutex::new(None);
static NEXT_ID: AtomicU32 = AtomicU32::new(1);

/// Opens a signal whose sends call `callback(value)` on this thread's event loop; returns its id.
#[napi]
pub fn signal_open(callback: Function<u32, ()>) -> Result<u32> {
    let tsfn: Signal = callback.build_threadsafe_function::<u32>().weak::<true>().build()?;
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    SIGNALS
        .lock()
        .map_err(|_| Error::from_reason("signal registry poisoned"))?
        .get_or_insert_with(HashMap::new)
        .insert(id, tsfn);
    Ok(id)
}

/// Sends `value` through signal `id`, from any thread; false when there is no such signal.
#[napi]
pub fn signal_send(id: u32, value: u32) -> bool {
    let Ok(signals) = SIGNALS.lock() else { return false };
    match signals.as_ref().and_then(|m| m.get(&id)) {
        Some(tsfn) => tsfn.call(value, ThreadsafeFunctionCallMode::NonBlocking) == Status::Ok,
        None => false,
    }
}

/// Closes signal `id` (sends after this are dropped).
#[napi]
pub fn signal_close(id: u32) {
    if let Ok(mut signals) = SIGNALS.lock() {
        if let Some(m) = signals.as_mut() {
            m.remove(&id);
        }
    }
}
