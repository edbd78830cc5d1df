/**
 * Minimizing a failing configuration after fast-check's own shrinking. fast-check's `gen` shrinks
 * the values drawn, but dropping one optional prop shifts every later draw, so its counterexample
 * keeps much that does not matter. Here the configuration itself is made smaller: constructs,
 * method calls, props, list elements and factory arguments removed one at a time, each removal kept
 * when the check still fails the same way (same error and rule, values aside).
 */
import { AppSpec, Call, isPlainObject, Path, Ref, removeAt, Val, valuePaths } from './_spec';

/** The kind of a failure: the error's class and first lines, with quoted values, numbers and object refs blanked. */
export function signature(e: unknown): string {
  const error = e instanceof Error ? e : new Error(String(e));
  const lines = error.message
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('at '))
    .slice(0, 2);
  return `${error.constructor?.name ?? 'Error'}: ${lines.join(' | ')}`
    .replace(/"(?:[^"\\]|\\.)*"|'[^']*'/g, '_')
    .replace(/\b[A-Za-z]+\/[^\s/:]+\/[^\s/:]+/g, '_')
    .replace(/\d+/g, '_')
    .slice(0, 240);
}

function refersTo(v: Val, key: string): boolean {
  if (v instanceof Ref) return v.key === key;
  if (v instanceof Call) return v.args.some((a) => refersTo(a, key));
  if (Array.isArray(v)) return v.some((x) => refersTo(x, key));
  if (isPlainObject(v)) return Object.values(v).some((x) => refersTo(x, key));
  return false;
}

/** Smaller configurations, biggest cuts first: a construct (nothing refers to it), a call, a value. */
function* smaller(spec: AppSpec): Generator<{ key: string; spec: AppSpec }> {
  for (const n of [...spec.nodes].reverse()) {
    const used =
      spec.nodes.some((o) => o !== n && (o.scope === n.key || refersTo(o.props, n.key) || refersTo(o.id, n.key))) ||
      spec.calls.some((c) => c.target !== n.key && c.args.some((a) => refersTo(a, n.key)));
    if (used) continue;
    yield { key: `node ${n.key}`, spec: { nodes: spec.nodes.filter((o) => o !== n), calls: spec.calls.filter((c) => c.target !== n.key) } };
  }
  for (const [i, c] of spec.calls.entries())
    yield { key: `call ${c.target}.${c.method} ${i}`, spec: { nodes: spec.nodes, calls: spec.calls.filter((o) => o !== c) } };
  // Values: the props object itself is required, ids too; everything below may go.
  const removable = (p: Path) => p.length > 3 && !(p[0] === 'calls' && p.length === 4);
  for (const p of valuePaths(spec).filter(removable)) yield { key: `value ${JSON.stringify(p)}`, spec: removeAt(spec, p) };
}

/**
 * The smallest configuration found (within `budgetMs`) for which `failure` gives `target`.
 * `failure` returns the signature of the check's error, or undefined when the check passes.
 */
export function minimize(spec: AppSpec, failure: (s: AppSpec) => string | undefined, target: string, budgetMs = 60_000): AppSpec {
  const deadline = Date.now() + budgetMs;
  let current = spec;
  // Passes over every cut; a cut that did not keep the failure may, after another cut, so a pass
  // that made progress is followed by another.
  for (let progress = true; progress; ) {
    progress = false;
    const tried = new Set<string>();
    for (let cut = true; cut; ) {
      cut = false;
      for (const candidate of smaller(current)) {
        if (Date.now() > deadline) return current;
        if (tried.has(candidate.key)) continue;
        tried.add(candidate.key);
        if (failure(candidate.spec) === target) {
          current = candidate.spec;
          cut = progress = true;
          break;
        }
      }
    }
  }
  return current;
}
