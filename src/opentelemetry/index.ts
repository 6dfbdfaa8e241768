// nexus-store/opentelemetry: see the README. Filled in by its own issue.
export {};
