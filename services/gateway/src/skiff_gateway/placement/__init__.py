"""A session's file routes go to the sandbox-runner that holds it (KV `sandbox-placement`)."""
