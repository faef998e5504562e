//! An open-loop load generator for Fresco's WebSocket transport, for the serving benchmark.
//!
//! Why not Node: on a 2-core machine the Node generator (a timer thread, an event loop, a
//! FrescoClient, its GC) took about 80 µs of CPU per request and was itself up to ~1.7 ms late
//! at p99, so its own stalls showed up as server latency. This one is one thread around one
//! epoll: a timerfd ticks at the request interval, each tick sends the frames that are due
//! (prebuilt by the caller, so sending is a single write), and answers are matched to requests by
//! the id in the frame. Latency runs from when a request was *scheduled* (coordinated omission).
//!
//! Usage: fresco-loadgen ADDR PATH RATE CONNECTIONS WARMUP FRAMES_FILE OUT_FILE
//!   FRAMES_FILE: u32 count, then per request u32 length + a Fresco frame whose id is its index + 1.
//!   OUT_FILE (written at the end): three f64 arrays of `count` values: scheduled time (epoch
//!   ms), latency (ms, NaN when the request failed), lateness of the send (ms).
//!   Stdout: `started` when request WARMUP is due, then one JSON line: errorCount, errors (the
//!   first 20), elapsedMs (from request WARMUP's schedule to the end).

mod answer;
mod sys;
mod ws;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;

/// Requests that get no answer within this long after the last one was due fail.
const ANSWER_TIMEOUT_NS: i64 = 10_000_000_000;
const TIMER: u64 = u64::MAX;

struct Conn {
    stream: TcpStream,
    inbox: Vec<u8>,
    /// Bytes that did not fit in the socket yet (EPOLLOUT is armed while this is non-empty).
    outbox: Vec<u8>,
}

struct Run {
    frames: Vec<Vec<u8>>,
    conns: Vec<Conn>,
    epoll: sys::Epoll,
    start_ns: i64,
    interval_ns: f64,
    scheduled_ms: Vec<f64>,
    latency_ms: Vec<f64>,
    late_ms: Vec<f64>,
    next: usize,
    /// Per request: answered or failed already (a late answer after a failure is ignored).
    done: Vec<bool>,
    settled: usize,
    warmup: usize,
    errors: Vec<String>,
    error_count: usize,
}

impl Run {
    fn scheduled_ns(&self, i: usize) -> i64 {
        self.start_ns + (i as f64 * self.interval_ns) as i64
    }

    fn send_due(&mut self) -> Result<(), String> {
        let now = sys::now_ns();
        if now < self.start_ns {
            return Ok(());
        }
        let due = (((now - self.start_ns) as f64 / self.interval_ns) as usize + 1).min(self.frames.len());
        while self.next < due {
            let i = self.next;
            self.next += 1;
            self.late_ms[i] = (now - self.scheduled_ns(i)) as f64 / 1e6;
            if i == self.warmup {
                println!("started");
                std::io::stdout().flush().ok();
            }
            let c = i % self.conns.len();
            let frame = std::mem::take(&mut self.frames[i]);
            self.write(c, &frame)?;
        }
        Ok(())
    }

    fn write(&mut self, c: usize, bytes: &[u8]) -> Result<(), String> {
        let conn = &mut self.conns[c];
        if !conn.outbox.is_empty() {
            conn.outbox.extend_from_slice(bytes);
            return Ok(());
        }
        let mut written = 0;
        while written < bytes.len() {
            match conn.stream.write(&bytes[written..]) {
                Ok(n) => written += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("connection {c}: write: {e}")),
            }
        }
        if written < bytes.len() {
            conn.outbox.extend_from_slice(&bytes[written..]);
            self.epoll.watch(conn.stream.as_raw_fd(), c as u64, true)?;
        }
        Ok(())
    }

    fn flush(&mut self, c: usize) -> Result<(), String> {
        let pending = std::mem::take(&mut self.conns[c].outbox);
        self.epoll.watch(self.conns[c].stream.as_raw_fd(), c as u64, false)?;
        self.write(c, &pending)
    }

    fn settle(&mut self, i: usize, error: Option<String>) {
        if self.done[i] {
            return;
        }
        self.done[i] = true;
        match error {
            None => self.latency_ms[i] = (sys::now_ns() - self.scheduled_ns(i)) as f64 / 1e6,
            Some(e) => {
                self.error_count += 1;
                if self.errors.len() < 20 {
                    self.errors.push(e);
                }
            }
        }
        self.settled += 1;
    }

    fn receive(&mut self, c: usize) -> Result<(), String> {
        let mut chunk = [0u8; 64 * 1024];
        loop {
            match self.conns[c].stream.read(&mut chunk) {
                Ok(0) => return Err(format!("connection {c}: the server closed it")),
                Ok(n) => self.conns[c].inbox.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("connection {c}: read: {e}")),
            }
        }
        let inbox = std::mem::take(&mut self.conns[c].inbox);
        let mut at = 0;
        while let Some((frame, used)) = ws::next_frame(&inbox[at..])? {
            match frame {
                ws::Incoming::Binary(bytes) => match answer::read(bytes) {
                    Some(a) if a.id >= 1 && (a.id as usize) <= self.frames.len() => self.settle(a.id as usize - 1, a.error),
                    Some(a) => return Err(format!("answer for unknown request id {}", a.id)),
                    None => return Err("unreadable answer frame".into()),
                },
                ws::Incoming::Ping(p) => {
                    let pong = ws::pong_frame(p);
                    self.write(c, &pong)?;
                }
                ws::Incoming::Close => return Err(format!("connection {c}: the server sent close")),
                ws::Incoming::Other => {}
            }
            at += used;
        }
        self.conns[c].inbox = inbox[at..].to_vec();
        Ok(())
    }
}

