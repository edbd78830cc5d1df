import { k8s } from 'cdk8s-plus-28';
import { IConstruct } from 'constructs';
import { fail } from '../_errors';

/** Container resources sized for ML; every value is validated at synth. */
export interface ResourcesProps {
  /** CPU request: cores ('2', 0.5) or millicores ('500m'). @default - per workload (servers '500m') */
  readonly cpu?: string | number;
  /** CPU limit. @default - per workload (servers '2') */
  readonly cpuLimit?: string | number;
  /** Memory request ('1Gi'). @default - per workload (servers '1Gi') */
  readonly memory?: string;
  /** Memory limit ('2Gi'). @default - per workload (servers '2Gi') */
  readonly memoryLimit?: string;
  /**
   * Whole GPUs (`nvidia.com/gpu` limit as a real quantity). Pods also get the GPU toleration.
   * @default 0
   */
  readonly gpu?: number;
  /** Extended resource name of the GPU. @default 'nvidia.com/gpu' */
  readonly gpuResource?: string;
  /** Ephemeral-storage request and limit ('10Gi'), e.g. for large /tmp use. @default - none */
  readonly ephemeralStorage?: string;
}

const CPU = /^(\d+(\.\d+)?|\d+m)$/;
const MEMORY = /^\d+(\.\d+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/;
const UNITS: Record<string, number> = { '': 1, 'k': 1e3, 'M': 1e6, 'G': 1e9, 'T': 1e12, 'P': 1e15, 'Ki': 2 ** 10, 'Mi': 2 ** 20, 'Gi': 2 ** 30, 'Ti': 2 ** 40, 'Pi': 2 ** 50 };

function cpuValue(v: string): number {
  return v.endsWith('m') ? Number(v.slice(0, -1)) / 1000 : Number(v);
}
function memValue(v: string): number {
  const m = /^(\d+(?:\.\d+)?)([A-Za-z]*)$/.exec(v)!;
  return Number(m[1]) * UNITS[m[2]];
}

/** Resolve resources against workload defaults, validating each value. */
export function buildResources(scope: IConstruct, props: ResourcesProps | undefined, defaults: Required<Pick<ResourcesProps, 'cpu' | 'cpuLimit' | 'memory' | 'memoryLimit'>>): { resources: k8s.ResourceRequirements; gpu: number; gpuResource: string } {
  const p = props ?? {};
  const cpu = String(p.cpu ?? defaults.cpu);
  const cpuLimit = String(p.cpuLimit ?? (p.cpu !== undefined && cpuValue(String(p.cpu)) > cpuValue(String(defaults.cpuLimit)) ? p.cpu : defaults.cpuLimit));
  const memory = p.memory ?? defaults.memory;
  const memoryLimit = p.memoryLimit ?? (p.memory !== undefined && memValue(p.memory) > memValue(defaults.memoryLimit) ? p.memory : defaults.memoryLimit);
  for (const [prop, v] of [['resources.cpu', cpu], ['resources.cpuLimit', cpuLimit]] as const) {
    if (!CPU.test(v) || cpuValue(v) <= 0) fail(scope, prop, "must be a CPU quantity such as '500m' or '2'", v, "write cores ('2', '0.5') or millicores ('500m')");
  }
  for (const [prop, v] of [['resources.memory', memory], ['resources.memoryLimit', memoryLimit]] as const) {
    if (!MEMORY.test(v) || memValue(v) <= 0) fail(scope, prop, "must be a memory quantity such as '512Mi' or '2Gi'", v, "use a binary suffix: '512Mi', '2Gi'");
  }
  if (cpuValue(cpuLimit) < cpuValue(cpu)) fail(scope, 'resources.cpuLimit', `must be at least the CPU request ${cpu}`, cpuLimit, 'raise cpuLimit or lower cpu');
  if (memValue(memoryLimit) < memValue(memory)) fail(scope, 'resources.memoryLimit', `must be at least the memory request ${memory}`, memoryLimit, 'raise memoryLimit or lower memory');
  const gpu = p.gpu ?? 0;
  if (!Number.isInteger(gpu) || gpu < 0) {
    fail(scope, 'resources.gpu', 'must be a whole number of GPUs >= 0 (Kubernetes cannot share a GPU between containers)', gpu, `request ${Math.max(1, Math.ceil(gpu))} GPU(s), or use GPU time-slicing / MIG configured on the node`);
  }
  const gpuResource = p.gpuResource ?? 'nvidia.com/gpu';
  if (!/^[a-z0-9.-]+\/[a-z0-9._-]+$/.test(gpuResource)) fail(scope, 'resources.gpuResource', 'must be an extended resource name such as nvidia.com/gpu', gpuResource, "use 'nvidia.com/gpu' or your device plugin's resource name");
  if (p.ephemeralStorage !== undefined && !MEMORY.test(p.ephemeralStorage)) fail(scope, 'resources.ephemeralStorage', "must be a quantity such as '10Gi'", p.ephemeralStorage, "use a binary suffix: '10Gi'");
  const requests: Record<string, k8s.Quantity> = { cpu: k8s.Quantity.fromString(cpu), memory: k8s.Quantity.fromString(memory) };
  const limits: Record<string, k8s.Quantity> = { cpu: k8s.Quantity.fromString(cpuLimit), memory: k8s.Quantity.fromString(memoryLimit) };
  if (p.ephemeralStorage) {
    requests['ephemeral-storage'] = k8s.Quantity.fromString(p.ephemeralStorage);
    limits['ephemeral-storage'] = k8s.Quantity.fromString(p.ephemeralStorage);
  }
  // A GPU is an extended resource: a limit only (the request defaults to it), and a number, not a
  // string, so it synthesizes as `nvidia.com/gpu: 1` (cdk8s#2172 turns a plain string into null).
  if (gpu > 0) limits[gpuResource] = k8s.Quantity.fromNumber(gpu);
  return { resources: { requests, limits }, gpu, gpuResource };
}
