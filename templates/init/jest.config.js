/** TypeScript through @swc/jest (no type-checking here: `npm test` runs tsc first). */
module.exports = {
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest'] },
};
