import { describe, expect, it } from 'vitest';
import { requestId } from './request-id.js';

describe('requestId', () => {
  it('is a UUIDv7 carrying the millisecond time, sortable by it', () => {
    const at = Date.UTC(2026, 10, 23, 12, 0, 0, 123);
    const id = requestId(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // RFC 9562 §5.7: the first 48 bits are the Unix time in milliseconds.
    expect(Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16)).toBe(at);
    expect(requestId(at + 1) > requestId(at)).toBe(true);
    expect(new Set(Array.from({ length: 1000 }, () => requestId(at))).size).toBe(1000);
  });
});
