//! The few Linux calls the generator needs (epoll, timerfd, clocks), each checked.

use std::io::Error;

fn check(rc: i32, what: &str) -> Result<i32, String> {
    if rc < 0 {
        Err(format!("{what}: {}", Error::last_os_error()))
    } else {
        Ok(rc)
    }
}

/// CLOCK_MONOTONIC in nanoseconds: the clock the timerfd ticks on.
pub fn now_ns() -> i64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}

pub fn epoch_ms() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64() * 1e3).unwrap_or(0.0)
}

/// A thread's timers may fire up to its slack late (50 µs by default), a quarter of the interval at
/// 5,000 req/s; one nanosecond asks the kernel to be exact.
pub fn tighten_timer_slack() {
    unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0) };
}

pub struct Epoll(i32);

impl Epoll {
    pub fn new() -> Result<Epoll, String> {
        Ok(Epoll(check(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) }, "epoll_create1")?))
    }

    fn ctl(&self, op: i32, fd: i32, token: u64, writable: bool) -> Result<(), String> {
        let flags = libc::EPOLLIN | libc::EPOLLRDHUP | if writable { libc::EPOLLOUT } else { 0 };
        let mut ev = libc::epoll_event { events: flags as u32, u64: token };
        check(unsafe { libc::epoll_ctl(self.0, op, fd, &mut ev) }, "epoll_ctl").map(|_| ())
    }

    /// Watches a new fd for reading.
    pub fn watch_new(&self, fd: i32, token: u64) -> Result<(), String> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, token, false)
    }

    /// Watches a watched fd for reading, and for writing too while `writable`.
    pub fn watch(&self, fd: i32, token: u64, writable: bool) -> Result<(), String> {
        self.ctl(libc::EPOLL_CTL_MOD, fd, token, writable)
    }

    pub fn wait(&self, events: &mut Events, timeout_ms: i32) -> Result<(), String> {
        loop {
            let n = unsafe { libc::epoll_wait(self.0, events.list.as_mut_ptr(), events.list.capacity() as i32, timeout_ms) };
            if n < 0 && Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            let n = check(n, "epoll_wait")?;
            unsafe { events.list.set_len(n as usize) };
            return Ok(());
        }
    }
}

impl Drop for Epoll {
    fn drop(&mut self) {
        unsafe { libc::close(self.0) };
    }
}

pub struct Events {
    list: Vec<libc::epoll_event>,
}

impl Events {
    pub fn with_capacity(n: usize) -> Events {
        Events { list: Vec::with_capacity(n) }
    }
    /// (token, readable or hung up, writable) per event.
    pub fn iter(&self) -> impl Iterator<Item = (u64, bool, bool)> + '_ {
        let hup = (libc::EPOLLIN | libc::EPOLLHUP | libc::EPOLLERR | libc::EPOLLRDHUP) as u32;
        self.list.iter().map(move |e| (e.u64, e.events & hup != 0, e.events & libc::EPOLLOUT as u32 != 0))
    }
}

/// A periodic timerfd on CLOCK_MONOTONIC: first tick at `start_ns`, then every `interval_ns`.
pub struct Timer(i32);

impl Timer {
    pub fn periodic(start_ns: i64, interval_ns: i64) -> Result<Timer, String> {
        let fd = check(unsafe { libc::timerfd_create(libc::CLOCK_MONOTONIC, libc::TFD_NONBLOCK | libc::TFD_CLOEXEC) }, "timerfd_create")?;
        let spec = |ns: i64| libc::timespec { tv_sec: ns / 1_000_000_000, tv_nsec: ns % 1_000_000_000 };
        let when = libc::itimerspec { it_value: spec(start_ns), it_interval: spec(interval_ns.max(1)) };
        check(unsafe { libc::timerfd_settime(fd, libc::TFD_TIMER_ABSTIME, &when, std::ptr::null_mut()) }, "timerfd_settime")?;
        Ok(Timer(fd))
    }
    pub fn fd(&self) -> i32 {
        self.0
    }
    /// Stops the ticks.
    pub fn disarm(&self) -> Result<(), String> {
        let zero = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        let off = libc::itimerspec { it_value: zero, it_interval: zero };
        check(unsafe { libc::timerfd_settime(self.0, 0, &off, std::ptr::null_mut()) }, "timerfd_settime").map(|_| ())
    }
    /// Reads the tick count (so the fd stops being readable); the caller works out what is due.
    pub fn consume(&self) {
        let mut ticks = 0u64;
        unsafe { libc::read(self.0, &mut ticks as *mut u64 as *mut libc::c_void, 8) };
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        unsafe { libc::close(self.0) };
    }
}
