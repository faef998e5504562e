/**
 * Per-connection admission: one client cannot take a model's whole queue. A WebSocket carries
 * many requests at once (answered by id), so one connection flooding it used to fill the queue
 * (`maxQueueRows`) and leave every other client 429s: in a flood, a well-behaved client had 60-74%
 * of its requests refused. Now each connection may have at most `limit` requests in flight
 * (decoded and not yet answered); past that its next request is refused at once with
 * FRESCO_ERR_RESOURCE_EXHAUSTED (429, with the request id) before it is routed or queued, while
 * the model's queue bound still holds for everyone. A connection that waits for its answers is
 * never refused by this rule, and a flood uses at most `limit` of the queue's places per
 * connection (docs/serving.md, "Limits and fairness").
 *
 * An HTTP/1.1 connection carries one request at a time, so HTTP requests need no share of their own.
 */
import { FrescoError } from '../errors/index.js';

/** Default requests in flight per connection: 16 connections' worth fills the default queue of 4,096 rows. */
export const DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION = 256;

export class ConnectionShare {
  inFlight = 0;

  constructor(readonly limit: number) {}

  /** Counts a request in, or throws RESOURCE_EXHAUSTED when the connection is at its limit. */
  enter(): void {
    if (this.inFlight >= this.limit) {
      throw new FrescoError('FRESCO_ERR_RESOURCE_EXHAUSTED', `this connection already has ${this.inFlight} requests in flight, the most one connection may have; wait for answers before sending more, or open another connection`);
    }
    this.inFlight++;
  }

  leave(): void {
    this.inFlight--;
  }
}
