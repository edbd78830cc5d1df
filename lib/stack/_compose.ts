import { IConstruct } from 'constructs';
import { ComposeServices, ComposeServiceSpec } from './_compose-spec';
import { MlStack } from './ml-stack';
import { appKey, appScoped } from './_scoped';
import { appOutputsOf } from './_output';

export { ComposeImage, ComposeServiceSpec, ComposeValue, composeLiteral } from './_compose-spec';

const COMPOSE = appKey<Map<MlStack, StackCompose>>('compose');

/**
 * The compose services of one stack (local development), added by its workloads; the app writes
 * them as compose/<stack>.compose.yml and compose/<stack>.jobs.compose.yml (lib/app/_compose.ts).
 */
export class StackCompose implements ComposeServices {
  /** The compose services of the stack of `scope`; undefined in an app that writes no output (a plain cdk8s App). */
  public static of(scope: IConstruct): StackCompose | undefined {
    const outputs = appOutputsOf(scope);
    if (!outputs) return undefined;
    const stack = MlStack.of(scope);
    const byStack = appScoped(scope, COMPOSE, () => new Map<MlStack, StackCompose>());
    let c = byStack.get(stack);
    if (!c) {
      c = new StackCompose(stack.stackName, stack.namespaceName);
      byStack.set(stack, c);
      outputs.addCompose(c);
    }
    return c;
  }

  public readonly services: ComposeServiceSpec[] = [];
  private constructor(
    public readonly stackName: string,
    public readonly namespaceName: string,
  ) {}

  public add(spec: ComposeServiceSpec): void {
    this.services.push(spec);
  }
}
