/**
 * Headless Chromium for the browser tests: Debian's `chromium` package driven
 * by playwright-core (which never downloads a browser of its own). Install it
 * with `bash scripts/install-system-deps.sh`.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { probeService, type ServiceProbe } from './services.js';

export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export async function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...FLAGS, ...extraArgs] });
}

/** Skip (or fail under NEXUS_REQUIRE_SERVICES=1) when Chromium cannot be launched. */
export async function probeChromium(): Promise<ServiceProbe> {
  return probeService(`Chromium at ${CHROMIUM_PATH}`, async () => {
    if (!existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_PATH} not found; run bash scripts/install-system-deps.sh`);
    const browser = await launchChromium();
    await browser.close();
  });
}
