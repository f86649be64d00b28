// A Sigstore instance made in the test, shaped like GitHub's own (fulcio.githubapp.com): a root
// CA, a Fulcio-style leaf certificate per signature carrying the GitHub Actions claims (OIDs
// 1.3.6.1.4.1.57264.1.*), a DSSE envelope over an in-toto statement signed with the leaf's key,
// an RFC 3161 timestamp over that signature from a test timestamp authority (the real `openssl ts`),
// and a trusted root JSON naming the CA and the TSA. Each knob breaks one rule the verifier checks.
//
// Certificates are made with @peculiar/x509 (a dev dependency): arbitrary validity dates and
// custom extensions in-process, which OpenSSL 3.0's `x509 -req` cannot set.
import 'reflect-metadata'; // tsyringe, under @peculiar/x509, needs it loaded first
import { execFileSync } from 'node:child_process';
import { webcrypto, createPrivateKey, sign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { GITHUB_ACTIONS_ISSUER } from '../../src/install/attestation/policy.js';
import { SLSA_PROVENANCE_V1 } from '../../src/install/attestation/statement.js';
import type { TrustedRootJson } from '../../src/install/attestation/trusted-root.js';
import { tempDir } from './tmp.js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const HOUR = 3_600_000;

export interface Claims {
  repo: string;
  workflow: string;
  ref: string;
  runner: string;
  issuer: string;
}

export const DEFAULT_CLAIMS: Claims = {
  repo: 'octo/heph',
  workflow: '.github/workflows/release.yml',
  ref: 'refs/tags/v1.2.0',
  runner: 'github-hosted',
  issuer: GITHUB_ACTIONS_ISSUER,
};

export interface BundleOptions {
  /** SHA-256 (hex) the statement's subject names. */
  sha256: string;
  name?: string;
  predicateType?: string;
  claims?: Partial<Claims>;
  /** Leave claims out of the certificate (e.g. a certificate for an e-mail identity). */
  omitClaims?: boolean;
  /** Leaf validity; default: from 5 minutes ago for 10 minutes, as Fulcio issues them. */
  leafNotBefore?: Date;
  leafNotAfter?: Date;
  /** Which CA signs the leaf: the trusted one, or one the trusted root does not name. */
  signer?: 'trusted' | 'rogue';
  /** Which TSA stamps the signature, or none at all. */
  timestamp?: 'trusted' | 'rogue' | 'none';
  /** Change the payload after signing. */
  tamperPayload?: boolean;
}

interface Authority {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

export interface TestPki {
  dir: string;
  trustedRoot: TrustedRootJson;
  /** The trusted root written as a file, for `install.trusted_root`. */
  rootFile: string;
  makeBundle(opts: BundleOptions): Promise<Record<string, unknown>>;
}

const b64 = (b: ArrayBuffer | Uint8Array) =>
  Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)).toString('base64');

/** DER UTF8String, as Fulcio encodes its newer claims. */
function utf8String(text: string): ArrayBuffer {
  const body = Buffer.from(text, 'utf8');
  const len =
    body.length < 0x80
      ? Buffer.from([body.length])
      : body.length < 0x100
        ? Buffer.from([0x81, body.length])
        : Buffer.from([0x82, body.length >> 8, body.length & 0xff]);
  const der = Buffer.concat([Buffer.from([0x0c]), len, body]);
  return der.buffer.slice(der.byteOffset, der.byteOffset + der.length) as ArrayBuffer;
}

let serial = 1;
const nextSerial = () => (serial++).toString(16).padStart(4, '0');

async function makeRoot(name: string, notBefore: Date): Promise<Authority> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: nextSerial(),
    name,
    notBefore,
    notAfter: new Date(notBefore.getTime() + 10 * 365 * 24 * HOUR),
    signingAlgorithm: EC,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 2, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys };
}

async function makeTsa(root: Authority, notBefore: Date): Promise<Authority> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: nextSerial(),
    subject: 'CN=heph test TSA, O=heph test',
    issuer: root.cert.subject,
    notBefore,
    notAfter: new Date(notBefore.getTime() + 365 * 24 * HOUR),
    signingAlgorithm: EC,
    publicKey: keys.publicKey,
    signingKey: root.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.timeStamping], true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(root.keys.publicKey),
    ],
  });
  return { cert, keys };
}

async function privatePem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({
    type: 'pkcs8',
    format: 'pem',
  }) as string;
}

