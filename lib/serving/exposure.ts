const EXPOSURE = Symbol.for('cdk8s-ml.Exposure');

export interface LoadBalancerOptions {
  /** Port of the load balancer. @default 80 */
  readonly port?: number;
  /** Client CIDRs allowed (loadBalancerSourceRanges). @default - any */
  readonly sourceRanges?: string[];
  /** Cloud-specific Service annotations (internal LB, ...). @default - none */
  readonly annotations?: Record<string, string>;
}

export interface IngressOptions {
  /** Host name, e.g. 'image-classifier.example.com'. */
  readonly host: string;
  /** Path prefix. @default '/' */
  readonly path?: string;
  /**
   * Secret holding the TLS certificate for `host` (cert-manager can fill it).
   * @default - '<service name>-tls'
   */
  readonly tlsSecretName?: string;
  /** Serve plain HTTP only (no tls block). Not for production. @default false */
  readonly disableTls?: boolean;
  /** IngressClass. @default - the cluster's default class */
  readonly className?: string;
  /** Ingress annotations (cert-manager issuer, body size...). @default - none */
  readonly annotations?: Record<string, string>;
  /**
   * Namespace of the ingress controller pods, admitted by the workload's NetworkPolicy.
   * @default 'ingress-nginx'
   */
  readonly controllerNamespace?: string;
}

type ExposureKind =
  | { kind: 'cluster' }
  | { kind: 'load-balancer'; options: LoadBalancerOptions }
  | { kind: 'ingress'; options: IngressOptions };

/** How a workload is reached from outside its namespace. */
export class Exposure {
  /** Only other pods that were wired to it (the default). */
  public static clusterInternal(): Exposure {
    return new Exposure({ kind: 'cluster' });
  }
  /** A Service of type LoadBalancer. */
  public static loadBalancer(options: LoadBalancerOptions = {}): Exposure {
    return new Exposure({ kind: 'load-balancer', options });
  }
  /** An Ingress for a host, with TLS unless disabled. */
  public static ingress(options: IngressOptions): Exposure {
    return new Exposure({ kind: 'ingress', options });
  }
  public static isExposure(x: unknown): x is Exposure {
    return typeof x === 'object' && x !== null && EXPOSURE in x;
  }
  private constructor(/** @internal */ public readonly _spec: ExposureKind) {
    Object.defineProperty(this, EXPOSURE, { value: true });
  }
}
