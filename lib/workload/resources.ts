import { k8s } from 'cdk8s-plus-28';
import { IConstruct } from 'constructs';
import { fail } from '../_errors';
import { checkCpu, checkMemory, checkOptionalBoolean, checkOptionalObject, checkQuantity, keysOf } from '../_validate';
import { parseQuantity } from '../rules/quantity';

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
  /**
   * Allow requests no node of a usual cluster can meet: more than 64 CPU cores, 1Ti of memory or
   * 8 GPUs per container. Without it, such values fail at synth: they are almost always a unit
   * mistake ('500' is 500 cores, not 500 millicores), and the pod would wait in Pending forever.
   * @default false
   */
  readonly allowLargeRequests?: boolean;
}

export const RESOURCES_KEYS = keysOf<ResourcesProps>()([
  'cpu',
  'cpuLimit',
  'memory',
  'memoryLimit',
  'gpu',
  'gpuResource',
  'ephemeralStorage',
  'allowLargeRequests',
]);

/**
 * Beyond these a request is "legal but almost surely wrong" (README, Resources): the largest nodes
 * most clusters have are 64-192 vCPUs and 8 GPUs, and a pod that fits none stays Pending without
 * an error at apply. A bound with a fix message catches the unit mistake; `allowLargeRequests`
 * says "I mean it" for the clusters that do have such nodes.
 */
const LARGE = { cpu: 64, memory: 2 ** 40, gpu: 8 };
/** Below this a memory value is a missing unit ('512' is 512 bytes): no container starts in it. */
const MIN_MEMORY = 4 * 2 ** 20;

type Sized = { resources: k8s.ResourceRequirements; gpu: number; gpuResource: string };

/** Resolve resources against workload defaults, validating each value. */
export function buildResources(
  scope: IConstruct,
  props: ResourcesProps | undefined,
  defaults: Required<Pick<ResourcesProps, 'cpu' | 'cpuLimit' | 'memory' | 'memoryLimit'>>,
): Sized {
  const p: ResourcesProps = checkOptionalObject(scope, 'resources', props, "{ cpu: '1', memory: '4Gi' }", RESOURCES_KEYS) ?? {};
  const large = checkOptionalBoolean(scope, 'resources.allowLargeRequests', p.allowLargeRequests) ?? false;
  // The user's values first: a default limit is derived from them.
  const given = {
    cpu: p.cpu === undefined ? undefined : checkCpu(scope, 'resources.cpu', p.cpu),
    cpuLimit: p.cpuLimit === undefined ? undefined : checkCpu(scope, 'resources.cpuLimit', p.cpuLimit),
    memory: p.memory === undefined ? undefined : checkMemory(scope, 'resources.memory', p.memory),
    memoryLimit: p.memoryLimit === undefined ? undefined : checkMemory(scope, 'resources.memoryLimit', p.memoryLimit),
  };
  checkLarge(scope, given, large);
  const q = (v: string | number): number => parseQuantity(String(v))!;
  const cpu = given.cpu ?? String(defaults.cpu);
  const cpuLimit = given.cpuLimit ?? (given.cpu !== undefined && q(given.cpu) > q(defaults.cpuLimit) ? given.cpu : String(defaults.cpuLimit));
  const memory = given.memory ?? defaults.memory;
  const memoryLimit =
    given.memoryLimit ?? (given.memory !== undefined && q(given.memory) > q(defaults.memoryLimit) ? given.memory : defaults.memoryLimit);
  if (q(cpuLimit) < q(cpu)) fail(scope, 'resources.cpuLimit', `must be at least the CPU request ${cpu}`, cpuLimit, 'raise cpuLimit or lower cpu');
  if (q(memoryLimit) < q(memory))
    fail(scope, 'resources.memoryLimit', `must be at least the memory request ${memory}`, memoryLimit, 'raise memoryLimit or lower memory');
  const gpu = checkGpu(scope, p.gpu, large);
  const gpuResource = p.gpuResource ?? 'nvidia.com/gpu';
  if (typeof gpuResource !== 'string' || !/^[a-z0-9.-]+\/[a-z0-9._-]+$/.test(gpuResource))
    fail(
      scope,
      'resources.gpuResource',
      'must be an extended resource name such as nvidia.com/gpu',
      gpuResource,
      "use 'nvidia.com/gpu' or your device plugin's resource name",
    );
  const ephemeralStorage =
    p.ephemeralStorage === undefined
      ? undefined
      : checkQuantity(scope, 'resources.ephemeralStorage', p.ephemeralStorage, 'an ephemeral-storage quantity', '10Gi');
  const requests: Record<string, k8s.Quantity> = { cpu: k8s.Quantity.fromString(cpu), memory: k8s.Quantity.fromString(memory) };
  const limits: Record<string, k8s.Quantity> = { cpu: k8s.Quantity.fromString(cpuLimit), memory: k8s.Quantity.fromString(memoryLimit) };
  if (ephemeralStorage) {
    requests['ephemeral-storage'] = k8s.Quantity.fromString(ephemeralStorage);
    limits['ephemeral-storage'] = k8s.Quantity.fromString(ephemeralStorage);
  }
  // A GPU is an extended resource: a limit only (the request defaults to it), and a number, not a
  // string, so it synthesizes as `nvidia.com/gpu: 1` (cdk8s#2172 turns a plain string into null).
  if (gpu > 0) limits[gpuResource] = k8s.Quantity.fromNumber(gpu);
  return { resources: { requests, limits }, gpu, gpuResource };
}

