/** Benchmark helper: a private redis-server on a free port (same helper the tests use). */
export { startRedis, type TestRedis } from '../test/helpers/redis-server.js';
