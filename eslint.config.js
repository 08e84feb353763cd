import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layering, kept by the linter: imports flow one way,
 * core ← persistence ← monitor (monitor.ts, options.ts, config.ts) ← instrument | server ← cli.
 * Each entry bans what a folder must not import (relative specifiers, as written).
 */
const LAYERS = [
  {
    files: ['src/core/**/*.ts'],
    banned: ['../**', 'ioredis', 'fastify', '@fastify/*', 'prom-client', 'ws', 'pino'],
    why: 'core/ is the event model: it imports nothing of persistence, the monitor, the service or I/O libraries',
  },
  {
    files: ['src/persistence/**/*.ts'],
    banned: [
      '../monitor*',
      '../options*',
      '../config*',
      '../cli*',
      '../server/**',
      '../instrument/**',
      '../demo/**',
      '../dashboard/**',
    ],
    why: 'persistence/ may import core/ (and the logger type) only',
  },
  {
    files: [
      'src/monitor.ts',
      'src/monitor-*.ts',
      'src/options.ts',
      'src/config.ts',
      'src/logger.ts',
      'src/lazy-persistence.ts',
    ],
    banned: ['./server/**', './instrument/**', './cli*', './demo/**', './dashboard/**'],
    why: 'the monitor layer may import core/ and persistence/ only',
  },
  {
    files: ['src/instrument/**/*.ts'],
    banned: ['../server/**', '../persistence/**', '../cli*', '../demo/**', '../dashboard/**'],
    why: 'instrument/ may import core/ and the monitor only',
  },
  {
    files: ['src/server/**/*.ts'],
    banned: ['../instrument/**', '../persistence/**', '../cli*', '../demo/**', '../dashboard/**'],
    why: 'server/ may import core/ and the monitor only',
  },
  {
    files: ['src/dashboard/**/*.ts'],
    banned: ['../*.js', '../persistence/**', '../server/**', '../instrument/**', '../demo/**'],
    why: 'the dashboard is browser code: it may import Node-free core/ modules only',
  },
];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'docs/', '**/*.min.js', 'public/', '.tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Type-aware rules: a promise is awaited, returned, or marked `void` on purpose.
    files: ['**/*.ts', '**/*.mts', '**/*.cts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    // One job per file: a source file past 350 lines is split (issue "One concept, one place").
    files: ['src/**/*.ts'],
    rules: { 'max-lines': ['error', { max: 350 }] },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      'no-console': 'off',
    },
  },
  ...LAYERS.map(({ files, banned, why }) => ({
    files,
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: banned, message: why }] }],
    },
  })),
);
