/**
 * uPlot is an optional peer dependency used only by the dashboard: it is
 * resolved from the installed `uplot` package at run time, never bundled.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface UplotAssets {
  readonly script: string;
  readonly css: string;
}

export class UplotMissingError extends Error {
  override readonly name = 'UplotMissingError';
}

export function loadUplotAssets(): UplotAssets {
  const require = createRequire(import.meta.url);
  try {
    return {
      script: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
      css: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
    };
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new UplotMissingError(
      `the dashboard needs the optional peer dependency uplot, which could not be loaded (${reason}).\n` +
        'Install it next to nexus-store with:  npm install uplot',
      { cause: error },
    );
  }
}
