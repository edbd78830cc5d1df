/**
 * Credentials written inline, one reading for the constructs (env, URIs, argv) and for `cdk8s-ml check`
 * (`inline-credentials`): which env names hold a secret, which values are references rather than
 * literals, and how a value is shown masked. URLs with userinfo are read in ./url.ts.
 *
 * The names are the ones tools read a credential from: AWS SDKs (AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN), Hugging Face (HF_TOKEN, HUGGING_FACE_HUB_TOKEN), OpenAI and W&B
 * (OPENAI_API_KEY, WANDB_API_KEY), Azure (AZURE_CLIENT_SECRET, AZURE_STORAGE_ACCOUNT_KEY), GitHub
 * (GITHUB_TOKEN), the postgres/mysql images and clients (POSTGRES_PASSWORD, PGPASSWORD, MYSQL_PWD),
 * MinIO (MINIO_SECRET_KEY), Flask (FLASK_SECRET_KEY). A name is read by its segments, not substrings:
 * TOKENIZERS_PARALLELISM (Hugging Face tokenizers) and MAX_TOKENS (a count) are not credentials.
 */

/** Last segments that name a credential by themselves: HF_TOKEN, DB_PASSWORD, JWT_SECRET, DOCKER_CREDENTIALS. */
const CREDENTIAL_WORDS = new Set(['TOKEN', 'PASSWORD', 'PASSWD', 'PASSPHRASE', 'SECRET', 'CREDENTIAL', 'CREDENTIALS', 'APIKEY']);
/** `<word>_KEY` is a credential for these words (OPENAI_API_KEY, AWS_SECRET_ACCESS_KEY); S3_KEY or CACHE_KEY is not. */
const KEY_QUALIFIERS = new Set(['API', 'ACCESS', 'PRIVATE', 'SECRET', 'ACCOUNT', 'SIGNING', 'ENCRYPTION', 'MASTER', 'AUTH', 'LICENSE', 'CLIENT']);
/**
 * `<word>_TOKEN` that is not a credential: a tokenizer's special tokens (EOS_TOKEN='</s>', PAD_TOKEN) and counts
 * (MAX_TOKEN).
 */
const NOT_CREDENTIAL_TOKEN = new Set(['PAD', 'EOS', 'BOS', 'UNK', 'SEP', 'CLS', 'MASK', 'STOP', 'START', 'END', 'SPECIAL', 'MAX', 'MIN', 'NUM']);
/**
 * Last segments that make a name a reference to a credential, not the credential: the `_FILE` convention of the
 * official images (POSTGRES_PASSWORD_FILE), paths, names and ids (AWS_ACCESS_KEY_ID, SECRET_NAME, TOKEN_URL).
 */
const REFERENCE_WORDS = new Set(['FILE', 'PATH', 'DIR', 'NAME', 'ARN', 'ID', 'REF', 'NAMESPACE', 'MOUNT', 'URL', 'ENDPOINT', 'VERSION', 'TYPE']);
/** First segments that make a name a switch: ALLOW_EMPTY_PASSWORD=yes (Bitnami images), REQUIRE_TOKEN. */
const SWITCH_WORDS = new Set(['ALLOW', 'REQUIRE', 'ENABLE', 'DISABLE', 'USE', 'NO', 'SKIP', 'IGNORE']);
/** Names read whole: libpq's password; google-auth's GOOGLE_APPLICATION_CREDENTIALS is the path of a key file. */
const CREDENTIAL_NAMES = new Set(['PGPASSWORD']);
const PATH_NAMES = new Set(['GOOGLE_APPLICATION_CREDENTIALS']);

/** The segments of an env name, uppercased: split at '_', '-', '.' and camelCase humps (spring.datasource.password, apiKey). */
export function envNameSegments(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase()
    .split(/[_.-]+/)
    .filter((s) => s !== '');
}

/** Whether an env variable of this name holds a credential, so a literal value of it is one in plain text. */
export function isSecretShapedEnvName(name: string): boolean {
  const upper = name.toUpperCase();
  if (CREDENTIAL_NAMES.has(upper)) return true;
  if (PATH_NAMES.has(upper)) return false;
  const s = envNameSegments(name);
  const last = s[s.length - 1];
  const before = s[s.length - 2];
  if (last === undefined || REFERENCE_WORDS.has(last) || SWITCH_WORDS.has(s[0])) return false;
  if (s.includes('SECRET')) return true;
  // PWD alone is the shell's working directory; MYSQL_PWD (the mysql client) is a password.
  if (last === 'PWD') return before !== undefined && before !== 'OLD';
  if (last === 'TOKEN') return before === undefined || !NOT_CREDENTIAL_TOKEN.has(before);
  if (last === 'KEY') return before !== undefined && KEY_QUALIFIERS.has(before);
  return CREDENTIAL_WORDS.has(last);
}

/**
 * A value that holds no credential itself: empty, or only references to other variables, which Kubernetes expands
 * in env and args (`$(DB_PASSWORD)`, from a Secret) or a shell does (`$TOKEN`, `${TOKEN}`).
 */
export function isReferenceOnly(value: string): boolean {
  return /^(\$\([A-Za-z_][-._A-Za-z0-9]*\)|\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[A-Za-z_][A-Za-z0-9_]*)*$/.test(value.trim());
}

/** What a message shows of a credential: never the value, only its length. */
export function maskSecret(value: string): string {
  return `*** (${value.length} characters, masked)`;
}
