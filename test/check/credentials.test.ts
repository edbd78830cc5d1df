/**
 * `cdk8s-ml check`'s inline-credentials rule on YAML written by hand: a literal under a credential's env
 * name and user:password@ in a URL are reported in every container of every workload kind, with the value
 * masked; references (secretKeyRef, $(VAR)) and names that only look like credentials are clean.
 */
import { CHECK_RULES } from '../../lib/check';
import { checkManifests, parseYamlStream } from '../../lib/check/k8s';
import { all, depC, goodSet, jobC, K8S_CASES } from './fixtures';

const SECRET = 'wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY';

function problemsOf(yaml: string): string[] {
  return checkManifests(parseYamlStream(yaml)).filter((p) => p.includes(': inline-credentials: '));
}

const POD_SPEC = (container: string) => `
      securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: RuntimeDefault } }
      containers:
${container}`;

describe('inline-credentials', () => {
  it.each(K8S_CASES['inline-credentials'])('%s', (_name, mutate, expected) => {
    const s = goodSet();
    mutate(s);
    expect(checkManifests(all(s))).toContainEqual(expect.stringMatching(expected));
  });

  it('is a rule of the check, with a fix naming a Secret and secretKeyRef', () => {
    const rule = CHECK_RULES.find((r) => r.id === 'inline-credentials');
    expect(rule?.fix).toMatch(/Secret.*secretKeyRef/);
  });

  it('reports literals and URL credentials in a CronJob, a Pod and an init container, masked', () => {
    const yaml = `
apiVersion: batch/v1
kind: CronJob
metadata: { name: nightly, namespace: ml }
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          initContainers:
            - name: fetch
              image: curlimages/curl:8.10.1
              args: ["-o", "/data/x", "https://reader:${SECRET}@data.example.com/x"]
          containers:
            - name: train
              image: registry.example.com/train:1.0.0
              env:
                - { name: AWS_SECRET_ACCESS_KEY, value: "${SECRET}" }
                - { name: DATABASE_URL, value: "postgres://app:${SECRET}@db:5432/f" }
---
apiVersion: v1
kind: Pod
metadata: { name: debug, namespace: ml }
spec:${POD_SPEC(`        - name: shell
          image: registry.example.com/shell:1.0.0
          env:
            - { name: GITHUB_TOKEN, value: "${SECRET}" }`)}
`;
    const problems = problemsOf(yaml);
    // Two patterns a line (the lines are long): each problem matches both of its pair.
    const both = (i: number) => [problems[i], problems[i]];
    expect(problems).toHaveLength(4);
    expect([...both(0), ...both(1), problems[2], problems[3]]).toEqual([
      expect.stringMatching(
        /^CronJob\/ml\/nightly: inline-credentials: container "fetch" \(spec\.jobTemplate\.spec\.template\.spec\.initContainers\[0\]\): args\[2\] .*/,
      ),
      expect.stringMatching(/has a credential in a URL.*"https:\/\/\*\*\*@data\.example\.com\/x"$/),
      expect.stringMatching(
        /^CronJob\/ml\/nightly: inline-credentials: container "train" .*: env AWS_SECRET_ACCESS_KEY \(.*\.env\[0\]\.value\) is a literal value /,
      ),
      expect.stringMatching(/under a credential's name.*\*\*\* \(38 characters, masked\)$/),
      expect.stringMatching(/^CronJob\/ml\/nightly: inline-credentials: container "train" .*: env DATABASE_URL .*"postgres:\/\/\*\*\*@db:5432\/f"$/),
      expect.stringMatching(/^Pod\/ml\/debug: inline-credentials: container "shell" \(spec\.containers\[0\]\): env GITHUB_TOKEN /),
    ]);
    for (const p of problems) expect(p).not.toContain(SECRET);
  });

  it('is clean for references, empty values and names that only look like credentials', () => {
    const s = goodSet();
    depC(s).env.push(
      { name: 'TOKENIZERS_PARALLELISM', value: 'false' },
      { name: 'MAX_TOKENS', value: '512' },
      { name: 'EOS_TOKEN', value: '</s>' },
      { name: 'AWS_ACCESS_KEY_ID', value: 'AKIAIOSFODNN7EXAMPLE' },
      { name: 'POSTGRES_PASSWORD_FILE', value: '/run/secrets/pw' },
      { name: 'GOOGLE_APPLICATION_CREDENTIALS', value: '/var/secrets/key.json' },
      { name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: 'hf-token', key: 'token' } } },
      { name: 'GITHUB_TOKEN', value: '' },
      { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
      { name: 'DATABASE_URL', value: 'postgres://app:$(DB_PASSWORD)@db:5432/f' },
    );
    jobC(s).args = ['sh', '-c', 'git clone https://${GIT_TOKEN}@github.com/acme/ml.git', 'ssh://git@github.com/acme/ml.git'];
    expect(checkManifests(all(s)).filter((p) => p.includes('inline-credentials'))).toEqual([]);
  });
});
