// A self-signed certificate made at test time with the openssl command line
// (node:crypto reads certificates but cannot make one). Specs that need it
// skip when openssl is not installed.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SelfSignedCertificate {
  /** PEM text of the certificate. */
  cert: string;
  /** PEM text of its private key (PKCS#8). */
  key: string;
}

/** True when the openssl command line can be run. */
export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

/** A P-256 key and a certificate for `commonName`, valid one day, with 127.0.0.1 and localhost as names. */
export function makeSelfSignedCertificate(commonName = 'localhost'): SelfSignedCertificate {
  const folder = mkdtempSync(join(tmpdir(), 'aoq-cert-'));
  try {
    const keyFile = join(folder, 'key.pem');
    const certFile = join(folder, 'cert.pem');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', `/CN=${commonName}`, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
      { stdio: 'ignore', timeout: 10_000 },
    );
    return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
