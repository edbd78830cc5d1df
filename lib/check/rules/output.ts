/** Family of the output directory: compose files (../compose.ts), the layout (../files.ts) and YAML itself (../_yaml.ts). */
import { CheckRule } from './rule';

export const COMPOSE_SCHEMA: CheckRule = {
  id: 'compose-schema',
  summary: 'the Compose Specification JSON schema',
  fix: 'give the compose field the type or value the message names',
};

export const LAYOUT: CheckRule = {
  id: 'layout',
  summary: 'output directory layout: only manifests/*.yaml are manifests; every image has its build files; diagrams/*.md hold a mermaid block',
  fix: 'move the file where the layout expects it, or add the missing build file',
};

export const YAML: CheckRule = {
  id: 'yaml',
  summary: 'the file is not valid YAML (duplicate keys included)',
  fix: 'correct the YAML syntax, or remove the duplicate key',
};
