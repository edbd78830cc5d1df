import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { fail } from '../_errors';
import { checkObject } from '../_validate';
import { connect, IWorkload, WorkloadNetwork } from '../policy/_network';
import { ALLOW_FROM_KEYS, AllowFromOptions, ServerCore } from './_server';

/**
 * What every served workload (model servers, frontends) exposes for wiring, read from the one
 * ServerCore that built its objects.
 */
export abstract class ServedWorkload extends Construct {
  /** @internal */
  public abstract readonly _core: ServerCore;

  /** Name of the workload's objects (Deployment, Service, NetworkPolicy...). */
  public get workloadName(): string {
    return this._core.workloadName;
  }
  /** Namespace of its pods. */
  public get namespaceName(): string {
    return this._core.namespaceName;
  }
  /** Labels that select exactly its pods. */
  public get podSelector(): Record<string, string> {
    return this._core.podSelector;
  }
  /** Its Service object (for escape hatches such as extra annotations). */
  public get service(): k8s.KubeService {
    return this._core.service;
  }
  /** Its Deployment object. */
  public get deployment(): k8s.KubeDeployment {
    return this._core.deployment;
  }
  /** Name of its Service. */
  public get serviceName(): string {
    return this._core.serviceName;
  }
  /** In-cluster base URL of its HTTP port: http://<service>.<namespace>.svc:<port>. */
  public get url(): string {
    return this._core.urlOf();
  }
  /** Service port of the HTTP API. */
  public get servicePort(): number {
    return this._core.servicePorts[0].port;
  }
  /** The image reference its pods run. */
  public get imageRef(): string {
    return this._core.imageRef;
  }
  /** @internal */
  public get _network(): WorkloadNetwork {
    return this._core._network;
  }

  /**
   * Admit `client`'s pods on the named ports (default the main HTTP port: `{ ports: ['grpc'] }` for
   * TF Serving's gRPC, or extra ports by name), and let the client reach them: the pair of
   * NetworkPolicy rules, one on each side (a connection needs the client's egress and the server's
   * ingress).
   */
  public allowFrom(client: IWorkload, options: AllowFromOptions = {}): void {
    if (typeof client !== 'object' || client === null || typeof (client as { _network?: unknown })._network !== 'object') {
      fail(
        this,
        'allowFrom',
        'needs a workload of this library as its client (a server, frontend or job)',
        client,
        'pass the workload object, e.g. server.allowFrom(web)',
      );
    }
    const o = checkObject(this, 'allowFrom.options', options, "{ ports: ['grpc'] }", ALLOW_FROM_KEYS) as AllowFromOptions;
    const ports = this._core.targetPortsNamed(o.ports);
    connect(client, this as unknown as IWorkload, ports);
    // The one Service (and the gateway's route) leads to both tracks: the client may reach both.
    if (this._core.canary) connect(client, this._core.canary as unknown as IWorkload, ports);
  }

  /** The canary track's Deployment, when a canary runs (0 < canary.weight < 100). */
  public get canaryDeployment(): k8s.KubeDeployment | undefined {
    return this._core.canary?.deployment;
  }
}
