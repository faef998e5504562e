/** The protocol's messages as plain TypeScript values (what encode takes and decode returns). */
import type { Dtype } from '../../models/index.js';
import type { NumericArray } from './dtypes.js';

/** Protocol version carried in every frame (schema/fresco.fbs). */
export const PROTOCOL_MAJOR = 1;
export const PROTOCOL_MINOR = 1;

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

/** The wire enum FeatureState (schema/fresco.fbs): what the online-feature lookup found for a row. */
export const FEATURE_STATES = ['present', 'missing', 'expired', 'unknown'] as const;
export type FeatureStateName = (typeof FEATURE_STATES)[number];

/** One looked-up table that had no current row for one row's entity. */
export interface FeatureDetailMsg {
  row: number;
  table: string;
  /** FeatureState value: 1 missing, 2 expired. */
  state: number;
}

export interface PredictResponseMsg {
  type: 'predict_response';
  id: number;
  model: string;
  version: number;
  outputs: TensorMsg[];
  /** Per row, for dataframe requests where some row failed (empty when all succeeded). */
  rowStatus: RowStatusMsg[];
  /**
   * (1.1) Dataframe models: per row, its FeatureState value (an index of FEATURE_STATES; 0 is
   * present). Empty or absent for tensor models, and from a 1.0 server.
   */
  featureStatus?: Uint8Array;
  /** (1.1) Per (row, table) that was not present; empty when every row is. */
  featureDetails?: FeatureDetailMsg[];
}

export interface ErrorMsg {
  type: 'error';
  id: number;
  status: StatusName;
  code: string;
  message: string;
}

export type Message = PredictRequestMsg | PredictResponseMsg | ErrorMsg;
