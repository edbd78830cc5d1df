// App of apps: one Argo CD Application per reference stack, rendered by the cdk8s-ml plugin
// (deploy/argocd/plugin.yaml). Apply once by hand; Argo CD keeps the rest in sync.
import { Construct } from 'constructs';
import { ArgoCdApplication, MlStack } from '../../lib';

export const REPO_URL = 'https://github.com/example/cdk8s-ml.git';

export function argoCd(app: Construct, stacks: MlStack[]): MlStack {
  // Argo CD's namespace is not ours to create or relabel.
  const stack = new MlStack(app, 'argocd', { namespace: 'argocd', createNamespace: false });
  for (const s of stacks) new ArgoCdApplication(stack, s.stackName, { stack: s, repoURL: REPO_URL });
  return stack;
}
