import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { embeddedDefaultConfig } from '../../src/config/embedded-default.ts';
import { loadConfigFile, parseConfigText } from '../../src/config/load.ts';
import { ConfigError } from '../../src/errors.ts';
import { cidrContains, formatIpv4, parseCidr, parseIpv4 } from '../../src/net/ipv4.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/config/${name}`, import.meta.url));
const example = (name: string): string => fileURLToPath(new URL(`../../examples/${name}`, import.meta.url));

async function rejection(promise: Promise<unknown>): Promise<ConfigError> {
  try { await promise; } catch (err) { assert.ok(err instanceof ConfigError, String(err)); return err; }
  assert.fail('expected a ConfigError');
}

describe('loadConfigFile', () => {
  it('loads a full config with every section', async () => {
    const cfg = await loadConfigFile(fixture('valid-full.yaml'));
    assert.equal(cfg.server.name, 'dhcp-a');
    assert.equal(cfg.server.serverId, parseIpv4('10.0.0.2'));
    assert.deepEqual(cfg.server.listen, { address: '0.0.0.0', port: 67, interfaces: ['eth0', 'eth1'] });
    assert.deepEqual(cfg.server.store, { type: 'redis', url: 'redis://redis.dhcp.svc:6379/0', passwordFile: '/var/run/secrets/redis/password', keyPrefix: 'dhcp:lab:' });
    assert.equal(cfg.server.logLevel, 'debug');
    assert.deepEqual(cfg.scopes.map((s) => [s.name, s.leaseSeconds, s.active, s.ranges.length, s.exclusions.length, s.reservations.length]), [
      ['lab', 7200, true, 2, 1, 3], ['relayed', 3600, false, 1, 0, 0],
    ]);
    const [printer, byClientId, raw] = cfg.scopes[0]?.reservations ?? [];
    assert.equal(printer?.hw, '1:aabbcc001122');
    assert.equal(printer?.hostname, 'printer');
    assert.deepEqual(printer?.options.get(6), Buffer.from([10, 0, 0, 54]));
    assert.equal(byClientId?.clientId, '01aabbcc001133');
    assert.equal(raw?.clientId, 'ff00112233');
    assert.deepEqual(cfg.scopes[0]?.options.get(6), Buffer.from([10, 0, 0, 53, 10, 0, 0, 54]));
    assert.deepEqual(cfg.scopes[0]?.options.get(15), Buffer.from('lab.example'));
    assert.deepEqual(cfg.scopes[1]?.options.get(1), Buffer.from([255, 255, 0, 0]));
  });

  it('turns a YAML syntax error into a ConfigError with line and column', async () => {
    const err = await rejection(loadConfigFile(fixture('syntax-error.yaml')));
    assert.equal(err.code, 'config_invalid');
    assert.equal(err.problems.length, 1);
    assert.equal(err.problems[0]?.path, '(yaml)');
    assert.match(err.problems[0]?.message ?? '', /^line 4, column \d+: /);
    assert.match(err.message, /syntax-error\.yaml/);
  });

  it('reports semantic problems with their paths', async () => {
    const err = await rejection(loadConfigFile(fixture('invalid-semantics.yaml')));
    assert.deepEqual(err.problems.map((p) => p.path), ['server.lisen', 'scopes[0].ranges[0]']);
  });

  it('reports an unreadable file as a ConfigError', async () => {
    const err = await rejection(loadConfigFile(fixture('does-not-exist.yaml')));
    assert.deepEqual(err.problems.map((p) => [p.path, /ENOENT/.test(p.message)]), [['(file)', true]]);
  });
});

describe('parseConfigText', () => {
  it('rejects duplicate keys', () => {
    assert.throws(() => parseConfigText('server: { name: a }\nserver: { name: b }\n', 'dup.yaml'), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.problems[0]?.path, '(yaml)');
      assert.match(err.problems[0]?.message ?? '', /line 2, column 1: duplicated mapping key/);
      return true;
    });
  });

  it('does not construct arbitrary types (js-yaml default schema has no !!js tags)', () => {
    assert.throws(() => parseConfigText('server: !!js/function "function () {}"\n'), ConfigError);
  });

  it('treats an empty file as a problem at the root', () => {
    assert.throws(() => parseConfigText(''), (err: unknown) => err instanceof ConfigError && err.problems[0]?.path === '(root)');
  });
});

describe('embeddedDefaultConfig', () => {
  it('validates, and is safe on a real LAN: loopback, unprivileged port, TEST-NET-1', () => {
    const cfg = embeddedDefaultConfig();
    assert.equal(cfg.server.listen.address, '127.0.0.1');
    assert.ok(cfg.server.listen.port >= 1024);
    assert.deepEqual(cfg.server.admin, { address: '127.0.0.1', port: 8067 });
    assert.deepEqual(cfg.server.store, { type: 'memory' });
    assert.deepEqual(cfg.server.listen.interfaces, [], 'no interface: only relayed requests are served');
    assert.equal(cfg.scopes.length, 1);
    const testNet = parseCidr('192.0.2.0/24');
    for (const scope of cfg.scopes) {
      assert.ok(cidrContains(testNet, scope.subnet.network) && scope.subnet.prefix >= 24, formatIpv4(scope.subnet.network));
      assert.equal(scope.interface, undefined);
    }
    assert.equal(embeddedDefaultConfig(), cfg, 'built once');
  });
});

describe('examples', () => {
  for (const name of ['server-local.yaml', 'server-redis.yaml']) {
    it(`${name} validates`, async () => { assert.ok((await loadConfigFile(example(name))).scopes.length > 0); });
  }
  it('server-local.yaml is as safe as the embedded default', async () => {
    const cfg = await loadConfigFile(example('server-local.yaml'));
    assert.equal(cfg.server.listen.address, '127.0.0.1');
    assert.ok(cfg.server.listen.port >= 1024);
    assert.equal(cfg.server.admin.address, '127.0.0.1');
    assert.deepEqual(cfg.server.store, { type: 'memory' });
  });
});
