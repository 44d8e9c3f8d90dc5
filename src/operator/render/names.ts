// Object names and label sets of one relationship's objects. Pure.
import { API_VERSION, LABELS, LABEL_VALUES, RELATIONSHIP_KIND, type DhcpFailoverRelationship, type OwnerReference } from './types.ts';

export const configMapName = (rel: DhcpFailoverRelationship): string => `${rel.metadata.name}-config`;
export const statefulSetName = (rel: DhcpFailoverRelationship, server: string): string => `${rel.metadata.name}-${server}`;
export const pdbName = (rel: DhcpFailoverRelationship): string => `${rel.metadata.name}-servers`;
export const configKey = (server: string): string => `${server}.yaml`;

/** Labels on every object of the relationship (the controller finds its objects by these). */
export function relationshipLabels(rel: DhcpFailoverRelationship): Record<string, string> {
  return {
    [LABELS.partOf]: LABEL_VALUES.partOf,
    [LABELS.managedBy]: LABEL_VALUES.managedBy,
    [LABELS.instance]: rel.metadata.name,
    [LABELS.relationship]: rel.metadata.name,
  };
}

/** Pod selector of one server (stable: a StatefulSet selector cannot change). */
export function serverSelector(rel: DhcpFailoverRelationship, server: string): Record<string, string> {
  return { [LABELS.relationship]: rel.metadata.name, [LABELS.server]: server };
}

export function serverLabels(rel: DhcpFailoverRelationship, server: string): Record<string, string> {
  return { ...relationshipLabels(rel), [LABELS.component]: LABEL_VALUES.component, [LABELS.server]: server };
}

/** Owner references need the relationship's uid; offline input without one gets none. */
export function ownerReferences(rel: DhcpFailoverRelationship): OwnerReference[] | undefined {
  const uid = rel.metadata.uid;
  if (uid === undefined || uid === '') return undefined;
  return [{ apiVersion: API_VERSION, kind: RELATIONSHIP_KIND, name: rel.metadata.name, uid, controller: true, blockOwnerDeletion: true }];
}
