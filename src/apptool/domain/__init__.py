"""The pure contract: models, one function per clause, the planner, lifecycle, billing, the
register and allocation. No file I/O, no ``date.today()``, no terminal, no printing."""
