// nexus-store/postgres: see the README. Filled in by its own issue.
export {};
