/** Jest runs TypeScript through @swc/jest (about 3x faster than ts-jest); `tsc --noEmit` type-checks separately in `npm test`. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  snapshotFormat: { escapeString: false, printBasicPrototype: false },
  // The tests that use a real API server (test/_util/kube.ts) start the local cluster on first use;
  // the teardown stops it when this run started it (a cluster started by `npm run cluster:up` stays).
  globalSetup: '<rootDir>/test/_util/cluster-setup.js',
  globalTeardown: '<rootDir>/test/_util/cluster-teardown.js',
};
