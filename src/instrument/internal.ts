/** Refusing the monitor's own clients (marked with `INTERNAL_CLIENT`, see `core/internal.ts`). */

const warnedTargets = new WeakSet<object>();

/** Logs `message` at warn level the first time `target` is refused; later refusals stay quiet. */
export function warnRefusedOnce(
  target: object,
  logger: { warn(obj: object, msg?: string): void },
  context: object,
  message: string,
): void {
  if (warnedTargets.has(target)) return;
  warnedTargets.add(target);
  logger.warn(context, message);
}
