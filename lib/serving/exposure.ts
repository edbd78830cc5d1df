import { ApiObject, ApiObjectMetadata } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { fail } from '../_errors';
import {
  checkAnnotations,
  checkArray,
  checkBrand,
  checkCidr,
  checkDnsLabel,
  checkDnsSubdomain,
  checkObject,
  checkOptionalBoolean,
  checkPort,
  checkUrlPath,
  keysOf,
} from '../_validate';

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

/** An existing Gateway (Gateway API) the route attaches to. */
export interface GatewayRef {
  readonly name: string;
  /** @default - the workload's namespace */
  readonly namespace?: string;
}

export interface GatewayOptions {
  /** The Gateway the HTTPRoute attaches to (its listener must allow routes from this namespace). */
  readonly gateway: GatewayRef;
  /** Host names the route matches. @default - the Gateway's listeners' */
  readonly hostnames?: string[];
  /** Path prefix. @default '/' */
  readonly path?: string;
  /**
   * Namespace of the gateway's proxy pods, admitted by the NetworkPolicies of every track (Envoy
   * Gateway runs them in 'envoy-gateway-system', Istio and others beside the Gateway).
   * @default - the Gateway's namespace
   */
  readonly controllerNamespace?: string;
  /** HTTPRoute annotations. @default - none */
  readonly annotations?: Record<string, string>;
}

const LOAD_BALANCER_KEYS = keysOf<LoadBalancerOptions>()(['port', 'sourceRanges', 'annotations']);
const INGRESS_KEYS = keysOf<IngressOptions>()(['host', 'path', 'tlsSecretName', 'disableTls', 'className', 'annotations', 'controllerNamespace']);
const GATEWAY_REF_KEYS = keysOf<GatewayRef>()(['name', 'namespace']);
const GATEWAY_KEYS = keysOf<GatewayOptions>()(['gateway', 'hostnames', 'path', 'controllerNamespace', 'annotations']);

/** The checked exposure of a served workload (what checkExposure returns). @internal */
export type ExposureKind =
  | { kind: 'cluster' }
  | { kind: 'load-balancer'; options: LoadBalancerOptions }
  | { kind: 'ingress'; options: IngressOptions }
  | { kind: 'gateway'; options: GatewayOptions };

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
  /**
   * An HTTPRoute (gateway.networking.k8s.io/v1) attached to an existing Gateway; with a canary,
   * the route splits the requests by weight over one Service per track.
   */
  public static gateway(options: GatewayOptions): Exposure {
    return new Exposure({ kind: 'gateway', options });
  }
  public static isExposure(x: unknown): x is Exposure {
    return typeof x === 'object' && x !== null && EXPOSURE in x;
  }
  private constructor(/** @internal */ public readonly _spec: ExposureKind) {
    Object.defineProperty(this, EXPOSURE, { value: true });
  }
}

/**
 * The exposure prop of a served workload, checked at the boundary: made by a factory, and its
 * options as the API server (and ingress-nginx, the default controller) would check them.
 * @internal
 */
export function checkExposure(scope: IConstruct, v: unknown): ExposureKind {
  if (v === undefined) return { kind: 'cluster' };
  const e = checkBrand(
    scope,
    'exposure',
    v,
    Exposure.isExposure,
    'made with Exposure.clusterInternal(), Exposure.loadBalancer(), Exposure.ingress() or Exposure.gateway()',
    'Exposure.loadBalancer() or Exposure.ingress({ host })',
  );
  const spec = e._spec;
  if (spec.kind === 'cluster') return spec;
  if (spec.kind === 'gateway') return checkGateway(scope, spec);
  checkObject(
    scope,
    'exposure',
    spec.options,
    spec.kind === 'ingress' ? "Exposure.ingress({ host: 'api.example.com' })" : 'Exposure.loadBalancer({ port: 80 })',
    spec.kind === 'ingress' ? INGRESS_KEYS : LOAD_BALANCER_KEYS,
  );
  if (spec.kind === 'load-balancer') {
    const o = spec.options;
    checkPort(scope, 'exposure.port', o.port);
    checkArray(scope, 'exposure.sourceRanges', o.sourceRanges, "['203.0.113.0/24']", (r, prop) => checkCidr(scope, prop, r));
    checkAnnotations(scope, 'exposure.annotations', o.annotations, "{ 'service.beta.kubernetes.io/aws-load-balancer-internal': 'true' }");
    return spec;
  }
  const o = spec.options;
  if (typeof o.host !== 'string' || o.host.length > 253 || !/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/.test(o.host)) {
    fail(scope, 'exposure.host', 'must be a fully qualified DNS name', o.host, "use a host such as 'classifier.example.com'");
  }
  if (o.path !== undefined) checkUrlPath(scope, 'exposure.path', o.path, { ingress: true });
  // The TLS Secret and the IngressClass are objects the Ingress names: DNS-1123 subdomains.
  if (o.tlsSecretName !== undefined) checkDnsSubdomain(scope, 'exposure.tlsSecretName', o.tlsSecretName, 'the name of a TLS Secret', 'api-tls');
  checkOptionalBoolean(scope, 'exposure.disableTls', o.disableTls);
  if (o.className !== undefined) checkDnsSubdomain(scope, 'exposure.className', o.className, 'the name of an IngressClass', 'nginx');
  checkAnnotations(scope, 'exposure.annotations', o.annotations, "{ 'cert-manager.io/cluster-issuer': 'letsencrypt' }");
  if (o.controllerNamespace !== undefined)
    checkDnsLabel(scope, 'exposure.controllerNamespace', o.controllerNamespace, 'a namespace name', 'ingress-nginx');
  return spec;
}

