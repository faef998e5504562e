//! The embedded online store (LMDB) and the binary row encoding it shares with the TypeScript
//! writer. Pure Rust; the Node binding is native/binding/src/online.rs.

pub mod codec;
pub mod store;

pub use codec::{decode_meta, decode_row, encode_meta, encode_row, TableMeta, Value, ValueType};
pub use store::{
    OnlineStore, ReadOut, WriteStats, EXPIRED, MISSING, OP_DELETE, OP_DROP_TABLE, OP_EXPIRE,
    OP_PUT, OP_PUT_IF_NEWER, OP_SET_META, PRESENT,
};

#[cfg(test)]
mod tests;
