import { pino } from 'pino';

/** The logging calls the library makes; a pino logger fits as is. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Default library logger: pino, warnings and errors only, to stderr. */
export function defaultLogger(): Logger {
  return pino({ name: 'connection-monitor', level: 'warn' }, pino.destination(2));
}

/** A logger that drops everything. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
