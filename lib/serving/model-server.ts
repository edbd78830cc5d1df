import { IWorkload } from '../policy/_network';
import type { AllowFromOptions } from './_server';

/** A model server a frontend or client can be wired to (InferenceService, TfServingBackend). */
export interface IModelServer extends IWorkload {
  /** Name of its Service. */
  readonly serviceName: string;
  /** In-cluster base URL of its HTTP port: http://<service>.<namespace>.svc:<port>. */
  readonly url: string;
  /** Service port of the HTTP API. */
  readonly servicePort: number;
  /** Container port the HTTP Service port targets. */
  readonly containerPort: number;
  /** Name of the (first) model it serves, when it knows one. */
  readonly modelName?: string;
  /** URL of the predict endpoint of `model` (default: the first model). */
  predictUrl(model?: string): string;
  /** Admit `client`'s pods on the named ports, default the HTTP port (and let the client reach them). */
  allowFrom(client: IWorkload, options?: AllowFromOptions): void;
}

/** A model server of this library (InferenceService, TfServingBackend): what wiring needs of it. */
export function isModelServer(x: unknown): x is IModelServer {
  const s = x as Partial<IModelServer> & { _network?: unknown };
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof s.workloadName === 'string' &&
    typeof s.url === 'string' &&
    typeof s.predictUrl === 'function' &&
    typeof s.allowFrom === 'function' &&
    typeof s._network === 'object'
  );
}