const HOSTNAME_RE = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Exposure.gateway(): the fields of the HTTPRoute as the Gateway API's CRD validates them. */
function checkGateway(scope: IConstruct, spec: { kind: 'gateway'; options: GatewayOptions }): ExposureKind {
  const example = "Exposure.gateway({ gateway: { name: 'public', namespace: 'gateway' } })";
  const o = checkObject(scope, 'exposure', spec.options, example, GATEWAY_KEYS) as unknown as GatewayOptions;
  const g = checkObject(scope, 'exposure.gateway', o.gateway, "{ name: 'public', namespace: 'gateway' }", GATEWAY_REF_KEYS) as unknown as GatewayRef;
  checkDnsSubdomain(scope, 'exposure.gateway.name', g.name, 'the name of a Gateway', 'public');
  if (g.namespace !== undefined) checkDnsLabel(scope, 'exposure.gateway.namespace', g.namespace, 'a namespace name', 'gateway');
  checkArray(scope, 'exposure.hostnames', o.hostnames, "['api.example.com']", (h, prop) => {
    // Gateway API HTTPRoute.spec.hostnames: RFC 1123 names, optionally a leading '*.', no IPs, at most 16.
    if (typeof h !== 'string' || h.length > 253 || !HOSTNAME_RE.test(h) || /^[0-9.]+$/.test(h))
      fail(scope, prop, 'must be a DNS host name (a leading *. allowed, no IP address)', h, "use a host such as 'api.example.com'");
    return h;
  });
  if ((o.hostnames?.length ?? 0) > 16)
    fail(scope, 'exposure.hostnames', 'may list at most 16 names (Gateway API limit)', o.hostnames!.length, 'keep 16 or fewer');
  if (o.path !== undefined) checkUrlPath(scope, 'exposure.path', o.path);
  if (o.controllerNamespace !== undefined)
    checkDnsLabel(scope, 'exposure.controllerNamespace', o.controllerNamespace, 'a namespace name', 'envoy-gateway-system');
  checkAnnotations(scope, 'exposure.annotations', o.annotations);
  return spec;
}

/** The Service an Ingress or HTTPRoute sends requests to, and the workload it belongs to. @internal */
export interface ExposedService {
  readonly workloadName: string;
  readonly serviceName: string;
  /** The Service's main port. */
  readonly port: number;
  /** The workload's metadata, with the route's own annotations. */
  readonly metadata: (annotations?: Record<string, string>) => ApiObjectMetadata;
}

/** An Ingress for Exposure.ingress() (its options were checked with the props, checkExposure). @internal */
export function renderIngress(scope: Construct, o: IngressOptions, to: ExposedService): k8s.KubeIngress {
  const path = o.path ?? '/';
  return new k8s.KubeIngress(scope, 'Ingress', {
    metadata: to.metadata(o.annotations),
    spec: {
      ...(o.className ? { ingressClassName: o.className } : {}),
      ...(o.disableTls ? {} : { tls: [{ hosts: [o.host], secretName: o.tlsSecretName ?? `${to.workloadName}-tls` }] }),
      rules: [
        {
          host: o.host,
          http: {
            paths: [{ path, pathType: 'Prefix', backend: { service: { name: to.serviceName, port: { number: to.port } } } }],
          },
        },
      ],
    },
  });
}

/**
 * An HTTPRoute to an existing Gateway (gateway.networking.k8s.io/v1): the main path to the
 * Service, or, with a canary, to one Service per track with the weights. @internal
 */
export function renderHttpRoute(scope: Construct, o: GatewayOptions, to: ExposedService, weight: number | undefined): ApiObject {
  const port = to.port;
  const backendRefs =
    weight === undefined
      ? [{ name: to.serviceName, port }]
      : [
          { name: `${to.workloadName}-stable`, port, weight: 100 - weight },
          { name: `${to.workloadName}-canary`, port, weight },
        ];
  return new ApiObject(scope, 'HTTPRoute', {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: to.metadata(o.annotations),
    spec: {
      parentRefs: [{ name: o.gateway.name, ...(o.gateway.namespace ? { namespace: o.gateway.namespace } : {}) }],
      ...(o.hostnames && o.hostnames.length > 0 ? { hostnames: o.hostnames } : {}),
      rules: [{ matches: [{ path: { type: 'PathPrefix', value: o.path ?? '/' } }], backendRefs }],
    },
  });
}
