import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DEFAULTS } from '../../src/config/defaults.ts';
import { validateConfig } from '../../src/config/validate.ts';
import { ConfigError } from '../../src/errors.ts';
import { parseCidr, parseIpv4 } from '../../src/net/ipv4.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- fixtures are poked at arbitrary paths
type Raw = Record<string, any>;

/** A small valid config; each table case breaks it in one way. */
function base(): Raw {
  return {
    server: { name: 'dhcp-a', listen: { address: '127.0.0.1', port: 6767, interfaces: ['eth0'] } },
    scopes: [
      {
        name: 'lab', subnet: '10.0.0.0/24', interface: 'eth0',
        ranges: [{ start: '10.0.0.100', end: '10.0.0.199' }],
        reservations: [{ ip: '10.0.0.10', hwAddress: 'aa:bb:cc:dd:ee:ff' }],
        options: { routers: ['10.0.0.1'] },
      },
      { name: 'relayed', subnet: '10.1.0.0/24', ranges: [{ start: '10.1.0.10', end: '10.1.0.20' }] },
    ],
  };
}

function problemsOf(raw: unknown): { path: string; message: string }[] {
  try {
    validateConfig(raw, 'test.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.code, 'config_invalid');
    assert.match(err.message, /^test\.yaml: \d+ problem\(s\)/);
    return err.problems.map((p) => ({ ...p }));
  }
  assert.fail('expected a ConfigError');
}

/** `mutate` breaks the base fixture in place; `raw` replaces it entirely. */
interface Case { name: string; mutate?: (r: Raw) => void; raw?: unknown; paths: string[]; message?: RegExp }

const CASES: Case[] = [
  { name: 'root is not a mapping', raw: ['server'], paths: ['(root)'] },
  { name: 'empty file', raw: undefined, paths: ['(root)'] },
  { name: 'server missing', mutate: (r) => { delete r.server; }, paths: ['server'], message: /required/ },
  { name: 'unknown top-level key', mutate: (r) => { r.scope = []; }, paths: ['scope'], message: /did you mean "scopes"/ },
  { name: 'unknown server key (typo)', mutate: (r) => { r.server.lisen = {}; }, paths: ['server.lisen'], message: /did you mean "listen"/ },
  { name: 'unknown scope key', mutate: (r) => { r.scopes[1].leaseTime = 60; }, paths: ['scopes[1].leaseTime'], message: /unknown key/ },
  { name: 'unknown range key', mutate: (r) => { r.scopes[0].ranges[0].stop = '10.0.0.1'; }, paths: ['scopes[0].ranges[0].stop'] },
  { name: 'unknown reservation key', mutate: (r) => { r.scopes[0].reservations[0].mac = 'x'; }, paths: ['scopes[0].reservations[0].mac'] },
  { name: 'server name missing', mutate: (r) => { delete r.server.name; }, paths: ['server.name'], message: /required/ },
  { name: 'server name with spaces', mutate: (r) => { r.server.name = 'dhcp a'; }, paths: ['server.name'] },
  { name: 'listen address not IPv4', mutate: (r) => { r.server.listen.address = '10.0.0.256'; }, paths: ['server.listen.address'], message: /not an IPv4 address/ },
  { name: 'listen port out of range', mutate: (r) => { r.server.listen.port = 70000; }, paths: ['server.listen.port'], message: /out of range 1\.\.65535/ },
  { name: 'listen port zero', mutate: (r) => { r.server.listen.port = 0; }, paths: ['server.listen.port'] },
  { name: 'admin port as string', mutate: (r) => { r.server.admin = { port: '8067' }; }, paths: ['server.admin.port'], message: /expected an integer/ },
  { name: 'interfaces not a list', mutate: (r) => { r.server.listen.interfaces = 'eth0'; delete r.scopes[0].interface; }, paths: ['server.listen.interfaces'] },
  { name: 'duplicate interface', mutate: (r) => { r.server.listen.interfaces = ['eth0', 'eth0']; }, paths: ['server.listen.interfaces[1]'] },
  { name: 'serverId required on 0.0.0.0', mutate: (r) => { r.server.listen.address = '0.0.0.0'; }, paths: ['server.serverId'], message: /required when/ },
  { name: 'serverId broadcast', mutate: (r) => { r.server.serverId = '255.255.255.255'; }, paths: ['server.serverId'] },
  { name: 'log level not in enum', mutate: (r) => { r.server.logLevel = 'verbose'; }, paths: ['server.logLevel'], message: /debug, info, warn, error/ },
  { name: 'offer hold too long', mutate: (r) => { r.server.offerHoldSeconds = 3600; }, paths: ['server.offerHoldSeconds'] },
  { name: 'decline hold not an integer', mutate: (r) => { r.server.declineHoldSeconds = 1.5; }, paths: ['server.declineHoldSeconds'] },
  { name: 'store type unknown', mutate: (r) => { r.server.store = { type: 'etcd' }; }, paths: ['server.store.type'], message: /memory, redis/ },
  { name: 'store type missing', mutate: (r) => { r.server.store = { url: 'redis://x' }; }, paths: ['server.store.type'], message: /required/ },
  { name: 'redis without url or path', mutate: (r) => { r.server.store = { type: 'redis' }; }, paths: ['server.store'], message: /needs url/ },
  { name: 'redis with url and path', mutate: (r) => { r.server.store = { type: 'redis', url: 'redis://r:6379', path: '/run/redis.sock' }; }, paths: ['server.store'], message: /not both/ },
  { name: 'redis url wrong scheme', mutate: (r) => { r.server.store = { type: 'redis', url: 'http://r:6379' }; }, paths: ['server.store.url'] },
  { name: 'redis relative socket path', mutate: (r) => { r.server.store = { type: 'redis', path: 'redis.sock' }; }, paths: ['server.store.path'] },
  { name: 'redis password and passwordFile', mutate: (r) => { r.server.store = { type: 'redis', url: 'redis://r', password: 'x', passwordFile: '/s/p' }; }, paths: ['server.store'] },
  { name: 'memory store with a redis field', mutate: (r) => { r.server.store = { type: 'memory', url: 'redis://r' }; }, paths: ['server.store.url'], message: /only valid with type: redis/ },
  { name: 'store unknown key', mutate: (r) => { r.server.store = { type: 'redis', url: 'redis://r', db: 2 }; }, paths: ['server.store.db'] },
  { name: 'scopes not a list', mutate: (r) => { r.scopes = { lab: {} }; }, paths: ['scopes'] },
  { name: 'scope name missing', mutate: (r) => { delete r.scopes[1].name; }, paths: ['scopes[1].name'] },
  { name: 'duplicate scope names', mutate: (r) => { r.scopes[1].name = 'lab'; }, paths: ['scopes[1].name'], message: /duplicate of scopes\[0\]\.name/ },
  { name: 'subnet not a CIDR', mutate: (r) => { r.scopes[1].subnet = '10.1.0.0'; }, paths: ['scopes[1].subnet'] },
  { name: 'subnet host bits set', mutate: (r) => { r.scopes[1].subnet = '10.1.0.5/24'; }, paths: ['scopes[1].subnet'], message: /did you mean 10\.1\.0\.0\/24/ },
  { name: 'subnet /31', mutate: (r) => { r.scopes[1].subnet = '10.1.0.10/31'; r.scopes[1].ranges = []; }, paths: ['scopes[1].subnet'], message: /out of range/ },
  {
    name: 'overlapping subnets', mutate: (r) => { r.scopes[1].subnet = '10.0.0.0/16'; r.scopes[1].ranges = [{ start: '10.0.1.1', end: '10.0.1.9' }]; },
    paths: ['scopes[1].subnet'], message: /overlaps scopes\[0\]\.subnet \(10\.0\.0\.0\/24\)/,
  },
  { name: 'ranges missing', mutate: (r) => { delete r.scopes[1].ranges; }, paths: ['scopes[1].ranges'], message: /required/ },
  { name: 'range start not IPv4', mutate: (r) => { r.scopes[0].ranges[0].start = 'ten'; }, paths: ['scopes[0].ranges[0].start'], message: /not an IPv4 address/ },
  { name: 'range end missing', mutate: (r) => { delete r.scopes[0].ranges[0].end; }, paths: ['scopes[0].ranges[0].end'] },
  { name: 'range start after end', mutate: (r) => { r.scopes[0].ranges[0] = { start: '10.0.0.199', end: '10.0.0.100' }; }, paths: ['scopes[0].ranges[0]'], message: /after end/ },
  { name: 'range outside subnet', mutate: (r) => { r.scopes[0].ranges[0].end = '10.0.1.5'; }, paths: ['scopes[0].ranges[0].end', 'scopes[0].ranges[0]'] },
  { name: 'range includes broadcast', mutate: (r) => { r.scopes[0].ranges[0].end = '10.0.0.255'; }, paths: ['scopes[0].ranges[0]'], message: /broadcast address 10\.0\.0\.255/ },
  { name: 'range includes network', mutate: (r) => { r.scopes[0].ranges[0].start = '10.0.0.0'; }, paths: ['scopes[0].ranges[0]'], message: /network address/ },
  { name: 'overlapping ranges', mutate: (r) => { r.scopes[0].ranges.push({ start: '10.0.0.150', end: '10.0.0.250' }); }, paths: ['scopes[0].ranges[1]'], message: /overlaps scopes\[0\]\.ranges\[0\]/ },
  { name: 'exclusion outside subnet', mutate: (r) => { r.scopes[0].exclusions = [{ start: '10.0.9.1', end: '10.0.9.2' }]; }, paths: ['scopes[0].exclusions[0].start', 'scopes[0].exclusions[0].end'] },
  { name: 'exclusion start after end', mutate: (r) => { r.scopes[0].exclusions = [{ start: '10.0.0.9', end: '10.0.0.2' }]; }, paths: ['scopes[0].exclusions[0]'] },
  { name: 'reservation ip outside subnet', mutate: (r) => { r.scopes[0].reservations[0].ip = '10.1.0.10'; }, paths: ['scopes[0].reservations[0].ip'], message: /outside the subnet 10\.0\.0\.0\/24/ },
  { name: 'reservation on broadcast address', mutate: (r) => { r.scopes[0].reservations[0].ip = '10.0.0.255'; }, paths: ['scopes[0].reservations[0].ip'] },
  { name: 'reservation ip missing', mutate: (r) => { delete r.scopes[0].reservations[0].ip; }, paths: ['scopes[0].reservations[0].ip'] },
  {
    name: 'duplicate reservation ip', mutate: (r) => { r.scopes[0].reservations.push({ ip: '10.0.0.10', clientId: '01aabbccddeeff' }); },
    paths: ['scopes[0].reservations[1].ip'], message: /duplicate of scopes\[0\]\.reservations\[0\]\.ip/,
  },
  { name: 'duplicate reservation hwAddress', mutate: (r) => { r.scopes[0].reservations.push({ ip: '10.0.0.11', hwAddress: 'AA:BB:CC:DD:EE:FF' }); }, paths: ['scopes[0].reservations[1].hwAddress'] },
  { name: 'reservation without client key', mutate: (r) => { delete r.scopes[0].reservations[0].hwAddress; }, paths: ['scopes[0].reservations[0]'], message: /hwAddress or clientId/ },
  { name: 'hwAddress with dashes', mutate: (r) => { r.scopes[0].reservations[0].hwAddress = 'aa-bb-cc-dd-ee-ff'; }, paths: ['scopes[0].reservations[0].hwAddress'] },
  { name: 'hwAddress too short', mutate: (r) => { r.scopes[0].reservations[0].hwAddress = 'aa:bb:cc:dd:ee'; }, paths: ['scopes[0].reservations[0].hwAddress'] },
  { name: 'clientId not hex', mutate: (r) => { r.scopes[0].reservations[0].clientId = '01:zz'; }, paths: ['scopes[0].reservations[0].clientId'] },
  { name: 'clientId one byte', mutate: (r) => { r.scopes[0].reservations[0].clientId = '01'; }, paths: ['scopes[0].reservations[0].clientId'], message: /2\.\.255/ },
  { name: 'clientId odd hex length', mutate: (r) => { r.scopes[0].reservations[0].clientId = '01aab'; }, paths: ['scopes[0].reservations[0].clientId'] },
  { name: 'clientId parsed by YAML as a number', mutate: (r) => { r.scopes[0].reservations[0].clientId = 1001122; }, paths: ['scopes[0].reservations[0].clientId'], message: /quote it/ },
  { name: 'bad hostname', mutate: (r) => { r.scopes[0].reservations[0].hostname = 'my printer'; }, paths: ['scopes[0].reservations[0].hostname'] },
  { name: 'unknown option name', mutate: (r) => { r.scopes[0].options.routerz = ['10.0.0.1']; }, paths: ['scopes[0].options.routerz'] },
  { name: 'option value fails to encode', mutate: (r) => { r.scopes[0].options.routers = ['10.0.0.300']; }, paths: ['scopes[0].options.routers'] },
  { name: 'reservation option fails to encode', mutate: (r) => { r.scopes[0].reservations[0].options = { routers: ['x'] }; }, paths: ['scopes[0].reservations[0].options.routers'] },
  { name: 'options not a mapping', mutate: (r) => { r.scopes[0].options = ['routers']; }, paths: ['scopes[0].options'] },
  { name: 'server-owned option', mutate: (r) => { r.scopes[0].options['ip-address-lease-time'] = 60; }, paths: ['scopes[0].options.ip-address-lease-time'], message: /leaseSeconds/ },
  { name: 'lease time too short', mutate: (r) => { r.scopes[0].leaseSeconds = 10; }, paths: ['scopes[0].leaseSeconds'], message: /out of range 60\.\./ },
  { name: 'lease time too long', mutate: (r) => { r.scopes[0].leaseSeconds = 2 ** 32; }, paths: ['scopes[0].leaseSeconds'] },
  { name: 'active not boolean', mutate: (r) => { r.scopes[0].active = 'yes'; }, paths: ['scopes[0].active'] },
  { name: 'scope interface not listened on', mutate: (r) => { r.scopes[0].interface = 'eth1'; }, paths: ['scopes[0].interface'], message: /server\.listen\.interfaces/ },
  { name: 'failover not a mapping', mutate: (r) => { r.failover = 'on'; }, paths: ['failover'] },
  { name: 'allowEmptyScopes not boolean', mutate: (r) => { r.allowEmptyScopes = 'yes'; }, paths: ['allowEmptyScopes'], message: /expected true or false/ },
  { name: 'allowEmptyScopes misspelt', mutate: (r) => { r.allowEmptyScope = true; }, paths: ['allowEmptyScope'], message: /did you mean "allowEmptyScopes"/ },
  { name: 'allowEmptyScopes under server', mutate: (r) => { r.server.allowEmptyScopes = true; }, paths: ['server.allowEmptyScopes'], message: /unknown key/ },
];

describe('validateConfig: the base fixture', () => {
  it('is valid', () => { assert.equal(validateConfig(base()).scopes.length, 2); });
});

describe('validateConfig: one problem per broken field, at its path', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const raw = base();
      c.mutate?.(raw);
      const problems = problemsOf('raw' in c ? c.raw : raw);
      assert.deepEqual(problems.map((p) => p.path), c.paths, JSON.stringify(problems, null, 1));
      if (c.message) assert.match(problems[0]?.message ?? '', c.message);
    });
  }
});

