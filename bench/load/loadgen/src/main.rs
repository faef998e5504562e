//! An open-loop load generator for the serving benchmark: Fresco frames over WebSockets, or
//! POSTs of a prebuilt body over keep-alive HTTP (Fresco's or a baseline's).
//!
//! Why not Node: on a 2-core machine a Node generator (a timer thread, an event loop, a client,
//! its GC) took about 80 µs of CPU per request and was itself up to ~1.7 ms late at p99, so its
//! own stalls showed up as server latency. This one is one thread around one epoll: a timerfd
//! ticks at the request interval and each tick sends the requests that are due (prebuilt by the
//! caller, so sending is a single write). WebSocket answers are matched to requests by the id in
//! the frame (many in flight per connection); HTTP requests wait for a free connection (one in
//! flight each, like a keep-alive agent) and that wait counts. Latency runs from when a request
//! was *scheduled*, not sent (coordinated omission).
//!
//! Usage: fresco-loadgen ws|http ADDR PATH RATE CONNECTIONS WARMUP FRAMES_FILE OUT_FILE [CONTENT_TYPE]
//!   FRAMES_FILE: u32 requests, u32 distinct bodies, then per body u32 length + its bytes; request
//!   i sends body i % distinct (ws: a Fresco frame, and a request's id must be i + 1, so every
//!   request has its own; http: the POST body, sent with CONTENT_TYPE).
//!   OUT_FILE (written at the end): four f64 arrays of `count` values: scheduled time (epoch
//!   ms), latency (ms, NaN when the request failed), lateness of the send (ms), and the answer's
//!   status (200 ok; an HTTP status; 429 also for a WebSocket FRESCO_ERR_RESOURCE_EXHAUSTED;
//!   500 another error; 0 no answer), so that a caller can count rejections apart from failures.
//!   Stdout: `started` when request WARMUP is due, then one JSON line: errorCount, errors (the
//!   first 20), elapsedMs (from request WARMUP's schedule to the end).

mod answer;
mod http;
mod sys;
mod ws;

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;

/// Requests that get no answer within this long after the last one was due fail.
const ANSWER_TIMEOUT_NS: i64 = 10_000_000_000;
const TIMER: u64 = u64::MAX;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Ws,
    Http,
}

struct Conn {
    stream: TcpStream,
    /// HTTP: the request this connection waits on.
    in_flight: Option<usize>,
    inbox: Vec<u8>,
    /// Bytes that did not fit in the socket yet (EPOLLOUT is armed while this is non-empty).
    outbox: Vec<u8>,
}

