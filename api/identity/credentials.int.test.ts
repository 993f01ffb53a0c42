import { describe, expect, it } from 'vitest';
import { createHarness } from '../../test/harness.ts';
import {
  addCertificate,
  canTransition,
  getCertificate,
  holdCertificate,
  listCertificates,
  releaseCertificate,
  revokeCertificate,
} from './certificates.ts';
import {
  changeCredentialState,
  getCredential,
  issueCredential,
  listCredentials,
} from './credentials.ts';
import { admin, auditOf, refused, snapshot, tenantWithUsers } from './test-fixtures.ts';

const h = createHarness();
const db = h.db.db;
const DAY = 86_400_000;

const cert = (serial: string) => ({
  serial,
  subjectDn: `CN=${serial}`,
  issuerDn: 'CN=Test CA',
  notBefore: new Date(Date.now() - DAY),
  notAfter: new Date(Date.now() + 365 * DAY),
  derBase64: 'MIIBszCCAVmgAwIBAgIU',
});

describe('credentials', () => {
  it('issues credentials and changes their state, validated', async () => {
    const t = await tenantWithUsers(h);
    const u = await t.user('dave');
    const c = await issueCredential(db, t.tenantId, admin, {
      userId: u,
      type: 'card',
      serial: 'C-1',
    });
    expect(c).toMatchObject({
      userId: u,
      type: 'card',
      serial: 'C-1',
      state: 'active',
      version: 1,
    });
    await refused(
      issueCredential(db, t.tenantId, admin, { userId: u, type: 'card', serial: 'C-1' }),
      'conflict',
    );
    // The same serial as another type is another credential.
    await issueCredential(db, t.tenantId, admin, {
      userId: u,
      type: 'soft_token',
      serial: 'C-1',
      state: 'inactive',
    });
    await refused(
      issueCredential(db, t.tenantId, admin, { userId: u, type: 'badge' as 'card', serial: 'x' }),
      'invalid',
    );
    let version = 1;
    for (const state of ['locked', 'active', 'inactive', 'locked', 'inactive', 'active'] as const) {
      const next = await changeCredentialState(db, t.tenantId, admin, c.id, state);
      expect(next).toMatchObject({ state, version: ++version });
    }
    // The current state again changes nothing.
    expect((await changeCredentialState(db, t.tenantId, admin, c.id, 'active')).version).toBe(
      version,
    );
    await refused(
      changeCredentialState(db, t.tenantId, admin, c.id, 'gone' as 'active'),
      'invalid',
    );
    expect((await listCredentials(db, t.tenantId, u)).map((x) => x.type)).toEqual([
      'card',
      'soft_token',
    ]);
    const audit = (await auditOf(h, t.tenantId)).filter((a) => a.target_id === c.id);
    expect(audit.map((a) => a.action)).toEqual([
      'credential.issue',
      ...Array(6).fill('credential.state'),
    ]);
    expect(audit[1]?.summary).toEqual({ state: { from: 'active', to: 'locked' } });
  });
});

