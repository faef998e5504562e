/**
 * A capacity plan from a measured maximum rate: how many replicas serve the target rate at the
 * SLO with headroom, and what each needs (cores, memory). Pure arithmetic on the measured
 * figures, so it is checked on known inputs; the assumptions it rests on travel with it.
 */
import { FrescoError } from '../errors/index.js';

export interface PlanInput {
  /** Requests/s to serve. */
  targetRate: number;
  /** Highest rate one replica served within the SLO (the search's best point). */
  maxRatePerReplica: number;
  /** Fraction of each replica's capacity kept free for bursts, slower nodes and a lost replica's load (0..0.9, default 0.3). */
  headroom?: number;
  /** Cores one replica kept busy at maxRatePerReplica (measured from the server's CPU time), if known. */
  busyCores?: number;
  /** Cores the measured replica had (its machine's), used when busyCores is unknown. */
  machineCores: number;
  /** Resident memory of the measured replica at its peak, MB, if known. */
  rssMb?: number;
  /** The SLO, for the record ("p99 <= 5 ms"). */
  slo: string;
}

export interface CapacityPlan {
  targetRate: number;
  slo: string;
  headroom: number;
  maxRatePerReplica: number;
  /** maxRatePerReplica * (1 - headroom): the rate each replica is planned to carry. */
  plannedRatePerReplica: number;
  replicas: number;
  /** Cores to give each replica: its busy cores at the max rate rounded up (at least 1), or the measured machine's. */
  coresPerReplica: number;
  /** Memory to give each replica, MB: the measured RSS plus 25% (allocator growth, a swap loads a second version). */
  memoryMbPerReplica?: number;
  totalCores: number;
  totalMemoryMb?: number;
  /** Load each replica carries at the target rate, as a fraction of its measured max. */
  utilization: number;
  assumptions: string[];
}

export function makePlan(p: PlanInput): CapacityPlan {
  const headroom = p.headroom ?? 0.3;
  if (!(headroom >= 0 && headroom <= 0.9)) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--headroom must be between 0 and 0.9, got ${headroom}`);
  if (!(p.targetRate > 0)) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--target-rate must be a positive number of requests/s, got ${p.targetRate}`);
  if (!(p.maxRatePerReplica > 0)) {
    throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `no measured rate met the SLO (${p.slo}): there is no per-replica rate to plan from; lower the start rate (--rate) or relax the SLO`);
  }
  const planned = p.maxRatePerReplica * (1 - headroom);
  const replicas = Math.max(1, Math.ceil(p.targetRate / planned - 1e-9));
  const coresPerReplica = p.busyCores !== undefined ? Math.max(1, Math.ceil(p.busyCores - 1e-9)) : p.machineCores;
  const memoryMbPerReplica = p.rssMb !== undefined ? Math.ceil(p.rssMb * 1.25) : undefined;
  const assumptions = [
    `throughput scales linearly with replicas: nothing they share (online store, network, load balancer) saturates at ${p.targetRate} req/s`,
    'the load balancer spreads requests evenly, and the benchmark request mix (models, rows per request, hot keys) matches production',
    `each replica runs on hardware like the measured one, with ${coresPerReplica} core(s) to itself`,
    `${Math.round(headroom * 100)}% headroom: replicas are planned at ${Math.round(planned)} req/s, ${Math.round((1 - headroom) * 100)}% of the ${Math.round(p.maxRatePerReplica)} req/s measured at the SLO`,
  ];
  if (p.busyCores === undefined) assumptions.push(`cores per replica are the measured machine's (${p.machineCores}): the server's CPU time was not measured`);
  if (p.rssMb === undefined) assumptions.push('memory was not measured (the server was not started by fresco bench, and no --pid was given)');
  return {
    targetRate: p.targetRate,
    slo: p.slo,
    headroom,
    maxRatePerReplica: p.maxRatePerReplica,
    plannedRatePerReplica: planned,
    replicas,
    coresPerReplica,
    ...(memoryMbPerReplica !== undefined ? { memoryMbPerReplica, totalMemoryMb: memoryMbPerReplica * replicas } : {}),
    totalCores: coresPerReplica * replicas,
    utilization: p.targetRate / replicas / p.maxRatePerReplica,
    assumptions,
  };
}
