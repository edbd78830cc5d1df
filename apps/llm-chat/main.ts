// A chat page in front of an open-weights LLM, served by vLLM's OpenAI-compatible server: no
// KServe, no operator. The weights are downloaded once into a claim by an init container and
// pinned to a commit; the chat app gets the OpenAI base URL and model name from the wiring, and
// only its pods may call the model server.
import * as path from 'node:path';
import { Construct } from 'constructs';
import { Exposure, FlaskFrontend, LlmServer, MlApp, MlStack, ModelSource, PythonImage } from '../../lib';

export function llmChat(app: Construct): MlStack {
  const stack = new MlStack(app, 'llm-chat');

  const llm = new LlmServer(stack, 'llm', {
    // Apache-2.0 and not gated: no token needed (gated models: tokenSecret: { secretName: 'hf-token' }).
    model: ModelSource.fromHuggingFace('Qwen/Qwen2.5-0.5B-Instruct', {
      revision: '7ae557604adf67be50417f59c2c2f167def9a775',
      cache: { size: '20Gi' },
    }),
    servedModelName: 'qwen2.5-0.5b-instruct',
    maxModelLen: 8192,
    // A 0.5B model: one L4 and far less host memory than the defaults (16Gi / 32Gi).
    resources: { gpu: 1, cpu: '2', cpuLimit: '4', memory: '8Gi', memoryLimit: '16Gi' },
    gpuNodeSelector: { 'cloud.google.com/gke-accelerator': 'nvidia-l4' },
  });

  new FlaskFrontend(stack, 'chat', {
    image: PythonImage.fromDirectory(path.join(__dirname, 'web'), {
      repository: 'registry.example.com/llm-chat',
      tag: '1.0.0',
    }),
    backend: llm,
    replicas: 2,
    // An answer takes seconds: keep gunicorn's worker timeout above the slowest one.
    timeoutSeconds: 180,
    exposure: Exposure.ingress({ host: 'chat.example.com' }),
  });
  return stack;
}

if (require.main === module) {
  MlApp.main((app) => llmChat(app));
}
