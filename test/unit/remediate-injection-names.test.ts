import { describe, expect, it } from 'vitest';
import { httpRequestSchema } from '../../src/remediate/actions/http-request.js';
import { restartContainerSchema } from '../../src/remediate/actions/restart-container.js';
import { runCommandSchema } from '../../src/remediate/actions/run-command.js';
import { remediationActions } from '../../src/remediate/registry.js';
import { injectionCorpus } from '../support/injection-corpus.js';

const corpus = injectionCorpus('/tmp/vigil-canary-never-created');

/** Where a config field is a name (of a container, program, variable, header, target), no hostile string is one. */
describe('hostile strings where a name is expected', () => {
  it.each(corpus)('$label is no container name', ({ value }) => {
    expect(restartContainerSchema.safeParse({ action: 'restart-container', container: value }).success).toBe(
      false,
    );
  });

  it.each(corpus)('$label is no program, for run-command or as docker', ({ value }) => {
    expect(runCommandSchema.safeParse({ action: 'run-command', program: value }).success).toBe(false);
    const docker = { action: 'restart-container', container: 'helix_postgres', docker: value };
    expect(restartContainerSchema.safeParse(docker).success).toBe(false);
  });

  it.each(corpus)('$label is no environment variable name', ({ value }) => {
    expect(runCommandSchema.safeParse({ action: 'run-command', program: 'true', env: [value] }).success).toBe(
      false,
    );
    expect(
      runCommandSchema.safeParse({ action: 'run-command', program: 'true', setEnv: { [value]: 'x' } })
        .success,
    ).toBe(false);
  });

  // "--rm" and "-rf" are valid header names and mean nothing in one; the rest are not names.
  const notTokens = corpus.filter((c) => !/^-+[a-z]+$/.test(c.value));
  it.each(notTokens)('$label is no HTTP header name', ({ value }) => {
    const headers = { [value]: 'x' };
    expect(
      httpRequestSchema.safeParse({ action: 'http-request', url: 'http://127.0.0.1/', headers }).success,
    ).toBe(false);
  });

  it.each(corpus)('$label is no target name', ({ value }) => {
    const targets = { [value]: { action: 'run-command', program: 'true' } };
    expect(remediationActions.targetsSchema().safeParse(targets).success).toBe(false);
  });
});
