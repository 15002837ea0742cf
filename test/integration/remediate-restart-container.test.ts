import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { restartContainer, restartContainerSchema } from '../../src/remediate/actions/restart-container.js';
import { recordingContext } from '../support/step-recorder.js';

/** Stands in for the docker CLI (no engine here): records its argv and answers like docker. */
const fakeDocker = join(import.meta.dirname, '../fixtures/remediate/fake-docker.mjs');
let dir: string;
let log: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-restart-container-'));
  log = join(dir, 'docker-argv.jsonl');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const spec = (container: string, extra: Record<string, unknown> = {}) =>
  restartContainerSchema.parse({
    action: 'restart-container',
    container,
    docker: fakeDocker,
    setEnv: { FAKE_DOCKER_LOG: log },
    ...extra,
  });

const calls = (): string[][] =>
  existsSync(log)
    ? readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as string[])
    : [];

describe('restart-container', () => {
  it('restarts the container by argv and confirms it is running', async () => {
    const ctx = recordingContext();
    const result = await restartContainer.run(spec('helix_postgres'), ctx);
    expect(result).toEqual({ outcome: 'done', summary: 'restarted container helix_postgres, running' });
    expect(calls()).toEqual([
      ['restart', 'helix_postgres'],
      ['inspect', '-f', '{{.State.Running}}', 'helix_postgres'],
    ]);
    expect(ctx.steps.map((s) => [s.name, s.outcome])).toEqual([
      ['restart', 'ok'],
      ['confirm-running', 'ok'],
    ]);
    expect(ctx.steps[1]).toMatchObject({ detail: 'running: true', output: 'true\n' });
  });

  it('passes stopTimeout as --time, and skips the check when asked', async () => {
    const ctx = recordingContext();
    const result = await restartContainer.run(spec('helix.api-1', { stopTimeout: 10, confirm: false }), ctx);
    expect(result).toEqual({ outcome: 'done', summary: 'restarted container helix.api-1' });
    expect(calls()).toEqual([['restart', '--time', '10', 'helix.api-1']]);
    expect(ctx.steps.map((s) => s.name)).toEqual(['restart']);
  });

  it('fails with docker’s error when the container does not exist', async () => {
    const ctx = recordingContext();
    const result = await restartContainer.run(spec('missing_db'), ctx);
    expect(result).toEqual({ outcome: 'failed', summary: 'docker restart missing_db failed: exit code 1' });
    expect(ctx.steps).toEqual([
      {
        name: 'restart',
        outcome: 'failed',
        detail: 'exit code 1',
        output: 'Error response from daemon: No such container: missing_db\n',
      },
    ]);
    expect(calls()).toHaveLength(1);
  });

  it('fails when the restarted container is not running', async () => {
    const ctx = recordingContext();
    const result = await restartContainer.run(spec('stays-down'), ctx);
    expect(result).toEqual({
      outcome: 'failed',
      summary: 'restarted container stays-down, but it is not running (running: false)',
    });
    expect(ctx.steps.map((s) => [s.name, s.outcome])).toEqual([
      ['restart', 'ok'],
      ['confirm-running', 'failed'],
    ]);
  });

  it('fails when docker outlives the timeout', async () => {
    const result = await restartContainer.run(spec('hangs', { timeout: '300ms' }), recordingContext());
    expect(result).toEqual({
      outcome: 'failed',
      summary: 'docker restart hangs failed: timed out after 300ms, killed by SIGTERM',
    });
  });

  it('describes the exact command', () => {
    expect(restartContainer.describe(spec('helix_postgres', { docker: 'docker', stopTimeout: 5 }))).toBe(
      'run docker restart --time 5 helix_postgres (timeout 1m), then check it is running',
    );
  });
});