/** The user's CPU and memory values against the bounds of a usual node (and the floor of memory). */
function checkLarge(scope: IConstruct, given: Record<'cpu' | 'cpuLimit' | 'memory' | 'memoryLimit', string | undefined>, large: boolean): void {
  for (const prop of ['cpu', 'cpuLimit'] as const) {
    const v = given[prop];
    const cores = v === undefined ? 0 : parseQuantity(v)!;
    if (v !== undefined && !large && cores > LARGE.cpu) {
      fail(
        scope,
        `resources.${prop}`,
        `asks for ${cores} CPU cores, more than a node of a usual cluster has (the pod would stay Pending)`,
        v,
        `write millicores with an 'm' ('${v}m' is ${cores / 1000} cores), or set resources.allowLargeRequests: true if your nodes have ` +
          `that many cores`,
      );
    }
  }
  for (const prop of ['memory', 'memoryLimit'] as const) {
    const v = given[prop];
    if (v === undefined) continue;
    if (parseQuantity(v)! < MIN_MEMORY)
      fail(
        scope,
        `resources.${prop}`,
        'is less than 4Mi: no container starts in it (a number without a unit is bytes)',
        v,
        `add a unit, e.g. '${v}Mi'`,
      );
    if (!large && parseQuantity(v)! > LARGE.memory) {
      fail(
        scope,
        `resources.${prop}`,
        'is more than 1Ti, more than a node of a usual cluster has (the pod would stay Pending)',
        v,
        'check the unit (Mi, Gi), or set resources.allowLargeRequests: true if your nodes have that much memory',
      );
    }
  }
}

function checkGpu(scope: IConstruct, v: unknown, large: boolean): number {
  const gpu = v ?? 0;
  if (typeof gpu !== 'number' || !Number.isInteger(gpu) || gpu < 0) {
    const whole = typeof gpu === 'number' && Number.isFinite(gpu) ? Math.max(1, Math.ceil(gpu)) : 1;
    fail(
      scope,
      'resources.gpu',
      'must be a whole number of GPUs >= 0 (Kubernetes cannot share a GPU between containers)',
      gpu,
      `request ${whole} GPU(s), or use GPU time-slicing / MIG configured on the node`,
    );
  }
  if (!large && gpu > LARGE.gpu) {
    fail(
      scope,
      'resources.gpu',
      `asks for more than ${LARGE.gpu} GPUs in one container, more than a node of a usual cluster has (the pod would stay Pending)`,
      gpu,
      'spread the work over pods (Distributed), or set resources.allowLargeRequests: true if your nodes have that many GPUs',
    );
  }
  return gpu;
}
