//! The client side of HTTP/1.1 keep-alive that the generator needs: a POST with a prebuilt body
//! out, and whole responses in (status line, headers, a Content-Length body).

/// One POST request, ready to write.
pub fn post(addr: &str, path: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// The first whole response in `buf`: its status and its length in bytes, or None until more
/// bytes arrive. Responses without a Content-Length (chunked) are refused.
pub fn next_response(buf: &[u8]) -> Result<Option<(u16, usize)>, String> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return if buf.len() > 64 * 1024 { Err("no end of headers in 64 KiB of response".into()) } else { Ok(None) };
    };
    let head = std::str::from_utf8(&buf[..end]).map_err(|_| "response headers are not UTF-8".to_string())?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line.split(' ').nth(1).and_then(|s| s.parse::<u16>().ok()).ok_or(format!("bad status line: {status_line}"))?;
    let length = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.trim().parse::<usize>().map_err(|_| format!("bad Content-Length: {v}")))
        .ok_or("response without Content-Length (chunked responses are not supported)".to_string())??;
    let total = end + 4 + length;
    Ok(if buf.len() >= total { Some((status, total)) } else { None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_whole_responses_only() {
        let r = b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\nX: y\r\n\r\nabcHTTP/1.1 429 Too Many\r\nContent-Length: 0\r\n\r\n";
        let first = r.windows(3).position(|w| w == b"abc").unwrap() + 3;
        assert_eq!(next_response(r).unwrap(), Some((200, first)));
        assert_eq!(next_response(&r[first..]).unwrap(), Some((429, r.len() - first)));
        assert_eq!(next_response(&r[..first - 1]).unwrap(), None);
        assert!(next_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").is_err());
    }
}