describe('validateConfig: every problem is reported at once', () => {
  it('lists problems from server, scopes and reservations together', () => {
    const raw = base();
    raw.server.logLevel = 'loud';
    raw.scopes[0].ranges[0].start = 'x';
    raw.scopes[1].subnet = '10.0.0.0/24';
    raw.scopes[0].reservations[0].hwAddress = 'nope';
    raw.extra = true;
    assert.deepEqual(problemsOf(raw).map((p) => p.path).sort(), [
      'extra', 'scopes[0].ranges[0].start', 'scopes[0].reservations[0].hwAddress', 'scopes[1].ranges[0].end',
      'scopes[1].ranges[0].start', 'scopes[1].subnet', 'server.logLevel',
    ]);
  });
});

describe('validateConfig: valid output', () => {
  it('applies defaults from the one table', () => {
    const cfg = validateConfig({ server: { name: 'x', listen: { address: '192.0.2.1' } } });
    assert.deepEqual(cfg.server.listen, { address: '192.0.2.1', port: DEFAULTS.listenPort, interfaces: [] });
    assert.deepEqual(cfg.server.admin, { address: DEFAULTS.adminAddress, port: DEFAULTS.adminPort });
    assert.deepEqual(cfg.server.store, { type: 'memory' });
    assert.equal(cfg.server.serverId, parseIpv4('192.0.2.1'), 'serverId defaults to the listen address');
    assert.equal(cfg.server.declineHoldSeconds, DEFAULTS.declineHoldSeconds);
    assert.equal(cfg.server.offerHoldSeconds, DEFAULTS.offerHoldSeconds);
    assert.equal(cfg.server.logLevel, DEFAULTS.logLevel);
    assert.deepEqual(cfg.scopes, []);
    assert.equal(cfg.allowEmptyScopes, DEFAULTS.allowEmptyScopes);
    assert.deepEqual(cfg.relationships, []);
  });

  it('reads allowEmptyScopes, with or without scopes', () => {
    assert.equal(validateConfig({ ...base(), scopes: [], allowEmptyScopes: true }).allowEmptyScopes, true);
    assert.equal(validateConfig({ ...base(), allowEmptyScopes: true }).allowEmptyScopes, true, 'harmless next to scopes');
    assert.equal(validateConfig({ ...base(), allowEmptyScopes: null }).allowEmptyScopes, false, 'null as absent, like every other field');
  });

  it('parses addresses, normalizes client keys and fills mask and broadcast', () => {
    const raw = base();
    raw.scopes[0].reservations.push({ ip: '10.0.0.11', clientId: '01:AA:bb:cc:dd:ee:ff', hostname: 'pc.lab' });
    raw.scopes[0].reservations.push({ ip: '10.0.0.12', clientId: 'FF0011' });
    raw.scopes[0].exclusions = [{ start: '10.0.0.120', end: '10.0.0.129' }];
    const cfg = validateConfig(raw);
    const lab = cfg.scopes[0];
    assert.ok(lab);
    assert.deepEqual(lab.subnet, parseCidr('10.0.0.0/24'));
    assert.deepEqual(lab.ranges, [{ start: parseIpv4('10.0.0.100'), end: parseIpv4('10.0.0.199') }]);
    assert.deepEqual(lab.exclusions, [{ start: parseIpv4('10.0.0.120'), end: parseIpv4('10.0.0.129') }]);
    assert.equal(lab.leaseSeconds, DEFAULTS.leaseSeconds);
    assert.equal(lab.active, true);
    assert.equal(lab.interface, 'eth0');
    assert.deepEqual(lab.reservations.map((r) => [r.ip, r.hw, r.clientId, r.hostname]), [
      [parseIpv4('10.0.0.10'), '1:aabbccddeeff', undefined, undefined],
      [parseIpv4('10.0.0.11'), undefined, '01aabbccddeeff', 'pc.lab'],
      [parseIpv4('10.0.0.12'), undefined, 'ff0011', undefined],
    ]);
    assert.deepEqual(lab.options.get(1), Buffer.from([255, 255, 255, 0]));
    assert.deepEqual(lab.options.get(28), Buffer.from([10, 0, 0, 255]));
    assert.deepEqual(lab.options.get(3), Buffer.from([10, 0, 0, 1]));
    assert.equal(cfg.scopes[1]?.interface, undefined);
  });

  it('keeps a subnet mask given explicitly', () => {
    const raw = base();
    raw.scopes[1].options = { 'subnet-mask': '255.255.0.0' };
    const cfg = validateConfig(raw);
    assert.deepEqual(cfg.scopes[1]?.options.get(1), Buffer.from([255, 255, 0, 0]));
    assert.deepEqual(cfg.scopes[1]?.options.get(28), Buffer.from([10, 1, 0, 255]));
  });

  it('accepts a redis store and a failover section (validated by src/config/failover.ts)', () => {
    const raw = base();
    raw.server.store = { type: 'redis', path: '/run/redis/redis.sock', passwordFile: '/var/run/secrets/redis/password' };
    raw.failover = { relationship: 'lab', role: 'primary', address: '10.0.0.2', partner: { address: '10.0.0.3' }, mode: 'load-balance', mcltSeconds: 3600 };
    const cfg = validateConfig(raw);
    assert.deepEqual(cfg.server.store, { type: 'redis', path: '/run/redis/redis.sock', passwordFile: '/var/run/secrets/redis/password', keyPrefix: DEFAULTS.redisKeyPrefix });
    assert.deepEqual(cfg.relationships.map((r) => r.partner), [{ address: '10.0.0.3', port: 647 }]);
    raw.failover.mcltSeconds = 1;
    assert.equal(cfg.relationships[0]?.mcltSeconds, 3600, 'the config is a copy, not a view of the raw object');
  });

  it('reports failover problems with their paths', () => {
    const raw = base();
    raw.failover = { role: 'tertiary', address: '10.0.0.2', partner: { address: 'nope' }, mode: 'load-balance' };
    const paths = problemsOf(raw).map((p) => p.path).sort();
    assert.deepEqual(paths, ['failover.partner.address', 'failover.relationship', 'failover.role']);
  });

  it('is deeply frozen, option maps included', () => {
    const raw = base();
    raw.failover = { relationship: 'lab', role: 'primary', address: '10.0.0.2', partner: { address: '10.0.0.3' }, mode: 'hot-standby' };
    const cfg = validateConfig(raw);
    assert.ok(Object.isFrozen(cfg) && Object.isFrozen(cfg.server) && Object.isFrozen(cfg.server.listen.interfaces));
    assert.ok(Object.isFrozen(cfg.scopes) && Object.isFrozen(cfg.scopes[0]) && Object.isFrozen(cfg.scopes[0]?.ranges[0]));
    assert.ok(Object.isFrozen(cfg.scopes[0]?.reservations[0]));
    assert.ok(Object.isFrozen(cfg.relationships) && Object.isFrozen(cfg.relationships[0]?.partner));
    assert.throws(() => { (cfg.server as { name: string }).name = 'b'; }, TypeError);
    const options = cfg.scopes[0]?.options as Map<number, Buffer>;
    assert.throws(() => options.set(3, Buffer.alloc(4)), TypeError);
    assert.throws(() => options.delete(3), TypeError);
    assert.throws(() => options.clear(), TypeError);
    assert.ok(options instanceof Map);
    assert.equal(options.size, 3);
  });
});

