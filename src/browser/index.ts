// nexus-store/browser: see the README. Filled in by its own issue.
export {};
