//! The client side of WebSocket (RFC 6455) that the generator needs: the upgrade handshake,
//! binary frames out (masked, as a client must) and whole frames in (a server never masks).

use std::io::{Read, Write};
use std::net::TcpStream;

/// Opens a WebSocket on `addr` + `path`; returns the stream and any bytes that came after the
/// handshake's headers (the start of the first frame).
pub fn connect(addr: &str, path: &str) -> Result<(TcpStream, Vec<u8>), String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    // A server that accepts but never answers the upgrade must not hang the benchmark.
    stream.set_read_timeout(Some(std::time::Duration::from_secs(5))).map_err(|e| e.to_string())?;
    // The key is fixed: a server checks its form, not its freshness, and this client talks only
    // to the server under test (the accept hash is not checked for the same reason).
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).map_err(|e| format!("handshake to {addr}: {e}"))?;
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        let n = stream.read(&mut chunk).map_err(|e| format!("handshake from {addr}: {e}"))?;
        if n == 0 {
            return Err(format!("{addr} closed the connection during the WebSocket handshake"));
        }
        got.extend_from_slice(&chunk[..n]);
        if let Some(at) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if got.len() > 16 * 1024 {
            return Err(format!("{addr}: no end of headers in 16 KiB of handshake answer"));
        }
    };
    let status = String::from_utf8_lossy(&got[..got.iter().position(|&b| b == b'\r').unwrap_or(0)]).into_owned();
    if !status.contains(" 101 ") {
        return Err(format!("{addr}{path}: WebSocket upgrade refused: {status}"));
    }
    Ok((stream, got[end..].to_vec()))
}

/// One binary message as a client frame: FIN + binary opcode, masked with a zero key (any key is
/// valid; zero leaves the payload as it is, so a frame can be built once and sent as is).
pub fn binary_frame(payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(payload.len() + 14);
    frame.push(0x82);
    let len = payload.len();
    if len < 126 {
        frame.push(0x80 | len as u8);
    } else if len <= u16::MAX as usize {
        frame.push(0x80 | 126);
        frame.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        frame.push(0x80 | 127);
        frame.extend_from_slice(&(len as u64).to_be_bytes());
    }
    frame.extend_from_slice(&[0, 0, 0, 0]);
    frame.extend_from_slice(payload);
    frame
}

/// A pong answering a ping's payload (control payloads are at most 125 bytes).
pub fn pong_frame(payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![0x8A, 0x80 | payload.len().min(125) as u8, 0, 0, 0, 0];
    frame.extend_from_slice(&payload[..payload.len().min(125)]);
    frame
}

pub enum Incoming<'a> {
    Binary(&'a [u8]),
    Ping(&'a [u8]),
    Close,
    Other,
}

/// The first whole frame in `buf` and its length in bytes, or None until more bytes arrive.
pub fn next_frame(buf: &[u8]) -> Result<Option<(Incoming<'_>, usize)>, String> {
    if buf.len() < 2 {
        return Ok(None);
    }
    if buf[0] & 0x80 == 0 {
        return Err("fragmented WebSocket message (the server sends whole frames)".into());
    }
    if buf[1] & 0x80 != 0 {
        return Err("masked frame from the server".into());
    }
    let (len, header): (usize, usize) = match buf[1] & 0x7f {
        126 if buf.len() >= 4 => (u16::from_be_bytes([buf[2], buf[3]]) as usize, 4),
        127 if buf.len() >= 10 => (u64::from_be_bytes(buf[2..10].try_into().unwrap()) as usize, 10),
        126 | 127 => return Ok(None),
        n => (n as usize, 2),
    };
    let Some(end) = header.checked_add(len) else { return Err(format!("frame length {len} overflows")) };
    if buf.len() < end {
        return Ok(None);
    }
    let payload = &buf[header..end];
    let kind = match buf[0] & 0x0f {
        0x2 => Incoming::Binary(payload),
        0x9 => Incoming::Ping(payload),
        0x8 => Incoming::Close,
        _ => Incoming::Other,
    };
    Ok(Some((kind, end)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_lengths_round_trip_through_the_three_header_forms() {
        for len in [0usize, 125, 126, 65535, 65536] {
            let payload = vec![7u8; len];
            let mut frame = binary_frame(&payload);
            // A server frame is the same without the mask bit and key.
            frame[1] &= 0x7f;
            let header = frame.len() - len - 4;
            frame.drain(header..header + 4);
            match next_frame(&frame).unwrap() {
                Some((Incoming::Binary(p), used)) => {
                    assert_eq!(p.len(), len);
                    assert_eq!(used, frame.len());
                }
                _ => panic!("no frame for length {len}"),
            }
            assert!(next_frame(&frame[..frame.len() - 1]).unwrap().is_none() || len == 0);
        }
    }
}
