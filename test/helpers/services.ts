/**
 * Service-backed tests (PostgreSQL, Chromium) skip with a clear message where
 * the service is absent, and fail instead when NEXUS_REQUIRE_SERVICES=1 (CI).
 *
 *   const pg = await probeService('PostgreSQL on 127.0.0.1:5432', async () => { ... });
 *   test('...', { skip: pg.skip }, async () => { ... });
 */
export const servicesRequired = process.env['NEXUS_REQUIRE_SERVICES'] === '1';

export interface ServiceProbe {
  /** False when available; otherwise the skip message (only when services are optional). */
  readonly skip: false | string;
}

/**
 * Runs `check`; when it throws, either throws (services required) or returns
 * a skip message naming the service and the reason.
 */
export async function probeService(name: string, check: () => Promise<unknown>): Promise<ServiceProbe> {
  try {
    await check();
    return { skip: false };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (servicesRequired) {
      throw new Error(`${name} is required (NEXUS_REQUIRE_SERVICES=1) but unavailable: ${reason}`, { cause: error });
    }
    const message = `${name} unavailable (${reason}); set NEXUS_REQUIRE_SERVICES=1 to make this a failure`;
    console.warn(`skipping: ${message}`);
    return { skip: message };
  }
}
