/**
 * Family of the containers' env: `env-url` (an in-cluster URL names a Service that exists, on a port
 * it exposes; the reading of a host is lib/rules/url.ts, shared with the constructs' own check of env
 * URLs) and `duplicate-env` (a container lists each variable once).
 */
import { inClusterService, URL_RE, urlPort } from '../../rules/url';
import {
  asArray,
  containersOf,
  describeContainer,
  effectiveNamespace,
  isPlainObject,
  K8sObject,
  Problem,
  WorkloadPodTemplate,
  field,
  metaName,
} from '../k8s-common';
import { CheckRule, ObjectInput, ObjectRule, problemsOf } from './rule';

/** What env-url checks URLs against: Services by `namespace/name` with their ports, and the namespaces of the objects. */
interface ServiceDirectory {
  readonly services: ReadonlyMap<string, readonly number[]>;
  readonly namespaces: ReadonlySet<string>;
}

function serviceDirectory(objects: readonly K8sObject[]): ServiceDirectory {
  const services = new Map<string, number[]>();
  for (const o of objects) {
    const name = metaName(o);
    if (o?.kind !== 'Service' || name === undefined) continue;
    const ports = asArray<{ port?: unknown }>(field(o, 'spec', 'ports'))
      .map((p) => p?.port)
      .filter((p): p is number => typeof p === 'number');
    services.set(`${effectiveNamespace(o)}/${name}`, ports);
  }
  const namespaces = new Set<string>(objects.filter(isPlainObject).map(effectiveNamespace));
  for (const o of objects) {
    const name = metaName(o);
    if (o?.kind === 'Namespace' && name !== undefined) namespaces.add(name);
  }
  return { services, namespaces };
}

function urlIssue(url: string, podNamespace: string, { services, namespaces }: ServiceDirectory): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${url} is not a valid URL`;
  }
  const target = inClusterService(parsed.hostname, podNamespace, namespaces);
  if (!target) return undefined;
  const key = `${target.namespace}/${target.name}`;
  const ports = services.get(key);
  if (ports === undefined) return `${url} names Service ${key}, which is not among the manifests`;
  const port = urlPort(parsed);
  if (!ports.includes(port)) return `${url} uses port ${port}, but Service ${key} exposes ${ports.length ? ports.join(', ') : 'no ports'}`;
  return undefined;
}

function unknownServiceUrls(t: WorkloadPodTemplate, directory: ServiceDirectory): string[] {
  const messages: string[] = [];
  for (const c of containersOf(t)) {
    asArray<{ name?: unknown; value?: unknown }>(c.container.env).forEach((e, i) => {
      if (typeof e?.value !== 'string' || !e.value.includes('://')) return;
      for (const url of e.value.match(URL_RE) ?? []) {
        const issue = urlIssue(url, t.namespace, directory);
        if (issue) messages.push(`${describeContainer(c)}: env ${String(e.name)} (${c.path}.env[${i}].value): ${issue}`);
      }
    });
  }
  return messages;
}

export const ENV_URL: CheckRule & { readonly check: (t: WorkloadPodTemplate, directory: ServiceDirectory) => string[] } = {
  id: 'env-url',
  summary: 'in-cluster URLs in env name a Service that exists, on a port it exposes',
  fix: 'point the URL at a Service among the manifests and one of its ports (wire clients to servers by object, which writes the URL)',
  check: unknownServiceUrls,
};

/** The env-url problems of every pod template, against the Services among the objects. */
export function envServiceUrlProblems(objects: readonly K8sObject[], templates: readonly WorkloadPodTemplate[]): Problem[] {
  const directory = serviceDirectory(objects);
  return templates.flatMap((t) => problemsOf(ENV_URL, t.obj, ENV_URL.check(t, directory)));
}

/**
 * A variable listed twice in one container: the API server keeps both, but server-side apply fails
 * on the duplicate key of the list (env is keyed by name) and client-side apply keeps one value.
 */
function duplicateEnvIssues(t: WorkloadPodTemplate): string[] {
  const messages: string[] = [];
  for (const c of containersOf(t, ['initContainers', 'containers', 'ephemeralContainers'])) {
    const first = new Map<string, number>();
    asArray<{ name?: unknown }>(c.container.env).forEach((e, i) => {
      if (typeof e?.name !== 'string') return;
      const at = first.get(e.name);
      if (at === undefined) first.set(e.name, i);
      else
        messages.push(
          `${describeContainer(c)}: env ${e.name} is listed twice (${c.path}.env[${at}] and env[${i}]): server-side apply rejects the duplicate key`,
        );
    });
  }
  return messages;
}

export const DUPLICATE_ENV: ObjectRule = {
  id: 'duplicate-env',
  summary: 'a container lists each env variable once (server-side apply rejects a duplicate)',
  fix: 'remove the second entry of the variable from the container env',
  check: ({ t }: ObjectInput): string[] => (t ? duplicateEnvIssues(t) : []),
};