fn read_frames(path: &str) -> Result<Vec<Vec<u8>>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let u32_at = |at: usize| bytes.get(at..at + 4).map(|b| u32::from_le_bytes(b.try_into().unwrap()) as usize);
    let count = u32_at(0).ok_or(format!("{path}: no count"))?;
    let mut frames = Vec::with_capacity(count);
    let mut at = 4;
    for i in 0..count {
        let len = u32_at(at).ok_or(format!("{path}: frame {i}: truncated length"))?;
        let body = bytes.get(at + 4..at + 4 + len).ok_or(format!("{path}: frame {i}: truncated"))?;
        frames.push(ws::binary_frame(body));
        at += 4 + len;
    }
    Ok(frames)
}

fn write_result(path: &str, arrays: &[&[f64]]) -> Result<(), String> {
    let mut out = Vec::with_capacity(arrays.iter().map(|a| a.len() * 8).sum());
    for a in arrays {
        for v in a.iter() {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    std::fs::write(path, out).map_err(|e| format!("{path}: {e}"))
}

fn run(args: &[String]) -> Result<(), String> {
    let [addr, path, rate, connections, warmup, frames_file, out_file] = args else {
        return Err("usage: fresco-loadgen ADDR PATH RATE CONNECTIONS WARMUP FRAMES_FILE OUT_FILE".into());
    };
    let number = |name: &str, v: &str| v.parse::<f64>().map_err(|_| format!("{name}: not a number: {v}"));
    let rate = number("RATE", rate)?;
    let connections = number("CONNECTIONS", connections)? as usize;
    let warmup = number("WARMUP", warmup)? as usize;
    let frames = read_frames(frames_file)?;
    let total = frames.len();
    sys::tighten_timer_slack();

    let epoll = sys::Epoll::new()?;
    let mut conns = Vec::with_capacity(connections);
    for c in 0..connections.max(1) {
        let (stream, inbox) = ws::connect(addr, path)?;
        stream.set_nonblocking(true).map_err(|e| e.to_string())?;
        epoll.watch_new(stream.as_raw_fd(), c as u64)?;
        conns.push(Conn { stream, inbox, outbox: Vec::new() });
    }
    let interval_ns = 1e9 / rate;
    // Start a little ahead, so that the first requests are not late by the set-up below.
    let start_ns = sys::now_ns() + 5_000_000;
    let epoch_start_ms = sys::epoch_ms() + (start_ns - sys::now_ns()) as f64 / 1e6;
    let timer = sys::Timer::periodic(start_ns, interval_ns as i64)?;
    epoll.watch_new(timer.fd(), TIMER)?;

    let mut run = Run {
        scheduled_ms: (0..total).map(|i| epoch_start_ms + i as f64 * interval_ns / 1e6).collect(),
        latency_ms: vec![f64::NAN; total],
        late_ms: vec![0.0; total],
        frames,
        conns,
        epoll,
        start_ns,
        interval_ns,
        next: 0,
        done: vec![false; total],
        settled: 0,
        warmup,
        errors: Vec::new(),
        error_count: 0,
    };
    let deadline = run.scheduled_ns(total.saturating_sub(1)) + ANSWER_TIMEOUT_NS;
    let mut events = sys::Events::with_capacity(64);
    while run.settled < total {
        let timeout_ms = if run.next < total { -1 } else { ((deadline - sys::now_ns()) / 1_000_000).max(0) as i32 };
        run.epoll.wait(&mut events, timeout_ms)?;
        if events.is_empty() && run.next >= total && sys::now_ns() >= deadline {
            break;
        }
        for (token, readable, writable) in events.iter() {
            if token == TIMER {
                timer.consume();
                run.send_due()?;
                continue;
            }
            let c = token as usize;
            if writable {
                run.flush(c)?;
            }
            if readable {
                run.receive(c)?;
            }
        }
    }
    for i in 0..total {
        if !run.done[i] {
            run.error_count += 1;
            if run.errors.len() < 20 {
                run.errors.push(format!("request {}: no answer within 10 s", i + 1));
            }
        }
    }
    let measured_ms = epoch_start_ms + warmup.min(total) as f64 * interval_ns / 1e6;
    write_result(out_file, &[&run.scheduled_ms, &run.latency_ms, &run.late_ms])?;
    let errors: Vec<String> = run.errors.iter().map(|e| format!("\"{}\"", e.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', " "))).collect();
    println!("{{\"errorCount\":{},\"errors\":[{}],\"elapsedMs\":{}}}", run.error_count, errors.join(","), sys::epoch_ms() - measured_ms);
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = run(&args) {
        eprintln!("fresco-loadgen: {e}");
        std::process::exit(1);
    }
}