describe('certificates', () => {
  it('knows the transition rules', () => {
    expect(canTransition('active', 'on_hold')).toBe(true);
    expect(canTransition('on_hold', 'active')).toBe(true);
    expect(canTransition('active', 'revoked')).toBe(true);
    expect(canTransition('on_hold', 'revoked')).toBe(true);
    expect(canTransition('revoked', 'active')).toBe(false);
    expect(canTransition('revoked', 'on_hold')).toBe(false);
    expect(canTransition('revoked', 'revoked')).toBe(false);
  });

  it('holds, releases and revokes; revoked is final', async () => {
    const t = await tenantWithUsers(h);
    const u = await t.user('erin');
    const c = await issueCredential(db, t.tenantId, admin, {
      userId: u,
      type: 'virtual_smart_card',
      serial: 'V-1',
    });
    const x = await addCertificate(db, t.tenantId, admin, c.id, cert('01'));
    expect(x).toMatchObject({ credentialId: c.id, state: 'active', version: 1, revokedAt: null });
    await refused(addCertificate(db, t.tenantId, admin, c.id, cert('01')), 'conflict');
    await refused(releaseCertificate(db, t.tenantId, admin, x.id), 'invalid_transition');
    expect(await holdCertificate(db, t.tenantId, admin, x.id)).toMatchObject({
      state: 'on_hold',
      version: 2,
    });
    await refused(holdCertificate(db, t.tenantId, admin, x.id), 'invalid_transition');
    expect(await releaseCertificate(db, t.tenantId, admin, x.id)).toMatchObject({
      state: 'active',
      version: 3,
    });
    await holdCertificate(db, t.tenantId, admin, x.id);
    await refused(
      revokeCertificate(db, t.tenantId, admin, x.id, 'bogus' as 'superseded'),
      'invalid',
    );
    const revoked = await revokeCertificate(db, t.tenantId, admin, x.id, 'keyCompromise');
    expect(revoked).toMatchObject({
      state: 'revoked',
      revocationReason: 'keyCompromise',
      version: 5,
    });
    expect(revoked.revokedAt).toBeInstanceOf(Date);
    for (const op of [holdCertificate, releaseCertificate, revokeCertificate])
      await refused(op(db, t.tenantId, admin, x.id), 'invalid_transition');
    expect(await getCertificate(db, t.tenantId, x.id)).toEqual(revoked);
    // Active straight to revoked, default reason.
    const y = await addCertificate(db, t.tenantId, admin, c.id, { ...cert('02'), derBase64: null });
    expect(await revokeCertificate(db, t.tenantId, admin, y.id)).toMatchObject({
      state: 'revoked',
      revocationReason: 'unspecified',
    });
    expect((await listCertificates(db, t.tenantId, c.id)).map((z) => z.serial)).toEqual([
      '01',
      '02',
    ]);
    const audit = (await auditOf(h, t.tenantId)).filter((a) => a.target_id === x.id);
    expect(audit.map((a) => a.action)).toEqual([
      'certificate.add',
      'certificate.hold',
      'certificate.release',
      'certificate.hold',
      'certificate.revoke',
    ]);
    expect(audit.at(-1)?.summary).toEqual({
      state: { from: 'on_hold', to: 'revoked' },
      reason: 'keyCompromise',
    });
  });

  it('validates certificates', async () => {
    const t = await tenantWithUsers(h);
    const c = await issueCredential(db, t.tenantId, admin, {
      userId: await t.user('f'),
      type: 'card',
      serial: '1',
    });
    const base = cert('03');
    await refused(
      addCertificate(db, t.tenantId, admin, c.id, { ...base, notAfter: base.notBefore }),
      'invalid',
    );
    await refused(
      addCertificate(db, t.tenantId, admin, c.id, { ...base, notBefore: new Date('x') }),
      'invalid',
    );
    await refused(
      addCertificate(db, t.tenantId, admin, c.id, { ...base, derBase64: 'not base64!' }),
      'invalid',
    );
    await refused(
      addCertificate(db, t.tenantId, admin, c.id, { ...base, subjectDn: '' }),
      'invalid',
    );
  });

  it('bumps the owner’s version on every credential and certificate change', async () => {
    const t = await tenantWithUsers(h);
    const u = await t.user('gina');
    const c = await issueCredential(db, t.tenantId, admin, {
      userId: u,
      type: 'mobile_id',
      serial: 'M',
    });
    const x = await addCertificate(db, t.tenantId, admin, c.id, cert('04'));
    await holdCertificate(db, t.tenantId, admin, x.id);
    await changeCredentialState(db, t.tenantId, admin, c.id, 'locked');
    expect((await t.scim.get(`/Users/${u}`)).headers.get('etag')).toBe('W/"5"');
  });

  it('isolates tenants', async () => {
    const owner = await tenantWithUsers(h);
    const u = await owner.user('victim');
    const c = await issueCredential(db, owner.tenantId, admin, {
      userId: u,
      type: 'card',
      serial: 'S',
    });
    const x = await addCertificate(db, owner.tenantId, admin, c.id, cert('05'));
    const other = (await tenantWithUsers(h)).tenantId;
    const before = await snapshot(h, owner.tenantId);
    await refused(
      issueCredential(db, other, admin, { userId: u, type: 'card', serial: 'T' }),
      'not_found',
    );
    await refused(changeCredentialState(db, other, admin, c.id, 'locked'), 'not_found');
    await refused(getCredential(db, other, c.id), 'not_found');
    await refused(listCredentials(db, other, u), 'not_found');
    await refused(addCertificate(db, other, admin, c.id, cert('06')), 'not_found');
    await refused(holdCertificate(db, other, admin, x.id), 'not_found');
    await refused(releaseCertificate(db, other, admin, x.id), 'not_found');
    await refused(revokeCertificate(db, other, admin, x.id), 'not_found');
    await refused(getCertificate(db, other, x.id), 'not_found');
    await refused(listCertificates(db, other, c.id), 'not_found');
    expect(await snapshot(h, owner.tenantId)).toEqual(before);
  });
});
