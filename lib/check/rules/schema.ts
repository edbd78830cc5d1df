/** Family of the schema: `schema` and `unknown-field`, both checked by k8s-schema.ts checkObjectSchema (one walk of the object). */
import { CheckRule } from './rule';

export const SCHEMA: CheckRule = {
  id: 'schema',
  summary:
    'the Kubernetes OpenAPI schema (types, enums, required fields), apiVersions current Kubernetes serves, and what the apiserver ' +
    'validates beyond it',
  fix: 'give the field the type, value or apiVersion the message names',
};

export const UNKNOWN_FIELD: CheckRule = {
  id: 'unknown-field',
  summary: 'a field the type does not have (a typo the apiserver would silently drop)',
  fix: 'correct the spelling or the nesting of the field, or remove it',
};
