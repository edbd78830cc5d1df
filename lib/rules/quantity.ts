/** Kubernetes quantities (k8s.io/apimachinery/pkg/api/resource/quantity.go), one reading for constructs, check and diff. */

const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;
const SUFFIX: Record<string, number> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/**
 * The value of a quantity string, or undefined when it does not parse. The grammar of
 * ParseQuantity: `<signedNumber><suffix>`, number `1`, `1.5`, `1.` or `.5`, suffix a binary SI
 * (Ki..Ei), a decimal SI (n, u, m, '', k, M, G, T, P, E) or a decimal exponent (e3, E-2).
 */
export function parseQuantity(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const m = QUANTITY.exec(v);
  if (!m) return undefined;
  const suffix = m[2] ?? '';
  const scale = /^[eE][+-]?\d/.test(suffix) ? 10 ** Number(suffix.slice(1)) : SUFFIX[suffix];
  // Divide by 1000 rather than multiply by 0.001 (inexact): '300m' is then exactly 0.3, as '0.3' is.
  return scale < 1 ? Number(m[1]) / Math.round(1 / scale) : Number(m[1]) * scale;
}

/** A quantity as written in a manifest, where YAML may have made it a number (`cpu: 2`); undefined when it is neither. */
export function quantityValue(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  return parseQuantity(v);
}