describe('validateConfig: properties', () => {
  const octet = fc.integer({ min: 0, max: 255 });

  it('a range is accepted exactly when it lies in the subnet, in order, clear of network and broadcast', () => {
    fc.assert(fc.property(octet, octet, (a, b) => {
      const raw = base();
      raw.scopes[1].ranges = [{ start: `10.1.0.${a}`, end: `10.1.0.${b}` }];
      const ok = a <= b && a > 0 && b < 255;
      let accepted = true;
      try { validateConfig(raw); } catch (err) {
        accepted = false;
        assert.ok(err instanceof ConfigError);
        assert.ok(err.problems.every((p) => p.path === 'scopes[1].ranges[0]'), JSON.stringify(err.problems));
      }
      assert.equal(accepted, ok);
    }), { numRuns: 200 });
  });

  it('any Ethernet address in any case becomes "1:" + 12 lowercase hex digits', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), fc.boolean(), (bytes, upper) => {
      const text = [...bytes].map((x) => x.toString(16).padStart(2, '0')).join(':');
      const raw = base();
      raw.scopes[0].reservations[0].hwAddress = upper ? text.toUpperCase() : text;
      assert.equal(validateConfig(raw).scopes[0]?.reservations[0]?.hw, `1:${Buffer.from(bytes).toString('hex')}`);
    }), { numRuns: 100 });
  });

  it('a client identifier written with or without colons normalizes to the same hex', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 2, maxLength: 32 }), (bytes) => {
      const hex = Buffer.from(bytes).toString('hex');
      const colons = hex.toUpperCase().match(/../g)?.join(':') ?? '';
      for (const clientId of [hex, colons]) {
        const raw = base();
        raw.scopes[0].reservations[0] = { ip: '10.0.0.10', clientId };
        assert.equal(validateConfig(raw).scopes[0]?.reservations[0]?.clientId, hex);
      }
    }), { numRuns: 100 });
  });
});
