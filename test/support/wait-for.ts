/**
 * Waits for the event a test asserts on, polling `predicate`, with a generous deadline: tests never
 * sleep a fixed time, so they pass on a machine busy with other work and do not wait longer than
 * they must on an idle one.
 */
export async function waitFor(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 20_000, pollMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