struct Run {
    mode: Mode,
    total: usize,
    frames: Vec<Vec<u8>>,
    /// HTTP: due requests waiting for a free connection, oldest first.
    waiting: VecDeque<usize>,
    conns: Vec<Conn>,
    epoll: sys::Epoll,
    start_ns: i64,
    /// Whole nanoseconds: the timerfd ticks at exactly this period, so the schedule must use it too.
    interval_ns: i64,
    scheduled_ms: Vec<f64>,
    latency_ms: Vec<f64>,
    late_ms: Vec<f64>,
    status: Vec<f64>,
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
        self.start_ns + i as i64 * self.interval_ns
    }

    fn send_due(&mut self) -> Result<(), String> {
        let now = sys::now_ns();
        if now < self.start_ns {
            return Ok(());
        }
        let due = (((now - self.start_ns) / self.interval_ns) as usize + 1).min(self.total);
        while self.next < due {
            let i = self.next;
            self.next += 1;
            self.late_ms[i] = (now - self.scheduled_ns(i)) as f64 / 1e6;
            if i == self.warmup {
                println!("started");
                std::io::stdout().flush().ok();
            }
            match self.mode {
                Mode::Ws => self.send(i % self.conns.len(), i)?,
                Mode::Http => self.waiting.push_back(i),
            }
        }
        self.dispatch_http()
    }

    fn send(&mut self, c: usize, i: usize) -> Result<(), String> {
        let k = i % self.frames.len();
        let frame = std::mem::take(&mut self.frames[k]);
        let written = self.write(c, &frame);
        self.frames[k] = frame;
        written
    }

    /// HTTP: hands waiting requests to idle connections.
    fn dispatch_http(&mut self) -> Result<(), String> {
        for c in 0..self.conns.len() {
            if self.waiting.is_empty() {
                break;
            }
            if self.conns[c].in_flight.is_none() {
                let i = self.waiting.pop_front().unwrap();
                self.conns[c].in_flight = Some(i);
                self.send(c, i)?;
            }
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
        self.status[i] = status_of(error.as_deref());
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
        let used = match self.mode {
            Mode::Ws => self.ws_answers(c, &inbox)?,
            Mode::Http => self.http_answers(c, &inbox)?,
        };
        self.conns[c].inbox = inbox[used..].to_vec();
        Ok(())
    }

    /// Settles the requests whose answers are whole in `inbox`; returns the bytes used.
    fn ws_answers(&mut self, c: usize, inbox: &[u8]) -> Result<usize, String> {
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
        Ok(at)
    }

    fn http_answers(&mut self, c: usize, inbox: &[u8]) -> Result<usize, String> {
        let mut at = 0;
        while let Some((status, used)) = http::next_response(&inbox[at..])? {
            let i = self.conns[c].in_flight.take().ok_or(format!("connection {c}: a response without a request"))?;
            self.settle(i, (status != 200).then(|| format!("HTTP {status}")));
            at += used;
        }
        self.dispatch_http()?;
        Ok(at)
    }
}

