// Unit specs live next to their sources (src/..., *.spec.ts); integration and e2e specs under test/.
module.exports = {
  rootDir: '.',
  moduleFileExtensions: ['ts', 'js', 'json'],
  testRegex: '(src|test|infra|bench|scripts)/.*\\.(spec|e2e-spec|int-spec)\\.ts$',
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/cdk.out/', '/test-output/', '/bench/out/'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.scripts.json' }],
  },
  testEnvironment: 'node',
  setupFiles: ['<rootDir>/test/support/loopback-aws-env.ts'],
  testTimeout: 60000,
};
