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
  checkOptionalObject,
  checkPort,
  checkString,
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
  /**
   * gRPC too: a second Ingress `<name>-grpc` for another host, to the server's gRPC port, with
   * ingress-nginx's `backend-protocol: GRPC` annotation (other controllers ignore it). @default - HTTP only
   */
  readonly grpc?: IngressGrpcOptions;
}

/** gRPC through ingress-nginx (kubernetes.github.io/ingress-nginx, examples "gRPC"). */
export interface IngressGrpcOptions {
  /** Host name of the gRPC Ingress: not the HTTP `host` (two Ingresses for one host and path conflict). */
  readonly host: string;
  /** Name of the server's port that speaks gRPC. @default 'grpc' */
  readonly port?: string;
  /** Secret with the TLS certificate for `host`: ingress-nginx speaks HTTP/2 to clients over TLS only. @default - '<service name>-grpc-tls' */
  readonly tlsSecretName?: string;
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
  /** gRPC too: a GRPCRoute (gateway.networking.k8s.io/v1) to the server's gRPC port. @default - HTTP only */
  readonly grpc?: GatewayGrpcOptions;
}

/** A GRPCRoute beside the HTTPRoute, on the same Gateway (Gateway API v1.1+, standard channel). */
export interface GatewayGrpcOptions {
  /**
   * Host names the GRPCRoute matches. They must not meet the HTTPRoute's: a Gateway accepts only one
   * of an HTTPRoute and a GRPCRoute whose host names intersect on a listener (Gateway API, GRPCRoute).
   */
  readonly hostnames: string[];
  /** Name of the server's port that speaks gRPC. @default 'grpc' */
  readonly port?: string;
}

const LOAD_BALANCER_KEYS = keysOf<LoadBalancerOptions>()(['port', 'sourceRanges', 'annotations']);
const INGRESS_KEYS = keysOf<IngressOptions>()([
  'host',
  'path',
  'tlsSecretName',
  'disableTls',
  'className',
  'annotations',
  'controllerNamespace',
  'grpc',
]);
const INGRESS_GRPC_KEYS = keysOf<IngressGrpcOptions>()(['host', 'port', 'tlsSecretName']);
const GATEWAY_GRPC_KEYS = keysOf<GatewayGrpcOptions>()(['hostnames', 'port']);
const GATEWAY_REF_KEYS = keysOf<GatewayRef>()(['name', 'namespace']);
const GATEWAY_KEYS = keysOf<GatewayOptions>()(['gateway', 'hostnames', 'path', 'controllerNamespace', 'annotations', 'grpc']);

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
  checkIngressHost(scope, 'exposure.host', o.host);
  if (o.path !== undefined) checkUrlPath(scope, 'exposure.path', o.path, { ingress: true });
  // The TLS Secret and the IngressClass are objects the Ingress names: DNS-1123 subdomains.
  if (o.tlsSecretName !== undefined) checkDnsSubdomain(scope, 'exposure.tlsSecretName', o.tlsSecretName, 'the name of a TLS Secret', 'api-tls');
  checkOptionalBoolean(scope, 'exposure.disableTls', o.disableTls);
  if (o.className !== undefined) checkDnsSubdomain(scope, 'exposure.className', o.className, 'the name of an IngressClass', 'nginx');
  checkAnnotations(scope, 'exposure.annotations', o.annotations, "{ 'cert-manager.io/cluster-issuer': 'letsencrypt' }");
  if (o.controllerNamespace !== undefined)
    checkDnsLabel(scope, 'exposure.controllerNamespace', o.controllerNamespace, 'a namespace name', 'ingress-nginx');
  checkIngressGrpc(scope, o);
  return spec;
}

function checkIngressHost(scope: IConstruct, prop: string, host: unknown): void {
  if (typeof host !== 'string' || host.length > 253 || !/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/.test(host)) {
    fail(scope, prop, 'must be a fully qualified DNS name', host, "use a host such as 'classifier.example.com'");
  }
}