/// The number of requests, and the distinct bodies as they go on the wire (`wrap` turns a body
/// into a WebSocket frame or a POST).
fn read_frames(path: &str, wrap: impl Fn(&[u8]) -> Vec<u8>) -> Result<(usize, Vec<Vec<u8>>), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let u32_at = |at: usize| bytes.get(at..at + 4).map(|b| u32::from_le_bytes(b.try_into().unwrap()) as usize);
    let total = u32_at(0).ok_or(format!("{path}: no request count"))?;
    let count = u32_at(4).ok_or(format!("{path}: no body count"))?;
    if count == 0 || count > total {
        return Err(format!("{path}: {count} bodies for {total} requests"));
    }
    let mut frames = Vec::with_capacity(count);
    let mut at = 8;
    for i in 0..count {
        let len = u32_at(at).ok_or(format!("{path}: frame {i}: truncated length"))?;
        let body = bytes.get(at + 4..at + 4 + len).ok_or(format!("{path}: frame {i}: truncated"))?;
        frames.push(wrap(body));
        at += 4 + len;
    }
    Ok((total, frames))
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
    let usage = "usage: fresco-loadgen ws|http ADDR PATH RATE CONNECTIONS WARMUP FRAMES_FILE OUT_FILE [CONTENT_TYPE]";
    let (mode, rest) = match args.split_first() {
        Some((m, rest)) if m == "ws" => (Mode::Ws, rest),
        Some((m, rest)) if m == "http" => (Mode::Http, rest),
        _ => return Err(usage.into()),
    };
    let (addr, path, rate, connections, warmup, frames_file, out_file, content_type) = match rest {
        [a, p, r, c, w, f, o] => (a, p, r, c, w, f, o, "application/octet-stream"),
        [a, p, r, c, w, f, o, t] => (a, p, r, c, w, f, o, t.as_str()),
        _ => return Err(usage.into()),
    };
    let number = |name: &str, v: &str| v.parse::<f64>().map_err(|_| format!("{name}: not a number: {v}"));
    let rate = number("RATE", rate)?;
    let connections = number("CONNECTIONS", connections)? as usize;
    let warmup = number("WARMUP", warmup)? as usize;
    let (total, frames) = match mode {
        Mode::Ws => read_frames(frames_file, ws::binary_frame)?,
        Mode::Http => read_frames(frames_file, |body| http::post(addr, path, content_type, body))?,
    };
    if mode == Mode::Ws && frames.len() != total {
        return Err(format!("{frames_file}: WebSocket requests need a frame each (their ids differ)"));
    }
    sys::tighten_timer_slack();

    let epoll = sys::Epoll::new()?;
    let mut conns = Vec::with_capacity(connections);
    for c in 0..connections.max(1) {
        let (stream, inbox) = match mode {
            Mode::Ws => ws::connect(addr, path)?,
            Mode::Http => (http_connect(addr)?, Vec::new()),
        };
        stream.set_nonblocking(true).map_err(|e| e.to_string())?;
        epoll.watch_new(stream.as_raw_fd(), c as u64)?;
        conns.push(Conn { stream, in_flight: None, inbox, outbox: Vec::new() });
    }
    let interval_ns = (1e9 / rate).round().max(1.0) as i64;
    // Start a little ahead, so that the first requests are not late by the set-up below.
    let start_ns = sys::now_ns() + 5_000_000;
    let epoch_start_ms = sys::epoch_ms() + (start_ns - sys::now_ns()) as f64 / 1e6;
    let timer = sys::Timer::periodic(start_ns, interval_ns)?;
    epoll.watch_new(timer.fd(), TIMER)?;

    let mut run = Run {
        mode,
        total,
        waiting: VecDeque::new(),
        scheduled_ms: (0..total).map(|i| epoch_start_ms + (i as i64 * interval_ns) as f64 / 1e6).collect(),
        latency_ms: vec![f64::NAN; total],
        late_ms: vec![0.0; total],
        status: vec![0.0; total],
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
    let mut timer_armed = true;
    while run.settled < total {
        if run.next >= total && timer_armed {
            timer.disarm()?; // everything is sent: only answers are awaited now
            timer_armed = false;
        }
        let now = sys::now_ns();
        if run.next >= total && now >= deadline {
            break;
        }
        let timeout_ms = if run.next < total { -1 } else { ((deadline - now) / 1_000_000 + 1) as i32 };
        run.epoll.wait(&mut events, timeout_ms)?;
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
    let measured_ms = epoch_start_ms + (warmup.min(total) as i64 * interval_ns) as f64 / 1e6;
    write_result(out_file, &[&run.scheduled_ms, &run.latency_ms, &run.late_ms, &run.status])?;
    let errors: Vec<String> = run.errors.iter().map(|e| json_string(e)).collect();
    println!("{{\"errorCount\":{},\"errors\":[{}],\"elapsedMs\":{}}}", run.error_count, errors.join(","), sys::epoch_ms() - measured_ms);
    Ok(())
}

/// The status recorded for an answer: see OUT_FILE above.
fn status_of(error: Option<&str>) -> f64 {
    match error {
        None => 200.0,
        Some(e) if e.contains("RESOURCE_EXHAUSTED") => 429.0,
        Some(e) => e.strip_prefix("HTTP ").and_then(|s| s.parse::<f64>().ok()).unwrap_or(500.0),
    }
}

#[cfg(test)]
mod tests {
    use super::status_of;

    #[test]
    fn rejections_are_told_apart_from_failures() {
        assert_eq!(status_of(None), 200.0);
        assert_eq!(status_of(Some("HTTP 429")), 429.0);
        assert_eq!(status_of(Some("FRESCO_ERR_RESOURCE_EXHAUSTED: queue full")), 429.0);
        assert_eq!(status_of(Some("HTTP 503")), 503.0);
        assert_eq!(status_of(Some("a row failed")), 500.0);
    }
}

/// `text` as a JSON string literal.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn http_connect(addr: &str) -> Result<TcpStream, String> {
    let stream = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    Ok(stream)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = run(&args) {
        eprintln!("fresco-loadgen: {e}");
        std::process::exit(1);
    }
}
