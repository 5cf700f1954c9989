// What planners decide and the controller carries out. Planners are pure; every action here is
// recorded as an operation event when it is applied.

export interface ActualInstance {
  id: string;
  release: string;
  role: 'main' | 'baseline';
  state: 'starting' | 'running' | 'draining' | 'stopping' | 'crashed';
  healthy: boolean;
  routed: boolean;
  createdAt: number;
  drainStartedAt: number | null;
  inFlight: number;
  restarts: number;
}

/** An instance of the release being rolled out that crashed this often fails the deployment. */
export const MAX_RESTARTS_IN_ROLLOUT = 3;

export type Action =
  | { kind: 'start'; release: string; role: 'main' | 'baseline' }
  | { kind: 'route'; instance: string }
  | { kind: 'drain'; instance: string }
  | { kind: 'stop'; instance: string; reason: string }
  | { kind: 'fail'; reason: string }
  /** The deployment reached its end: committed, or the ending of a rollback. */
  | { kind: 'complete' }
  /** Percent of traffic on the new release; entering a canary step starts its observation window. */
  | { kind: 'setWeight'; weight: number }
  | { kind: 'nextStep' }
  | { kind: 'probation'; until: number }
  /** `afterStep`: the pause came at the end of a step, so resuming moves to the next one. */
  | { kind: 'pause'; reason: string; afterStep: boolean };
