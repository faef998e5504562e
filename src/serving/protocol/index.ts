/** The binary protocol (docs/protocol.md): FlatBuffers frames, schema/fresco.fbs. */
export * from './messages.js';
export { decodeFrame, encodeFrame, errorMessage, statusName, statusValue, STATUS_NAMES } from './codec.js';
export { dtypeInfo, dtypeFromWire, dtypeOfArray, type NumericArray, type DtypeInfo } from './dtypes.js';
export { verifyFrame, FrameVerifyError } from './verify.js';
