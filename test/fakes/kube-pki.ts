// Certificates for a loopback control plane, made with the `openssl` CLI (as ../shared/k8s/start.sh does):
// a CA, the apiserver's serving certificate for 127.0.0.1/localhost/kubernetes.default.svc, an admin client
// certificate in group system:masters, and the service-account signing key pair.
import { writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { run } from './processes.ts';

export interface ControlPlanePki {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly servingCert: string;
  readonly servingKey: string;
  readonly adminCert: string;
  readonly adminKey: string;
  /** Service-account token signing key (private) and its public half (verification). */
  readonly saKey: string;
  readonly saPub: string;
}

const SERVING_SANS = ['IP:127.0.0.1', 'DNS:localhost', 'DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc',
  'DNS:kubernetes.default.svc.cluster.local', 'IP:10.96.0.1'];

async function openssl(args: readonly string[]): Promise<void> {
  await run('openssl', args, { timeoutMs: 20_000 });
}

/** A random serial: no shared serial file, so the two leaf certificates are signed in parallel. */
const serial = (): string => `0x${randomBytes(12).toString('hex')}`;

async function leaf(dir: string, name: string, subject: string, ext: string, pki: { caCert: string; caKey: string }): Promise<void> {
  const p = (suffix: string): string => join(dir, `${name}.${suffix}`);
  writeFileSync(p('ext'), ext);
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('key'), '-out', p('csr'), '-subj', subject]);
  await openssl(['x509', '-req', '-in', p('csr'), '-CA', pki.caCert, '-CAkey', pki.caKey, '-set_serial', serial(),
    '-days', '30', '-extfile', p('ext'), '-out', p('crt')]);
}

/** Writes the PKI into `dir` (which must exist and be private). */
export async function makeControlPlanePki(dir: string): Promise<ControlPlanePki> {
  const pki: ControlPlanePki = {
    dir,
    caCert: join(dir, 'ca.crt'), caKey: join(dir, 'ca.key'),
    servingCert: join(dir, 'serving.crt'), servingKey: join(dir, 'serving.key'),
    adminCert: join(dir, 'admin.crt'), adminKey: join(dir, 'admin.key'),
    saKey: join(dir, 'sa.key'), saPub: join(dir, 'sa.pub'),
  };
  const ca = openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', pki.caKey, '-out', pki.caCert,
    '-days', '30', '-subj', '/CN=kube-control-plane-test-ca']);
  const sa = openssl(['genrsa', '-out', pki.saKey, '2048']).then(() => openssl(['rsa', '-in', pki.saKey, '-pubout', '-out', pki.saPub]));
  const leaves = ca.then(() => Promise.all([
    leaf(dir, 'serving', '/CN=kube-apiserver',
      `subjectAltName=${SERVING_SANS.join(',')}\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n`, pki),
    leaf(dir, 'admin', '/O=system:masters/CN=admin',
      'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n', pki),
  ]));
  await Promise.all([sa, leaves]);
  return pki;
}
