/**
 * Family `inline-credentials`: a credential written into a manifest, where anyone who reads the YAML (or
 * the git history) reads it: a literal env value under a credential's name (AWS_SECRET_ACCESS_KEY, HF_TOKEN,
 * DB_PASSWORD), a URL with user:password@ in env, command or args. (Custom kinds such as an Argo CD Application
 * skip the per-object rules; the construct checks its repoURL.)
 * The readings are the constructs' own (lib/rules/credentials.ts, urlCredentialsIn in lib/rules/url.ts);
 * messages show the value masked, never the value.
 */
import { isReferenceOnly, isSecretShapedEnvName, maskSecret } from '../../rules/credentials';
import { urlCredentialsIn } from '../../rules/url';
import { asArray, containersOf, describeContainer, LocatedContainer, WorkloadPodTemplate } from '../k8s-common';
import { ObjectInput, ObjectRule } from './rule';

const URL_PROBLEM = 'has a credential in a URL (user:password@host)';

function envIssues(c: LocatedContainer): string[] {
  const out: string[] = [];
  asArray<{ name?: unknown; value?: unknown }>(c.container.env).forEach((e, i) => {
    if (typeof e?.name !== 'string' || typeof e.value !== 'string') return;
    const at = `${describeContainer(c)}: env ${e.name} (${c.path}.env[${i}].value)`;
    if (isSecretShapedEnvName(e.name) && !isReferenceOnly(e.value))
      out.push(`${at} is a literal value under a credential's name, in plain text: ${maskSecret(e.value)}`);
    const urls = urlCredentialsIn(e.value);
    if (urls.count > 0) out.push(`${at} ${URL_PROBLEM}: ${JSON.stringify(urls.masked)}`);
  });
  return out;
}

function argvIssues(c: LocatedContainer): string[] {
  const out: string[] = [];
  for (const key of ['command', 'args'] as const) {
    asArray<unknown>(c.container[key]).forEach((a, i) => {
      if (typeof a !== 'string') return;
      const urls = urlCredentialsIn(a);
      if (urls.count > 0) out.push(`${describeContainer(c)}: ${key}[${i}] ${URL_PROBLEM}: ${JSON.stringify(urls.masked)}`);
    });
  }
  return out;
}

function podIssues(t: WorkloadPodTemplate): string[] {
  return containersOf(t, ['initContainers', 'containers', 'ephemeralContainers']).flatMap((c) => [...envIssues(c), ...argvIssues(c)]);
}

export const INLINE_CREDENTIALS: ObjectRule = {
  id: 'inline-credentials',
  summary: "no credential written in a manifest: literal env values under a credential's name, user:password@ in URLs",
  fix:
    'put the value in a Secret and read it with env valueFrom.secretKeyRef (EnvValue.fromSecret in the library); in a URL, ' +
    'write $(VAR) of a variable read from the Secret',
  check: ({ t }: ObjectInput): string[] => (t ? podIssues(t) : []),
};
