import { k8s } from 'cdk8s-plus-28';
import { ComposeValue, composeLiteral } from '../stack/_compose-spec';

/** Literal values as they are; keys of Secrets and ConfigMaps come from the developer's shell. */
export function composeEnvironment(env: k8s.EnvVar[]): Record<string, ComposeValue> {
  const out: Record<string, ComposeValue> = {};
  for (const e of env) {
    if (e.value !== undefined) out[e.name] = e.value;
    else if (e.valueFrom?.secretKeyRef || e.valueFrom?.configMapKeyRef) out[e.name] = { fromShell: `\${${e.name}:?set ${e.name} in your shell}` };
  }
  return out;
}

/** Where compose mounts a model from: a directory the developer names in MODELS_DIR. */
export function composeModelDir(name: string): string {
  return `\${MODELS_DIR:?set MODELS_DIR to the local directory holding your models}/${name}`;
}

/** Where compose mounts a job's data from (a DataInput): a directory the developer names in DATASETS_DIR. */
export function composeDataDir(name: string): string {
  return `\${DATASETS_DIR:?set DATASETS_DIR to the local directory holding your data}/${composeLiteral(name)}`;
}