/** An RFC 3161 TimeStampResp over `data` from `tsa` (what a bundle stores), by `openssl ts -reply`. */
async function timestamp(dir: string, tsa: Authority, data: Buffer): Promise<Buffer> {
  const id = nextSerial();
  const f = (n: string) => join(dir, `${id}-${n}`);
  writeFileSync(f('data'), data);
  writeFileSync(f('tsa.pem'), tsa.cert.toString('pem'));
  writeFileSync(f('tsa.key'), await privatePem(tsa.keys.privateKey), { mode: 0o600 });
  writeFileSync(f('serial'), '01\n');
  writeFileSync(
    f('ts.cnf'),
    [
      '[ tsa ]',
      'default_tsa = t',
      '[ t ]',
      `serial = ${f('serial')}`,
      `signer_cert = ${f('tsa.pem')}`,
      `signer_key = ${f('tsa.key')}`,
      'signer_digest = sha256',
      'default_policy = 1.3.6.1.4.1.57264.2',
      'digests = sha256',
      'accuracy = secs:1',
      'ordering = no',
      'tsa_name = no',
      'ess_cert_id_alg = sha256',
      '',
    ].join('\n'),
  );
  execFileSync('openssl', [
    'ts',
    '-query',
    '-data',
    f('data'),
    '-sha256',
    '-cert',
    '-no_nonce',
    '-out',
    f('tsq'),
  ]);
  execFileSync(
    'openssl',
    ['ts', '-reply', '-config', f('ts.cnf'), '-queryfile', f('tsq'), '-out', f('tsr')],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return readFileSync(f('tsr'));
}

function pae(type: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `), body]);
}

function authorityJson(uri: string, chain: x509.X509Certificate[], start: Date) {
  return {
    subject: { organization: 'heph test', commonName: uri },
    uri,
    certChain: { certificates: chain.map((c) => ({ rawBytes: b64(c.rawData) })) },
    validFor: { start: start.toISOString() },
  };
}

export interface PkiOptions {
  /**
   * The CA's organization. `sigstore.dev` makes the instance look like public-good Sigstore, whose
   * certificates must also carry an SCT and a Rekor entry (this test instance makes neither).
   */
  organization?: string;
}

export async function createTestPki(opts: PkiOptions = {}): Promise<TestPki> {
  const dir = tempDir('heph-pki-');
  const since = new Date(Date.now() - 24 * HOUR);
  const root = await makeRoot(
    `CN=heph test Internal Services Root, O=${opts.organization ?? 'heph test'}`,
    since,
  );
  const tsa = await makeTsa(root, since);
  const rogue = await makeRoot('CN=heph test Internal Services Root, O=heph test', since);
  const rogueTsa = await makeTsa(rogue, since);
  const trustedRoot: TrustedRootJson = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [],
    certificateAuthorities: [authorityJson('fulcio.test', [root.cert], since)],
    ctlogs: [],
    timestampAuthorities: [authorityJson('timestamp.test', [tsa.cert, root.cert], since)],
  };

  async function makeBundle(o: BundleOptions): Promise<Record<string, unknown>> {
    const c = { ...DEFAULT_CLAIMS, ...o.claims };
    const ca = o.signer === 'rogue' ? rogue : root;
    const now = Date.now();
    const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
    const san = `https://github.com/${c.repo}/${c.workflow}@${c.ref}`;
    const claim = (arc: number, value: string) =>
      new x509.Extension(`1.3.6.1.4.1.57264.1.${arc}`, false, utf8String(value));
    const claims = o.omitClaims
      ? []
      : [
          claim(8, c.issuer),
          claim(9, san),
          claim(11, c.runner),
          claim(12, `https://github.com/${c.repo}`),
          claim(14, c.ref),
          claim(18, san),
        ];
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: nextSerial(),
      subject: '',
      issuer: ca.cert.subject,
      notBefore: o.leafNotBefore ?? new Date(now - 5 * 60_000),
      notAfter: o.leafNotAfter ?? new Date(now + 5 * 60_000),
      signingAlgorithm: EC,
      publicKey: keys.publicKey,
      signingKey: ca.keys.privateKey,
      extensions: [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.codeSigning]),
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: san }], true),
        await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
        ...claims,
      ],
    });
    const statement = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: o.name ?? 'heph.tgz', digest: { sha256: o.sha256 } }],
      predicateType: o.predicateType ?? SLSA_PROVENANCE_V1,
      predicate: { buildDefinition: { buildType: 'https://actions.github.io/buildtypes/workflow/v1' } },
    };
    const payloadType = 'application/vnd.in-toto+json';
    let payload = Buffer.from(JSON.stringify(statement));
    const sig = sign(
      'sha256',
      pae(payloadType, payload),
      createPrivateKey(await privatePem(keys.privateKey)),
    );
    if (o.tamperPayload)
      payload = Buffer.from(JSON.stringify({ ...statement, predicate: { tampered: true } }));
    const stamp = o.timestamp ?? 'trusted';
    const rfc3161 =
      stamp === 'none'
        ? []
        : [{ signedTimestamp: b64(await timestamp(dir, stamp === 'rogue' ? rogueTsa : tsa, sig)) }];
    return {
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: {
        certificate: { rawBytes: b64(leaf.rawData) },
        tlogEntries: [],
        timestampVerificationData: { rfc3161Timestamps: rfc3161 },
      },
      dsseEnvelope: {
        payload: b64(payload),
        payloadType,
        signatures: [{ sig: b64(sig), keyid: '' }],
      },
    };
  }

  const rootFile = join(dir, 'trusted-root.json');
  writeFileSync(rootFile, JSON.stringify(trustedRoot));
  return { dir, trustedRoot, rootFile, makeBundle };
}
