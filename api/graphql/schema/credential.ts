import {
  addCertificate,
  type CertificateState,
  type CredentialState,
  type CredentialType,
  changeCredentialState,
  credentialStates,
  credentialTypes,
  holdCertificate,
  issueCredential,
  type RevocationReason,
  releaseCertificate,
  revocationReasons,
  revokeCertificate,
} from '../../identity/index.ts';
import { builder } from '../builder.ts';
import { type GraphQLContext, tenantOf } from '../context.ts';
import { localId } from '../ids.ts';
import { arrayConnection } from '../paging.ts';
import type { CertificateRow, CredentialRow } from '../rows.ts';
import { identityActor, isKind, requireId } from './common.ts';
import { domain, mutationErrors, NotFoundError, queryInput } from './errors.ts';
import { UserRef } from './user.ts';

export const CredentialRef = builder.objectRef<CredentialRow>('Credential');
export const CertificateRef = builder.objectRef<CertificateRow>('Certificate');

/** `temporary_card` → TEMPORARY_CARD, `keyCompromise` → KEY_COMPROMISE. */
const enumName = (v: string) => v.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
const enumValues = <T extends string>(values: readonly T[]) =>
  Object.fromEntries(values.map((v) => [enumName(v), { value: v }])) as Record<
    string,
    { value: T }
  >;

export const CredentialTypeEnum = builder.enumType('CredentialType', {
  values: enumValues<CredentialType>(credentialTypes),
});
export const CredentialStateEnum = builder.enumType('CredentialState', {
  values: enumValues<CredentialState>(credentialStates),
});
export const CertificateStateEnum = builder.enumType('CertificateState', {
  values: enumValues<CertificateState>(['active', 'on_hold', 'revoked']),
});
export const RevocationReasonEnum = builder.enumType('RevocationReason', {
  description: 'RFC 5280 §5.3.1 CRL reasons (certificateHold is the ON_HOLD state instead).',
  values: enumValues<RevocationReason>(revocationReasons),
});

