/**
 * Issue 22, finding 2: a credential written inline (a literal under a credential's env name, user:password@ in
 * a URL) would land in the pod spec, in plain text, in git. Every entry point fails at synth naming the prop
 * and the fix (EnvValue.fromSecret, credentialsSecret, tokenSecret, a repository Secret), and never shows the
 * secret; the names that only look like one (TOKENIZERS_PARALLELISM, MAX_TOKENS...) pass.
 */
import {
  ArgoCdApplication,
  BatchInferenceJob,
  DataInput,
  EnvValue,
  FlaskFrontend,
  InferenceService,
  LlmServer,
  MlApp,
  MlStack,
  ModelOutput,
  ModelSource,
  PythonImage,
  TfServingBackend,
  TrainingJob,
} from '../../lib';
import { isReferenceOnly, isSecretShapedEnvName, maskSecret } from '../../lib/rules/credentials';
import { urlCredentialsIn } from '../../lib/rules/url';
import { pythonContext, synthStack, tempDir } from '../_util/synth';

const IMG = 'registry.example.com/api:1.0.0';
const GS = ModelSource.fromUri('gs://models/m');
const SECRET = 'Sup3rS3cretValue';
const REV = '7ae557604adf67be50417f59c2c2f167def9a775';
const hf = (o: object = {}) => ModelSource.fromHuggingFace('Qwen/Qwen2.5-0.5B-Instruct', { revision: REV, ...o });
const svc = (props: any) => (s: MlStack) => new InferenceService(s, 'api', { image: IMG, ...props });
const train = (props: any) => (s: MlStack) =>
  new TrainingJob(s, 'train', { image: IMG, modelOutput: ModelOutput.newClaim({ size: '1Gi' }), ...props });

interface Case {
  readonly where: string;
  readonly prop: string;
  /** What the fix must name. */
  readonly fix: RegExp;
  readonly build: (s: MlStack) => void;
}

