import { describe, expect, it } from 'vitest';
import { AddressBook, RateLimit, resolveLimits } from '../../src/coordinator/limits.ts';
import { formatJson, formatText, LogGate } from '../../src/coordinator/log.ts';
import { checkSignal } from '../../src/coordinator/signal-guard.ts';
import { CloseCode, describeClose } from '../../src/net/close-codes.ts';
import { offer } from './coordinator-clients.ts';

describe('checkSignal', () => {
  it('passes what PeerJS clients send', () => {
    expect(checkSignal('{"type":"HEARTBEAT"}', 128)).toBeUndefined();
    expect(checkSignal(offer('peer-b'), 128)).toBeUndefined();
    const answer = {
      type: 'ANSWER',
      dst: 'b',
      payload: { connectionId: 'dc_1', sdp: { type: 'answer', sdp: 'v=0' } },
    };
    expect(checkSignal(JSON.stringify(answer), 128)).toBeUndefined();
    const candidate = {
      type: 'CANDIDATE',
      dst: 'b',
      payload: {
        connectionId: 'dc_1',
        type: 'data',
        candidate: { candidate: 'candidate:1', sdpMid: '0' },
      },
    };
    expect(checkSignal(JSON.stringify(candidate), 128)).toBeUndefined();
    expect(checkSignal('{"type":"LEAVE","dst":"b"}', 128)).toBeUndefined();
  });

  it.each([
    ['{', 'not JSON'],
    ['null', 'not a JSON object'],
    ['[1]', 'not a JSON object'],
    ['{"type":"EXPIRE","dst":"b"}', 'unknown message type EXPIRE'],
    ['{"type":"OFFER","dst":"b c"}', 'OFFER without a well-formed dst'],
    ['{"type":"ANSWER","dst":"b","payload":[]}', 'ANSWER without payload'],
    ['{"type":"ANSWER","dst":"b","payload":{"sdp":{}}}', 'ANSWER without a connectionId'],
    [
      '{"type":"ANSWER","dst":"b","payload":{"connectionId":"c","sdp":{"type":1}}}',
      'ANSWER without a session description',
    ],
    [
      '{"type":"OFFER","dst":"b","payload":{"connectionId":"c","type":"media"}}',
      'only data connections are brokered',
    ],
    [
      '{"type":"CANDIDATE","dst":"b","payload":{"connectionId":"c","candidate":"x"}}',
      'CANDIDATE without a candidate',
    ],
  ])('refuses %s', (text, reason) => {
    expect(checkSignal(text, 128)).toEqual({ code: CloseCode.malformed, reason });
  });

  it('holds dst to the id length limit', () => {
    expect(checkSignal(offer('x'.repeat(20)), 16)?.reason).toBe('OFFER without a well-formed dst');
  });
});

describe('limits', () => {
  it('a rate limit passes four seconds of burst, then its rate', () => {
    let now = 0;
    const rate = new RateLimit(10, () => now);
    let passed = 0;
    for (let i = 0; i < 100; i++) if (rate.take()) passed++;
    expect(passed).toBe(40);
    now += 500;
    passed = 0;
    for (let i = 0; i < 100; i++) if (rate.take()) passed++;
    expect(passed).toBe(5);
    expect(new RateLimit(0).take()).toBe(true);
  });

  it('an address book admits up to the limit and frees on release', () => {
    const book = new AddressBook(2);
    expect([book.admit('a'), book.admit('a'), book.admit('a'), book.admit('b')]).toEqual([
      true,
      true,
      false,
      true,
    ]);
    book.release('a');
    expect(book.admit('a')).toBe(true);
    expect(new AddressBook(0).admit('a')).toBe(true);
  });

  it('fills defaults', () => {
    expect(resolveLimits({ maxClients: 0 })).toMatchObject({ maxClients: 0, maxSignalBytes: 4096 });
  });
});

describe('log', () => {
  it('lets one entry per client through per window, and reports what it held back', () => {
    let now = 0;
    const out: unknown[] = [];
    const gate = new LogGate(
      (e) => out.push(e),
      60_000,
      3,
      () => now,
    );
    const entry = { level: 'warn' as const, event: 'refused' };
    gate.write('a', entry);
    gate.write('a', entry); // held back: reported with the next entry let through
    gate.write('b', entry);
    gate.write('c', entry);
    gate.write('d', entry); // the fourth in this second
    now = 1000;
    gate.write('e', entry);
    expect(out).toEqual([entry, { ...entry, suppressed: 1 }, entry, { ...entry, suppressed: 1 }]);
  });

  it('formats text for people and JSON for machines', () => {
    const time = new Date('2026-12-02T10:00:00.123Z');
    const entry = { level: 'warn' as const, event: 'refused', code: 4429, reason: 'too fast' };
    expect(formatText(entry, time)).toBe('10:00:00.123 WARN refused  code=4429 reason=too fast');
    expect(JSON.parse(formatJson(entry, time))).toEqual({ time: time.toISOString(), ...entry });
  });
});

describe('describeClose', () => {
  it('says what a code means and what the coordinator said', () => {
    expect(describeClose(4429, 'more than 10 messages a second')).toBe(
      'too many messages per second (4429: more than 10 messages a second)',
    );
    expect(describeClose(1001, '')).toBe('the coordinator is shutting down (1001)');
    expect(describeClose(4999, 'odd')).toBe('closed (4999): odd');
  });
});
