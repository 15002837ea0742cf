import { describe, expect, it } from 'vitest';
import { ConnectionWatch } from '../../src/connection-watch.js';
import { Metrics } from '../../src/metrics.js';
import { redisCli } from '../../src/queues/connection.js';
import { captureLogs } from '../support/log-capture.js';

const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:6379'), { code: 'ECONNREFUSED' });

describe('ConnectionWatch', () => {
  it('logs an outage of several connections once, its end once, and counts every error', () => {
    const logs = captureLogs('info');
    const metrics = new Metrics();
    const watch = new ConnectionWatch('redis', 'redis://cache:6379', logs.log, metrics);
    const client = watch.connection('client');
    const worker = watch.connection('worker');
    client.ok();
    for (let i = 0; i < 500; i++) {
      client.error(refused);
      worker.error(refused);
    }
    client.ok();
    expect(logs.records().map((r) => r.msg)).toHaveLength(1);
    worker.ok();
    const records = logs.records();
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({
      level: 40,
      dependency: 'redis',
      target: 'redis://cache:6379',
      connection: 'client',
      code: 'ECONNREFUSED',
    });
    expect(records[1]).toMatchObject({ level: 30, dependency: 'redis', errors: 1000 });
    expect(metrics.value('vigil_connection_errors_total', { dependency: 'redis' })).toBe(1000);

    // The next outage is news again.
    worker.error(refused);
    expect(logs.records()).toHaveLength(3);
  });
});

describe('the redis-cli command Vigil suggests', () => {
  it('reaches the configured server, never printing a password', () => {
    expect(redisCli('redis://10.1.2.3:6390/2')).toBe('redis-cli -h 10.1.2.3 -p 6390');
    expect(redisCli('redis://cache')).toBe('redis-cli -h cache -p 6379');
    expect(redisCli('rediss://ops:s3cret@cache:6380')).toBe(
      'redis-cli -h cache -p 6380 --tls --user ops --askpass',
    );
  });
});
