import { ScimError } from './errors.ts';
import { etagOf } from './serialize.ts';

const tags = (header: string) =>
  header
    .split(',')
    .map((t) => t.trim().replace(/^W\//i, ''))
    .filter(Boolean);

const matches = (header: string, version: number) => {
  const list = tags(header);
  return list.includes('*') || list.includes(etagOf(version).replace(/^W\//, ''));
};

/** `If-Match` on writes: 412 unless one of the tags is the current version (or `*`). */
export function checkIfMatch(header: string | undefined, version: number): void {
  if (!header || matches(header, version)) return;
  throw new ScimError(
    412,
    undefined,
    `the resource has changed: current version is ${etagOf(version)}`,
  );
}

/** `If-None-Match` on reads: true when the client's copy is current (answer 304). */
export const notModified = (header: string | undefined, version: number) =>
  !!header && matches(header, version);
