"""The workspace's files: paths, the lock, atomic writes, YAML with line marks, calendars of
record, records, and the invoice and order registers."""
