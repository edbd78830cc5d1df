import { k8s } from 'cdk8s-plus-28';
import { IConstruct } from 'constructs';
import { fail } from '../_errors';
import { checkAbsolutePath, checkKnownKeys, checkNoUrlCredentials, checkRelativePath, isDnsSubdomain, isPlainObject, keysOf } from '../_validate';
import { checkDownloadOptions, downloadInitContainer, URI_CREDENTIALS_FIX } from '../model/model-source';
import { StorageEndpoint, storageEndpointsOf } from '../policy/_network';
import { composeDataDir } from '../workload/_compose-parts';

export interface DataVolumeOptions {
  /** Where the data is mounted (read-only). */
  readonly mountPath: string;
  /** Directory inside the claim. @default - the claim's root */
  readonly subPath?: string;
}

export interface DataUriOptions {
  /** Where the data is downloaded to (an emptyDir, read-only for the job's container). */
  readonly mountPath: string;
  /**
   * Secret whose keys become the downloader's environment (AWS_ACCESS_KEY_ID...). Only the init
   * container sees it.
   * @default - the pod's service account identity (IRSA, GKE Workload Identity)
   */
  readonly credentialsSecret?: string;
  /** Downloader image. @default 'rclone/rclone:1.68.2' */
  readonly downloaderImage?: string;
  /** Size limit of the emptyDir. @default '20Gi' */
  readonly sizeLimit?: string;
  /** S3-compatible endpoint (MinIO...) for s3:// URIs. @default - AWS */
  readonly s3Endpoint?: string;
}

const DATA_VOLUME_KEYS = keysOf<DataVolumeOptions>()(['mountPath', 'subPath']);
const DATA_URI_KEYS = keysOf<DataUriOptions>()(['mountPath', 'credentialsSecret', 'downloaderImage', 'sizeLimit', 's3Endpoint']);

/** Volumes, init containers and mounts of one input. @internal */
export interface BoundInput {
  readonly volumes: k8s.Volume[];
  readonly initContainers: k8s.Container[];
  readonly volumeMounts: k8s.VolumeMount[];
  readonly needsObjectStorage: boolean;
  readonly storageEndpoints?: StorageEndpoint[];
  readonly mountPath: string;
}

const DATA_INPUT = Symbol.for('cdk8s-ml.DataInput');

type Spec = { kind: 'volume'; claimName: string; options: DataVolumeOptions } | { kind: 'uri'; uri: string; options: DataUriOptions };

/**
 * Data a job reads: a PersistentVolumeClaim mounted read-only, or object storage (s3://, gs://,
 * http(s)://) downloaded by an init container before the job's container starts, like
 * ModelSource.fromUri. The first input's mountPath is given to the code as DATA_DIR.
 */
export class DataInput {
  public static fromVolume(claimName: string, options: DataVolumeOptions): DataInput {
    return new DataInput({ kind: 'volume', claimName, options });
  }
  public static fromUri(uri: string, options: DataUriOptions): DataInput {
    return new DataInput({ kind: 'uri', uri, options });
  }

  public static isDataInput(x: unknown): x is DataInput {
    return typeof x === 'object' && x !== null && DATA_INPUT in x;
  }

  private constructor(private readonly spec: Spec) {
    Object.defineProperty(this, DATA_INPUT, { value: true });
  }

  /**
   * The bind mount compose gives a job instead (read-only, where the pod mounts it): a directory under
   * DATASETS_DIR. Called after _bind, which checked the spec.
   * @internal
   */
  public _composeVolume(mountPath: string): { source: string; target: string } {
    const s = this.spec;
    if (s.kind === 'volume')
      return { source: composeDataDir(s.options.subPath ? `${s.claimName}/${s.options.subPath}` : s.claimName), target: mountPath };
    return { source: composeDataDir(uriDataDir(s.uri)), target: mountPath };
  }

