import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { systemClock, type Clock } from '../core/clock.ts';
import { EventLog } from '../core/events.ts';
import { ArtifactStore } from '../artifact/store.ts';
import { DeployController } from '../deploy/controller.ts';
import { InstanceManager } from '../deploy/instances.ts';
import { Operations } from '../deploy/operations.ts';
import { Promotion } from '../deploy/promotion.ts';
import { Pipeline } from '../pipeline/pipeline.ts';
import { Router } from '../router/router.ts';
import { LocalDriver } from '../runtime/local/driver.ts';
import { Store } from '../store/store.ts';

export interface SlipwayOptions {
  dataDir: string;
  pollIntervalMs: number;
  clock?: Clock;
}

/** The control plane, composed: every domain object built once and wired to its neighbours. */
export class Slipway {
  readonly store: Store;
  readonly events: EventLog;
  readonly router: Router;
  readonly driver: LocalDriver;
  readonly instances: InstanceManager;
  readonly controller: DeployController;
  readonly promotion: Promotion;
  readonly operations: Operations;
  readonly pipeline: Pipeline;
  readonly artifacts: ArtifactStore;
  readonly dataDir: string;

  constructor(opts: SlipwayOptions) {
    const clock = opts.clock ?? systemClock;
    this.dataDir = opts.dataDir;
    mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    this.store = new Store(path.join(opts.dataDir, 'slipway.db'));
    this.events = new EventLog(this.store, clock);
    this.artifacts = new ArtifactStore(opts.dataDir);
    this.driver = new LocalDriver({ dataDir: opts.dataDir, clock });
    const kick = () => this.controller.kick();
    this.router = new Router({ onBackendError: (id) => this.instances.connectionFailed(id) });
    this.instances = new InstanceManager({ store: this.store, driver: this.driver, router: this.router, events: this.events, clock, artifacts: this.artifacts, kick });
    this.promotion = new Promotion({ store: this.store, events: this.events, clock, kick });
    this.controller = new DeployController({
      store: this.store, events: this.events, clock, instances: this.instances, router: this.router,
      onCommitted: (d) => this.promotion.deploymentCommitted(d),
    });
    this.operations = new Operations({ store: this.store, events: this.events, clock, instances: this.instances, promotion: this.promotion, kick });
    this.pipeline = new Pipeline({
      store: this.store, events: this.events, clock, artifacts: this.artifacts, dataDir: opts.dataDir,
      pollIntervalMs: opts.pollIntervalMs, onArtifact: (a) => this.promotion.artifactBuilt(a),
    });
    this.driver.onExit(() => kick());
  }

  /** Re-adopt instances, then resume deployments and runs where they stopped. */
  async start(): Promise<void> {
    await this.instances.recover();
    this.controller.start();
    this.pipeline.start();
  }

  /** Stops the control plane. Instances keep running: the next start re-adopts them. */
  async stop(): Promise<void> {
    await this.pipeline.stop();
    await this.controller.stop();
    this.instances.health.stop();
    await this.router.close();
    this.store.close();
  }
}
