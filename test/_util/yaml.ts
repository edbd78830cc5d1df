import { parseYamlStream as parseDocuments } from '../../lib/check';

/**
 * parseYamlStream for tests that read into the documents (`o.spec.template.spec.containers[0]`): the
 * library types each document as a K8sObject, whose fields are unknown until checked.
 */
export function parseYamlStream(text: string): any[] {
  return parseDocuments(text);
}
