/**
 * Readiness paths of model-server images whose HTTP health endpoints are documented: a TCP probe
 * passes as soon as the port opens, which these servers do before their models are loaded.
 */
import { IImage } from '../image/_image-build';

/** HTTP paths of a server's readiness and liveness. @internal */
export interface HealthPaths {
  readonly readiness: string;
  readonly liveness: string;
  /** The server it was recognized as, for docs and messages. */
  readonly server: string;
}

/** KServe "Open Inference Protocol" (v2) health endpoints: Triton and MLServer serve them. */
const V2 = { readiness: '/v2/health/ready', liveness: '/v2/health/live' };

/** Repository (without registry default, tag or digest) -> the server's documented health paths. */
const KNOWN: Record<string, HealthPaths> = {
  // Triton: docs.nvidia.com/deeplearning/triton-inference-server, "HTTP/REST and GRPC Protocol" (v2 health).
  'nvcr.io/nvidia/tritonserver': { ...V2, server: 'Triton' },
  // MLServer: mlserver.readthedocs.io, "Open Inference Protocol" (v2 health).
  'seldonio/mlserver': { ...V2, server: 'MLServer' },
  // TorchServe: pytorch.org/serve/inference_api.html, "Health check API" (GET /ping).
  'pytorch/torchserve': { readiness: '/ping', liveness: '/ping', server: 'TorchServe' },
  // Text Generation Inference: huggingface.co/docs/text-generation-inference, GET /health.
  'ghcr.io/huggingface/text-generation-inference': { readiness: '/health', liveness: '/health', server: 'Text Generation Inference' },
  // vLLM's OpenAI-compatible server: GET /health (what LlmServer probes).
  'vllm/vllm-openai': { readiness: '/health', liveness: '/health', server: 'vLLM' },
};

/** The repository of an image reference: no tag, no digest, Docker Hub's default registry and library/ removed. */
export function imageRepository(ref: string): string {
  const noDigest = ref.split('@')[0];
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  const repo = colon > slash ? noDigest.slice(0, colon) : noDigest;
  return repo.replace(/^(docker\.io|index\.docker\.io|registry-1\.docker\.io)\//, '').replace(/^library\//, '');
}

/**
 * The health paths of a known model-server image: the table above, and TF Serving's model status
 * (GET /v1/models/<name>, ready once the model's version is AVAILABLE) when the model's name is known.
 * Undefined for images the library cannot know (the user's code): the caller keeps a TCP check.
 */
export function knownHealthPaths(image: string | IImage, modelName: string | undefined): HealthPaths | undefined {
  const repo = imageRepository(typeof image === 'string' ? image : image.imageRef);
  if (repo === 'tensorflow/serving' && modelName !== undefined) {
    const path = `/v1/models/${modelName}`;
    return { readiness: path, liveness: path, server: 'TF Serving' };
  }
  return KNOWN[repo];
}
