import * as fs from 'node:fs';
import * as path from 'node:path';

export interface OwnPackage {
  readonly dir: string;
  readonly name: string;
  readonly version: string;
  readonly peerDependencies: Readonly<Record<string, string>>;
  readonly devDependencies: Readonly<Record<string, string>>;
}

let cached: OwnPackage | undefined;

/**
 * cdk8s-ml's own package.json. Compiled code sits one directory deeper (build/lib/cli) than the
 * sources (lib/cli), so walk up to the package.json that names cdk8s-ml instead of a fixed path.
 */
export function ownPackage(): OwnPackage {
  if (cached) return cached;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (pkg.name === 'cdk8s-ml') {
        cached = {
          dir,
          name: pkg.name,
          version: pkg.version,
          peerDependencies: pkg.peerDependencies ?? {},
          devDependencies: pkg.devDependencies ?? {},
        };
        return cached;
      }
    }
    if (path.dirname(dir) === dir) throw new Error(`cannot find cdk8s-ml's package.json above ${__dirname}`);
  }
}