const CASES: Record<string, Case> = {
  'InferenceService env literal under AWS_SECRET_ACCESS_KEY': {
    where: "InferenceService 'cat/api'",
    prop: 'env.AWS_SECRET_ACCESS_KEY',
    fix: /EnvValue\.fromSecret\('api-credentials', 'AWS_SECRET_ACCESS_KEY'\)/,
    build: svc({ env: { AWS_SECRET_ACCESS_KEY: SECRET } }),
  },
  'InferenceService env EnvValue.fromValue under HF_TOKEN': {
    where: "InferenceService 'cat/api'",
    prop: 'env.HF_TOKEN',
    fix: /EnvValue\.fromSecret/,
    build: svc({ env: { HF_TOKEN: EnvValue.fromValue(SECRET) } }),
  },
  'InferenceService canary env': {
    where: "InferenceService 'cat/api'",
    prop: 'canary.env.OPENAI_API_KEY',
    fix: /EnvValue\.fromSecret/,
    build: svc({ replicas: 2, canary: { weight: 50, env: { OPENAI_API_KEY: SECRET } } }),
  },
  'InferenceService args with user:password@': {
    where: "InferenceService 'cat/api'",
    prop: 'args[1]',
    fix: /EnvValue\.fromSecret.*\$\(DB_PASSWORD\)/,
    build: svc({ args: ['--db', `postgres://app:${SECRET}@db:5432/x`] }),
  },
  'TfServingBackend env password': {
    where: "TfServingBackend 'cat/server'",
    prop: 'env.DB_PASSWORD',
    fix: /EnvValue\.fromSecret/,
    build: (s) => new TfServingBackend(s, 'server', { modelName: 'm', model: GS, env: { DB_PASSWORD: SECRET } }),
  },
  'LlmServer env HF_TOKEN': {
    where: "LlmServer 'cat/llm'",
    prop: 'env.HF_TOKEN',
    fix: /EnvValue\.fromSecret/,
    build: (s) => new LlmServer(s, 'llm', { model: hf(), env: { HF_TOKEN: SECRET } }),
  },
  'LlmServer canary env': {
    where: "LlmServer 'cat/llm'",
    prop: 'canary.env.HUGGING_FACE_HUB_TOKEN',
    fix: /EnvValue\.fromSecret/,
    build: (s) =>
      new LlmServer(s, 'llm', {
        model: hf({ cache: { accessMode: 'ReadWriteMany' } }),
        replicas: 2,
        canary: { weight: 50, env: { HUGGING_FACE_HUB_TOKEN: SECRET } },
      }),
  },
  'FlaskFrontend env, camelCase name': {
    where: "FlaskFrontend 'cat/web'",
    prop: 'env.stripeApiKey',
    fix: /EnvValue\.fromSecret/,
    build: (s) =>
      new FlaskFrontend(s, 'web', {
        image: PythonImage.fromDirectory(pythonContext(), { repository: 'registry.example.com/web', tag: '1.0.0' }),
        env: { stripeApiKey: SECRET },
      }),
  },
  'TrainingJob env URL with user:password@': {
    where: "TrainingJob 'cat/train'",
    prop: 'env.DATABASE_URL',
    fix: /EnvValue\.fromSecret.*\$\(DB_PASSWORD\)/,
    build: train({ env: { DATABASE_URL: `postgres://app:${SECRET}@db.data.svc:5432/features` } }),
  },
  'TrainingJob command with a token as the user of an https URL': {
    where: "TrainingJob 'cat/train'",
    prop: 'command[2]',
    fix: /EnvValue\.fromSecret/,
    build: train({ command: ['git', 'clone', `https://${SECRET}@github.com/acme/data.git`] }),
  },
  'TrainingJob DataInput.fromUri with userinfo': {
    where: "TrainingJob 'cat/train'",
    prop: 'inputs[0].uri',
    fix: /credentialsSecret/,
    build: train({ inputs: [DataInput.fromUri(`s3://AKIAEXAMPLE:${SECRET}@datasets/eeg`, { mountPath: '/data' })] }),
  },
  'TrainingJob DataInput s3Endpoint with userinfo': {
    where: "TrainingJob 'cat/train'",
    prop: 'inputs[0].s3Endpoint',
    fix: /credentialsSecret/,
    build: train({ inputs: [DataInput.fromUri('s3://datasets/eeg', { mountPath: '/data', s3Endpoint: `http://minio:${SECRET}@minio:9000` })] }),
  },
  'BatchInferenceJob env token': {
    where: "BatchInferenceJob 'cat/batch'",
    prop: 'env.WANDB_API_KEY',
    fix: /EnvValue\.fromSecret/,
    build: (s) => new BatchInferenceJob(s, 'batch', { image: IMG, model: GS, env: { WANDB_API_KEY: SECRET } }),
  },
  'ModelSource.fromUri https with user:password@': {
    where: "InferenceService 'cat/api'",
    prop: 'model',
    fix: /credentialsSecret/,
    build: svc({ model: ModelSource.fromUri(`https://reader:${SECRET}@models.example.com/m.tar.gz`) }),
  },
  'ModelSource.fromUri with userinfo and a scheme the downloader does not read': {
    where: "InferenceService 'cat/api'",
    prop: 'model',
    fix: /credentialsSecret/,
    build: svc({ model: ModelSource.fromUri(`ftp://reader:${SECRET}@models.example.com/m.tar.gz`) }),
  },
  'ModelSource.fromHuggingFace endpoint with userinfo': {
    where: "LlmServer 'cat/llm'",
    prop: 'model.endpoint',
    fix: /tokenSecret/,
    build: (s) => new LlmServer(s, 'llm', { model: hf({ endpoint: `https://mirror:${SECRET}@hf-mirror.example.com` }) }),
  },
  'ArgoCdApplication repoURL with a token': {
    where: "ArgoCdApplication 'cat/app'",
    prop: 'repoURL',
    fix: /argocd\.argoproj\.io\/secret-type: repository/,
    build: (s) => new ArgoCdApplication(s, 'app', { stack: s, repoURL: `https://oauth2:${SECRET}@gitlab.example.com/ml.git` }),
  },
};