builder.node(CredentialRef, {
  description:
    "A credential (card, token …) belonging to one user, with the user's certificates on it.",
  authScopes: { admin: true },
  id: { resolve: (c) => c.id },
  isTypeOf: isKind('Credential'),
  loadManyWithoutCache: (ids, ctx: GraphQLContext) =>
    Promise.all(ids.map((id) => ctx.loaders.credential.load(id))),
  fields: (t) => ({
    type: t.field({ type: CredentialTypeEnum, resolve: (c) => c.type }),
    serial: t.exposeString('serial'),
    state: t.field({ type: CredentialStateEnum, resolve: (c) => c.state }),
    version: t.exposeInt('version'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    user: t.field({
      type: UserRef,
      nullable: true,
      resolve: (c, _, ctx) => ctx.loaders.user.load(c.userId),
    }),
    certificates: t.connection(
      {
        nullable: true,
        type: CertificateRef,
        description: 'Certificates on this credential, oldest first.',
        resolve: async (c, args, ctx) =>
          queryInput(async () =>
            arrayConnection(
              `certificates:${c.id}`,
              await ctx.loaders.credentialCertificates.load(c.id),
              (x) => x.id,
              (x) => x,
              args,
            ),
          ),
      },
      { name: 'CredentialCertificatesConnection' },
      { name: 'CredentialCertificatesEdge' },
    ),
  }),
});

builder.node(CertificateRef, {
  description: 'An X.509 certificate on a credential.',
  authScopes: { admin: true },
  id: { resolve: (c) => c.id },
  isTypeOf: isKind('Certificate'),
  loadManyWithoutCache: (ids, ctx: GraphQLContext) =>
    Promise.all(ids.map((id) => ctx.loaders.certificate.load(id))),
  fields: (t) => ({
    serial: t.exposeString('serial'),
    subjectDn: t.exposeString('subjectDn'),
    issuerDn: t.exposeString('issuerDn'),
    notBefore: t.expose('notBefore', { type: 'DateTime' }),
    notAfter: t.expose('notAfter', { type: 'DateTime' }),
    derBase64: t.exposeString('derBase64', { nullable: true }),
    state: t.field({ type: CertificateStateEnum, resolve: (c) => c.state }),
    revocationReason: t.field({
      type: RevocationReasonEnum,
      nullable: true,
      resolve: (c) =>
        c.revocationReason == null
          ? null
          : revocationReasons.includes(c.revocationReason as RevocationReason)
            ? (c.revocationReason as RevocationReason)
            : 'unspecified',
    }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    version: t.exposeInt('version'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    credential: t.field({
      type: CredentialRef,
      nullable: true,
      resolve: (c, _, ctx) => ctx.loaders.credential.load(c.credentialId),
    }),
  }),
});

builder.objectField(UserRef, 'credentials', (t) =>
  t.connection(
    {
      nullable: true,
      type: CredentialRef,
      description: "The user's credentials, oldest first.",
      resolve: async (u, args, ctx) =>
        queryInput(async () =>
          arrayConnection(
            `credentials:${u.id}`,
            await ctx.loaders.userCredentials.load(u.id),
            (c) => c.id,
            (c) => c,
            args,
          ),
        ),
    },
    { name: 'UserCredentialsConnection' },
    { name: 'UserCredentialsEdge' },
  ),
);

builder.queryFields((t) => ({
  credential: t.field({
    type: CredentialRef,
    nullable: true,
    description: 'A credential by global id; null when not in your tenant.',
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) => {
      const local = localId(id, 'Credential');
      return local ? ctx.loaders.credential.load(local) : null;
    },
  }),
  certificate: t.field({
    type: CertificateRef,
    nullable: true,
    description: 'A certificate by global id; null when not in your tenant.',
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) => {
      const local = localId(id, 'Certificate');
      return local ? ctx.loaders.certificate.load(local) : null;
    },
  }),
}));

const IssueCredentialInput = builder.inputType('IssueCredentialInput', {
  fields: (t) => ({
    userId: t.id({ required: true }),
    type: t.field({ type: CredentialTypeEnum, required: true }),
    serial: t.string({ required: true, description: 'Unique per type in the tenant.' }),
    state: t.field({ type: CredentialStateEnum, description: 'ACTIVE when absent.' }),
  }),
});

const AddCertificateInput = builder.inputType('AddCertificateInput', {
  fields: (t) => ({
    serial: t.string({ required: true }),
    subjectDn: t.string({ required: true }),
    issuerDn: t.string({ required: true }),
    notBefore: t.field({ type: 'DateTime', required: true }),
    notAfter: t.field({ type: 'DateTime', required: true }),
    derBase64: t.string({ description: 'The DER certificate, base64.' }),
  }),
});

async function reloadCredential(ctx: GraphQLContext, id: string): Promise<CredentialRow> {
  ctx.loaders.credentialCertificates.clear(id);
  const row = await ctx.loaders.credential.clear(id).load(id);
  if (!row) throw new NotFoundError(`Credential ${id} not found`);
  ctx.loaders.userCredentials.clear(row.userId);
  ctx.loaders.user.clear(row.userId);
  return row;
}

async function reloadCertificate(ctx: GraphQLContext, id: string): Promise<CertificateRow> {
  const row = await ctx.loaders.certificate.clear(id).load(id);
  if (!row) throw new NotFoundError(`Certificate ${id} not found`);
  ctx.loaders.credentialCertificates.clear(row.credentialId);
  return row;
}

const certId = (id: string) => requireId(id, 'Certificate');

builder.mutationFields((t) => ({
  issueCredential: t.field({
    type: CredentialRef,
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: { input: t.arg({ type: IssueCredentialInput, required: true }) },
    resolve: (_, { input }, ctx) =>
      domain(async () => {
        const cred = await issueCredential(ctx.db.db, tenantOf(ctx), identityActor(ctx), {
          userId: requireId(input.userId, 'User'),
          type: input.type,
          serial: input.serial,
          state: input.state ?? undefined,
        });
        return reloadCredential(ctx, cred.id);
      }),
  }),
  changeCredentialState: t.field({
    type: CredentialRef,
    description: 'Sets a credential to ACTIVE, INACTIVE or LOCKED.',
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: {
      id: t.arg.id({ required: true }),
      state: t.arg({ type: CredentialStateEnum, required: true }),
    },
    resolve: (_, { id, state }, ctx) =>
      domain(async () => {
        const cred = await changeCredentialState(
          ctx.db.db,
          tenantOf(ctx),
          identityActor(ctx),
          requireId(id, 'Credential'),
          state,
        );
        return reloadCredential(ctx, cred.id);
      }),
  }),
  addCertificate: t.field({
    type: CertificateRef,
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: {
      credentialId: t.arg.id({ required: true }),
      input: t.arg({ type: AddCertificateInput, required: true }),
    },
    resolve: (_, { credentialId, input }, ctx) =>
      domain(async () => {
        const cert = await addCertificate(
          ctx.db.db,
          tenantOf(ctx),
          identityActor(ctx),
          requireId(credentialId, 'Credential'),
          { ...input, derBase64: input.derBase64 ?? null },
        );
        return reloadCertificate(ctx, cert.id);
      }),
  }),
  holdCertificate: t.field({
    type: CertificateRef,
    description: 'ACTIVE → ON_HOLD; InvalidInputError (reason invalid_transition) otherwise.',
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) =>
      domain(async () => {
        const cert = await holdCertificate(
          ctx.db.db,
          tenantOf(ctx),
          identityActor(ctx),
          certId(id),
        );
        return reloadCertificate(ctx, cert.id);
      }),
  }),
  releaseCertificate: t.field({
    type: CertificateRef,
    description: 'ON_HOLD → ACTIVE; InvalidInputError (reason invalid_transition) otherwise.',
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) =>
      domain(async () => {
        const cert = await releaseCertificate(
          ctx.db.db,
          tenantOf(ctx),
          identityActor(ctx),
          certId(id),
        );
        return reloadCertificate(ctx, cert.id);
      }),
  }),
  revokeCertificate: t.field({
    type: CertificateRef,
    description: 'Revokes for good (a revoked certificate never changes again).',
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: {
      id: t.arg.id({ required: true }),
      reason: t.arg({ type: RevocationReasonEnum, defaultValue: 'unspecified' }),
    },
    resolve: (_, { id, reason }, ctx) =>
      domain(async () => {
        const cert = await revokeCertificate(
          ctx.db.db,
          tenantOf(ctx),
          identityActor(ctx),
          certId(id),
          reason ?? 'unspecified',
        );
        return reloadCertificate(ctx, cert.id);
      }),
  }),
}));
