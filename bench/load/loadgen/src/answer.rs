//! Reads what the generator needs from an answer frame (schema/fresco.fbs) without a FlatBuffers
//! library: the body's type, the request id, and for an error its stable code.

/// What one answer says about its request.
pub struct Answer {
    pub id: u64,
    /// None: the prediction succeeded; Some: the error code (an Error body, or a row status).
    pub error: Option<String>,
}

const BODY_PREDICT_RESPONSE: u8 = 2;
const BODY_ERROR: u8 = 3;

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at.checked_add(2)?)?.try_into().ok()?))
}
fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

/// Where field `index` of the table at `table` lies, or None when the field is absent.
fn field(b: &[u8], table: usize, index: usize) -> Option<usize> {
    let vtable = usize::try_from(table as i64 - i32::from_le_bytes(b.get(table..table.checked_add(4)?)?.try_into().ok()?) as i64).ok()?;
    let vt_size = u16_at(b, vtable)? as usize;
    let slot = 4 + 2 * index;
    if slot + 2 > vt_size {
        return None;
    }
    match u16_at(b, vtable.checked_add(slot)?)? {
        0 => None,
        off => table.checked_add(off as usize),
    }
}

/// The table or vector an offset field points to.
fn deref(b: &[u8], at: usize) -> Option<usize> {
    at.checked_add(u32_at(b, at)? as usize)
}

fn string_at(b: &[u8], at: usize) -> Option<String> {
    let s = deref(b, at)?;
    let len = u32_at(b, s)? as usize;
    Some(String::from_utf8_lossy(b.get(s.checked_add(4)?..s.checked_add(4)?.checked_add(len)?)?).into_owned())
}

/// Parses an answer frame; None when it is not a readable PredictResponse or Error frame.
pub fn read(b: &[u8]) -> Option<Answer> {
    let frame = u32_at(b, 0)? as usize;
    let body_type = *b.get(field(b, frame, 2)?)?;
    let body = deref(b, field(b, frame, 3)?)?;
    let id = match field(b, body, 0) {
        Some(at) => u64::from_le_bytes(b.get(at..at.checked_add(8)?)?.try_into().ok()?),
        None => 0,
    };
    match body_type {
        BODY_PREDICT_RESPONSE => {
            // row_status (field 4) is empty when every row succeeded.
            let failed = match field(b, body, 4) {
                Some(at) => u32_at(b, deref(b, at)?)? > 0,
                None => false,
            };
            Some(Answer { id, error: failed.then(|| "a row failed".to_string()) })
        }
        BODY_ERROR => {
            let code = field(b, body, 2).and_then(|at| string_at(b, at)).unwrap_or_default();
            let message = field(b, body, 3).and_then(|at| string_at(b, at)).unwrap_or_default();
            Some(Answer { id, error: Some(format!("{code}: {message}")) })
        }
        _ => None,
    }
}
