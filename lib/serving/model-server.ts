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
