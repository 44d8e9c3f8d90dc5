// The ownership handover in CONTACT vendor options (src/failover/wire/ownership-option.ts): round trips,
// and malformed options decode to undefined (the peer logs and ignores them), never throw.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeHandover, encodeHandover, OWNERSHIP_VENDOR_CODE, type HandoverMessage } from '../../../src/failover/wire/ownership-option.ts';
import { decodeFailoverMessage, encodeFailoverMessage } from '../../../src/failover/wire/message.ts';

const FP = '0123456789abcdef0123456789abcdef';

describe('ownership handover on the wire', () => {
  it('round-trips every kind, also through a whole CONTACT message', () => {
    const all: HandoverMessage[] = [
      { kind: 'report', fp: FP, settled: true }, { kind: 'report', fp: FP, settled: false },
      { kind: 'commit', fp: FP, nonce: 0xfffffffe }, { kind: 'committed', nonce: 7 }, { kind: 'refused', nonce: 0 },
    ];
    for (const m of all) {
      assert.deepEqual(decodeHandover([encodeHandover(m)]), m);
      const buf = encodeFailoverMessage({ type: 'CONTACT', xid: 1, time: 1_700_000_000, vendorOptions: [encodeHandover(m)] }, { dialect: 'isc' } as Parameters<typeof encodeFailoverMessage>[1]);
      const back = decodeFailoverMessage(buf);
      assert.equal(back.type, 'CONTACT');
      assert.deepEqual(decodeHandover((back as { vendorOptions?: [] }).vendorOptions ?? []), m);
    }
  });

  it('a CONTACT without options stays a plain keepalive', () => {
    const back = decodeFailoverMessage(encodeFailoverMessage({ type: 'CONTACT', xid: 1, time: 1_700_000_000 }, { dialect: 'isc' } as Parameters<typeof encodeFailoverMessage>[1]));
    assert.equal((back as { vendorOptions?: unknown }).vendorOptions, undefined);
  });

  it('property: arbitrary option data never throws and decodes only well-formed messages', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), (data) => {
      const m = decodeHandover([{ code: OWNERSHIP_VENDOR_CODE, data: Buffer.from(data) }]);
      if (m !== undefined) assert.deepEqual(decodeHandover([encodeHandover(m)]), m);
    }), { numRuns: 2000 });
    assert.equal(decodeHandover([{ code: 1, data: Buffer.from([1]) }]), undefined);
  });
});
