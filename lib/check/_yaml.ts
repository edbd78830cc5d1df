/**
 * How the check reads YAML. js-yaml (already a runtime dependency, for writing) with the YAML 1.2
 * core schema: a date-like or `1_000` value stays a string, as kubectl and compose read it (they
 * resolve no timestamps into objects), where js-yaml's default schema would make a Date of it.
 * Merge keys (`<<: *common`) are resolved, as both kubectl and compose do; duplicate keys are an
 * error (the apiserver would silently keep one of them).
 */
import * as jsyaml from 'js-yaml';

// `types` is part of js-yaml's documented API, missing from @types/js-yaml.
const { merge } = (jsyaml as unknown as { types: { merge: jsyaml.Type } }).types;
const SCHEMA = jsyaml.CORE_SCHEMA.extend({ implicit: [merge] });

/** One line: `YAML error at line 2, column 1: duplicated mapping key` (js-yaml's own message adds a multi-line snippet). */
function oneLine(err: unknown): Error {
  if (err instanceof jsyaml.YAMLException) {
    const where = err.mark ? ` at line ${err.mark.line + 1}, column ${err.mark.column + 1}` : '';
    return new Error(`YAML error${where}: ${err.reason}`);
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** Every document of a multi-document stream, empty ones (a trailing `---`, only comments) included as null/undefined. */
export function loadYamlDocuments(text: string): unknown[] {
  try {
    return jsyaml.loadAll(text, null, { schema: SCHEMA });
  } catch (err) {
    throw oneLine(err);
  }
}

/** A single-document file (compose); more than one document is an error. */
export function loadYamlDocument(text: string): unknown {
  try {
    return jsyaml.load(text, { schema: SCHEMA });
  } catch (err) {
    throw oneLine(err);
  }
}