describe('a credential written inline fails at synth, masked, with the fix', () => {
  test.each(Object.entries(CASES))('%s', (_name, c) => {
    const app = new MlApp({ outdir: tempDir() });
    let message = '';
    try {
      c.build(new MlStack(app, 'cat'));
      app.synthFiles();
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain(`${c.where}: ${c.prop} `);
    expect(message).toMatch(/credential/);
    expect(message.split('Fix: ')[1]).toMatch(c.fix);
    expect(message).not.toContain(SECRET);
  });
});

describe('what only looks like a credential passes', () => {
  test('names that are not credentials, references, empty values, file paths and $(VAR) in URLs', () => {
    const out = synthStack((s) => {
      new InferenceService(s, 'api', {
        image: IMG,
        env: {
          TOKENIZERS_PARALLELISM: 'false',
          MAX_TOKENS: '512',
          NUM_TOKENS: '128',
          MAX_NEW_TOKENS: '256',
          EOS_TOKEN: '</s>',
          AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
          AWS_REGION: 'eu-central-1',
          GOOGLE_APPLICATION_CREDENTIALS: '/var/secrets/google/key.json',
          POSTGRES_PASSWORD_FILE: '/run/secrets/db-password',
          ALLOW_EMPTY_PASSWORD: 'yes',
          CACHE_KEY: 'v1',
          HF_TOKEN: EnvValue.fromSecret('hf-token', 'token'),
          GITHUB_TOKEN: '',
          DB_PASSWORD: EnvValue.fromSecret('db', 'password'),
          DATABASE_URL: 'postgres://app:$(DB_PASSWORD)@db.data.svc:5432/features',
          HUB_URL: 'https://huggingface.co/Qwen',
          MIRROR: 'ssh://git@github.com/acme/ml.git',
        },
      });
    });
    const env = out.find('Deployment', 'api').spec.template.spec.containers[0].env;
    expect(env.find((e: any) => e.name === 'HF_TOKEN')).toEqual({
      name: 'HF_TOKEN',
      valueFrom: { secretKeyRef: { name: 'hf-token', key: 'token' } },
    });
    expect(env.find((e: any) => e.name === 'TOKENIZERS_PARALLELISM').value).toBe('false');
  });

  test.each([
    ['AWS_SECRET_ACCESS_KEY', true],
    ['AWS_SESSION_TOKEN', true],
    ['HF_TOKEN', true],
    ['HUGGING_FACE_HUB_TOKEN', true],
    ['TOKEN', true],
    ['OPENAI_API_KEY', true],
    ['AZURE_CLIENT_SECRET', true],
    ['AZURE_STORAGE_ACCOUNT_KEY', true],
    ['MINIO_SECRET_KEY', true],
    ['FLASK_SECRET_KEY', true],
    ['SECRET_KEY_BASE', true],
    ['POSTGRES_PASSWORD', true],
    ['PGPASSWORD', true],
    ['MYSQL_PWD', true],
    ['DOCKER_CREDENTIALS', true],
    ['spring.datasource.password', true],
    ['apiKey', true],
    ['TOKENIZERS_PARALLELISM', false],
    ['MAX_TOKENS', false],
    ['NUM_TOKENS', false],
    ['MAX_NEW_TOKENS', false],
    ['MAX_TOKEN_LENGTH', false],
    ['EOS_TOKEN', false],
    ['PAD_TOKEN', false],
    ['TOKEN_URL', false],
    ['AWS_ACCESS_KEY_ID', false],
    ['POSTGRES_PASSWORD_FILE', false],
    ['HF_TOKEN_PATH', false],
    ['SECRET_NAME', false],
    ['GOOGLE_APPLICATION_CREDENTIALS', false],
    ['ALLOW_EMPTY_PASSWORD', false],
    ['PWD', false],
    ['OLDPWD', false],
    ['S3_KEY', false],
    ['PARTITION_KEY', false],
    ['LOG_LEVEL', false],
  ])('%s is a credential: %s', (name, expected) => {
    expect(isSecretShapedEnvName(name)).toBe(expected);
  });

  test('references and masks', () => {
    expect(['', '$(DB_PASSWORD)', '${TOKEN}', '$TOKEN', '$(A)$(B)'].every(isReferenceOnly)).toBe(true);
    expect(['hunter2', '$(DB_PASSWORD)x', 'pre$TOKEN'].some(isReferenceOnly)).toBe(false);
    expect(maskSecret(SECRET)).not.toContain(SECRET);
    expect(urlCredentialsIn(`x=https://u:${SECRET}@h/p y=https://h/q`)).toEqual({ count: 1, masked: 'x=https://***@h/p y=https://h/q' });
    expect(urlCredentialsIn('ssh://git@github.com/a.git postgres://reader@db/x https://$(USER):$(PASS)@h/').count).toBe(0);
    expect(urlCredentialsIn(`https://${SECRET}@github.com/a.git s3://k:${SECRET}@bucket/x`).count).toBe(2);
  });
});