/** Exposure.ingress({ grpc }): its own host, with TLS (ingress-nginx negotiates HTTP/2 with clients by TLS ALPN only). */
function checkIngressGrpc(scope: IConstruct, o: IngressOptions): void {
  const g = checkOptionalObject(scope, 'exposure.grpc', o.grpc, "{ host: 'grpc.api.example.com' }", INGRESS_GRPC_KEYS) as
    | IngressGrpcOptions
    | undefined;
  if (!g) return;
  checkIngressHost(scope, 'exposure.grpc.host', g.host);
  if (g.host === o.host)
    fail(
      scope,
      'exposure.grpc.host',
      'is the HTTP host: two Ingresses for one host and path conflict (ingress-nginx refuses the second)',
      g.host,
      `use a host of its own, e.g. 'grpc.${o.host}'`,
    );
  if (g.port !== undefined) checkString(scope, 'exposure.grpc.port', g.port, { example: "'grpc'" });
  if (g.tlsSecretName !== undefined)
    checkDnsSubdomain(scope, 'exposure.grpc.tlsSecretName', g.tlsSecretName, 'the name of a TLS Secret', 'api-grpc-tls');
  if (o.disableTls)
    fail(
      scope,
      'exposure.disableTls',
      'cannot go with exposure.grpc: ingress-nginx speaks HTTP/2, which gRPC needs, to clients over TLS only',
      o.disableTls,
      'keep TLS (drop disableTls), or expose gRPC with Exposure.loadBalancer() or Exposure.gateway({ grpc })',
    );
}

const HOSTNAME_RE = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Exposure.gateway(): the fields of the HTTPRoute as the Gateway API's CRD validates them. */
function checkGateway(scope: IConstruct, spec: { kind: 'gateway'; options: GatewayOptions }): ExposureKind {
  const example = "Exposure.gateway({ gateway: { name: 'public', namespace: 'gateway' } })";
  const o = checkObject(scope, 'exposure', spec.options, example, GATEWAY_KEYS) as unknown as GatewayOptions;
  const g = checkObject(scope, 'exposure.gateway', o.gateway, "{ name: 'public', namespace: 'gateway' }", GATEWAY_REF_KEYS) as unknown as GatewayRef;
  checkDnsSubdomain(scope, 'exposure.gateway.name', g.name, 'the name of a Gateway', 'public');
  if (g.namespace !== undefined) checkDnsLabel(scope, 'exposure.gateway.namespace', g.namespace, 'a namespace name', 'gateway');
  checkHostnames(scope, 'exposure.hostnames', o.hostnames);
  if (o.path !== undefined) checkUrlPath(scope, 'exposure.path', o.path);
  if (o.controllerNamespace !== undefined)
    checkDnsLabel(scope, 'exposure.controllerNamespace', o.controllerNamespace, 'a namespace name', 'envoy-gateway-system');
  checkAnnotations(scope, 'exposure.annotations', o.annotations);
  checkGatewayGrpc(scope, o);
  return spec;
}

function checkHostnames(scope: IConstruct, prop: string, hostnames: unknown): string[] | undefined {
  const checked = checkArray(scope, prop, hostnames, "['api.example.com']", (h, p) => {
    // Gateway API HTTPRoute.spec.hostnames: RFC 1123 names, optionally a leading '*.', no IPs, at most 16.
    if (typeof h !== 'string' || h.length > 253 || !HOSTNAME_RE.test(h) || /^[0-9.]+$/.test(h))
      fail(scope, p, 'must be a DNS host name (a leading *. allowed, no IP address)', h, "use a host such as 'api.example.com'");
    return h;
  });
  if ((checked?.length ?? 0) > 16) fail(scope, prop, 'may list at most 16 names (Gateway API limit)', checked!.length, 'keep 16 or fewer');
  return checked;
}

/** Whether two route host names can match one request (a leading '*.' matches any longer name below it). */
function hostsMeet(a: string, b: string): boolean {
  const covers = (w: string, h: string) => w === h || (w.startsWith('*.') && h.endsWith(w.slice(1)));
  return covers(a, b) || covers(b, a);
}

/**
 * Exposure.gateway({ grpc }): host names that do not meet the HTTPRoute's. The Gateway API
 * (GRPCRoute spec) has implementations accept only one of an HTTPRoute and a GRPCRoute whose host
 * names intersect on a listener; an HTTPRoute without host names matches every name.
 */
