/**
 * Field-level differences of two versions of one object, for review: maps by key, lists of named
 * items (containers, env, ports, volumes) by name, other lists by index.
 */
import { isPlainObject, keySegment, metaName, stringAt, type K8sObject } from '../check/k8s-common';

/** One leaf that differs; `before`/`after` undefined: not written on that side. */
export interface FieldChange {
  /** `spec.template.spec.containers[web].image`: named list items by their name in brackets. */
  readonly path: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

/**
 * What identifies an object to kubectl and Argo CD: API group, kind, namespace, name (the version
 * within a group is a representation the apiserver converts; see lib/check/upgrade.ts identityOf).
 */
export function identityOf(obj: K8sObject | undefined): string | undefined {
  const name = metaName(obj);
  if (typeof obj?.kind !== 'string' || name === undefined) return undefined;
  const v = typeof obj.apiVersion === 'string' ? obj.apiVersion : '';
  const group = v.includes('/') ? v.slice(0, v.indexOf('/')) : '';
  return [group, obj.kind, stringAt(obj, 'metadata', 'namespace') ?? '', name].join('\u0000');
}

const byName = (list: readonly unknown[]): Map<string, unknown> | undefined => {
  const m = new Map<string, unknown>();
  for (const item of list) {
    if (!isPlainObject(item) || typeof item.name !== 'string' || m.has(item.name)) return undefined;
    m.set(item.name, item);
  }
  return m;
};

/** Every leaf where `a` and `b` differ. */
export function fieldChanges(a: unknown, b: unknown, path = ''): FieldChange[] {
  if (a === b) return [];
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => fieldChanges(a[k], b[k], path === '' ? k : `${path}${keySegment(k)}`));
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const [na, nb] = [byName(a), byName(b)];
    if (na && nb && (na.size > 0 || nb.size > 0)) {
      const names = [...new Set([...na.keys(), ...nb.keys()])];
      return names.flatMap((n) => fieldChanges(na.get(n), nb.get(n), `${path}[${n}]`));
    }
    return Array.from({ length: Math.max(a.length, b.length) }, (_, i) => fieldChanges(a[i], b[i], `${path}[${i}]`)).flat();
  }
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  return [{ path, before: a, after: b }];
}

/** A value as one short line of JSON (`(unset)` when not written). */
export function showValue(v: unknown, max = 100): string {
  if (v === undefined) return '(unset)';
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}
