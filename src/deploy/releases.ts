import { createHash } from 'node:crypto';
import type { AppSpec } from '../spec/types.ts';
import { parseSpec } from '../spec/parse.ts';
import type { Artifact, Release, ReleaseConfig } from '../store/types.ts';

/** The run-time settings of one environment, frozen into its release so a rollback reuses them exactly. */
export function releaseConfig(spec: AppSpec, envName: string): ReleaseConfig {
  const env = spec.environments.find((e) => e.name === envName);
  if (!env) throw new Error(`environment ${envName} is not in the spec`);
  return {
    command: spec.service.command,
    instances: env.instances,
    env: { ...spec.service.env, ...env.env },
    health: { ...spec.service.health },
    drainTimeoutMs: spec.service.drainTimeoutMs,
    stopGraceMs: spec.service.stopGraceMs,
    metrics: spec.service.metrics,
  };
}

const specs = new Map<string, AppSpec>();

/**
 * The spec an artifact was built from travels inside its manifest. Artifacts never change, so
 * each is parsed once (promotion, releases and alert rules all ask for it).
 */
export function specOf(artifact: Artifact): AppSpec {
  let spec = specs.get(artifact.digest);
  if (!spec) {
    spec = parseSpec(String(artifact.manifest.spec), 'slipway.yaml');
    specs.set(artifact.digest, spec);
  }
  return spec;
}

export function newRelease(artifact: Artifact, envName: string, sequence: number, now: number): Release {
  const config = releaseConfig(specOf(artifact), envName);
  return {
    id: `${artifact.app}-${envName}-${sequence}`,
    app: artifact.app,
    env: envName,
    version: artifact.version,
    artifact: artifact.digest,
    config,
    configDigest: `sha256:${createHash('sha256').update(JSON.stringify(config)).digest('hex')}`,
    createdAt: now,
  };
}