function checkGatewayGrpc(scope: IConstruct, o: GatewayOptions): void {
  const g = checkOptionalObject(scope, 'exposure.grpc', o.grpc, "{ hostnames: ['grpc.api.example.com'] }", GATEWAY_GRPC_KEYS) as
    | GatewayGrpcOptions
    | undefined;
  if (!g) return;
  const grpcHosts = checkHostnames(scope, 'exposure.grpc.hostnames', g.hostnames) ?? [];
  if (grpcHosts.length === 0)
    fail(scope, 'exposure.grpc.hostnames', 'must name at least one host', g.hostnames, "give the gRPC host, e.g. ['grpc.api.example.com']");
  if (g.port !== undefined) checkString(scope, 'exposure.grpc.port', g.port, { example: "'grpc'" });
  if (!o.hostnames || o.hostnames.length === 0)
    fail(
      scope,
      'exposure.hostnames',
      'must be set with exposure.grpc: an HTTPRoute without host names matches every name, ' +
        "the GRPCRoute's too, and the Gateway accepts only one of them",
      o.hostnames,
      "name the HTTP hosts, e.g. hostnames: ['api.example.com'], and give gRPC others",
    );
  const clash = grpcHosts.find((h) => o.hostnames!.some((x) => hostsMeet(h, x)));
  if (clash)
    fail(
      scope,
      'exposure.grpc.hostnames',
      "meet the HTTPRoute's host names: the Gateway accepts only one of an HTTPRoute and a GRPCRoute that share a host name",
      clash,
      `use a host of its own for gRPC, e.g. 'grpc.${o.hostnames.find((x) => !x.startsWith('*.')) ?? 'api.example.com'}'`,
    );
}

/** The Service an Ingress or HTTPRoute sends requests to, and the workload it belongs to. @internal */
export interface ExposedService {
  readonly workloadName: string;
  readonly serviceName: string;
  /** The Service's main port. */
  readonly port: number;
  /** The Service's gRPC port, when the exposure asks for gRPC. */
  readonly grpcPort?: number;
  /** The workload's metadata (or under another name), with the route's own annotations. */
  readonly metadata: (annotations?: Record<string, string>, name?: string) => ApiObjectMetadata;
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
 * Exposure.ingress({ grpc }): a second Ingress, `<name>-grpc`, for its own host, to the Service's
 * gRPC port. ingress-nginx proxies gRPC when the backend protocol says so
 * (kubernetes.github.io/ingress-nginx, annotations: `nginx.ingress.kubernetes.io/backend-protocol`),
 * and its whole Ingress is then gRPC: hence one Ingress per protocol. @internal
 */
export function renderGrpcIngress(scope: Construct, o: IngressOptions, to: ExposedService): k8s.KubeIngress | undefined {
  const g = o.grpc;
  if (!g || to.grpcPort === undefined) return undefined;
  return new k8s.KubeIngress(scope, 'GrpcIngress', {
    metadata: to.metadata({ ...o.annotations, 'nginx.ingress.kubernetes.io/backend-protocol': 'GRPC' }, `${to.workloadName}-grpc`),
    spec: {
      ...(o.className ? { ingressClassName: o.className } : {}),
      tls: [{ hosts: [g.host], secretName: g.tlsSecretName ?? `${to.workloadName}-grpc-tls` }],
      rules: [
        {
          host: g.host,
          http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: to.serviceName, port: { number: to.grpcPort } } } }] },
        },
      ],
    },
  });
}

/**
 * Exposure.gateway({ grpc }): a GRPCRoute (gateway.networking.k8s.io/v1, standard channel since
 * Gateway API v1.1) to the Service's gRPC port, split by the canary's weight like the HTTPRoute. @internal
 */
export function renderGrpcRoute(scope: Construct, o: GatewayOptions, to: ExposedService, weight: number | undefined): ApiObject | undefined {
  const g = o.grpc;
  const port = to.grpcPort;
  if (!g || port === undefined) return undefined;
  return new ApiObject(scope, 'GRPCRoute', {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GRPCRoute',
    metadata: to.metadata(o.annotations),
    spec: {
      parentRefs: [{ name: o.gateway.name, ...(o.gateway.namespace ? { namespace: o.gateway.namespace } : {}) }],
      hostnames: g.hostnames,
      rules: [{ backendRefs: backendRefsOf(to, port, weight) }],
    },
  });
}

/** The route's backends: the one Service, or with a canary one Service per track with the weights. */
function backendRefsOf(to: ExposedService, port: number, weight: number | undefined): Array<Record<string, unknown>> {
  return weight === undefined
    ? [{ name: to.serviceName, port }]
    : [
        { name: `${to.workloadName}-stable`, port, weight: 100 - weight },
        { name: `${to.workloadName}-canary`, port, weight },
      ];
}

/**
 * An HTTPRoute to an existing Gateway (gateway.networking.k8s.io/v1): the main path to the
 * Service, or, with a canary, to one Service per track with the weights. @internal
 */
export function renderHttpRoute(scope: Construct, o: GatewayOptions, to: ExposedService, weight: number | undefined): ApiObject {
  const backendRefs = backendRefsOf(to, to.port, weight);
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
