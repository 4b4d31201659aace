import { createHash } from 'node:crypto';
import { type CfnElement, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Logical IDs that survive the split of the stack into constructs.
 *
 * CloudFormation knows resources by logical ID, and CDK derives it from the construct path. Moving
 * the table, the license secret, the queues or the API under a new construct would change their
 * IDs — and CloudFormation would replace them: a new license secret (every issued key orphaned), a
 * new API URL (every provider's webhook setting broken), a queue whose fixed name is taken. So the
 * stack's concern constructs are *grouping* constructs: `Stack.allocateLogicalId` leaves their
 * own ids out of the path, and every resource keeps the ID it had when the stack was one file.
 * `test/infra/upgrade.test.ts` holds the stack to every ID of that template.
 */

const GROUPING = new WeakSet<IConstruct>();

/** Leave `construct`'s id out of the logical IDs of the resources under it. */
export function groupOnly(construct: IConstruct): void {
  GROUPING.add(construct);
}

/** The path from the stack to `construct`, grouping constructs left out. */
function stablePath(construct: IConstruct): string[] {
  const scopes = construct.node.scopes;
  const stack = Stack.of(construct);
  return scopes
    .slice(scopes.indexOf(stack) + 1)
    .filter((scope) => !GROUPING.has(scope))
    .map((scope) => scope.node.id);
}

/** `Stack.allocateLogicalId` over the stable path. */
export function stableLogicalId(element: CfnElement): string {
  return makeUniqueId(stablePath(element));
}

/**
 * `Names.nodeUniqueId` over the stable path (app and stack included, as CDK does): for the
 * construct ids CDK derives from another construct's unique id, such as an SQS event source's.
 */
export function stableUniqueId(construct: IConstruct): string {
  const stack = Stack.of(construct);
  const above = stack.node.scopes.slice(1).map((scope) => scope.node.id);
  return makeUniqueId([...above, ...stablePath(construct)]);
}

/** aws-cdk-lib's `makeUniqueId` (core/lib/private/uniqueid.ts, not exported), unchanged. */
function makeUniqueId(path: string[]): string {
  const components = path.filter((x) => x !== 'Default');
  if (components.length === 0) throw new Error('cannot make a logical id of an empty path');
  const alphanumeric = (s: string) => s.replace(/[^A-Za-z0-9]/g, '');
  if (components.length === 1) {
    const candidate = alphanumeric(components[0]!);
    if (candidate.length <= 255) return candidate;
  }
  const hash = createHash('md5').update(components.join('/')).digest('hex').slice(0, 8).toUpperCase();
  const human: string[] = [];
  for (const component of components) if (human.length === 0 || !human[human.length - 1]!.endsWith(component)) human.push(component);
  return (
    human
      .filter((x) => x !== 'Resource')
      .map(alphanumeric)
      .join('')
      .slice(0, 240) + hash
  );
}
