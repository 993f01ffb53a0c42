import { builder } from '../builder.ts';
import './errors.ts';
import './common.ts';
import './user.ts';
import './group.ts';
import './organization.ts';
import './credential.ts';
import './account.ts';
import './role.ts';
import './audit.ts';
import './lifecycle.ts';
import './tenant.ts';
import './token.ts';
import './agent.ts';
import './data-source.ts';
import './data-source-commands.ts';
import './sync-job.ts';
import './sync-run.ts';
import './sync-run-plan.ts';
import './viewer.ts';

/** The admin API schema: every type registered by the files imported above. */
export const schema = builder.toSchema();
