/**
 * The reports of `cdk8s-ml check`: its problem lines taken apart, chosen by rule, and written as
 * text (the lines as they are), JSON or SARIF 2.1.0 (what code scanning uploads). Pure functions
 * of the problems, so each format is tested without running the command.
 */
import { closestKey } from '../_validate';
import type { CheckRule } from './rules';

/** One problem, taken apart. `object` is `Kind/namespace/name` for a Kubernetes object. */
export interface ReportedProblem {
  readonly file: string;
  /** The line of a Dockerfile instruction. */
  readonly line?: number;
  readonly object?: string;
  readonly rule: string;
  readonly message: string;
  /** What to change: the rule's fix. */
  readonly fix?: string;
}

export interface ReportSummary {
  readonly problems: number;
  readonly filesWithProblems: number;
  readonly filesChecked: number;
}

/** What SARIF says made the report. */
export interface ReportTool {
  readonly name: string;
  readonly version: string;
  readonly informationUri?: string;
}

// `Kind/namespace/name: rule: ` (objectRef in k8s-common.ts writes `<no kind>`, `-`, `<no name>` for what is missing).
const OBJECT_PROBLEM = /^((?:<no kind>|[^\s:/]+)\/[^\s:/]+\/(?:<no name>|[^\s:]+)): ([a-z0-9-]+): (.*)$/s;
const PLAIN_PROBLEM = /^([a-z0-9-]+): (.*)$/s;

/**
 * A problem line (`FILE: KIND/NS/NAME: RULE: MESSAGE`, `FILE:LINE: RULE: MESSAGE` or `FILE: RULE: MESSAGE`)
 * taken apart. `files` are the files checked: the longest one the line starts with is its file (a file
 * name may hold ': '); a line of none of them is split at its first colon.
 */
export function parseProblem(text: string, files: readonly string[] = [], rules: readonly CheckRule[] = []): ReportedProblem {
  const known = files.filter((f) => text.startsWith(`${f}:`)).sort((a, b) => b.length - a.length)[0];
  const file = known ?? text.split(':', 1)[0];
  let rest = text.slice(file.length);
  const lineMatch = /^:(\d+): /.exec(rest);
  const line = lineMatch ? Number(lineMatch[1]) : undefined;
  rest = lineMatch ? rest.slice(lineMatch[0].length) : rest.replace(/^: ?/, '');
  const obj = OBJECT_PROBLEM.exec(rest);
  const plain = obj ? undefined : PLAIN_PROBLEM.exec(rest);
  const rule = obj?.[2] ?? plain?.[1] ?? 'check';
  const fix = rules.find((r) => r.id === rule)?.fix;
  return {
    file,
    ...(line !== undefined ? { line } : {}),
    ...(obj ? { object: obj[1] } : {}),
    rule,
    message: obj?.[3] ?? plain?.[2] ?? rest,
    ...(fix !== undefined ? { fix } : {}),
  };
}

/** The line `parseProblem` read: text output is the lines as the check wrote them. */
export function problemLine(p: ReportedProblem): string {
  return `${p.file}${p.line !== undefined ? `:${p.line}` : ''}: ${p.object !== undefined ? `${p.object}: ` : ''}${p.rule}: ${p.message}`;
}

/** Which rules a report keeps. A rule in both lists is skipped (as kube-linter's --exclude wins over --include). */
export interface RuleSelection {
  readonly skip?: readonly string[];
  readonly only?: readonly string[];
}

/**
 * Rules no selection drops: a file that could not be read was not checked at all, so saying nothing
 * would pass it (kubeconform and kube-linter likewise report a file they cannot parse whatever checks are chosen).
 */
export const ALWAYS_REPORTED: readonly string[] = ['yaml'];

export function selectProblems(problems: readonly ReportedProblem[], selection: RuleSelection): ReportedProblem[] {
  const skip = new Set(selection.skip ?? []);
  const only = selection.only && selection.only.length > 0 ? new Set(selection.only) : undefined;
  return problems.filter((p) => ALWAYS_REPORTED.includes(p.rule) || (!skip.has(p.rule) && (only === undefined || only.has(p.rule))));
}

/** Why a rule id is not one `--skip`/`--only` can take, with the nearest id; undefined when it is one. */
export function unknownRuleIssue(id: string, rules: readonly CheckRule[]): string | undefined {
  const ids = rules.map((r) => r.id).filter((r) => !ALWAYS_REPORTED.includes(r));
  if (ALWAYS_REPORTED.includes(id)) return `"${id}" problems are always reported (a file that cannot be read is not checked)`;
  if (ids.includes(id)) return undefined;
  const guess = closestKey(id, ids);
  return `"${id}" is not a rule of the check${guess ? ` (did you mean "${guess}"?)` : ''}; the rules are ${ids.join(', ')}`;
}

export function summarize(problems: readonly ReportedProblem[], filesChecked: number): ReportSummary {
  return { problems: problems.length, filesWithProblems: new Set(problems.map((p) => p.file)).size, filesChecked };
}

export function formatText(problems: readonly ReportedProblem[]): string {
  return problems.map((p) => `${problemLine(p)}\n`).join('');
}

/** One JSON document: `{ problems: [{ file, line?, object?, rule, message, fix? }], summary }`. */
export function formatJson(problems: readonly ReportedProblem[], summary: ReportSummary): string {
  return `${JSON.stringify({ problems, summary }, null, 2)}\n`;
}

/**
 * SARIF 2.1.0 (OASIS), the format GitHub code scanning uploads: one run, the rules of the check as
 * tool.driver.rules, one result of level error per problem located at its file (a relative URI)
 * and, for a Dockerfile instruction, its line. A Kubernetes object is the result's logical location.
 */
export function sarifLog(problems: readonly ReportedProblem[], tool: ReportTool, rules: readonly CheckRule[]): object {
  const index = new Map(rules.map((r, i) => [r.id, i]));
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: tool.name,
            version: tool.version,
            ...(tool.informationUri ? { informationUri: tool.informationUri } : {}),
            rules: rules.map((r) => ({ id: r.id, shortDescription: { text: r.summary }, help: { text: r.fix } })),
          },
        },
        results: problems.map((p) => sarifResult(p, index.get(p.rule))),
      },
    ],
  };
}

function sarifResult(p: ReportedProblem, ruleIndex: number | undefined): object {
  const physicalLocation = {
    artifactLocation: { uri: fileUri(p.file) },
    ...(p.line !== undefined ? { region: { startLine: p.line } } : {}),
  };
  const logicalLocations = p.object !== undefined ? [{ fullyQualifiedName: p.object, kind: 'object' }] : undefined;
  return {
    ruleId: p.rule,
    ...(ruleIndex !== undefined ? { ruleIndex } : {}),
    level: 'error',
    message: { text: p.message },
    locations: [{ physicalLocation, ...(logicalLocations ? { logicalLocations } : {}) }],
  };
}

/** A file as a relative URI reference: '/' separated, each segment percent-encoded (a space is %20). */
function fileUri(file: string): string {
  return file
    .replace(/\\/g, '/')
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
}

export function formatSarif(problems: readonly ReportedProblem[], tool: ReportTool, rules: readonly CheckRule[]): string {
  return `${JSON.stringify(sarifLog(problems, tool, rules), null, 2)}\n`;
}
