/** The protocol's messages as plain TypeScript values (what encode takes and decode returns). */
import type { Dtype } from '../../models/index.js';
import type { NumericArray } from './dtypes.js';

/** Protocol version carried in every frame (schema/fresco.fbs). */
export const PROTOCOL_MAJOR = 1;
export const PROTOCOL_MINOR = 0;

export interface TensorMsg {
  name: string;
  dtype: Dtype;
  /** Dimensions; the first is the batch for request tensors. */
  shape: number[];
  /** Elements, row-major (string tensors: `strings`). */
  data: NumericArray;
  strings?: string[];
}

export type Scalar = number | string | boolean | null;

export interface RowMsg {
  /** Entity keys, such as `{ airport: 'SFO' }`. */
  keys: Record<string, Scalar>;
  /** Request fields, such as `{ distance: 2475 }`. */
  fields: Record<string, Scalar>;
}

export interface PredictRequestMsg {
  type: 'predict_request';
  id: number;
  model: string;
  rows: RowMsg[];
  tensors: TensorMsg[];
  /** Relative deadline in microseconds (0: the server's default). */
  timeoutUs: number;
  /** Outputs to return (empty: all). */
  outputs: string[];
}

/** gRPC's canonical status names (the wire enum Status). */
export type StatusName =
  | 'OK' | 'CANCELLED' | 'UNKNOWN' | 'INVALID_ARGUMENT' | 'DEADLINE_EXCEEDED' | 'NOT_FOUND' | 'ALREADY_EXISTS' | 'PERMISSION_DENIED'
  | 'RESOURCE_EXHAUSTED' | 'FAILED_PRECONDITION' | 'ABORTED' | 'OUT_OF_RANGE' | 'UNIMPLEMENTED' | 'INTERNAL' | 'UNAVAILABLE' | 'DATA_LOSS' | 'UNAUTHENTICATED';

export interface RowStatusMsg {
  status: StatusName;
  /** A stable Fresco code (empty when OK). */
  code: string;
  message: string;
}

export interface PredictResponseMsg {
  type: 'predict_response';
  id: number;
  model: string;
  version: number;
  outputs: TensorMsg[];
  /** Per row, for dataframe requests where some row failed (empty when all succeeded). */
  rowStatus: RowStatusMsg[];
}

export interface ErrorMsg {
  type: 'error';
  id: number;
  status: StatusName;
  code: string;
  message: string;
}

export type Message = PredictRequestMsg | PredictResponseMsg | ErrorMsg;
