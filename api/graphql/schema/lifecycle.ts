import type {
  DeactivationResult as Deactivation,
  ReactivationResult as Reactivation,
} from '../../identity/index.ts';
import { deactivateUser, reactivateUser } from '../../identity/index.ts';
import { builder } from '../builder.ts';
import { type GraphQLContext, tenantOf } from '../context.ts';
import type { UserRow } from '../rows.ts';
import { identityActor, isObject, requireId } from './common.ts';
import { domain, mutationErrors, NotFoundError } from './errors.ts';
import { UserRef } from './user.ts';

type Deactivated = Deactivation & { row: UserRow };
type Reactivated = Reactivation & { row: UserRow };

const CredentialCounts = builder
  .objectRef<Deactivation['credentials']>('DeactivatedCredentials')
  .implement({
    fields: (t) => ({
      inactive: t.exposeInt('inactive'),
      locked: t.exposeInt('locked', { description: 'Temporary cards.' }),
      unchanged: t.exposeInt('unchanged'),
    }),
  });

const CertificateCounts = builder
  .objectRef<Deactivation['certificates']>('DeactivatedCertificates')
  .implement({
    fields: (t) => ({
      onHold: t.exposeInt('onHold'),
      revoked: t.exposeInt('revoked', { description: "Temporary cards' certificates." }),
      alreadyRevoked: t.exposeInt('alreadyRevoked'),
      unchanged: t.exposeInt('unchanged'),
    }),
  });

const DeactivationResultRef = builder.objectRef<Deactivated>('DeactivationResult').implement({
  description:
    'What the deactivation cascade changed: user inactive; credentials inactive (temporary cards locked); their certificates on hold (temporary cards’ revoked); every role withdrawn.',
  isTypeOf: (v) => isObject(v) && 'rolesWithdrawn' in v,
  fields: (t) => ({
    user: t.field({ type: UserRef, resolve: (r) => r.row }),
    wasActive: t.exposeBoolean('wasActive'),
    version: t.exposeInt('version'),
    credentials: t.field({ type: CredentialCounts, resolve: (r) => r.credentials }),
    certificates: t.field({ type: CertificateCounts, resolve: (r) => r.certificates }),
    rolesWithdrawn: t.exposeInt('rolesWithdrawn'),
  }),
});

const ReactivationResultRef = builder.objectRef<Reactivated>('ReactivationResult').implement({
  description: 'Reactivation restores the user only; `note` says what is left to do.',
  isTypeOf: (v) => isObject(v) && 'note' in v && 'rolesUnchanged' in v,
  fields: (t) => ({
    user: t.field({ type: UserRef, resolve: (r) => r.row }),
    wasActive: t.exposeBoolean('wasActive'),
    version: t.exposeInt('version'),
    credentialsUnchanged: t.exposeInt('credentialsUnchanged'),
    certificatesUnchanged: t.exposeInt('certificatesUnchanged'),
    credentialsNotActive: t.exposeInt('credentialsNotActive'),
    certificatesNotActive: t.exposeInt('certificatesNotActive'),
    rolesUnchanged: t.exposeBoolean('rolesUnchanged'),
    note: t.exposeString('note'),
  }),
});

/** Forgets everything this request loaded about the user (the cascade changed it all). */
async function reloadUser(ctx: GraphQLContext, id: string): Promise<UserRow> {
  ctx.loaders.userCredentials.clear(id);
  ctx.loaders.userAssignments.clear(id);
  ctx.loaders.credential.clearAll();
  ctx.loaders.certificate.clearAll();
  ctx.loaders.credentialCertificates.clearAll();
  ctx.loaders.roleAssignment.clearAll();
  ctx.loaders.roleAssignmentsOfRole.clearAll();
  const row = await ctx.loaders.user.clear(id).load(id);
  if (!row) throw new NotFoundError(`User ${id} not found`);
  return row;
}

builder.mutationFields((t) => ({
  deactivateUser: t.field({
    type: DeactivationResultRef,
    description: 'Deactivates a user with the cascade, in one transaction.',
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: { id: t.arg.id({ required: true }), reason: t.arg.string() },
    resolve: (_, { id, reason }, ctx) =>
      domain(async () => {
        const local = requireId(id, 'User');
        const r = await deactivateUser(ctx.db.db, tenantOf(ctx), local, identityActor(ctx), {
          reason: reason ?? undefined,
        });
        return { ...r, row: await reloadUser(ctx, local) };
      }),
  }),
  reactivateUser: t.field({
    type: ReactivationResultRef,
    description: 'Reactivates the user only; credentials, certificates and roles stay as they are.',
    authScopes: { admin: true },
    errors: { types: mutationErrors, directResult: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_, { id }, ctx) =>
      domain(async () => {
        const local = requireId(id, 'User');
        const r = await reactivateUser(ctx.db.db, tenantOf(ctx), local, identityActor(ctx));
        return { ...r, row: await reloadUser(ctx, local) };
      }),
  }),
}));
