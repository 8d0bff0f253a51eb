"""Use cases, one module per command family: load the workspace, decide with the domain,
write through the store, and return data (the CLI picks the format)."""