  /** @internal */
  public _bind(scope: IConstruct, prop: string, volumeName: string): BoundInput {
    const s = this.spec;
    if (!isPlainObject(s.options)) {
      fail(
        scope,
        prop,
        `was made without its options (DataInput.${s.kind === 'volume' ? 'fromVolume' : 'fromUri'} needs { mountPath })`,
        s.options,
        s.kind === 'volume'
          ? "use DataInput.fromVolume('datasets', { mountPath: '/data' })"
          : "use DataInput.fromUri('s3://bucket/data', { mountPath: '/data' })",
      );
    }
    checkKnownKeys(scope, prop, s.options, s.kind === 'volume' ? DATA_VOLUME_KEYS : DATA_URI_KEYS);
    const mountPath = checkAbsolutePath(scope, `${prop}.mountPath`, s.options.mountPath, { example: '/data' });
    if (s.kind === 'volume') {
      if (!isDnsSubdomain(s.claimName)) {
        fail(
          scope,
          `${prop}.claimName`,
          'must name a PersistentVolumeClaim (a DNS-1123 name)',
          s.claimName,
          'pass the claim name as it appears in kubectl get pvc',
        );
      }
      const sub = s.options.subPath;
      if (sub !== undefined && (typeof sub !== 'string' || sub === '' || sub.startsWith('/') || sub.split('/').includes('..'))) {
        fail(scope, `${prop}.subPath`, 'must be a relative path inside the claim', sub, "write it relative to the claim's root, e.g. 'datasets/eeg'");
      }
      if (sub !== undefined) checkRelativePath(scope, `${prop}.subPath`, sub, 'datasets/eeg');
      return {
        volumes: [{ name: volumeName, persistentVolumeClaim: { claimName: s.claimName, readOnly: true } }],
        initContainers: [],
        volumeMounts: [{ name: volumeName, mountPath, readOnly: true, ...(sub ? { subPath: sub } : {}) }],
        needsObjectStorage: false,
        mountPath,
      };
    }
    const scheme = checkedScheme(scope, `${prop}.uri`, s.uri);
    const o = s.options;
    checkDownloadOptions(scope, prop, scheme, o as unknown as Record<string, unknown>);
    return {
      volumes: [{ name: volumeName, emptyDir: { sizeLimit: k8s.Quantity.fromString(o.sizeLimit ?? '20Gi') } }],
      initContainers: [downloadInitContainer(volumeName, s.uri, scheme, mountPath, mountPath, o)],
      volumeMounts: [{ name: volumeName, mountPath, readOnly: true }],
      needsObjectStorage: true,
      storageEndpoints: storageEndpointsOf(s.uri, o.s3Endpoint),
      mountPath,
    };
  }
}

/** The downloader's scheme of a URI (s3, gs, http, https), after the check for a credential: the other message prints the URI. */
function checkedScheme(scope: IConstruct, prop: string, uri: unknown): string {
  checkNoUrlCredentials(scope, prop, uri, URI_CREDENTIALS_FIX);
  const scheme = typeof uri === 'string' ? /^(s3|gs|https?):\/\/[^/\s\u0000-\u001f\u007f]+(\/[^\s\u0000-\u001f\u007f]*)?$/.exec(uri)?.[1] : undefined;
  if (!scheme) {
    fail(
      scope,
      prop,
      'must be an s3://, gs://, http:// or https:// URI with a bucket or host',
      uri,
      'use one of those schemes, or DataInput.fromVolume for data on a PersistentVolumeClaim',
    );
  }
  return scheme;
}

/**
 * Where a local copy of a URI's data lives under DATASETS_DIR: `<bucket>/<prefix>` (what `aws s3 sync`
 * or `rclone copy` of the prefix gives), for http(s) `<host>/<directory of the file>`.
 */
function uriDataDir(uri: string): string {
  const [scheme, rest] = uri.replace(/[?#].*$/, '').split('://', 2);
  const dir = scheme.startsWith('http') ? rest.replace(/\/[^/]*$/, '') : rest;
  return dir.replace(/\/+$/, '');
}
