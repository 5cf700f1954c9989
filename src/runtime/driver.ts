// Where engines differ: a local-process driver today, Kubernetes later. Nothing outside
// src/runtime knows which one is in use.
export interface InstanceSpec {
  id: string;
  app: string;
  env: string;
  version: string;
  workdir: string; // the unpacked artifact
  command: string;
  port: number;
  vars: Record<string, string>; // extra environment (service.env + environment env)
}

export interface InstanceProcess {
  id: string;
  pid: number;
}

export interface RuntimeDriver {
  start(spec: InstanceSpec): Promise<InstanceProcess>;
  /** SIGTERM, then SIGKILL after graceMs. Resolves once the process is gone. */
  stop(proc: InstanceProcess, graceMs: number): Promise<void>;
  /** True when the process still runs and is the instance it claims to be (not a reused PID). */
  isAlive(proc: InstanceProcess): boolean;
  /** The truth after a restart: every instance process this data directory owns, by instance id. */
  discover(): Map<string, number>;
  /** Kills every process this data directory owns whose instance id is not in `keep`; returns what it killed. */
  killStrays(keep: Set<string>): string[];
  /** Called (best effort, fast path) when a process started by this driver exits. */
  onExit(listener: (id: string, code: number | null, signal: string | null) => void): void;
}
