// nexus-store/node: see the README. Filled in by its own issue.
export {};
