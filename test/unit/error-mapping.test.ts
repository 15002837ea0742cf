import { ErrorCode } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import type { VigilError } from '../../src/errors.js';
import { ChannelFailedError, RetryableError } from '../../src/errors.js';
import { mapSmtpError } from '../../src/notify/email.js';
import { mapSlackError } from '../../src/notify/slack-errors.js';

const platform = (error: string) =>
  Object.assign(new Error(error), { code: ErrorCode.PlatformError, data: { error } });
const kind = (e: VigilError) =>
  e instanceof ChannelFailedError ? 'channel' : e instanceof RetryableError ? 'retry' : 'message';

describe('what a failure means for the alert: retry it, fail the channel, or refuse the message', () => {
  it('Slack: credentials and destination fail the channel, content refuses the message, the unknown is retried', () => {
    expect(kind(mapSlackError(platform('invalid_auth'), 'chat.postMessage'))).toBe('channel');
    expect(kind(mapSlackError(platform('channel_not_found'), 'chat.postMessage'))).toBe('channel');
    expect(kind(mapSlackError(platform('invalid_blocks'), 'chat.postMessage'))).toBe('message');
    expect(kind(mapSlackError(platform('msg_too_long'), 'chat.postMessage'))).toBe('message');
    expect(kind(mapSlackError(platform('some_new_error'), 'chat.postMessage'))).toBe('retry');
    expect(kind(mapSlackError(new Error('socket hang up'), 'chat.postMessage'))).toBe('retry');
  });

  it('SMTP: login, relay and recipients fail the channel, size and content refuse the message, 4xx and unknown codes retry', () => {
    const reply = (responseCode: number) => Object.assign(new Error('no'), { responseCode });
    expect(kind(mapSmtpError(reply(535)))).toBe('channel');
    expect(kind(mapSmtpError(reply(550)))).toBe('channel');
    expect(kind(mapSmtpError(reply(552)))).toBe('message');
    expect(kind(mapSmtpError(reply(554)))).toBe('message');
    expect(kind(mapSmtpError(reply(451)))).toBe('retry');
    expect(kind(mapSmtpError(Object.assign(new Error('tls'), { code: 'ETLS' })))).toBe('channel');
    expect(kind(mapSmtpError(Object.assign(new Error('?'), { code: 'ESOMETHING' })))).toBe('retry');
  });
});
